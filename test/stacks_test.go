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

// Shorthands for the assertion library's matchers.
type obj = map[string]any

func like(pattern obj) assertions.Matcher       { return assertions.Match_ObjectLike(&pattern) }
func arrayWith(items ...any) assertions.Matcher { return assertions.Match_ArrayWith(&items) }
func matches(re string) assertions.Matcher      { return assertions.Match_StringLikeRegexp(jsii.String(re)) }

var (
	absent  = assertions.Match_Absent()
	present = assertions.Match_AnyValue()
)

// siteDomain matches the token that stands for an environment's CloudFront
// domain in the API stack: an output of its site stack.
func siteDomain(e config.Environment) assertions.Matcher {
	return like(obj{"Fn::GetStackOutput": like(obj{
		"StackName":  e.Name + "-Site",
		"OutputName": matches(`.*Distribution.*DomainName.*`),
	})})
}

// siteOrigin is the site's origin as a quoted API Gateway header value.
func siteOriginHeader(e config.Environment) obj {
	return obj{"Fn::Join": []any{"", []any{"'https://", siteDomain(e), "'"}}}
}

// vtlOrigin finds the origins CDK's preflight VTL compares against.
var vtlOrigin = regexp.MustCompile(`\$origin == "([^"]+)"`)

func TestPreflights(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		// With one allowed origin CDK answers it statically; each further
		// origin is echoed by a VTL template, which the capture reads.
		vtl := assertions.NewCapture(nil)
		templates := any(absent)
		if len(e.AllowedOrigins) > 0 {
			templates = obj{"application/json": vtl}
		}
		preflight := obj{
			"HttpMethod": "OPTIONS",
			// Browsers send preflights without credentials.
			"AuthorizationType": "NONE",
			"Integration": like(obj{
				"Type": "MOCK",
				"IntegrationResponses": []any{like(obj{
					"StatusCode": "204",
					"ResponseParameters": obj{
						"method.response.header.Access-Control-Allow-Origin":  siteOriginHeader(e),
						"method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
						"method.response.header.Access-Control-Allow-Headers": "'Content-Type'",
						"method.response.header.Access-Control-Max-Age":       fmt.Sprintf("'%d'", e.CorsMaxAgeSeconds),
						"method.response.header.Vary":                         "'Origin'",
					},
					"ResponseTemplates": templates,
				})},
			}),
		}
		api := d.api
		// The root, /predict, /model and /openapi.json each answer preflights, all alike.
		// HasResourceProperties first: it explains a mismatch in detail.
		check(t, func() {
			api.HasResourceProperties(jsii.String("AWS::ApiGateway::Method"), preflight)
			api.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"), preflight, jsii.Number(4))
			api.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"), obj{"HttpMethod": "OPTIONS"}, jsii.Number(4))
		})
		if len(e.AllowedOrigins) == 0 || t.Failed() {
			return
		}
		check(t, func() {
			for more := true; more; more = *vtl.Next() {
				var extra []string
				for _, m := range vtlOrigin.FindAllStringSubmatch(*vtl.AsString(), -1) {
					extra = append(extra, m[1])
				}
				if !slices.Equal(extra, e.AllowedOrigins) {
					t.Errorf("a preflight's VTL allows %v, want the configured extras %v", extra, e.AllowedOrigins)
				}
			}
		})
	})
}

// API Gateway's own errors (validation 400s, unknown paths, throttling, 5xx)
// carry CORS headers, or the browser reports CORS instead of the error.
func TestGatewayResponsesCarryCORS(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		// Several allowed origins outside production: echo the request's
		// (static headers only could name one); one, or production: the
		// site's, statically.
		acao := any(siteOriginHeader(e))
		if len(e.AllowedOrigins) > 0 && !e.Production {
			acao = "method.request.header.Origin"
		}
		api := d.api
		check(t, func() {
			api.ResourceCountIs(jsii.String("AWS::ApiGateway::GatewayResponse"), jsii.Number(3))
			for _, typ := range []string{"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"} {
				api.HasResourceProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{
					"ResponseType": typ,
					"ResponseParameters": obj{
						"gatewayresponse.header.Access-Control-Allow-Origin": acao,
						"gatewayresponse.header.Vary":                        "'Origin'",
						"gatewayresponse.header.X-Content-Type-Options":      "'nosniff'",
					},
					// The API's error envelope, so the page shows one kind of error.
					"ResponseTemplates": obj{"application/json": matches(`\{"error":\{"code":.*`)},
				})
			}
		})
	})
}

