// Package oidc is a local OpenID Connect issuer standing in for a Cognito
// user pool: it signs in a dev user without a password through the
// authorization code flow with PKCE on Cognito's own paths, issues ID tokens
// with its own signing key, publishes the key (JWKS), and verifies a token
// as API Gateway's user pool authorizer does. It answers only the clients
// and callback URLs it is given, as Cognito answers only an app client's.
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
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client is an app client: its ID and where it may send a user back.
type Client struct {
	ID           string
	CallbackURLs []string
}

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
	URL     string // what tokens name as their issuer, and where the endpoints are
	User    User
	clients []Client
	keyID   string
	jwks    jose.JSONWebKeySet
	signer  jose.Signer
	now     func() time.Time

	mu    sync.Mutex       // clients and codes
	codes map[string]grant // authorization codes not yet exchanged
}

// grant is what an authorization code stands for until its exchange.
type grant struct {
	client, redirect, challenge string
	expires                     time.Time
}

// New makes an issuer at url for clients, with a fresh signing key.
func New(url string, clients []Client) (*Issuer, error) {
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
		URL: url, User: DevUser, clients: clients, keyID: id, signer: signer, now: time.Now,
		jwks:  jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: id, Algorithm: string(jose.RS256), Use: "sig"}}},
		codes: map[string]grant{},
	}, nil
}

// Clients are the issuer's app clients.
func (i *Issuer) Clients() []Client {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.clients
}

// claims are an ID token's, as Cognito writes them.
type claims struct {
	jwt.Claims
	TokenUse string `json:"token_use"`
	Email    string `json:"email"`
	Username string `json:"cognito:username"`
	AuthTime int64  `json:"auth_time"`
}

// Token issues an ID token of the user for client, valid for ttl.
func (i *Issuer) Token(client string, ttl time.Duration) (string, error) {
	if !slices.ContainsFunc(i.Clients(), func(c Client) bool { return c.ID == client }) {
		return "", fmt.Errorf("no app client %q", client)
	}
	now := i.now()
	c := claims{
		Claims: jwt.Claims{Issuer: i.URL, Subject: i.User.Sub, Audience: jwt.Audience{client},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)), ID: randomString(16)},
		TokenUse: "id", Email: i.User.Email, Username: i.User.Sub, AuthTime: now.Unix(),
	}
	return jwt.Signed(i.signer).Claims(c).Serialize()
}

// ErrUnauthorized is every verification failure: API Gateway answers them
// all with 401 Unauthorized.
var ErrUnauthorized = errors.New("Unauthorized")

// Verify checks a token as API Gateway's user pool authorizer does: an RS256
// signature by a key of the issuer's JWKS, this issuer, the audience one of
// clients, not expired, an ID token. It returns the token's claims.
func (i *Issuer) Verify(token string, clients []string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: not a signed JWT: %v", ErrUnauthorized, err)
	}
	var c claims
	var all map[string]any
	if err := tok.Claims(i.jwks, &c, &all); err != nil {
		return nil, fmt.Errorf("%w: the signature is not the issuer's: %v", ErrUnauthorized, err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: i.URL, AnyAudience: clients, Time: i.now()}, 0); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	if c.TokenUse != "id" {
		return nil, fmt.Errorf("%w: token_use %q, want an ID token", ErrUnauthorized, c.TokenUse)
	}
	return all, nil
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
