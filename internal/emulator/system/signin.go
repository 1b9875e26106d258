package system

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/oidc"
)

// signIn is the local issuer standing in for the templates' user pools,
// and the server it answers on.
type signIn struct {
	issuer *oidc.Issuer
	url    string
	srv    *http.Server
}

// signInFor is the sign-in templates need: none without an app client (or
// without an address for it), the one running, or a new one, started
// (started true): turning "auth" on while make local runs starts it.
func (s *System) signInFor(templates []*cfn.Template) (si *signIn, started bool, err error) {
	o := s.opts
	apiT, _, err := classify(templates)
	if err != nil {
		return nil, false, err
	}
	if len(apiT.OfType("AWS::Cognito::UserPoolClient")) == 0 || o.SignInAddr == "" && o.SignInListener == nil {
		return nil, false, nil
	}
	if s.signIn != nil {
		return s.signIn, false, nil
	}
	// A listener handed over serves the first sign-in; one started again
	// after "auth" went off and on listens where that one did.
	handed, addr := o.SignInListener, o.SignInAddr
	if s.signInStarted && handed != nil {
		addr, handed = cmp.Or(addr, handed.Addr().String()), nil
	}
	ln, err := s.listen(handed, addr, "sign-in", true)
	if err != nil {
		return nil, false, err
	}
	s.signInStarted = true
	si = &signIn{url: Origin(addr, ln)}
	if si.issuer, err = oidc.New(si.url, nil); err != nil {
		ln.Close()
		return nil, false, err
	}
	si.srv = s.serve(ln, si.issuer)
	return si, true, nil
}

// attrs are the user pools' attributes as the local issuer stands in for
// them: its issuer is each pool's ProviderURL (and, without the scheme,
// ProviderName), so what a template hands a function or an output names it.
func (si *signIn) attrs(t *cfn.Template) map[string]string {
	attrs := map[string]string{}
	for _, id := range t.OfType("AWS::Cognito::UserPool") {
		attrs[id+".ProviderURL"] = si.issuer.URL
		_, attrs[id+".ProviderName"], _ = strings.Cut(si.issuer.URL, "://")
	}
	return attrs
}

// stop stops the sign-in's server.
func (si *signIn) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	si.srv.Shutdown(ctx)
}

// userPoolClients are the template's app clients as the issuer knows them:
// the IDs, callback URLs and OAuth scopes the resolver gives them locally.
func userPoolClients(t *cfn.Template, res *cfn.Resolver) ([]oidc.Client, error) {
	var clients []oidc.Client
	for _, id := range t.OfType("AWS::Cognito::UserPoolClient") {
		c := oidc.Client{}
		var err error
		if c.ID, err = res.String(t, map[string]any{"Ref": id}); err != nil {
			return nil, err
		}
		callbacks, err := res.Resolve(t, t.Resources[id].Properties["CallbackURLs"])
		if err != nil {
			return nil, fmt.Errorf("app client %s: %w", t.Describe(id), err)
		}
		c.CallbackURLs = asStrings(callbacks)
		scopes, err := res.Resolve(t, t.Resources[id].Properties["AllowedOAuthScopes"])
		if err != nil {
			return nil, fmt.Errorf("app client %s: %w", t.Describe(id), err)
		}
		c.Scopes = asStrings(scopes)
		clients = append(clients, c)
	}
	return clients, nil
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Issuer is the local issuer, nil without one: tests and scripts mint
// tokens with it.
func (s *System) Issuer() *oidc.Issuer {
	if s.signIn == nil {
		return nil
	}
	return s.signIn.issuer
}

// The issuer checks the tokens of the API's user pool authorizers.
var _ apigw.Verifier = (*oidc.Issuer)(nil)
