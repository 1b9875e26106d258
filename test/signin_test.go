package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// signedIn is dev and prod with "auth": "cognito", synthesized once, in
// one app: dev's templates are golden too (signin-dev-*), and the browser
// test serves them.
var signedIn struct {
	sync.Once
	envs map[string]config.Environment
	out  map[string]*synthesized
	err  error
}

// signedInEnv is the environment name with sign-in, synthesized.
func signedInEnv(t *testing.T, name string) (config.Environment, *synthesized) {
	t.Helper()
	signedIn.Do(func() {
		signedIn.envs = map[string]config.Environment{}
		var envs []config.Environment
		for _, n := range []string{"dev", "prod"} {
			e := envByName(t, n)
			e.Auth = config.AuthCognito
			signedIn.envs[n] = e
			envs = append(envs, e)
		}
		signedIn.out, signedIn.err = synth(filepath.Join(filepath.Dir(withoutCredentials.assembly), "signin"), envs...)
	})
	if signedIn.err != nil {
		t.Fatal(signedIn.err)
	}
	return signedIn.envs[name], signedIn.out[name]
}

func signedInDev(t *testing.T) (config.Environment, *synthesized) {
	t.Helper()
	return signedInEnv(t, "dev")
}

// With sign-in every method requires a Cognito user's token but the
// preflights, which a browser sends without credentials, and the API's
// description (GET /openapi.json), which a type generator reads before
// anyone signs in: they stay open whatever the API's default. The site's app client runs the authorization
// code flow without a secret, and sends users back to the site and the
// other allowed pages only.
func TestSignInProtectsEveryMethodButThePreflights(t *testing.T) {
	e, d := signedInDev(t)
	api := d.api
	pool := id(t, api, "AWS::Cognito::UserPool", obj{
		"MfaConfiguration": "ON", "EnabledMfas": []any{"SOFTWARE_TOKEN_MFA"}, "AdminCreateUserConfig": obj{"AllowAdminCreateUserOnly": true},
		"Policies": obj{"PasswordPolicy": like(obj{"MinimumLength": 12.0, "RequireLowercase": true, "RequireUppercase": true, "RequireNumbers": true, "RequireSymbols": true})},
	})
	authorizer := id(t, api, "AWS::ApiGateway::Authorizer", obj{
		"Type": "COGNITO_USER_POOLS", "IdentitySource": "method.request.header.Authorization",
		"ProviderARNs": []any{obj{"Fn::GetAtt": []any{pool, "Arn"}}},
	})
	methods := *api.FindResources(jsii.String("AWS::ApiGateway::Method"), nil)
	var open, closed int
	document := id(t, api, "AWS::ApiGateway::Resource", obj{"PathPart": "openapi.json"})
	for name, m := range methods {
		p := (*m)["Properties"].(map[string]any)
		switch {
		case p["HttpMethod"] == "OPTIONS":
			open++
			if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
				t.Errorf("preflight %s requires %v %v: a browser's preflight carries no token, and would be refused", name, p["AuthorizationType"], p["AuthorizerId"])
			}
		case fmt.Sprint(p["ResourceId"]) == fmt.Sprint(obj{"Ref": document}):
			if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
				t.Errorf("GET /openapi.json requires %v %v: docs/api.md's type generator has no token", p["AuthorizationType"], p["AuthorizerId"])
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
	if open == 0 || closed < 2 {
		t.Errorf("%d preflights, %d other methods", open, closed)
	}
	check(t, func() {
		api.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), obj{
			"UserPoolId": obj{"Ref": pool}, "GenerateSecret": false, "AllowedOAuthFlows": []any{"code"},
			"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthScopes": []any{"openid", "email"}, "PreventUserExistenceErrors": "ENABLED",
			"CallbackURLs": []any{present, e.AllowedOrigins[0] + "/"}, "LogoutURLs": []any{present, e.AllowedOrigins[0] + "/"},
			// The code flow only: no SRP, password or custom sign-in
			// straight from Cognito's API (its default without this list).
			"ExplicitAuthFlows": []any{"ALLOW_REFRESH_TOKEN_AUTH"},
		})
		api.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolDomain"), obj{"UserPoolId": obj{"Ref": pool}})
		// The authorizer's 401 is API Gateway's UNAUTHORIZED, which
		// DEFAULT_4XX covers: with CORS, like every gateway response, so the
		// page reads "sign in" instead of a CORS error.
		api.HasResourceProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{"ResponseType": "DEFAULT_4XX"})
		api.AllResourcesProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{
			"ResponseParameters": like(obj{"gatewayresponse.header.Access-Control-Allow-Origin": present}),
		})
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

