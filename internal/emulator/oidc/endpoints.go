package oidc

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP answers on Cognito's paths: the issuer's discovery and keys
// (under /<pool id>), the hosted domain's authorize, token, userInfo,
// revoke and logout; and /local/token, which hands a script a token without
// a browser.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/" + PoolID + "/.well-known/openid-configuration":
		// Public documents, which Cognito serves to any origin: a page's
		// OpenID library reads them before it signs anyone in.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, i.discovery())
	case "/" + PoolID + "/.well-known/jwks.json":
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, i.jwks)
	case "/oauth2/authorize":
		i.authorize(w, r)
	case "/oauth2/token":
		i.cors(w, r, "POST", i.token)
	case "/oauth2/userInfo":
		i.cors(w, r, "GET, POST", i.userInfo)
	case "/oauth2/revoke":
		i.cors(w, r, "POST", i.revoke)
	case "/logout":
		i.logout(w, r)
	case "/local/token":
		i.localToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

// discovery is the OpenID Provider's metadata, as Cognito publishes its
// pool's (and the end-session endpoint Cognito's hosted domain has).
func (i *Issuer) discovery() map[string]any {
	return map[string]any{
		"issuer": i.URL, "jwks_uri": i.URL + "/.well-known/jwks.json",
		"authorization_endpoint": i.Origin + "/oauth2/authorize", "token_endpoint": i.Origin + "/oauth2/token",
		"userinfo_endpoint": i.Origin + "/oauth2/userInfo", "revocation_endpoint": i.Origin + "/oauth2/revoke",
		"end_session_endpoint":                  i.Origin + "/logout",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"scopes_supported":                      defaultScopes,
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "cognito:username", "nonce", "auth_time"},
	}
}

// defaultScopes are a client's when it names none.
var defaultScopes = []string{"openid", "email", "phone", "profile"}

// cors answers a page's preflight for the endpoint, and lets the page read
// the answer, when its origin is one of a client's callbacks'.
func (i *Issuer) cors(w http.ResponseWriter, r *http.Request, methods string, serve func(http.ResponseWriter, *http.Request)) {
	origin := r.Header.Get("Origin")
	if origin != "" && i.knownOrigin(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", methods)
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	serve(w, r)
}

// Bounds of what a sign-in in progress may hold, so that no page can grow
// the issuer's memory (it answers any origin's navigation). An S256
// challenge is 43 characters; Cognito keeps a code 5 minutes.
const (
	challengeLen = 43
	maxState     = 1024
	maxCodes     = 1000
	codeLifetime = 5 * time.Minute
)

// authorize signs the user in at once (no password: this is the laptop)
// and sends them back with a code, if the client may send them there.
func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client, redirect := q.Get("client_id"), q.Get("redirect_uri")
	switch {
	case !i.callback(client, redirect):
		http.Error(w, "local sign-in: redirect_uri "+redirect+" is not a callback URL of client "+client, http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "local sign-in: response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || !base64URL(q.Get("code_challenge"), challengeLen):
		http.Error(w, fmt.Sprintf("local sign-in: PKCE is required: code_challenge_method=S256 and a code_challenge of %d base64url characters", challengeLen), http.StatusBadRequest)
		return
	case len(q.Get("state")) > maxState || len(q.Get("nonce")) > maxState:
		http.Error(w, fmt.Sprintf("local sign-in: state or nonce longer than %d characters", maxState), http.StatusBadRequest)
		return
	}
	scope, err := i.scope(client, q.Get("scope"))
	if err != nil {
		http.Error(w, "local sign-in: "+err.Error(), http.StatusBadRequest)
		return
	}
	code := randomString(24)
	g := grant{client: client, redirect: redirect, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), scope: scope, expires: i.now().Add(codeLifetime)}
	if !i.keep(i.codes, code, g) {
		w.Header().Set("Retry-After", strconv.Itoa(int(codeLifetime.Seconds())))
		http.Error(w, fmt.Sprintf("local sign-in: %d sign-ins are in progress; try again when they expire", maxCodes), http.StatusTooManyRequests)
		return
	}
	back, _ := url.Parse(redirect)
	v := back.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// keep stores a code or refresh token until it is spent or expires,
// dropping the expired ones first; false when maxCodes are still held.
func (i *Issuer) keep(store map[string]grant, key string, g grant) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.now()
	for k, old := range store {
		if now.After(old.expires) {
			delete(store, k)
		}
	}
	if len(store) >= maxCodes {
		return false
	}
	store[key] = g
	return true
}

// scope is what the client asked for, if it may: Cognito refuses a scope
// the app client does not allow. None asked: all it may.
func (i *Issuer) scope(client, asked string) (string, error) {
	allowed := defaultScopes
	if c := i.client(client); c != nil && len(c.Scopes) > 0 {
		allowed = c.Scopes
	}
	if strings.TrimSpace(asked) == "" {
		return strings.Join(allowed, " "), nil
	}
	for _, s := range strings.Fields(asked) {
		if !slices.Contains(allowed, s) {
			return "", fmt.Errorf("scope %q is not allowed for client %s (it may ask for %v)", s, client, allowed)
		}
	}
	return strings.Join(strings.Fields(asked), " "), nil
}

