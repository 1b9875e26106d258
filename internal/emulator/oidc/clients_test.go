package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// serve runs an issuer whose origin is the test server's own, as make local
// runs it, for a public client (no secret) with callback site.
func serve(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	i, err := New("http://"+ln.Addr().String(), []Client{{ID: "site-client", CallbackURLs: []string{site}, Scopes: []string{"openid", "email"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(i)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return i, srv
}

// signIn follows the authorization request as a browser would, to the
// callback, and returns the code and state it brings.
func signIn(t *testing.T, authURL string) url.Values {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	return back.Query()
}

// Go's standard OpenID client, golang.org/x/oauth2 with coreos/go-oidc,
// signs in against the local issuer unchanged, as against Cognito:
// discovery at the issuer (the origin, then the pool's ID), the code flow
// with PKCE and a nonce, the client authenticated as the library chooses
// (HTTP Basic with an empty secret first), the ID token verified with the
// published keys and its nonce, userInfo with the access token, and a
// refresh. Before, the library's Basic authentication was refused and the
// code spent by the refusal, so its retry failed too.
func TestGoOIDCClientSignsIn(t *testing.T) {
	issuer, _ := serve(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		endpoint := provider.Endpoint()
		endpoint.AuthStyle = style
		config := oauth2.Config{ClientID: "site-client", Endpoint: endpoint, RedirectURL: site, Scopes: []string{oidc.ScopeOpenID, "email"}}
		verifier, nonce := oauth2.GenerateVerifier(), "n-"+oauth2.GenerateVerifier()[:8]
		back := signIn(t, config.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
		if back.Get("state") != "st" {
			t.Fatalf("state %q", back.Get("state"))
		}
		token, err := config.Exchange(ctx, back.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("auth style %v: exchange: %v", style, err)
		}
		raw, _ := token.Extra("id_token").(string)
		id, err := provider.Verifier(&oidc.Config{ClientID: "site-client"}).Verify(ctx, raw)
		if err != nil || id.Nonce != nonce {
			t.Fatalf("the ID token: %v, nonce %q want %q", err, id.Nonce, nonce)
		}
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
		if err != nil || info.Email != DevUser.Email || info.Subject != DevUser.Sub {
			t.Errorf("userInfo: %+v, %v", info, err)
		}
		if token.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		refreshed, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: token.RefreshToken}).Token()
		if err != nil || refreshed.AccessToken == "" || refreshed.AccessToken == token.AccessToken {
			t.Errorf("refresh: %v", err)
		}
	}
}

// Tokens as Cognito writes them, and as API Gateway takes them: an access
// token (token_use access, client_id, scope, username) only where the
// method names OAuth scopes and carries one of them, an ID token only where
// it names none.
func TestAccessTokensAndScopes(t *testing.T) {
	issuer, _ := serve(t)
	clients := []string{"site-client"}
	access, err := issuer.AccessToken("site-client", "openid email", Lifetime)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := issuer.Verify(access, clients, []string{"email"})
	if err != nil || claims["token_use"] != "access" || claims["client_id"] != "site-client" || claims["scope"] != "openid email" || claims["username"] != DevUser.Sub || claims["aud"] != nil {
		t.Errorf("an access token where the method names email: %v, %v", claims, err)
	}
	id, _ := issuer.Token("site-client", Lifetime)
	for name, tc := range map[string]struct {
		token  string
		scopes []string
	}{
		"an access token where the method names no scope": {access, nil},
		"an ID token where the method names scopes":       {id, []string{"email"}},
		"an access token without the method's scope":      {access, []string{"aws.cognito.signin.user.admin"}},
	} {
		if _, err := issuer.Verify(tc.token, clients, tc.scopes); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A code is checked against its client and redirect before it is spent:
// another client's try leaves it for the right one; a public client's
// secret, or an unknown client, is invalid_client.
func TestTheCodeIsCheckedBeforeItIsSpent(t *testing.T) {
	issuer, srv := serve(t)
	issuer.SetClients(append(issuer.Clients(), Client{ID: "other-client", CallbackURLs: []string{site}}))
	verifier := oauth2.GenerateVerifier()
	config := oauth2.Config{ClientID: "site-client", RedirectURL: site, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize", TokenURL: srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	code := signIn(t, config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))).Get("code")
	exchange := func(form url.Values) int {
		form.Set("grant_type", "authorization_code")
		form.Set("code", code)
		form.Set("code_verifier", verifier)
		resp, err := http.PostForm(srv.URL+"/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, form := range map[string]url.Values{
		"another client":        {"client_id": {"other-client"}, "redirect_uri": {site}},
		"another redirect":      {"client_id": {"site-client"}, "redirect_uri": {"http://localhost:8080/other"}},
		"a secret it has not":   {"client_id": {"site-client"}, "client_secret": {"guess"}, "redirect_uri": {site}},
		"a client that is none": {"client_id": {"nobody"}, "redirect_uri": {site}},
		"no client at all":      {"redirect_uri": {site}},
	} {
		if status := exchange(form); status == http.StatusOK {
			t.Errorf("%s: 200", name)
		}
	}
	if status := exchange(url.Values{"client_id": {"site-client"}, "redirect_uri": {site}}); status != http.StatusOK {
		t.Errorf("the right client after the others: %d; the code was spent by someone else's try", status)
	}
}

// Node's openid-client signs in unchanged too: before, the token answer had
// no access_token, and it refused it ("access_token" property must be a
// string).
func TestOpenIDClientSignsIn(t *testing.T) {
	issuer, _ := serve(t)
	// The module's root, three levels up: this package knows nothing of
	// the app, its project package included.
	cmd := exec.Command(filepath.Join("..", "..", "..", "node_modules", ".bin", "node"), filepath.Join("testdata", "openid-client.mjs"), issuer.URL, "site-client", site)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openid-client (make installs it from package.json): %v %s", err, stderr(err))
	}
	var got struct {
		Claims    map[string]any `json:"claims"`
		UserInfo  map[string]any `json:"userInfo"`
		Refreshed bool           `json:"refreshed"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if got.Claims["iss"] != issuer.URL || got.Claims["nonce"] == nil || got.UserInfo["email"] != DevUser.Email || !got.Refreshed {
		t.Errorf("openid-client: %s", out)
	}
}

func stderr(err error) string {
	var e *exec.ExitError
	if errors.As(err, &e) {
		return string(e.Stderr)
	}
	return ""
}
