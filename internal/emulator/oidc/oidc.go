// Package oidc is a local OpenID Connect issuer standing in for a Cognito
// user pool, so that standard clients (oidc-client-ts, golang.org/x/oauth2
// with coreos/go-oidc, openid-client) work against it unchanged: Cognito's
// issuer form (the origin, then the pool's ID) and discovery document, the
// authorization code flow with PKCE on the hosted domain's paths for a dev
// user who signs in without a password, ID tokens (with the nonce), access
// tokens and refresh tokens as Cognito writes them, userInfo, revocation
// and logout. It verifies a token as API Gateway's user pool authorizer
// does. It answers only the clients and callback URLs it is given, as
// Cognito answers only an app client's.
package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client is an app client: its ID, where it may send a user back, the
// scopes it may ask for (none: openid, email, phone, profile) and its
// secret, if it has one (a page's has none).
type Client struct {
	ID           string
	CallbackURLs []string
	Scopes       []string
	Secret       string
}

// PoolID names the local user pool in the issuer's URL, as Cognito's
// issuer ends in the pool's ID.
const PoolID = "local_DevPool"

// User is the one who signs in locally.
type User struct {
	Email string
	Sub   string
}

// DevUser signs in unless the caller names another.
var DevUser = User{Email: "dev@example.com", Sub: "00000000-0000-4000-8000-000000000001"}

// Lifetime is an ID token's, as the site's client asks of Cognito.
const Lifetime = time.Hour

// Issuer signs users in and verifies their tokens.
type Issuer struct {
	// Origin is where the endpoints are (Cognito's hosted domain); URL is
	// what tokens name as their issuer, Origin/PoolID, where discovery is.
	Origin  string
	URL     string
	User    User
	clients []Client
	keyID   string
	jwks    jose.JSONWebKeySet
	signer  jose.Signer
	now     func() time.Time

	mu       sync.Mutex       // clients, codes and refresh tokens
	codes    map[string]grant // authorization codes not yet exchanged
	refreshs map[string]grant // refresh tokens not revoked
}

// grant is what an authorization code or a refresh token stands for.
type grant struct {
	client, redirect, challenge, nonce, scope string
	expires                                   time.Time
}

// New makes an issuer whose endpoints are at origin for clients, with a
// fresh signing key.
func New(origin string, clients []Client) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	id := randomString(8)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: id}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &Issuer{
		Origin: origin, URL: origin + "/" + PoolID, User: DevUser, clients: clients, keyID: id, signer: signer, now: time.Now,
		jwks:  jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: id, Algorithm: string(jose.RS256), Use: "sig"}}},
		codes: map[string]grant{}, refreshs: map[string]grant{},
	}, nil
}

// Clients are the issuer's app clients.
func (i *Issuer) Clients() []Client {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.clients
}

// claims are a token's, as Cognito writes them: an ID token's (the
// audience its client, the user's email) or an access token's (client_id,
// scope, username, no audience).
type claims struct {
	jwt.Claims
	TokenUse string `json:"token_use"`
	AuthTime int64  `json:"auth_time"`
	Email    string `json:"email,omitempty"`
	Verified bool   `json:"email_verified,omitempty"`
	Username string `json:"cognito:username,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Login    string `json:"username,omitempty"`
}

// Token issues an ID token of the user for client, valid for ttl.
func (i *Issuer) Token(client string, ttl time.Duration) (string, error) {
	return i.idToken(client, "", ttl)
}

func (i *Issuer) idToken(client, nonce string, ttl time.Duration) (string, error) {
	if i.client(client) == nil {
		return "", fmt.Errorf("no app client %q", client)
	}
	c := i.claims(ttl)
	c.Audience, c.TokenUse, c.Email, c.Verified, c.Username, c.Nonce = jwt.Audience{client}, "id", i.User.Email, true, i.User.Sub, nonce
	return jwt.Signed(i.signer).Claims(c).Serialize()
}

// AccessToken issues an access token of the user for client with scope
// (space-separated), valid for ttl.
func (i *Issuer) AccessToken(client, scope string, ttl time.Duration) (string, error) {
	if i.client(client) == nil {
		return "", fmt.Errorf("no app client %q", client)
	}
	c := i.claims(ttl)
	c.TokenUse, c.ClientID, c.Scope, c.Login = "access", client, scope, i.User.Sub
	return jwt.Signed(i.signer).Claims(c).Serialize()
}

func (i *Issuer) claims(ttl time.Duration) claims {
	now := i.now()
	return claims{
		Claims: jwt.Claims{Issuer: i.URL, Subject: i.User.Sub, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(ttl)), ID: randomString(16)},
		AuthTime: now.Unix(),
	}
}

// client is the app client id, nil if there is none.
func (i *Issuer) client(id string) *Client {
	for _, c := range i.Clients() {
		if c.ID == id {
			return &c
		}
	}
	return nil
}

// ErrUnauthorized is every verification failure: API Gateway answers them
// all with 401 Unauthorized.
var ErrUnauthorized = errors.New("Unauthorized")

// Verify checks a token as API Gateway's user pool authorizer does and
// returns its claims: an RS256 signature by a key of the issuer's JWKS,
// this issuer, not expired; without scopes (the method names none) an ID
// token whose audience is one of clients; with scopes an access token of
// one of clients that carries one of them.
func (i *Issuer) Verify(token string, clients, scopes []string) (map[string]any, error) {
	c, all, err := i.parse(token)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		if err := c.ValidateWithLeeway(jwt.Expected{AnyAudience: clients, Time: i.now()}, 0); err != nil || c.TokenUse != "id" {
			return nil, fmt.Errorf("%w: an ID token for %v wanted, got token_use %q for %v", ErrUnauthorized, clients, c.TokenUse, c.Audience)
		}
		return all, nil
	}
	granted := strings.Fields(c.Scope)
	switch {
	case c.TokenUse != "access":
		return nil, fmt.Errorf("%w: the method names OAuth scopes: an access token wanted, got token_use %q", ErrUnauthorized, c.TokenUse)
	case !slices.Contains(clients, c.ClientID):
		return nil, fmt.Errorf("%w: client_id %q is not one of %v", ErrUnauthorized, c.ClientID, clients)
	case !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(granted, s) }):
		return nil, fmt.Errorf("%w: scope %q has none of %v", ErrUnauthorized, c.Scope, scopes)
	}
	return all, nil
}

// parse checks a token's signature, issuer and expiry.
func (i *Issuer) parse(token string) (claims, map[string]any, error) {
	var c claims
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, nil, fmt.Errorf("%w: not a signed JWT: %v", ErrUnauthorized, err)
	}
	var all map[string]any
	if err := tok.Claims(i.jwks, &c, &all); err != nil {
		return c, nil, fmt.Errorf("%w: the signature is not the issuer's: %v", ErrUnauthorized, err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: i.URL, Time: i.now()}, 0); err != nil {
		return c, nil, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	return c, all, nil
}

// challenge is PKCE's S256 code challenge of verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// jsonError writes an OAuth error.
func jsonError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, description)
}

// SetClients replaces the issuer's app clients (the templates reloaded);
// its key stays, and with it the tokens it issued.
func (i *Issuer) SetClients(clients []Client) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.clients = clients
}
