package bootstrap

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// cdkTemplate is the bootstrap template of the project's CDK CLI: what
// `cdk bootstrap --show-template` prints (in another YAML layout).
func cdkTemplate(t *testing.T) []byte {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "node_modules", "aws-cdk", "lib", "api", "bootstrap", "bootstrap-template.yaml"))
	if err != nil {
		t.Fatalf("the CDK CLI's bootstrap template (make installs the CLI from package.json): %v", err)
	}
	return raw
}

// environment is the one environment of a cdk.json environments object.
func environment(t *testing.T, doc string) config.Environment {
	t.Helper()
	for _, e := range environments(t, doc) {
		return e
	}
	t.Fatalf("no environment in %s", doc)
	return config.Environment{}
}

func patched(t *testing.T, env config.Environment) map[string]any {
	t.Helper()
	out, err := Template(cdkTemplate(t), env)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(out, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func resource(t *testing.T, tmpl map[string]any, id string) map[string]any {
	t.Helper()
	r, ok := tmpl["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	return r
}

func statements(t *testing.T, tmpl map[string]any, role string) []map[string]any {
	t.Helper()
	props := resource(t, tmpl, role)["Properties"].(map[string]any)
	doc := props["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
	var out []map[string]any
	for _, s := range doc["Statement"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

var dev = `{"dev": {"region": "eu-west-1"}}`

// The deploy role may create, change, execute and delete only the
// environment's two stacks: with CDK's template, dev's deploy role could
// update or delete prod's stacks, and CloudFormation would do it with the
// role prod's stacks were deployed with.
func TestTheDeployRoleReachesOnlyItsEnvironmentsStacks(t *testing.T) {
	env := environment(t, dev)
	tmpl := patched(t, env)
	want := []any{
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/dev-Site/*"},
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/dev-Api/*"},
	}
	var changing []string
	for _, st := range statements(t, tmpl, "DeploymentActionRole") {
		for _, a := range actions(st) {
			if !strings.HasPrefix(a, "cloudformation:") {
				continue
			}
			changing = append(changing, a)
			if !reflect.DeepEqual(st["Resource"], want) {
				t.Errorf("%s (statement %v) on %v, want the environment's stacks only", a, st["Sid"], st["Resource"])
			}
		}
		if st["Sid"] == "Refactor" {
			t.Error("the deploy role may still refactor stacks (move resources between them)")
		}
	}
	for _, a := range []string{"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack"} {
		if !slices.Contains(changing, a) {
			t.Errorf("the deploy role lost %s, which cdk deploy and destroy use", a)
		}
	}
}

// The execution role gets the project's policy and CDK's example boundary,
// both created in the same stack before the role, under the names the CLI
// is told; not AdministratorAccess.
func TestTheExecutionRoleHasTheProjectsPolicy(t *testing.T) {
	env := environment(t, `{"staging": {"region": "eu-central-1", "qualifier": "stg1"}}`)
	tmpl := patched(t, env)
	policy := resource(t, tmpl, "CloudFormationExecutionPolicy")
	name := policy["Properties"].(map[string]any)["ManagedPolicyName"].(map[string]any)["Fn::Sub"].(string)
	name = strings.NewReplacer("${Qualifier}", env.Qualifier, "${AWS::Region}", env.Region).Replace(name)
	if name != PolicyName(env) {
		t.Errorf("the template names the policy %s, the CLI is told %s", name, PolicyName(env))
	}
	if got := PolicyARN(env, "111122223333"); got != "arn:aws:iam::111122223333:policy/cdk-stg1-cfn-exec-policy-eu-central-1" {
		t.Errorf("policy ARN %s", got)
	}
	if dep := resource(t, tmpl, "CloudFormationExecutionRole")["DependsOn"]; !reflect.DeepEqual(dep, []any{"CloudFormationExecutionPolicy", "CdkBoostrapPermissionsBoundaryPolicy"}) {
		t.Errorf("the execution role depends on %v: CloudFormation could create it before its policy or boundary", dep)
	}
	boundaryPolicy := resource(t, tmpl, "CdkBoostrapPermissionsBoundaryPolicy")
	if c, ok := boundaryPolicy["Condition"]; ok {
		t.Errorf("the boundary exists only under condition %v; the execution role and the Stage need it always", c)
	}
	boundary := boundaryPolicy["Properties"].(map[string]any)["ManagedPolicyName"].(map[string]any)["Fn::Sub"].(string)
	boundary = strings.ReplaceAll(boundary, "${Qualifier}", env.Qualifier)
	if want := BoundaryName(env); boundary != want || want != "cdk-stg1-permissions-boundary" {
		t.Errorf("the template names the boundary %s, the CLI is told %s", boundary, want)
	}
	// The boundary's own statements (roles must carry it, it may not
	// change) name it by its new name.
	if doc, _ := json.Marshal(boundaryPolicy); strings.Count(string(doc), "policy/"+Boundary+`"`) != 2 || strings.Contains(string(doc), cdkBoundary) {
		t.Errorf("the boundary's statements do not name it: %s", doc)
	}
	if v := tmpl["Parameters"].(map[string]any)["BootstrapVariant"].(map[string]any)["Default"]; v != Variant {
		t.Errorf("variant %v: the CLI would replace the stack with CDK's own template without a word", v)
	}
	doc, _ := json.Marshal(policy)
	if strings.Contains(string(doc), "AdministratorAccess") || strings.Contains(string(doc), `"Action":"*"`) {
		t.Errorf("the execution policy grants everything: %s", doc)
	}
}

// The policy names the environment's resources where CloudFormation names
// them from the stack: another environment's functions, roles, buckets and
// log groups are out of its reach.
func TestThePolicyNamesTheEnvironmentsResources(t *testing.T) {
	doc, _ := json.Marshal(Policy(environment(t, dev)))
	for _, want := range []string{
		`function:dev-Site-*`, `function:dev-Api-*`, `role/dev-Api-*`, `s3:::dev-site-*`, `s3:::dev-api-*`, `log-group:dev-Api-*`,
		`"iam:PassedToService":["lambda.amazonaws.com","codedeploy.amazonaws.com"]`, `cdk-${Qualifier}-permissions-boundary`,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the policy has no %s: %s", want, doc)
		}
	}
	for _, st := range Policy(environment(t, `{"dev": {"region": "eu-west-1", "auth": "cognito"}}`)) {
		st := st.(statement)
		if r, _ := st["Resource"].(string); r == "*" && st["Sid"] != "CloudFront" && st["Sid"] != "SignInUnscoped" && st["Condition"] == nil {
			t.Errorf("statement %v on every resource", st["Sid"])
		}
		for _, a := range actions(st) {
			if strings.HasPrefix(a, "iam:") && st["Resource"] == "*" {
				t.Errorf("%s on every role", a)
			}
		}
	}
}

// With custom domains the environment may write records into their zones and
// read their certificates, those cdk.json names and no other.
func TestDomainsGetTheirZonesOnly(t *testing.T) {
	const cert = "arn:aws:acm:us-east-1:111122223333:certificate/abc"
	env := environment(t, `{"dev": {"region": "us-east-1",
		"siteDomain": {"name": "demo.example.com", "certificateArn": "`+cert+`", "hostedZoneId": "Z123", "hostedZoneName": "example.com"},
		"apiDomain": {"name": "api.example.com", "certificateArn": "`+cert+`", "hostedZoneId": "Z123", "hostedZoneName": "example.com"}}}`)
	doc, _ := json.Marshal(Policy(env))
	for _, want := range []string{`"Resource":["` + cert + `"]`, `"Resource":[{"Fn::Sub":"arn:${AWS::Partition}:route53:::hostedzone/Z123"}]`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the policy has no %s: %s", want, doc)
		}
	}
	if doc, _ := json.Marshal(Policy(environment(t, dev))); strings.Contains(string(doc), "route53") || strings.Contains(string(doc), "acm:") {
		t.Errorf("without domains the policy reaches DNS or certificates: %s", doc)
	}
}

// A CDK template without the parts the patch changes fails, naming them,
// instead of bootstrapping with CDK's grants.
func TestAChangedCDKTemplateFails(t *testing.T) {
	env := environment(t, dev)
	base := string(cdkTemplate(t))
	for _, tc := range []struct{ name, from, to, want string }{
		{"no DeployPermissions", "Sid: DeployPermissions", "Sid: Deploy", "no DeployPermissions statement"},
		{"no execution role", "CloudFormationExecutionRole:\n", "ExecutionRole:\n", "CloudFormationExecutionRole"},
		{"a new statement on every stack", "Sid: ReadVersion", "Sid: ReadVersion\n                Action: cloudformation:SetStackPolicy\n                Resource: \"*\"\n              - Sid: Extra", "allows cloudformation:SetStackPolicy on every stack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(base, tc.from, tc.to, 1)
			if changed == base {
				t.Fatalf("the CDK template has no %q to change", tc.from)
			}
			_, err := Template([]byte(changed), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestAccountFromTheAssembly(t *testing.T) {
	env := environment(t, dev)
	write := func(environment string) string {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "assembly-dev"), 0o755)
		os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"artifacts": {"assembly-dev": {"type": "cdk:cloud-assembly"}}}`), 0o644)
		os.WriteFile(filepath.Join(dir, "assembly-dev", "manifest.json"), []byte(`{"artifacts": {"devApi": {"type": "aws:cloudformation:stack",
			"environment": "`+environment+`", "properties": {"stackName": "dev-Api"}}}}`), 0o644)
		return dir
	}
	if got, err := Account(write("aws://111122223333/eu-west-1"), env); err != nil || got != "111122223333" {
		t.Errorf("Account = %q, %v", got, err)
	}
	for environment, want := range map[string]string{
		"aws://unknown-account/eu-west-1": "the account is unknown",
		"aws://111122223333/us-east-1":    "deploys to us-east-1, cdk.json says eu-west-1",
	} {
		if _, err := Account(write(environment), env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", environment, err, want)
		}
	}
	if _, err := Account(t.TempDir(), env); err == nil || !strings.Contains(err.Error(), "has no stack dev-Api") {
		t.Errorf("an empty assembly: error %v", err)
	}
}

// cfn-lint finds what the patch could break that CloudFormation would only
// report at bootstrap: a DependsOn on a conditional resource, an action IAM
// does not have, a reference to nothing. Two warnings are CDK's own
// template's: its BootstrapVariant parameter is read by the CLI, not the
// template (W2001), and its asset bucket sets AccessControl (W3045).
func TestTheTemplatePassesCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		msg := "cfn-lint not found (pip install cfn-lint); the bootstrap template was not linted"
		testtool.Missing(t, "CFN_LINT_REQUIRED", msg)
	}
	for name, doc := range map[string]string{
		"plain":        dev,
		"with sign-in": `{"dev": {"region": "eu-west-1", "auth": "cognito"}}`,
		"with domains": `{"dev": {"region": "us-east-1", "siteDomain": {"name": "demo.example.com", "certificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abc",
			"hostedZoneId": "Z123", "hostedZoneName": "example.com"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := Template(cdkTemplate(t), environment(t, doc))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "bootstrap.template.json")
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			if report, err := exec.Command(lint, "--ignore-checks", "W2001", "W3045", "--", file).CombinedOutput(); err != nil {
				t.Errorf("cfn-lint: %v\n%s", err, report)
			}
		})
	}
}