// A front end of one's own configures its OpenID client from the stack's
// outputs: the issuer (its authority, whose discovery document lists the
// endpoints), the app client, and where Cognito sends users back, which
// allowedOrigins extends; /openapi.json declares the same issuer to a type
// generator (the function's SIGN_IN_ISSUER).
func TestAFrontEndOfOnesOwnHasWhatItNeeds(t *testing.T) {
	e, d := signedInDev(t)
	pool := id(t, d.api, "AWS::Cognito::UserPool", obj{})
	client := id(t, d.api, "AWS::Cognito::UserPoolClient", obj{})
	issuer := obj{"Fn::GetAtt": []any{pool, "ProviderURL"}}
	check(t, func() {
		d.api.HasOutput(jsii.String("SignInIssuer"), obj{"Value": issuer})
		d.api.HasOutput(jsii.String("SignInClientId"), obj{"Value": obj{"Ref": client}})
		d.api.HasOutput(jsii.String("SignInCallbacks"), obj{"Value": obj{"Fn::Join": []any{" ", arrayWith(e.AllowedOrigins[0] + "/")}}})
		d.api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Environment": obj{"Variables": like(obj{"SIGN_IN_ISSUER": issuer})}})
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
	domain := regexp.MustCompile(`"signIn":\{"clientId":"\{"Ref":"UsersSite[0-9A-F]+"\}","issuer":"\{"Fn::GetAtt":\["Users[0-9A-F]+","ProviderURL"\]\}","url":"(https://\{"Ref":"UsersHosted[0-9A-F]+"\}\.auth\.eu-west-1\.amazoncognito\.com)"\}`).FindStringSubmatch(files["config.json"])
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

// The deploy job finds the sign-in in the stack's outputs and then checks
// the deployed API signed out (a readable 401), since it has no user's
// token; an open environment has no such output, and is checked as before.
func TestTheDeployJobChecksTheAPISignedOut(t *testing.T) {
	_, d := signedInDev(t)
	check(t, func() {
		d.api.HasOutput(jsii.String("SignInUrl"), obj{"Value": present})
		d.api.HasOutput(jsii.String("UserPoolId"), obj{"Value": obj{"Ref": present}})
	})
	if outputs := *withoutCredentials.deployed["dev"].api.FindOutputs(jsii.String("SignInUrl"), nil); len(outputs) != 0 {
		t.Errorf("dev without auth outputs a sign-in: %v", outputs)
	}
	job, err := os.ReadFile("../.github/workflows/deploy-env.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`'.[$s].SignInUrl // empty'`, `-expect-unauthorized`, `if: steps.urls.outputs.signin == ''`} {
		if !strings.Contains(string(job), want) {
			t.Errorf("deploy-env.yml lacks %s: it would fail behind sign-in, or check nothing", want)
		}
	}
}

// Production's users get Cognito's threat protection, enforced (compromised
// credentials and risky sign-ins blocked), and a pool that survives its
// stack; dev's pool is on the plan without it, and goes with its stack.
func TestProductionSignInIsHardened(t *testing.T) {
	for name, want := range map[string]obj{
		"prod": {"UserPoolTier": "PLUS", "UserPoolAddOns": obj{"AdvancedSecurityMode": "ENFORCED"}, "DeletionProtection": "ACTIVE"},
		"dev":  {"UserPoolTier": "ESSENTIALS", "UserPoolAddOns": obj{"AdvancedSecurityMode": "OFF"}, "DeletionProtection": "INACTIVE"},
	} {
		t.Run(name, func(t *testing.T) {
			_, d := signedInEnv(t, name)
			want["MfaConfiguration"] = "ON"
			check(t, func() { d.api.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), want) })
			// Cognito sends a user back to localhost only where the
			// environment allows a localhost page (dev's make local).
			for _, c := range *d.api.FindResources(jsii.String("AWS::Cognito::UserPoolClient"), nil) {
				urls, _ := json.Marshal([]any{(*c)["Properties"].(map[string]any)["CallbackURLs"], (*c)["Properties"].(map[string]any)["LogoutURLs"]})
				if got, want := strings.Contains(string(urls), "localhost"), name == "dev"; got != want {
					t.Errorf("%s's app client sends users to localhost: %v, want %v (%s)", name, got, want, urls)
				}
			}
			policy := map[string]string{"prod": "Retain", "dev": "Delete"}[name]
			check(t, func() {
				d.api.HasResource(jsii.String("AWS::Cognito::UserPool"), obj{"DeletionPolicy": policy, "UpdateReplacePolicy": policy})
			})
		})
	}
}
