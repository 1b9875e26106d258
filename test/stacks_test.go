package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/stacks"
)

// vtlOrigin finds the origins CDK's preflight VTL compares against.
var vtlOrigin = regexp.MustCompile(`\$origin == "([^"]+)"`)

// preflightOrigins returns the static Access-Control-Allow-Origin expression
// and the extra origins allowed through VTL, from one OPTIONS method.
func preflightOrigins(method map[string]any) (static any, extra []string) {
	resp := dig(method, "Integration", "IntegrationResponses", 0)
	static = dig(resp, "ResponseParameters", "method.response.header.Access-Control-Allow-Origin")
	vtl, _ := dig(resp, "ResponseTemplates", "application/json").(string)
	for _, m := range vtlOrigin.FindAllStringSubmatch(vtl, -1) {
		extra = append(extra, m[1])
	}
	return static, extra
}

// siteDomain is the token standing for the CloudFront domain in an
// expression like {"Fn::Join": ["", ["'https://", <domain>, "'"]]}.
func siteDomain(expr any) string {
	return jsonText(dig(expr, "Fn::Join", 1, 1))
}

func TestPreflights(t *testing.T) {
	for _, e := range envs {
		t.Run(e.Name, func(t *testing.T) {
			api := deployed[e.Name].api
			var resources []string
			for id, m := range api.resources("AWS::ApiGateway::Method") {
				if m["HttpMethod"] != "OPTIONS" {
					continue
				}
				resources = append(resources, id)
				if m["AuthorizationType"] != "NONE" {
					t.Errorf("%s: AuthorizationType = %v, want NONE: browsers send preflights without credentials", id, m["AuthorizationType"])
				}
				if got := dig(m, "Integration", "Type"); got != "MOCK" {
					t.Errorf("%s: integration %v, want MOCK", id, got)
				}
				resp := dig(m, "Integration", "IntegrationResponses", 0)
				if got := dig(resp, "StatusCode"); got != "204" {
					t.Errorf("%s: status %v, want 204", id, got)
				}
				params := dig(resp, "ResponseParameters").(map[string]any)
				for header, want := range map[string]string{
					"Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
					"Access-Control-Allow-Headers": "'Content-Type'",
					"Access-Control-Max-Age":       fmt.Sprintf("'%d'", e.CorsMaxAgeSeconds),
					"Vary":                         "'Origin'",
				} {
					if got := params["method.response.header."+header]; got != want {
						t.Errorf("%s: %s = %v, want %s", id, header, got, want)
					}
				}
				static, extra := preflightOrigins(m)
				if !strings.Contains(jsonText(static), "'https://") || !strings.Contains(jsonText(static), "DomainName") {
					t.Errorf("%s: static Access-Control-Allow-Origin = %s, want the site's https:// CloudFront origin", id, jsonText(static))
				}
				if !slices.Equal(extra, e.AllowedOrigins) {
					t.Errorf("%s: VTL allows %v, want the configured extras %v", id, extra, e.AllowedOrigins)
				}
			}
			// The root, /predict and /model each answer preflights.
			if len(resources) != 3 {
				t.Errorf("%d OPTIONS methods, want 3 (/, /predict, /model)", len(resources))
			}
		})
	}
}

func TestGatewayResponsesCarryCORS(t *testing.T) {
	for _, e := range envs {
		t.Run(e.Name, func(t *testing.T) {
			responses := deployed[e.Name].api.resources("AWS::ApiGateway::GatewayResponse")
			var types []string
			for id, r := range responses {
				types = append(types, r["ResponseType"].(string))
				params := r["ResponseParameters"].(map[string]any)
				acao := params["gatewayresponse.header.Access-Control-Allow-Origin"]
				if len(e.AllowedOrigins) > 0 {
					if acao != "method.request.header.Origin" {
						t.Errorf("%s: ACAO = %v, want the request's Origin (several origins are allowed)", id, acao)
					}
				} else if !strings.Contains(jsonText(acao), "'https://") {
					t.Errorf("%s: ACAO = %s, want the site's origin, statically", id, jsonText(acao))
				}
				if params["gatewayresponse.header.Vary"] != "'Origin'" {
					t.Errorf("%s: no Vary: Origin", id)
				}
				if tmpl := jsonText(dig(r, "ResponseTemplates", "application/json")); !strings.Contains(tmpl, `\"error\":{\"code\"`) {
					t.Errorf("%s: body template %s, want the API's error envelope", id, tmpl)
				}
			}
			slices.Sort(types)
			if want := []string{"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"}; !slices.Equal(types, want) {
				t.Errorf("gateway responses %v, want %v", types, want)
			}
		})
	}
}

