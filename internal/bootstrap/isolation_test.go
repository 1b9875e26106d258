package bootstrap

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// Two environments in one account, as cdk.json has them by default: dev and
// prod, each with its own bootstrap and sign-in.
const (
	account = "111122223333"
	region  = "eu-west-1"
	apart   = `{"dev": {"region": "eu-west-1", "auth": "cognito"},
		"prod": {"region": "eu-west-1", "production": true, "auth": "cognito"}}`
)

// arn makes an ARN of the test's account and region from a pattern with
// {a} and {r}.
func arn(pattern string) string {
	return strings.NewReplacer("{a}", account, "{r}", region).Replace(pattern)
}

// deployed resolves the Fn::Sub of a bootstrap template's documents for an
// environment deployed to the test's account, as CloudFormation would.
func deployed(t *testing.T, v any, qualifier string) any {
	t.Helper()
	vars := strings.NewReplacer("${AWS::Partition}", "aws", "${AWS::AccountId}", account, "${AWS::Region}", region,
		"${Qualifier}", qualifier, "${StagingBucket.Arn}", arn("arn:aws:s3:::cdk-"+qualifier+"-assets-{a}-{r}"))
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			out := vars.Replace(s)
			if strings.Contains(out, "${") {
				t.Fatalf("Fn::Sub %q: a variable the test does not know", s)
			}
			return out
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = deployed(t, x, qualifier)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deployed(t, x, qualifier)
		}
		return out
	}
	return v
}

// principal is one who asks: a role with its policies and boundary.
type principal struct {
	role     string
	policies []any // policy documents
	boundary any   // nil: none
}

func document(statements ...any) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": statements}
}

// anything is the inline policy a dev template can give a role it creates:
// the execution policy lets it put any policy on dev's roles.
var anything = document(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"})

// trustsTheAccount is how CDK's bootstrap roles trust (the deploy role, the
// publishing roles): any principal of the account with the permission.
var trustsTheAccount = document(map[string]any{"Effect": "Allow", "Action": []any{"sts:AssumeRole", "sts:TagSession"},
	"Principal": map[string]any{"AWS": account}})

type request struct {
	action, resource string
	context          map[string]any
	resourcePolicy   any
}

// simulate evaluates each request of who with the IAM policy simulator
// (@cloud-copilot/iam-simulate: identity policies, permissions boundary,
// resource policy, every condition operator), in one Node process.
func simulate(t *testing.T, who principal, reqs []request) []string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	var sims []any
	for _, r := range reqs {
		var identity []any
		for i, p := range who.policies {
			identity = append(identity, map[string]any{"name": fmt.Sprint("policy", i), "policy": p})
		}
		sim := map[string]any{
			"request": map[string]any{"principal": arn("arn:aws:iam::{a}:role/") + who.role, "action": r.action,
				"resource": map[string]any{"resource": r.resource, "accountId": account}, "contextVariables": cmpOr(r.context)},
			"identityPolicies": identity, "serviceControlPolicies": []any{}, "resourceControlPolicies": []any{},
		}
		if who.boundary != nil {
			sim["permissionBoundaryPolicies"] = []any{map[string]any{"name": "boundary", "policy": who.boundary}}
		}
		if r.resourcePolicy != nil {
			sim["resourcePolicy"] = r.resourcePolicy
		}
		sims = append(sims, sim)
	}
	in, _ := json.Marshal(sims)
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "node"), filepath.Join("testdata", "simulate.mjs"))
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the IAM simulator (make installs it from package.json): %v %s", err, stderr(err))
	}
	var results []struct{ Decision, Error string }
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(reqs) {
		t.Fatalf("the simulator's answer %s: %v", out, err)
	}
	decisions := make([]string, len(reqs))
	for i, r := range results {
		if r.Error != "" {
			t.Fatalf("%s on %s: the simulator refuses the request (an action, resource or condition key IAM does not have for it?): %s",
				reqs[i].action, reqs[i].resource, r.Error)
		}
		decisions[i] = r.Decision
	}
	return decisions
}