// The function echoes exactly the origins the preflight allows: the site's,
// then the configured extras, in one comma-separated variable.
func TestFunctionAllowsExactlyThePreflightOrigins(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		origins := any(obj{"Fn::Join": []any{"", []any{"https://", siteDomain(e)}}})
		if len(e.AllowedOrigins) > 0 {
			list := []any{origins}
			for _, o := range e.AllowedOrigins {
				list = append(list, o)
			}
			origins = obj{"Fn::Join": []any{",", list}}
		}
		check(t, func() {
			d.api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{
				"Handler":       "bootstrap",
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Environment":   obj{"Variables": like(obj{"ALLOWED_ORIGINS": origins})},
			})
		})
	})
}

func TestCSPAdmitsTheAPI(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		csp := assertions.NewCapture(nil)
		check(t, func() {
			d.site.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), obj{
				"ResponseHeadersPolicyConfig": like(obj{"SecurityHeadersConfig": like(obj{
					"ContentSecurityPolicy": obj{"ContentSecurityPolicy": csp, "Override": true},
					// HTTPS only, for two years, subdomains included; no framing.
					"StrictTransportSecurity": obj{"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": true, "Override": true},
					"FrameOptions":            obj{"FrameOption": "DENY", "Override": true},
				})}),
			})
			// The API's URL is https://<id>.execute-api.<region>.<suffix>/<stage>/.
			d.api.HasOutput(jsii.String("ApiUrl"), obj{
				"Value": obj{"Fn::Join": []any{"", arrayWith("https://", ".execute-api."+e.Region+".")}},
			})
		})
		if t.Failed() {
			return
		}
		policy := *csp.AsString()
		directives := map[string][]string{}
		for _, d := range strings.Split(policy, ";") {
			if f := strings.Fields(d); len(f) > 0 {
				directives[f[0]] = f[1:]
			}
		}
		if want := "https://*.execute-api." + e.Region + ".amazonaws.com"; !slices.Contains(directives["connect-src"], want) {
			t.Errorf("connect-src %v does not admit the API (%s)", directives["connect-src"], want)
		}
		for name, want := range map[string]string{"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "frame-ancestors": "'none'"} {
			if got := strings.Join(directives[name], " "); got != want {
				t.Errorf("%s %q, want %q", name, got, want)
			}
		}
		if strings.Contains(policy, "unsafe-inline") || strings.Contains(policy, "unsafe-eval") {
			t.Errorf("CSP allows inline code or eval: %q", policy)
		}
	})
}

func TestSiteBucketIsPrivateBehindOAC(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		site := d.site
		check(t, func() {
			site.AllResourcesProperties(jsii.String("AWS::S3::Bucket"), obj{
				"PublicAccessBlockConfiguration": obj{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
				// CloudFront must be the only way in.
				"WebsiteConfiguration": absent,
			})
			site.ResourceCountIs(jsii.String("AWS::CloudFront::OriginAccessControl"), jsii.Number(1))
			site.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), obj{"DistributionConfig": like(obj{
				"Origins":              []any{like(obj{"OriginAccessControlId": present})},
				"DefaultCacheBehavior": like(obj{"ViewerProtocolPolicy": "redirect-to-https"}),
			})})
			// Only this distribution reads the content...
			site.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), obj{"PolicyDocument": like(obj{
				"Statement": arrayWith(like(obj{
					"Effect":    "Allow",
					"Action":    "s3:GetObject",
					"Principal": obj{"Service": "cloudfront.amazonaws.com"},
					"Condition": obj{"StringEquals": obj{"AWS:SourceArn": present}},
				})),
			})})
			// ...and every bucket refuses plain HTTP.
			site.AllResourcesProperties(jsii.String("AWS::S3::BucketPolicy"), obj{"PolicyDocument": like(obj{
				"Statement": arrayWith(like(obj{
					"Effect":    "Deny",
					"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
				})),
			})})
		})
	})
}

// cdk-nag is clean with and without the caller's account: a suppression
// that names a resource must match it in both forms.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	eachEnv(t, func(t *testing.T, _ *caller, _ config.Environment, d *synthesized) {
		for name, stack := range map[string]awscdk.Stack{"Site": d.env.Site.Stack, "Api": d.env.Api.Stack, "Account": d.account.Stack} {
			t.Run(name, func(t *testing.T) { nagClean(t, stack) })
		}
	})
	// With sign-in the protected methods pass APIG4 and COG4 on their own;
	// only the preflights are suppressed (signin_test.go).
	for _, name := range []string{"dev", "prod"} {
		t.Run("signed in/"+name, func(t *testing.T) {
			_, d := signedInEnv(t, name)
			nagClean(t, d.env.Api.Stack)
			nagClean(t, d.env.Site.Stack)
		})
	}
}

