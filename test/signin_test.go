package test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// signedIn is dev with "auth": "cognito", synthesized once: its templates
// are golden too (signin-dev-*), and the browser test serves them.
var signedIn struct {
	sync.Once
	env config.Environment
	out *synthesized
	err error
}

func signedInDev(t *testing.T) (config.Environment, *synthesized) {
	t.Helper()
	signedIn.Do(func() {
		e := envByName(t, "dev")
		e.Auth = config.AuthCognito
		out, err := synth(filepath.Join(filepath.Dir(withoutCredentials.assembly), "signin"), e)
		signedIn.env, signedIn.out, signedIn.err = e, out[e.Name], err
	})
	if signedIn.err != nil {
		t.Fatal(signedIn.err)
	}
	return signedIn.env, signedIn.out
}

// With sign-in every method requires a Cognito user's token but the
// preflights, which a browser sends without credentials: they stay open
// whatever the API's default. The site's app client runs the authorization
// code flow without a secret, and sends users back to the site and the
// other allowed pages only.
func TestSignInProtectsEveryMethodButThePreflights(t *testing.T) {
	e, d := signedInDev(t)
	api := d.api
	pool := id(t, api, "AWS::Cognito::UserPool", obj{"MfaConfiguration": "ON", "AdminCreateUserConfig": obj{"AllowAdminCreateUserOnly": true}})
	authorizer := id(t, api, "AWS::ApiGateway::Authorizer", obj{
		"Type": "COGNITO_USER_POOLS", "IdentitySource": "method.request.header.Authorization",
		"ProviderARNs": []any{obj{"Fn::GetAtt": []any{pool, "Arn"}}},
	})
	methods := *api.FindResources(jsii.String("AWS::ApiGateway::Method"), nil)
	var open, closed int
	for name, m := range methods {
		p := (*m)["Properties"].(map[string]any)
		switch {
		case p["HttpMethod"] == "OPTIONS":
			open++
			if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
				t.Errorf("preflight %s requires %v %v: a browser's preflight carries no token, and would be refused", name, p["AuthorizationType"], p["AuthorizerId"])
			}
		default:
			closed++
			if p["AuthorizationType"] != "COGNITO_USER_POOLS" || fmt.Sprint(p["AuthorizerId"]) != fmt.Sprint(obj{"Ref": authorizer}) {
				t.Errorf("method %s %s is open (%v %v)", p["HttpMethod"], name, p["AuthorizationType"], p["AuthorizerId"])
			}
			// It passes cdk-nag's authorization rules itself.
			if nag := fmt.Sprint((*m)["Metadata"]); strings.Contains(nag, "APIG4") || strings.Contains(nag, "COG4") {
				t.Errorf("method %s %s has cdk-nag's authorization findings suppressed: %s", p["HttpMethod"], name, nag)
			}
		}
	}
	if open == 0 || closed < 3 {
		t.Errorf("%d preflights, %d other methods", open, closed)
	}
	check(t, func() {
		api.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), obj{
			"UserPoolId": obj{"Ref": pool}, "GenerateSecret": false, "AllowedOAuthFlows": []any{"code"},
			"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthScopes": []any{"openid", "email"},
			"CallbackURLs": []any{present, e.AllowedOrigins[0] + "/"}, "LogoutURLs": []any{present, e.AllowedOrigins[0] + "/"},
		})
		api.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolDomain"), obj{"UserPoolId": obj{"Ref": pool}})
		// The page sends its token in the Authorization header, never a
		// cookie: the preflight allows the header, not credentials.
		api.HasResourceProperties(jsii.String("AWS::ApiGateway::Method"), obj{"HttpMethod": "OPTIONS", "Integration": like(obj{
			"IntegrationResponses": []any{like(obj{"ResponseParameters": like(obj{
				"method.response.header.Access-Control-Allow-Headers":     "'Content-Type,Authorization'",
				"method.response.header.Access-Control-Allow-Credentials": absent,
			})})},
		})})
	})
}

// The page signs in where the deployment says: config.json names the
// sign-in's URL and the site's client, the page's own policy lets it reach
// the token endpoint (and CloudFront's header the region's sign-in
// domains), nothing else.
func TestThePageKnowsWhereToSignIn(t *testing.T) {
	_, d := signedInDev(t)
	files := deployedSite(t, filepath.Join(filepath.Dir(withoutCredentials.assembly), "signin"), d)
	// The values are tokens, written here as their JSON (render).
	domain := regexp.MustCompile(`"signIn":\{"clientId":"\{"Ref":"UsersSite[0-9A-F]+"\}","url":"(https://\{"Ref":"UsersHosted[0-9A-F]+"\}\.auth\.eu-west-1\.amazoncognito\.com)"\}`).FindStringSubmatch(files["config.json"])
	if domain == nil {
		t.Fatalf("config.json names no sign-in of the site's client: %.300s", files["config.json"])
	}
	if page := files["index.html"]; !strings.Contains(page, " "+domain[1]+`/oauth2/token">`) {
		t.Errorf("the page's policy does not name the token endpoint %s/oauth2/token:\n%.600s", domain[1], page)
	}
	check(t, func() {
		d.site.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), obj{"ResponseHeadersPolicyConfig": like(obj{
			"SecurityHeadersConfig": like(obj{"ContentSecurityPolicy": like(obj{"ContentSecurityPolicy": matches(`connect-src 'self' https://\*\.execute-api\.eu-west-1\.amazonaws\.com https://\*\.auth\.eu-west-1\.amazoncognito\.com;`)})}),
		})})
	})
}