func TestFunctionAllowsExactlyThePreflightOrigins(t *testing.T) {
	for _, e := range envs {
		t.Run(e.Name, func(t *testing.T) {
			api := deployed[e.Name].api
			var fn map[string]any
			for _, f := range api.resources("AWS::Lambda::Function") {
				if f["Handler"] == "bootstrap" { // the other one is CDK's BucketDeployment handler
					fn = f
				}
			}
			if jsonText(fn["Architectures"]) != `["arm64"]` || fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" {
				t.Errorf("function = %v %v %v, want arm64 provided.al2023 bootstrap", fn["Architectures"], fn["Runtime"], fn["Handler"])
			}
			env := dig(fn, "Environment", "Variables", "ALLOWED_ORIGINS")
			parts := []any{env} // CDK folds a one-origin list into that origin
			if dig(env, "Fn::Join", 0) == "," {
				parts, _ = dig(env, "Fn::Join", 1).([]any)
			}
			var preflight map[string]any
			for _, m := range api.resources("AWS::ApiGateway::Method") {
				if m["HttpMethod"] == "OPTIONS" {
					preflight = m
				}
			}
			static, extra := preflightOrigins(preflight)
			if got, want := siteDomain(parts[0]), siteDomain(static); got != want {
				t.Errorf("ALLOWED_ORIGINS starts with %s, the preflight allows %s", got, want)
			}
			var fnExtra []string
			for _, p := range parts[1:] {
				fnExtra = append(fnExtra, p.(string))
			}
			if !slices.Equal(fnExtra, extra) {
				t.Errorf("ALLOWED_ORIGINS extras = %v, preflight extras = %v", fnExtra, extra)
			}
		})
	}
}

func TestCSPAdmitsTheAPI(t *testing.T) {
	for _, e := range envs {
		t.Run(e.Name, func(t *testing.T) {
			site, api := deployed[e.Name].site, deployed[e.Name].api
			policy := site.one(t, "AWS::CloudFront::ResponseHeadersPolicy")
			csp, _ := dig(policy, "ResponseHeadersPolicyConfig", "SecurityHeadersConfig", "ContentSecurityPolicy", "ContentSecurityPolicy").(string)
			var connect []string
			for _, d := range strings.Split(csp, ";") {
				if f := strings.Fields(d); len(f) > 0 && f[0] == "connect-src" {
					connect = f[1:]
				}
			}
			// The API URL is https://<id>.execute-api.<region>.amazonaws.com/<stage>/.
			url := jsonText(dig(api, "Outputs", "ApiUrl", "Value"))
			wantHost := "https://*.execute-api." + e.Region + ".amazonaws.com"
			if !slices.Contains(connect, wantHost) || !strings.Contains(url, ".execute-api."+e.Region+".") {
				t.Errorf("connect-src %v does not admit the API %s", connect, url)
			}
			for _, directive := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("CSP %q lacks %q", csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code or eval: %q", csp)
			}
		})
	}
}

func TestProductionAllowsOnlyItsSite(t *testing.T) {
	for _, e := range envs {
		if !e.Production {
			continue
		}
		for stack, tmpl := range map[string]template{"Site": deployed[e.Name].site, "Api": deployed[e.Name].api} {
			// The request model's "$schema" is the one http:// URL allowed.
			text := strings.ReplaceAll(jsonText(tmpl), "http://json-schema.org/", "")
			for _, bad := range []string{"localhost", "http://", "'*'", "127.0.0.1"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s/%s template mentions %q", e.Name, stack, bad)
				}
			}
		}
	}
}