// nagClean fails t for each error and each cdk-nag warning on stack.
func nagClean(t *testing.T, stack awscdk.Stack) {
	t.Helper()
	a := assertions.Annotations_FromStack(stack)
	for kind, found := range map[string]*[]*cxapi.SynthesisMessage{
		"error":   a.FindError(jsii.String("*"), matches(".*")),
		"warning": a.FindWarning(jsii.String("*"), matches("AwsSolutions-.*")),
	} {
		for _, m := range *found {
			t.Errorf("%s at %s: %v", kind, *m.Id, m.Entry.Data)
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
	again, err := synth(t.TempDir(), dev)
	if err != nil {
		t.Fatal(err)
	}
	other, err := synth(t.TempDir(), changed)
	if err != nil {
		t.Fatal(err)
	}
	a, a2, b := deploymentID(t, withoutCredentials.deployed["dev"].api), deploymentID(t, again["dev"].api), deploymentID(t, other["dev"].api)
	if a != a2 {
		t.Errorf("same config, different Deployment IDs %s and %s: every deploy would redeploy", a, a2)
	}
	if a == b {
		t.Errorf("CORS origins changed but the Deployment ID stayed %s: the stage would keep the old CORS", a)
	}
	check(t, func() {
		other["dev"].api.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), obj{"DeploymentId": obj{"Ref": b}})
	})
}

func deploymentID(t *testing.T, api assertions.Template) string {
	t.Helper()
	var ids []string
	check(t, func() {
		for id := range *api.FindResources(jsii.String("AWS::ApiGateway::Deployment"), nil) {
			ids = append(ids, id)
		}
	})
	if len(ids) != 1 {
		t.Fatalf("%d AWS::ApiGateway::Deployment resources, want 1", len(ids))
	}
	return ids[0]
}

func envByName(t *testing.T, name string) config.Environment {
	t.Helper()
	e, ok := findEnv(envs, name)
	if !ok {
		t.Fatalf("cdk.json has no %q environment", name)
	}
	return e
}

// findEnv is the environment of list with the name, with its own copy of
// the origins.
func findEnv(list []config.Environment, name string) (config.Environment, bool) {
	i := slices.IndexFunc(list, func(e config.Environment) bool { return e.Name == name })
	if i < 0 {
		return config.Environment{}, false
	}
	e := list[i]
	e.AllowedOrigins = slices.Clone(e.AllowedOrigins)
	return e, true
}

// validationReport is what a failed synth explains, as `cdk synth` prints it.
func validationReport(t *testing.T, dir string) string {
	t.Helper()
	report, err := os.ReadFile(filepath.Join(dir, "validation-report.json"))
	if err != nil {
		t.Fatalf("synth failed without a validation report: %v", err)
	}
	return string(report)
}

// A production environment that would let a developer's machine or plain
// http:// pages call its API must not synthesize, and must say why and where.
func TestProductionGuardRejectsLocalOrigins(t *testing.T) {
	bad := envByName(t, "prod")
	bad.AllowedOrigins = []string{"http://localhost:8080", "https://localhost:8443", "http://shop.example",
		"https://localhost.", "https://app.localhost", "https://0.0.0.0", "https://[::]", "https://127.0.0.2", "https://10.1.2.3", "https://192.168.0.10", "https://[fd00::1]"}
	dir := t.TempDir()
	if _, err := synth(dir, bad); err == nil {
		t.Fatal("synth of prod with local origins succeeded")
	}
	report := validationReport(t, dir)
	for _, origin := range bad.AllowedOrigins {
		// The report is JSON: the message's quotes are escaped there.
		want := fmt.Sprintf(`environment prod: origin \"%s\" is allowed by the OPTIONS preflight, but production allows only https:// origins that are not localhost or a local or private address, and never *; remove it from environments.prod.allowedOrigins in cdk.json`, origin)
		if !strings.Contains(report, want) {
			t.Errorf("validation report lacks %q", want)
		}
	}
}

