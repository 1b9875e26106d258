package system

import (
	"fmt"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/oidc"
)

// startSignIn serves a local issuer for the templates' user pools, when
// they have an app client and the caller gave an address for it.
func (s *System) startSignIn(templates []*cfn.Template) error {
	o := s.opts
	apiT, _, err := classify(templates)
	if err != nil {
		return err
	}
	if len(apiT.OfType("AWS::Cognito::UserPoolClient")) == 0 || o.SignInAddr == "" && o.SignInListener == nil {
		return nil
	}
	ln, err := s.listen(o.SignInListener, o.SignInAddr, "sign-in", true)
	if err != nil {
		return err
	}
	s.SignInURL = Origin(o.SignInAddr, ln)
	if s.issuer, err = oidc.New(s.SignInURL, nil); err != nil {
		return err
	}
	s.serve(ln, s.issuer)
	return nil
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
func (s *System) Issuer() *oidc.Issuer { return s.issuer }

// The issuer checks the tokens of the API's user pool authorizers.
var _ apigw.Verifier = (*oidc.Issuer)(nil)