func TestSiteBucketIsPrivateBehindOAC(t *testing.T) {
	for _, e := range envs {
		t.Run(e.Name, func(t *testing.T) {
			site := deployed[e.Name].site
			for id, b := range site.resources("AWS::S3::Bucket") {
				block := jsonText(b["PublicAccessBlockConfiguration"])
				for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
					if !strings.Contains(block, `"`+k+`":true`) {
						t.Errorf("bucket %s: %s not set: %s", id, k, block)
					}
				}
				if b["WebsiteConfiguration"] != nil {
					t.Errorf("bucket %s has website hosting; CloudFront must be the only way in", id)
				}
			}
			site.one(t, "AWS::CloudFront::OriginAccessControl")
			dist := site.one(t, "AWS::CloudFront::Distribution")
			origin := dig(dist, "DistributionConfig", "Origins", 0)
			if dig(origin, "OriginAccessControlId") == nil {
				t.Errorf("distribution origin has no Origin Access Control: %s", jsonText(origin))
			}
			if got := dig(dist, "DistributionConfig", "DefaultCacheBehavior", "ViewerProtocolPolicy"); got != "redirect-to-https" {
				t.Errorf("ViewerProtocolPolicy = %v", got)
			}
			policies := jsonText(site.resources("AWS::S3::BucketPolicy"))
			if !strings.Contains(policies, "cloudfront.amazonaws.com") || !strings.Contains(policies, "AWS:SourceArn") {
				t.Errorf("no bucket policy letting only this distribution read: %s", policies)
			}
			if !strings.Contains(policies, `"aws:SecureTransport":"false"`) {
				t.Errorf("bucket policy does not enforce TLS")
			}
		})
	}
}

func TestNoUnsuppressedNagFindings(t *testing.T) {
	for _, e := range envs {
		for name, stack := range map[string]awscdk.Stack{"Site": deployed[e.Name].env.Site.Stack, "Api": deployed[e.Name].env.Api.Stack} {
			t.Run(e.Name+"/"+name, func(t *testing.T) {
				a := assertions.Annotations_FromStack(stack)
				for kind, found := range map[string]*[]*cxapi.SynthesisMessage{
					"error":   a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"))),
					"warning": a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
				} {
					for _, m := range *found {
						t.Errorf("%s at %s: %v", kind, *m.Id, m.Entry.Data)
					}
				}
			})
		}
	}
}

// Changing a CORS setting must give the API Deployment a new logical ID, or
// CloudFormation keeps the old stage and browsers keep seeing the old CORS
// answers. The same settings must keep the ID, or every deploy churns.
func TestCORSChangeRedeploysTheStage(t *testing.T) {
	dev := envByName(t, "dev")
	changed := dev
	changed.AllowedOrigins = append(slices.Clone(dev.AllowedOrigins), "http://localhost:5173")
	again, _, err := synth(dev)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := synth(changed)
	if err != nil {
		t.Fatal(err)
	}
	a, a2, b := deploymentID(t, deployed["dev"].api), deploymentID(t, again["dev"].api), deploymentID(t, other["dev"].api)
	if a != a2 {
		t.Errorf("same config, different Deployment IDs %s and %s: every deploy would redeploy", a, a2)
	}
	if a == b {
		t.Errorf("CORS origins changed but the Deployment ID stayed %s: the stage would keep the old CORS", a)
	}
	stage := other["dev"].api.one(t, "AWS::ApiGateway::Stage")
	if got := jsonText(stage["DeploymentId"]); got != `{"Ref":"`+b+`"}` {
		t.Errorf("Stage.DeploymentId = %s, want a Ref to the new Deployment %s", got, b)
	}
}

func deploymentID(t *testing.T, api template) string {
	t.Helper()
	for id := range api.resources("AWS::ApiGateway::Deployment") {
		return id
	}
	t.Fatal("no AWS::ApiGateway::Deployment")
	return ""
}

func envByName(t *testing.T, name string) config.Environment {
	t.Helper()
	i := slices.IndexFunc(envs, func(e config.Environment) bool { return e.Name == name })
	if i < 0 {
		t.Fatalf("cdk.json has no %q environment", name)
	}
	e := envs[i]
	e.AllowedOrigins = slices.Clone(e.AllowedOrigins)
	return e
}