// The production guard reads what was synthesized, so CORS written by hand
// elsewhere in the tree is caught too, wildcard included.
func TestProductionGuardCatchesAHandWrittenWildcard(t *testing.T) {
	report := prodWith(t, func(env *stacks.Stage) {
		extra := awsapigateway.NewRestApi(env.Api.Stack, jsii.String("Extra"), &awsapigateway.RestApiProps{
			DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{AllowOrigins: awsapigateway.Cors_ALL_ORIGINS()},
		})
		extra.Root().AddMethod(jsii.String("GET"), awsapigateway.NewMockIntegration(nil), nil)
	})
	if want := `environment prod: origin \"*\" is allowed by the OPTIONS preflight`; !strings.Contains(report, want) {
		t.Errorf("synth did not report %s:\n%.2000s", want, report)
	}
}

// prodWith synthesizes prod with what edit adds to it, and returns the
// validation report (a guard's error makes CDK panic through jsii).
func prodWith(t *testing.T, edit func(*stacks.Stage)) string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(dir)})
	edit(stacks.NewStage(app, envByName(t, "prod"), root, served))
	failed := func() (failed bool) {
		defer func() { failed = recover() != nil }()
		app.Synth(nil)
		return false
	}()
	if !failed {
		t.Fatal("prod synthesized: no guard stopped it")
	}
	return validationReport(t, dir)
}

// Production never echoes an Origin: with several production origins the
// gateway responses still name the site's alone, and a gateway response
// written by hand that echoes the request's Origin fails synth.
func TestProductionNeverEchoesAnOrigin(t *testing.T) {
	prod := envByName(t, "prod")
	prod.AllowedOrigins = []string{"https://shop.example", "https://partner.example"}
	out, err := synth(t.TempDir(), prod)
	if err != nil {
		t.Fatal(err)
	}
	check(t, func() {
		out["prod"].api.AllResourcesProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{
			"ResponseParameters": like(obj{"gatewayresponse.header.Access-Control-Allow-Origin": siteOriginHeader(prod)}),
		})
	})
	report := prodWith(t, func(env *stacks.Stage) {
		env.Api.Api.AddGatewayResponse(jsii.String("Echo"), &awsapigateway.GatewayResponseOptions{
			Type:            awsapigateway.ResponseType_ACCESS_DENIED(),
			ResponseHeaders: &map[string]*string{"Access-Control-Allow-Origin": jsii.String("method.request.header.Origin")},
		})
	})
	if want := `gateway response ACCESS_DENIED sets Access-Control-Allow-Origin from the request's Origin`; !strings.Contains(report, want) {
		t.Errorf("synth did not report %s:\n%.2000s", want, report)
	}
}

// Each environment has its own deploy role, trusted only by the deploy
// workflow of the default branch running in that GitHub environment of the
// repository with that number: every claim compared exactly, so no other
// branch, workflow, environment (a new, unprotected one included) or
// repository that takes the name later can assume it. Pull requests get a role that
// reads the environments' templates and nothing else.
func TestGitHubOIDCRoles(t *testing.T) {
	const issuer = "token.actions.githubusercontent.com:"
	trust := func(claims obj) obj {
		claims[issuer+"aud"] = "sts.amazonaws.com"
		claims[issuer+"repository_id"] = testRepositoryID
		return obj{
			"AssumeRolePolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{obj{
				"Effect":    "Allow",
				"Action":    "sts:AssumeRoleWithWebIdentity",
				"Principal": obj{"Federated": obj{"Fn::GetAtt": []any{present, "Arn"}}},
				"Condition": obj{"StringEquals": claims},
			}}},
			"ManagedPolicyArns": absent,
		}
	}
	sub := func(e config.Environment) string { return "repo:" + testRepository + ":environment:" + e.Name }
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) { checkOIDCRoles(t, c, trust, sub) })
	}
}