func cmpOr(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func stderr(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}

// boundaryOf is the boundary env's bootstrap creates, deployed.
func boundaryOf(t *testing.T, tmpl map[string]any, qualifier string) any {
	t.Helper()
	props := resource(t, tmpl, "CdkBoostrapPermissionsBoundaryPolicy")["Properties"].(map[string]any)
	return deployed(t, props["PolicyDocument"], qualifier)
}

var tagged = func(env string) map[string]any { return map[string]any{"aws:ResourceTag/" + TagKey: env} }

// prod's resources, as CloudFormation names them from its stacks (and AWS
// by ID where it does).
var (
	prodDeployRole = arn("arn:aws:iam::{a}:role/cdk-prod-deploy-role-{a}-{r}")
	prodFunction   = arn("arn:aws:lambda:{r}:{a}:function:prod-Api-PredictA1B2C3-XyZ")
	prodPool       = arn("arn:aws:cognito-idp:{r}:{a}:userpool/eu-west-1_PrOd12345")
)

// What a dev template can do in an account it shares with prod, evaluated
// with an IAM policy simulator over the bootstrap documents: the boundary
// every dev role carries, dev's execution policy, the trust of CDK's
// bootstrap roles. The attack found in review: dev's execution role may
// create a role named dev-* under dev's boundary and give it any inline
// policy; with CDK's example boundary (which allows everything but IAM
// escalation) that role could assume prod's deploy role, which trusts the
// whole account, and deploy anything to prod. Each deny is the boundary's
// (explicit), whatever the role's own policy says; and dev keeps what its
// own stacks need.
func TestEnvironmentsApartInOneAccount(t *testing.T) {
	envs := environments(t, apart)
	dev, prod := envs["dev"], envs["prod"]
	devBoundary := boundaryOf(t, patched(t, dev), dev.Qualifier)
	// prod's boundary is prod's own: the name the Stage gives its roles.
	prodBoundaryARN := arn("arn:aws:iam::{a}:policy/") + BoundaryName(prod)
	devBoundaryARN := arn("arn:aws:iam::{a}:policy/") + BoundaryName(dev)

	attacker := principal{role: "dev-Api-Attacker0A1B2C-Q", policies: []any{anything}, boundary: devBoundary}
	across := []request{
		{"sts:AssumeRole", prodDeployRole, nil, trustsTheAccount},
		{"sts:TagSession", prodDeployRole, nil, trustsTheAccount},
		{"sts:AssumeRole", arn("arn:aws:iam::{a}:role/cdk-prod-cfn-exec-role-{a}-{r}"), nil, trustsTheAccount},
		{"sts:AssumeRole", arn("arn:aws:iam::{a}:role/cdk-dev-deploy-role-{a}-{r}"), nil, trustsTheAccount},
		{"sts:AssumeRole", arn("arn:aws:iam::{a}:role/prod-Api-PredictRoleA1B2C3-XyZ"), nil, trustsTheAccount},
		{"iam:PutRolePolicy", arn("arn:aws:iam::{a}:role/prod-Api-PredictRoleA1B2C3-XyZ"), nil, nil},
		{"iam:UpdateAssumeRolePolicy", arn("arn:aws:iam::{a}:role/prod-Api-PredictRoleA1B2C3-XyZ"), nil, nil},
		{"iam:CreateRole", arn("arn:aws:iam::{a}:role/prod-Api-New"), map[string]any{"iam:PermissionsBoundary": prodBoundaryARN}, nil},
		{"iam:PassRole", arn("arn:aws:iam::{a}:role/prod-Api-PredictRoleA1B2C3-XyZ"), map[string]any{"iam:PassedToService": "lambda.amazonaws.com"}, nil},
		{"iam:CreateRole", arn("arn:aws:iam::{a}:role/dev-Api-Unbounded"), nil, nil},
		{"iam:DeleteRolePermissionsBoundary", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"), nil, nil},
		{"iam:CreatePolicyVersion", devBoundaryARN, nil, nil},
		{"lambda:InvokeFunction", prodFunction + ":live", nil, nil},
		{"lambda:UpdateFunctionCode", prodFunction, nil, nil},
		{"lambda:GetFunction", prodFunction, nil, nil},
		{"s3:PutObject", "arn:aws:s3:::prod-site-contentbucket52d4b12c-abcdef/index.html", nil, nil},
		{"s3:GetObject", "arn:aws:s3:::prod-site-contentbucket52d4b12c-abcdef/config.json", nil, nil},
		{"s3:PutBucketPolicy", "arn:aws:s3:::prod-site-contentbucket52d4b12c-abcdef", nil, nil},
		{"s3:GetObject", arn("arn:aws:s3:::cdk-prod-assets-{a}-{r}/0123abcd.zip"), nil, nil},
		{"logs:PutLogEvents", arn("arn:aws:logs:{r}:{a}:log-group:/aws/lambda/prod-Api-PredictA1B2C3-XyZ:log-stream:x"), nil, nil},
		{"logs:FilterLogEvents", arn("arn:aws:logs:{r}:{a}:log-group:prod-Api-AccessLogsA1B2C3-XyZ"), nil, nil},
		{"logs:DeleteLogGroup", arn("arn:aws:logs:{r}:{a}:log-group:prod-Api-PredictLogsA1B2C3-XyZ"), nil, nil},
		{"codedeploy:CreateDeployment", arn("arn:aws:codedeploy:{r}:{a}:deploymentgroup:prod-Api-RolloutApplicationA1B2C3-XyZ/prod-Api-RolloutA1B2C3-XyZ"), nil, nil},
		{"codedeploy:UpdateDeploymentGroup", arn("arn:aws:codedeploy:{r}:{a}:deploymentgroup:prod-Api-RolloutApplicationA1B2C3-XyZ/prod-Api-RolloutA1B2C3-XyZ"), nil, nil},
		{"cloudwatch:SetAlarmState", arn("arn:aws:cloudwatch:{r}:{a}:alarm:prod-Api-FunctionErrorsA1B2C3-XyZ"), nil, nil},
		{"cloudwatch:DisableAlarmActions", arn("arn:aws:cloudwatch:{r}:{a}:alarm:prod-Api-FunctionErrorsA1B2C3-XyZ"), nil, nil},
		{"sns:Publish", arn("arn:aws:sns:{r}:{a}:prod-Api-AlarmsA1B2C3-XyZ"), nil, nil},
		{"cognito-idp:CreateUserPoolClient", prodPool, tagged("prod"), nil},
		{"cognito-idp:AdminCreateUser", prodPool, tagged("prod"), nil},
		{"cognito-idp:UpdateUserPoolClient", prodPool, tagged("prod"), nil},
		{"cloudfront:UpdateDistribution", arn("arn:aws:cloudfront::{a}:distribution/EPROD123456"), tagged("prod"), nil},
		{"cloudfront:CreateInvalidation", arn("arn:aws:cloudfront::{a}:distribution/EPROD123456"), tagged("prod"), nil},
		{"apigateway:PATCH", arn("arn:aws:apigateway:{r}::/restapis/prod123456"), tagged("prod"), nil},
		{"apigateway:DELETE", arn("arn:aws:apigateway:{r}::/restapis/prod123456"), tagged("prod"), nil},
	}
	for i, got := range simulate(t, attacker, across) {
		if got != "ExplicitlyDenied" {
			t.Errorf("a dev role with any policy: %s on %s is %s, want denied by dev's boundary", across[i].action, across[i].resource, got)
		}
	}

	// The same role under CDK's example boundary (what this replaced)
	// takes over prod: the evaluation above is no formality.
	cdk := principal{role: attacker.role, policies: attacker.policies, boundary: cdkExampleBoundary(t, dev.Qualifier)}
	if got := simulate(t, cdk, across[:1]); got[0] != "Allowed" {
		t.Errorf("under CDK's example boundary the attack is %s; the test no longer shows what the boundary stops", got[0])
	}

	own := []request{
		{"sts:AssumeRole", arn("arn:aws:iam::{a}:role/dev-Api-OtherA1B2C3-XyZ"), nil, trustsTheAccount},
		{"lambda:InvokeFunction", arn("arn:aws:lambda:{r}:{a}:function:dev-Api-PredictA1B2C3-XyZ:7"), nil, nil},
		{"s3:PutObject", "arn:aws:s3:::dev-site-contentbucket52d4b12c-abcdef/index.html", nil, nil},
		{"s3:GetObject", arn("arn:aws:s3:::cdk-dev-assets-{a}-{r}/0123abcd.zip"), nil, nil},
		{"logs:PutLogEvents", arn("arn:aws:logs:{r}:{a}:log-group:/aws/lambda/dev-Api-PredictA1B2C3-XyZ:log-stream:x"), nil, nil},
		// The smoke test reports its verdict with an action IAM scopes to
		// no resource.
		{"codedeploy:PutLifecycleEventHookExecutionStatus", "*", nil, nil},
		{"codedeploy:CreateDeployment", arn("arn:aws:codedeploy:{r}:{a}:deploymentgroup:dev-Api-RolloutApplicationA1B2C3-XyZ/dev-Api-RolloutA1B2C3-XyZ"), nil, nil},
		{"lambda:UpdateAlias", arn("arn:aws:lambda:{r}:{a}:function:dev-Api-PredictA1B2C3-XyZ:live"), nil, nil},
		{"cloudfront:CreateInvalidation", arn("arn:aws:cloudfront::{a}:distribution/EDEV1234567"), tagged("dev"), nil},
		{"cognito-idp:AdminCreateUser", arn("arn:aws:cognito-idp:{r}:{a}:userpool/eu-west-1_DeV12345"), tagged("dev"), nil},
	}
	for i, got := range simulate(t, attacker, own) {
		if got != "Allowed" {
			t.Errorf("dev's own: %s on %s is %s under dev's boundary, want allowed", own[i].action, own[i].resource, got)
		}
	}
}

// dev's execution role (CloudFormation's, for dev's stacks) carries dev's
// boundary and the execution policy: it creates and changes dev's
// resources, roles only with dev's boundary, and none of prod's, the user
// pool included (by its tag: pools are named by IDs).
func TestTheExecutionRoleStaysInItsEnvironment(t *testing.T) {
	dev := environments(t, apart)["dev"]
	tmpl := patched(t, dev)
	policy := deployed(t, resource(t, tmpl, "CloudFormationExecutionPolicy")["Properties"].(map[string]any)["PolicyDocument"], dev.Qualifier)
	exec := principal{role: "cdk-dev-cfn-exec-role-" + account + "-" + region, policies: []any{policy}, boundary: boundaryOf(t, tmpl, dev.Qualifier)}
	devBoundary := map[string]any{"iam:PermissionsBoundary": arn("arn:aws:iam::{a}:policy/cdk-dev-permissions-boundary")}
	cases := []struct {
		request
		allowed bool
	}{
		{request{"iam:CreateRole", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"), devBoundary, nil}, true},
		{request{"iam:CreateRole", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"), nil, nil}, false},
		{request{"iam:CreateRole", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"),
			map[string]any{"iam:PermissionsBoundary": arn("arn:aws:iam::{a}:policy/cdk-prod-permissions-boundary")}, nil}, false},
		{request{"iam:PutRolePolicy", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"), nil, nil}, true},
		{request{"iam:PutRolePolicy", arn("arn:aws:iam::{a}:role/prod-Api-PredictRoleA1B2C3-XyZ"), nil, nil}, false},
		{request{"iam:PassRole", arn("arn:aws:iam::{a}:role/dev-Api-PredictRoleA1B2C3-XyZ"), map[string]any{"iam:PassedToService": "lambda.amazonaws.com"}, nil}, true},
		{request{"lambda:CreateFunction", arn("arn:aws:lambda:{r}:{a}:function:dev-Api-PredictA1B2C3-XyZ"), nil, nil}, true},
		{request{"lambda:UpdateFunctionCode", prodFunction, nil, nil}, false},
		{request{"cognito-idp:CreateUserPool", "*", map[string]any{"aws:RequestTag/" + TagKey: "dev"}, nil}, true},
		{request{"cognito-idp:CreateUserPool", "*", nil, nil}, false},
		{request{"cognito-idp:CreateUserPoolClient", arn("arn:aws:cognito-idp:{r}:{a}:userpool/eu-west-1_DeV12345"), tagged("dev"), nil}, true},
		{request{"cognito-idp:CreateUserPoolClient", prodPool, tagged("prod"), nil}, false},
		{request{"cognito-idp:AdminCreateUser", prodPool, nil, nil}, false},
		{request{"cloudfront:CreateDistribution", "*", nil, nil}, true},
		{request{"cloudfront:UpdateDistribution", arn("arn:aws:cloudfront::{a}:distribution/EPROD123456"), tagged("prod"), nil}, false},
		{request{"apigateway:POST", arn("arn:aws:apigateway:{r}::/restapis"), nil, nil}, true},
		{request{"apigateway:PATCH", arn("arn:aws:apigateway:{r}::/restapis/prod123456"), tagged("prod"), nil}, false},
		{request{"sts:AssumeRole", prodDeployRole, nil, trustsTheAccount}, false},
	}
	var reqs []request
	for _, tc := range cases {
		reqs = append(reqs, tc.request)
	}
	for i, got := range simulate(t, exec, reqs) {
		if tc := cases[i]; (got == "Allowed") != tc.allowed {
			t.Errorf("dev's execution role: %s on %s (%v) is %s, want allowed=%v", tc.action, tc.resource, tc.context, got, tc.allowed)
		}
	}
}

// cdkExampleBoundary is the boundary CDK's own template creates.
func cdkExampleBoundary(t *testing.T, qualifier string) any {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal(cdkTemplate(t), &raw); err != nil {
		t.Fatal(err)
	}
	return deployed(t, resource(t, raw, "CdkBoostrapPermissionsBoundaryPolicy")["Properties"].(map[string]any)["PolicyDocument"], qualifier)
}

// environments parses a cdk.json environments object, by name.
func environments(t *testing.T, doc string) map[string]config.Environment {
	t.Helper()
	var raw any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	envs, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]config.Environment{}
	for _, e := range envs {
		out[e.Name] = e
	}
	return out
}