// base64URL says whether s is n characters of unpadded base64url.
func base64URL(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// token exchanges a code, or a refresh token, for the user's tokens. The
// client authenticates as Cognito takes it (HTTP Basic or the form; a
// public client by its ID alone); a code is checked against its client and
// redirect before it is spent, so a client's retry with another way of
// authenticating still finds it.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if !posted(w, r, "POST the code") {
		return
	}
	f := r.PostForm
	client, ok := i.authenticate(w, r)
	if !ok {
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		g, ok := i.spend(f.Get("code"), client, f.Get("redirect_uri"))
		switch {
		case !ok:
			jsonError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code, or another client or redirect_uri")
		case challenge(f.Get("code_verifier")) != g.challenge:
			jsonError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		default:
			i.issue(w, g, true)
		}
	case "refresh_token":
		i.mu.Lock()
		g, ok := i.refreshs[f.Get("refresh_token")]
		i.mu.Unlock()
		if !ok || g.client != client || i.now().After(g.expires) {
			jsonError(w, http.StatusBadRequest, "invalid_grant", "unknown, revoked or expired refresh token, or another client's")
			return
		}
		i.issue(w, g, false)
	default:
		jsonError(w, http.StatusBadRequest, "unsupported_grant_type", "authorization_code or refresh_token")
	}
}

// authenticate finds the calling client: HTTP Basic (client_secret_basic)
// or client_id and client_secret in the form; a client without a secret
// gives its ID alone (an empty secret in Basic, as OAuth libraries send).
func (i *Issuer) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else if form := r.PostForm.Get("client_id"); form != "" && form != id {
		jsonError(w, http.StatusBadRequest, "invalid_request", "client_id differs from the Authorization header's")
		return "", false
	}
	c := i.client(id)
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="local sign-in"`)
		}
		jsonError(w, http.StatusUnauthorized, "invalid_client", "unknown client, or the wrong secret")
		return "", false
	}
	return id, true
}

// spend takes a code for client and redirect: unknown, expired or another
// client's or redirect's, it stays (or goes, expired) and the answer is no.
func (i *Issuer) spend(code, client, redirect string) (grant, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	g, ok := i.codes[code]
	if !ok || g.client != client || g.redirect != redirect {
		return grant{}, false
	}
	delete(i.codes, code)
	return g, !i.now().After(g.expires)
}

// posted reads a POSTed form, or answers 405 saying what to POST.
func posted(w http.ResponseWriter, r *http.Request, what string) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		jsonError(w, http.StatusMethodNotAllowed, "invalid_request", what)
		return false
	}
	r.ParseForm()
	return true
}

// refreshLifetime is the site's client's (stacks/auth.go).
const refreshLifetime = 24 * time.Hour

// issue answers with the tokens of g, as Cognito's token endpoint does: an
// ID token (with g's nonce) when g has the openid scope, an access token,
// and with a code a refresh token.
func (i *Issuer) issue(w http.ResponseWriter, g grant, refresh bool) {
	access, err := i.AccessToken(g.client, g.scope, Lifetime)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_client", err.Error())
		return
	}
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(Lifetime.Seconds())}
	if slices.Contains(strings.Fields(g.scope), "openid") {
		if out["id_token"], err = i.idToken(g.client, g.nonce, Lifetime); err != nil {
			jsonError(w, http.StatusBadRequest, "invalid_client", err.Error())
			return
		}
	}
	if refresh {
		token := randomString(32)
		g.expires, g.nonce = i.now().Add(refreshLifetime), ""
		if i.keep(i.refreshs, token, g) {
			out["refresh_token"] = token
		}
	}
	writeJSON(w, out)
}

// userInfo answers the user's claims for an access token (Bearer), as
// Cognito's /oauth2/userInfo.
func (i *Issuer) userInfo(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, _, err := i.parse(token)
	if err != nil || c.TokenUse != "access" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		jsonError(w, http.StatusUnauthorized, "invalid_token", "an access token of this issuer, not expired, is required")
		return
	}
	writeJSON(w, map[string]any{"sub": i.User.Sub, "email": i.User.Email, "email_verified": "true", "username": i.User.Sub})
}

// revoke revokes a refresh token of the calling client (RFC 7009: an
// unknown token is no error).
func (i *Issuer) revoke(w http.ResponseWriter, r *http.Request) {
	if !posted(w, r, "POST the token") {
		return
	}
	client, ok := i.authenticate(w, r)
	if !ok {
		return
	}
	i.mu.Lock()
	if g, ok := i.refreshs[r.PostForm.Get("token")]; ok && g.client == client {
		delete(i.refreshs, r.PostForm.Get("token"))
	}
	i.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// logout sends the user back, as Cognito does: to a client's sign-out URL
// (logout_uri), or, with redirect_uri and response_type, to sign in again.
func (i *Issuer) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("logout_uri") == "" && q.Get("redirect_uri") != "" {
		http.Redirect(w, r, "/oauth2/authorize?"+r.URL.RawQuery, http.StatusFound)
		return
	}
	if !i.callback(q.Get("client_id"), q.Get("logout_uri")) {
		http.Error(w, "local sign-in: logout_uri is not a sign-out URL of the client", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, q.Get("logout_uri"), http.StatusFound)
}

// localToken gives a script an ID token of the user (POST, client_id
// optional when there is one client): curl -X POST .../local/token.
func (i *Issuer) localToken(w http.ResponseWriter, r *http.Request) {
	if !posted(w, r, "POST for a token") {
		return
	}
	client := r.Form.Get("client_id")
	if clients := i.Clients(); client == "" && len(clients) == 1 {
		client = clients[0].ID
	}
	scope, err := i.scope(client, r.Form.Get("scope"))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}
	i.issue(w, grant{client: client, scope: scope}, false)
}

// callback says whether client may send a user to u.
func (i *Issuer) callback(client, u string) bool {
	return slices.ContainsFunc(i.Clients(), func(c Client) bool { return c.ID == client && slices.Contains(c.CallbackURLs, u) })
}

// knownOrigin says whether origin is that of a client's callback: the
// pages that may read the token endpoint's answers.
func (i *Issuer) knownOrigin(origin string) bool {
	for _, c := range i.Clients() {
		for _, cb := range c.CallbackURLs {
			if u, err := url.Parse(cb); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, origin) {
				return true
			}
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