func checkOIDCRoles(t *testing.T, c *caller, trust func(obj) obj, sub func(config.Environment) string) {
	const issuer = "token.actions.githubusercontent.com:"
	ciTemplate, envs := c.ciTemplate, c.envs
	check(t, func() {
		ciTemplate.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(len(envs)+1))
		ciTemplate.ResourceCountIs(jsii.String("AWS::IAM::Policy"), jsii.Number(len(envs)+1))
		var stackARNs []any
		for _, e := range envs {
			ciTemplate.HasResourceProperties(jsii.String("AWS::IAM::Role"), trust(obj{
				issuer + "sub":              sub(e),
				issuer + "job_workflow_ref": testRepository + "/.github/workflows/deploy-env.yml@refs/heads/main",
				issuer + "ref":              "refs/heads/main",
			}))
			// ...and may assume this environment's own bootstrap roles (its
			// qualifier), in its region: no wildcard, no other environment's,
			// no image publishing (there are no images), no lookup role.
			account := "${AWS::AccountId}"
			if e.Account != "" {
				account = e.Account
			}
			role := func(kind string) obj {
				return obj{"Fn::Sub": "arn:${AWS::Partition}:iam::" + account + ":role/cdk-" + e.Qualifier + "-" + kind + "-role-" + account + "-" + e.Region}
			}
			ciTemplate.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj{"PolicyDocument": like(obj{"Statement": []any{obj{
				"Effect": "Allow", "Action": "sts:AssumeRole",
				"Resource": []any{role("deploy"), role("file-publishing")},
			}}})})
			for _, name := range []string{e.Name + "-Api", e.Name + "-Site"} { // in CDK's (sorted) order
				stackARNs = append(stackARNs, obj{"Fn::Sub": "arn:${AWS::Partition}:cloudformation:" + e.Region + ":" + account + ":stack/" + name + "/*"})
			}
		}
		ciTemplate.HasResourceProperties(jsii.String("AWS::IAM::Role"), trust(obj{issuer + "sub": "repo:" + testRepository + ":pull_request"}))
		ciTemplate.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj{"PolicyDocument": like(obj{"Statement": []any{obj{
			"Effect": "Allow", "Action": []any{"cloudformation:DescribeStacks", "cloudformation:GetTemplate"}, "Resource": stackARNs,
		}}})})
	})
	// The stack names the diff role reads are the environments' stacks.
	for _, e := range envs {
		d := c.deployed[e.Name].env
		if got, want := []string{*d.Site.StackName(), *d.Api.StackName()}, e.StackNames(); !slices.Equal(got, want) {
			t.Errorf("%s: stacks %v, the diff role reads %v", e.Name, got, want)
		}
	}
	nagClean(t, c.ci.Stack)
}

func TestBadRepositoryIsRefused(t *testing.T) {
	for _, repo := range []stacks.Repository{
		{Name: "iris", ID: "1"}, {Name: "owner/", ID: "1"}, {Name: "owner/name/extra", ID: "1"}, {Name: "owner/na me", ID: "1"},
		{Name: "owner/name"}, {Name: "owner/name", ID: "owner/name"}, {Name: "owner/name", ID: "012"}, {Name: "owner/name", ID: "12 3"},
	} {
		if err := repo.Valid(); err == nil {
			t.Errorf("%+v accepted", repo)
		}
	}
	if err := (stacks.Repository{Name: "owner/name", ID: "123456789"}).Valid(); err != nil {
		t.Errorf("a valid repository refused: %v", err)
	}
	for _, branch := range []string{"", "main*", "a..b", "feature branch"} {
		if err := stacks.ValidBranch(branch); err == nil {
			t.Errorf("ValidBranch(%q) accepted it", branch)
		}
	}
}

// A request is traced from the stage into the function (X-Ray), the API
// accepts TLS 1.2 or newer only, and a production environment keeps its logs
// when its stack is deleted.
func TestTracingTLSAndLogRetention(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		api := d.api
		policy := "Delete"
		if e.Production {
			policy = "Retain"
		}
		var ours, all int
		check(t, func() {
			api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Handler": "bootstrap", "TracingConfig": obj{"Mode": "Active"}})
			api.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), obj{"TracingEnabled": true})
			// Clients must speak TLS 1.2 or newer.
			api.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), obj{"SecurityPolicy": "TLS_1_2"})
			// The function's, the access logs', the smoke test's and
			// the site deployment's: every log group of the stack.
			all = len(*api.FindResources(jsii.String("AWS::Logs::LogGroup"), nil))
			ours = len(*api.FindResources(jsii.String("AWS::Logs::LogGroup"), obj{
				"DeletionPolicy": policy, "UpdateReplacePolicy": policy,
				"Properties": obj{"RetentionInDays": e.LogRetentionDays},
			}))
		})
		if ours != 4 || all != 4 {
			t.Errorf("%d of %d log groups with retention %d days and DeletionPolicy %s, want the function's, the access logs', the smoke test's and the site deployment's", ours, all, e.LogRetentionDays, policy)
		}
	})
}

