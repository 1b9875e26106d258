package oidc

import (
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

// ServeHTTP answers on Cognito's paths: discovery, keys, authorize, token,
// logout; and /local/token, which hands a script a token without a browser.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"issuer": i.URL, "authorization_endpoint": i.URL + "/oauth2/authorize", "token_endpoint": i.URL + "/oauth2/token",
			"jwks_uri": i.URL + "/.well-known/jwks.json", "end_session_endpoint": i.URL + "/logout",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "subject_types_supported": []string{"public"},
		})
	case "/.well-known/jwks.json":
		writeJSON(w, i.jwks)
	case "/oauth2/authorize":
		i.authorize(w, r)
	case "/oauth2/token":
		i.token(w, r)
	case "/logout":
		i.logout(w, r)
	case "/local/token":
		i.localToken(w, r)
	default:
		http.NotFound(w, r)
	}
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
	case len(q.Get("state")) > maxState:
		http.Error(w, fmt.Sprintf("local sign-in: state is longer than %d characters", maxState), http.StatusBadRequest)
		return
	}
	code := randomString(24)
	if !i.keep(code, grant{client: client, redirect: redirect, challenge: q.Get("code_challenge"), expires: i.now().Add(codeLifetime)}) {
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

// keep stores a code until its exchange or expiry, dropping the expired
// ones first; false when maxCodes are still pending.
func (i *Issuer) keep(code string, g grant) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.now()
	for c, old := range i.codes {
		if now.After(old.expires) {
			delete(i.codes, c)
		}
	}
	if len(i.codes) >= maxCodes {
		return false
	}
	i.codes[code] = g
	return true
}

// base64URL says whether s is n characters of unpadded base64url.
func base64URL(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// token exchanges a code, once, for the user's tokens, when the verifier
// matches the challenge it was issued for. A page reads the answer only if
// its origin is one of the client's callbacks'.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if !posted(w, r, "POST the code") {
		return
	}
	f := r.PostForm
	i.mu.Lock()
	g, ok := i.codes[f.Get("code")]
	delete(i.codes, f.Get("code"))
	i.mu.Unlock()
	i.allowOrigin(w, r, f.Get("client_id"))
	switch {
	case f.Get("grant_type") != "authorization_code":
		jsonError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	case !ok || i.now().After(g.expires) || g.client != f.Get("client_id") || g.redirect != f.Get("redirect_uri"):
		jsonError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code, or another client or redirect_uri")
		return
	case challenge(f.Get("code_verifier")) != g.challenge:
		jsonError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	i.issue(w, g.client, http.StatusInternalServerError, "server_error")
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

// issue answers with an ID token for client, as the token endpoint does;
// a failure is status with the OAuth error code.
func (i *Issuer) issue(w http.ResponseWriter, client string, status int, code string) {
	id, err := i.Token(client, Lifetime)
	if err != nil {
		jsonError(w, status, code, err.Error())
		return
	}
	writeJSON(w, map[string]any{"id_token": id, "token_type": "Bearer", "expires_in": int(Lifetime.Seconds())})
}

// logout sends the user back, as Cognito does to a client's sign-out URL.
func (i *Issuer) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
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
	i.issue(w, client, http.StatusBadRequest, "invalid_client")
}

// callback says whether client may send a user to u.
func (i *Issuer) callback(client, u string) bool {
	return slices.ContainsFunc(i.Clients(), func(c Client) bool { return c.ID == client && slices.Contains(c.CallbackURLs, u) })
}

// allowOrigin lets a page read the answer when its origin is one of the
// client's callbacks'.
func (i *Issuer) allowOrigin(w http.ResponseWriter, r *http.Request, client string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	for _, c := range i.Clients() {
		if c.ID != client {
			continue
		}
		for _, cb := range c.CallbackURLs {
			if u, err := url.Parse(cb); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Add("Vary", "Origin")
				return
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