// A production environment that would let a developer's machine or plain
// http:// pages call its API must not synthesize, and must say why and where.
func TestProductionGuardRejectsLocalOrigins(t *testing.T) {
	bad := envByName(t, "prod")
	bad.AllowedOrigins = []string{"http://localhost:8080", "https://localhost:8443", "http://shop.example"}
	_, dir, err := synth(bad)
	if err == nil {
		t.Fatal("synth of prod with local origins succeeded")
	}
	report, readErr := os.ReadFile(filepath.Join(dir, "validation-report.json"))
	if readErr != nil {
		t.Fatalf("synth failed without a validation report (%v): %v", readErr, err)
	}
	for _, origin := range bad.AllowedOrigins {
		want := fmt.Sprintf(`environment prod: origin %q is allowed by the OPTIONS preflight, but production allows only https:// origins that are not localhost and never *; remove it from environments.prod.allowedOrigins in cdk.json`, origin)
		if !strings.Contains(string(report), jsonText(want)) {
			t.Errorf("validation report lacks %q", want)
		}
	}
}

// The CI roles trust only this repository's workflows, hold no managed
// policy, and may do nothing but assume the CDK bootstrap roles.
func TestGitHubOIDCRoles(t *testing.T) {
	roles := ciTemplate.resources("AWS::IAM::Role")
	if len(roles) != 2 {
		t.Fatalf("%d roles, want the deploy and the diff role", len(roles))
	}
	subjects := map[string]bool{}
	for id, r := range roles {
		trust := dig(r, "AssumeRolePolicyDocument", "Statement", 0)
		if dig(trust, "Action") != "sts:AssumeRoleWithWebIdentity" ||
			dig(trust, "Condition", "StringEquals", "token.actions.githubusercontent.com:aud") != "sts.amazonaws.com" {
			t.Errorf("%s: trust policy %s", id, jsonText(trust))
		}
		sub, _ := dig(trust, "Condition", "StringLike", "token.actions.githubusercontent.com:sub").(string)
		if !strings.HasPrefix(sub, "repo:"+testRepository+":") {
			t.Errorf("%s: trusts %q, want only %s", id, sub, testRepository)
		}
		subjects[sub] = true
		if r["ManagedPolicyArns"] != nil {
			t.Errorf("%s has managed policies %v", id, r["ManagedPolicyArns"])
		}
	}
	if !subjects["repo:"+testRepository+":environment:*"] || !subjects["repo:"+testRepository+":pull_request"] {
		t.Errorf("subjects %v, want deploy jobs in environments and pull requests", subjects)
	}
	for id, p := range ciTemplate.resources("AWS::IAM::Policy") {
		for _, st := range dig(p, "PolicyDocument", "Statement").([]any) {
			if dig(st, "Action") != "sts:AssumeRole" || !strings.Contains(jsonText(dig(st, "Resource")), "role/cdk-hnb659fds-") {
				t.Errorf("%s allows %s", id, jsonText(st))
			}
		}
	}
	diff := jsonText(ciTemplate.resources("AWS::IAM::Policy"))
	if strings.Count(diff, "deploy-role") != 1 {
		t.Errorf("the deploy role must be assumable by the deploy role only: %s", diff)
	}
	errs := assertions.Annotations_FromStack(ci.Stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*")))
	for _, m := range *errs {
		t.Errorf("error at %s: %v", *m.Id, m.Entry.Data)
	}
}

func TestBadRepositoryIsRefused(t *testing.T) {
	for _, repo := range []string{"iris", "owner/", "owner/name/extra", "owner/na me"} {
		if err := stacks.ValidRepository(repo); err == nil {
			t.Errorf("ValidRepository(%q) accepted it", repo)
		}
	}
}

// The production guard reads what was synthesized, so CORS written by hand
// elsewhere in the tree is caught too, wildcard included.
func TestProductionGuardCatchesAHandWrittenWildcard(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(dir)})
	env := stacks.NewEnvironment(app, envByName(t, "prod"), root)
	extra := awsapigateway.NewRestApi(env.Api.Stack, jsii.String("Extra"), &awsapigateway.RestApiProps{
		DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{AllowOrigins: awsapigateway.Cors_ALL_ORIGINS()},
	})
	extra.Root().AddMethod(jsii.String("GET"), awsapigateway.NewMockIntegration(nil), nil)
	func() {
		defer func() { err = fmt.Errorf("%v", recover()) }()
		app.Synth(nil)
	}()
	report, _ := os.ReadFile(filepath.Join(dir, "validation-report.json"))
	if want := `environment prod: origin \"*\" is allowed by the OPTIONS preflight`; !strings.Contains(string(report), want) {
		t.Errorf("synth (%v) did not report %s", err, want)
	}
}