// The site deployment's handler may invalidate this site's distribution and
// no other (CDK allows it every distribution, our Deny takes the rest back),
// and writes its own log group only: no role of the API stack carries a
// managed policy (CDK's own handler role would carry
// AWSLambdaBasicExecutionRole, which writes every log group).
func TestSiteDeploymentIsScoped(t *testing.T) {
	invalidation := []any{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		check(t, func() {
			d.api.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj{"PolicyDocument": like(obj{"Statement": arrayWith(
				obj{"Effect": "Allow", "Action": invalidation, "Resource": "*"},
				obj{"Effect": "Deny", "Action": invalidation, "NotResource": obj{"Fn::Join": []any{"", c.arn(e,
					"arn:aws:cloudfront::", accountID, ":distribution/",
					like(obj{"Fn::GetStackOutput": like(obj{"StackName": e.Name + "-Site", "OutputName": matches(`^PublishOutputRefDistribution`)})}),
				)}}},
			)})})
			// No managed policy (AWSLambdaBasicExecutionRole: every log
			// group of the account), but CodeDeploy's own, on its role.
			d.api.ResourcePropertiesCountIs(jsii.String("AWS::IAM::Role"), obj{"ManagedPolicyArns": present}, jsii.Number(1))
			d.api.HasResourceProperties(jsii.String("AWS::IAM::Role"), obj{
				"AssumeRolePolicyDocument": like(obj{"Statement": []any{like(obj{"Principal": obj{"Service": "codedeploy.amazonaws.com"}})}}),
				"ManagedPolicyArns":        []any{obj{"Fn::Join": []any{"", []any{"arn:", obj{"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"}}}},
			})
		})
	})
}

// API Gateway's CloudWatch role is a setting of the account and region: the
// account Stage declares it once, kept when its stack goes; no environment
// declares it, and every environment's stage still logs through it.
func TestApiGatewayAccountOncePerAccountAndRegion(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		check(t, func() {
			d.api.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(0))
			d.site.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(0))
			d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), obj{
				"MethodSettings":   arrayWith(like(obj{"LoggingLevel": "ERROR", "DataTraceEnabled": false})),
				"AccessLogSetting": like(obj{"DestinationArn": present}),
			})
			a := d.accountTemplate
			a.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(1))
			roles := a.FindResources(jsii.String("AWS::IAM::Role"), obj{
				"DeletionPolicy": "Retain",
				"Properties": like(obj{
					"AssumeRolePolicyDocument": like(obj{"Statement": []any{like(obj{"Principal": obj{"Service": "apigateway.amazonaws.com"}})}}),
					"ManagedPolicyArns":        []any{like(obj{"Fn::Join": arrayWith(arrayWith(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"))})},
				}),
			})
			if len(*roles) != 1 {
				t.Fatalf("%d retained API Gateway logging roles, want 1", len(*roles))
			}
			for id := range *roles {
				a.HasResourceProperties(jsii.String("AWS::ApiGateway::Account"), obj{"CloudWatchRoleArn": obj{"Fn::GetAtt": []any{id, "Arn"}}})
			}
		})
		first := c.envs[0]
		if e.Region != first.Region || e.Account != first.Account {
			if d.account == c.deployed[first.Name].account {
				t.Errorf("%s and %s deploy to different accounts or regions but share an account stack", e.Name, first.Name)
			}
			return
		}
		if d.account != c.deployed[first.Name].account {
			t.Errorf("%s and %s deploy to one account and region but got two account stacks", e.Name, first.Name)
		}
	})
}

func TestAccounts(t *testing.T) {
	got := stacks.Accounts([]config.Environment{
		{Name: "dev", Region: "eu-west-1"},
		{Name: "prod", Region: "eu-west-1"},
		{Name: "us", Region: "us-east-1"},
		{Name: "other", Account: "111122223333", Region: "eu-west-1"},
	})
	var names []string
	for _, a := range got {
		names = append(names, a.StageName())
	}
	if want := []string{"account-eu-west-1", "account-us-east-1", "account-111122223333-eu-west-1"}; !slices.Equal(names, want) {
		t.Errorf("account stages %v, want %v", names, want)
	}
}

// Each environment's stage throttles at the rate and burst cdk.json gives it.
func TestStageThrottling(t *testing.T) {
	eachEnv(t, func(t *testing.T, _ *caller, e config.Environment, d *synthesized) {
		check(t, func() {
			d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), obj{
				"StageName": e.Name,
				"MethodSettings": arrayWith(like(obj{
					"HttpMethod": "*", "ResourcePath": "/*",
					"ThrottlingRateLimit": e.ThrottleRate, "ThrottlingBurstLimit": e.ThrottleBurst,
				})),
			})
		})
	})
}
