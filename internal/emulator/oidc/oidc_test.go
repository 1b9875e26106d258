package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const site = "http://localhost:8080/"

func issuer(t *testing.T) *Issuer {
	t.Helper()
	i, err := New("http://localhost:8088", []Client{{ID: "site-client", CallbackURLs: []string{site}}})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// A token is good only as API Gateway's user pool authorizer takes it;
// each way it can be wrong is refused as Unauthorized.
func TestVerifyLikeAPIGateway(t *testing.T) {
	i := issuer(t)
	good, err := i.Token("site-client", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := i.Verify(good, []string{"site-client"}, nil)
	if err != nil || claims["email"] != DevUser.Email || claims["token_use"] != "id" {
		t.Fatalf("a good token: %v %v", claims, err)
	}
	other := issuer(t) // another issuer: another key, the same URL
	foreign, _ := other.Token("site-client", time.Hour)
	i.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, _ := i.Token("site-client", time.Hour)
	i.now = time.Now
	i.SetClients(append(i.Clients(), Client{ID: "other-client"}))
	otherAudience, _ := i.Token("other-client", time.Hour)
	access := sign(t, i, map[string]any{"iss": i.URL, "aud": "site-client", "exp": time.Now().Add(time.Hour).Unix(), "token_use": "access"})
	elsewhere := sign(t, i, map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/pool", "aud": "site-client", "exp": time.Now().Add(time.Hour).Unix(), "token_use": "id"})
	unsigned := strings.Join(strings.Split(good, ".")[:2], ".") + "."
	for name, token := range map[string]string{
		"expired": expired, "signed by another key": foreign, "for another client": otherAudience, "an access token": access,
		"from another issuer": elsewhere, "unsigned": unsigned, "no JWT": "hello", "empty": "",
	} {
		if _, err := i.Verify(token, []string{"site-client"}, nil); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("%s: %v, want Unauthorized", name, err)
		}
	}
}

// sign makes a token with the issuer's own key and any claims.
func sign(t *testing.T, i *Issuer, claims map[string]any) string {
	t.Helper()
	s, err := jwt.Signed(i.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The authorization code flow with PKCE, as a page runs it against
// Cognito: the code comes back to the callback with the state, and buys
// the token once, with the verifier, from the page's origin.
func TestTheCodeFlowWithPKCE(t *testing.T) {
	i := issuer(t)
	srv := httptest.NewServer(i)
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := strings.Repeat("v", 43)
	authorize := func(redirect, challenge string) *http.Response {
		q := url.Values{"response_type": {"code"}, "client_id": {"site-client"}, "redirect_uri": {redirect}, "state": {"s1"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"openid email"}}
		resp, err := noRedirect.Get(srv.URL + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := authorize("https://evil.example/", challenge(verifier)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a redirect_uri that is no callback: %d", resp.StatusCode)
	}
	resp := authorize(site, challenge(verifier))
	back, _ := url.Parse(resp.Header.Get("Location"))
	code := back.Query().Get("code")
	if resp.StatusCode != http.StatusFound || code == "" || back.Query().Get("state") != "s1" || !strings.HasPrefix(back.String(), site) {
		t.Fatalf("authorize: %d to %s", resp.StatusCode, back)
	}
	exchange := func(verifier string) (int, map[string]any, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
			"client_id": {"site-client"}, "code": {code}, "redirect_uri": {site}, "code_verifier": {verifier}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://localhost:8080")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, resp.Header.Get("Access-Control-Allow-Origin")
	}
	if status, _, _ := exchange(strings.Repeat("w", 43)); status != http.StatusBadRequest {
		t.Errorf("a wrong verifier: %d", status)
	}
	// The failed try used the code up, as a single-use code must be.
	resp = authorize(site, challenge(verifier))
	back, _ = url.Parse(resp.Header.Get("Location"))
	code = back.Query().Get("code")
	status, body, acao := exchange(verifier)
	token, _ := body["id_token"].(string)
	if status != http.StatusOK || acao != "http://localhost:8080" {
		t.Fatalf("token: %d %v, Access-Control-Allow-Origin %q", status, body, acao)
	}
	if _, err := i.Verify(token, []string{"site-client"}, nil); err != nil {
		t.Errorf("the token the flow gave: %v", err)
	}
	if status, _, _ := exchange(verifier); status != http.StatusBadRequest {
		t.Errorf("a code used twice: %d", status)
	}
}

// The issuer's discovery document and keys verify its tokens elsewhere.
func TestDiscoveryAndKeys(t *testing.T) {
	i := issuer(t)
	srv := httptest.NewServer(i)
	defer srv.Close()
	if i.URL != i.Origin+"/"+PoolID {
		t.Errorf("issuer %s: Cognito's is the origin, then the pool's ID", i.URL)
	}
	var doc map[string]any
	req, _ := http.NewRequest("GET", srv.URL+"/"+PoolID+"/.well-known/openid-configuration", nil)
	req.Header.Set("Origin", "https://any.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	if doc["issuer"] != i.URL || doc["token_endpoint"] != i.Origin+"/oauth2/token" || doc["userinfo_endpoint"] != i.Origin+"/oauth2/userInfo" ||
		doc["jwks_uri"] != i.URL+"/.well-known/jwks.json" || doc["end_session_endpoint"] != i.Origin+"/logout" || doc["revocation_endpoint"] != i.Origin+"/oauth2/revoke" {
		t.Errorf("discovery: %v", doc)
	}
	// A page's OpenID library reads discovery before anything else.
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("discovery's Access-Control-Allow-Origin %q, want * as Cognito's", got)
	}
	var keys jose.JSONWebKeySet
	resp, _ = http.Get(srv.URL + "/" + PoolID + "/.well-known/jwks.json")
	json.NewDecoder(resp.Body).Decode(&keys)
	token, _ := i.Token("site-client", time.Hour)
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	if err := parsed.Claims(keys, &c); err != nil || c.Issuer != i.URL {
		t.Errorf("the published keys do not verify a token: %v", err)
	}
}

// A script gets the dev user's token with a POST (docs/sign-in.md's curl): for
// the one client, or the one it names when there are several.
func TestALocalTokenForScripts(t *testing.T) {
	i := issuer(t)
	srv := httptest.NewServer(i)
	defer srv.Close()
	post := func(form url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL+"/local/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			IDToken string `json:"id_token"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.IDToken
	}
	status, token := post(nil)
	if _, err := i.Verify(token, []string{"site-client"}, nil); status != http.StatusOK || err != nil {
		t.Errorf("POST /local/token: %d, the token: %v", status, err)
	}
	if resp, err := http.Get(srv.URL + "/local/token"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /local/token: %v %v, want 405", resp.StatusCode, err)
	}
	i.SetClients(append(i.Clients(), Client{ID: "other-client"}))
	if status, _ := post(nil); status != http.StatusBadRequest {
		t.Errorf("two clients, none named: %d, want 400", status)
	}
	if status, token := post(url.Values{"client_id": {"other-client"}}); status != http.StatusOK {
		t.Errorf("the client named: %d", status)
	} else if _, err := i.Verify(token, []string{"other-client"}, nil); err != nil {
		t.Errorf("the named client's token: %v", err)
	}
}

// Each request behind the authorizer pays one verification (RS256).
func BenchmarkVerify(b *testing.B) {
	i, err := New("http://localhost:8088", []Client{{ID: "site-client"}})
	if err != nil {
		b.Fatal(err)
	}
	token, _ := i.Token("site-client", time.Hour)
	for b.Loop() {
		if _, err := i.Verify(token, []string{"site-client"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// A page on any origin can send a browser to /oauth2/authorize (a
// navigation needs no CORS), so what a sign-in in progress holds is
// bounded: a challenge of exactly an S256 digest's 43 characters, a state
// of at most 1024, codes that expire after Cognito's 5 minutes and at most
// 1000 pending. A review filled 525 MB with 60 KB challenges before.
func TestSignInsInProgressAreBounded(t *testing.T) {
	i := issuer(t)
	now := time.Now()
	i.now = func() time.Time { return now }
	authorize := func(challenge, state string) *httptest.ResponseRecorder {
		q := url.Values{"response_type": {"code"}, "client_id": {"site-client"}, "redirect_uri": {site}, "state": {state},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		rec := httptest.NewRecorder()
		i.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/authorize?"+q.Encode(), nil))
		return rec
	}
	good := challenge(strings.Repeat("v", 43))
	for name, tc := range map[string]struct{ challenge, state string }{
		"a 60 KB challenge":         {strings.Repeat("A", 60<<10), "s"},
		"a challenge of 44":         {good + "A", "s"},
		"a challenge not base64url": {strings.Repeat("+", 43), "s"},
		"a 60 KB state":             {good, strings.Repeat("s", 60<<10)},
	} {
		if rec := authorize(tc.challenge, tc.state); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, rec.Code)
		}
	}
	if rec := authorize(good, strings.Repeat("s", 1024)); rec.Code != http.StatusFound {
		t.Errorf("a state of 1024: %d", rec.Code)
	}
	for n := 1; n < 1000; n++ {
		if rec := authorize(good, "s"); rec.Code != http.StatusFound {
			t.Fatalf("sign-in %d: %d", n+1, rec.Code)
		}
	}
	if rec := authorize(good, "s"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("the 1001st pending sign-in: %d, Retry-After %q; want 429", rec.Code, rec.Header().Get("Retry-After"))
	}
	if len(i.codes) != 1000 {
		t.Errorf("%d codes kept", len(i.codes))
	}
	now = now.Add(5*time.Minute + time.Second)
	if rec := authorize(good, "s"); rec.Code != http.StatusFound || len(i.codes) != 1 {
		t.Errorf("after the codes expired: %d with %d codes kept; want the expired ones gone", rec.Code, len(i.codes))
	}
}
