// Package deploy runs the project's own deploy path, `make bootstrap` and
// `make deploy`, against moto's server (a local stand-in for the AWS APIs),
// with the CDK CLI pointed at it and dummy credentials, so a broken deploy
// path fails `make test` before it fails a deploy job.
//
// What it proves, before anything is executed: the CLI synthesizes with a
// real account (CDK_DEFAULT_ACCOUNT from moto's STS) and cdk-nag passes;
// the environment's own bootstrap stack (CDKToolkit-<qualifier>, no
// CDKToolkit) is deployed from the template cmd/bootstrap wrote, with its
// execution policy and boundary; its version parameter passes each
// template's CheckBootstrapVersion rule; the environment's stacks go through
// its execution role, the account's with the caller's own credentials; every asset a template names is published in
// the bucket and under the key it names (the function's zip holds a
// linux/arm64 bootstrap; the site's files, its page and config.json are in
// the site deployment's sources); and a change set holds each stack's
// synthesized template. What it does not prove: the change sets are never
// executed (moto fakes or ignores CloudFront, API Gateway stages, gateway
// responses and custom resources), so nothing here checks CORS, IAM or a
// running resource. docs/deploying.md and docs/security.md say the same.
package deploy

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"go.yaml.in/yaml/v3"

	"github.com/iris-cors/iris-cors-cdk/internal/bootstrap"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// The environment the test deploys, and the name of the change set the CLI
// creates for each stack.
const (
	envName   = "dev"
	changeSet = "cdk-deploy-change-set"
	// motoAccount is the account moto's STS answers for any credentials.
	motoAccount = "123456789012"
	installHint = "moto_server not found; install it (`pip install 'moto[server]'`) and run make test again"
)

func TestDeployPathAgainstMoto(t *testing.T) {
	server, err := exec.LookPath("moto_server")
	if err != nil {
		testtool.Missing(t, "MOTO_REQUIRED", installHint)
	}
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	openInputs(t, root)
	region := devEnv(t, root).Region
	endpoint := startMoto(t, server)
	dir := t.TempDir()
	out := filepath.Join(dir, "cdk.out")
	cli := cliEnv(endpoint, region, dir)

	// docs/deploying.md's commands, as a user with credentials types them: the
	// administrator's bootstrap, then the environment's deploy.
	bootOut := filepath.Join(dir, "bootstrap.out")
	makeTarget(t, root, cli, "bootstrap", "ENV="+envName, "APPROVAL=never", "DEPLOY_METHOD=prepare-change-set", "CDK_OUT="+bootOut)
	makeTarget(t, root, cli, "deploy", "ENV="+envName, "APPROVAL=never", "DEPLOY_METHOD=prepare-change-set",
		"CDK_OUT="+out, "OUTPUTS="+filepath.Join(dir, "outputs.json"))

	c := newClients(endpoint, region)
	env := devEnv(t, root)
	t.Run("the environment's own bootstrap is deployed", func(t *testing.T) { checkToolkit(t, c, env, bootOut) })
	account := readStacks(t, bootOut, "account-"+region)
	stacks := append(account, readStacks(t, out, envName)...)
	if len(stacks) != 3 {
		t.Fatalf("deployed %d stacks, want the account's and dev's Site and Api", len(stacks))
	}
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			// What all environments share goes with the administrator's
			// credentials; an environment's stacks through its execution role.
			role := "arn:aws:iam::" + motoAccount + ":role/cdk-" + env.Qualifier + "-cfn-exec-role-" + motoAccount + "-" + region
			if slices.Contains(account, s) {
				role = ""
			} else {
				t.Run("its bootstrap version check passes", func(t *testing.T) { checkBootstrapVersion(t, c, s) })
			}
			t.Run("CloudFormation deploys it with the right role", func(t *testing.T) { checkRole(t, c, s, role) })
			t.Run("every asset it names is published there", func(t *testing.T) { checkAssets(t, c, s) })
			t.Run("a change set holds its synthesized template", func(t *testing.T) { checkChangeSet(t, c, s) })
		})
	}
	api := slices.IndexFunc(stacks, func(s *stack) bool { return s.name == envName+"-Api" })
	if api < 0 {
		t.Fatalf("no %s-Api stack", envName)
	}
	t.Run("the function's zip holds a linux/arm64 bootstrap", func(t *testing.T) { checkFunction(t, c, stacks[api]) })
	t.Run("the site's files, page and config.json are published", func(t *testing.T) { checkSiteContent(t, c, stacks[api], root) })
}

// stack is a synthesized stack: its name, its template and where the CLI
// uploads the template for CloudFormation.
type stack struct {
	name        string
	tmpl        *cfn.Template
	template    map[string]any
	raw         []byte
	templateURL string
}

func readStacks(t *testing.T, out, stage string) []*stack {
	t.Helper()
	a, err := cfn.LoadAssembly(out, stage)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "assembly-"+stage)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Properties struct {
				TemplateFile string `json:"templateFile"`
				TemplateURL  string `json:"stackTemplateAssetObjectUrl"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	var stacks []*stack
	for _, tmpl := range a.Templates {
		s := &stack{name: tmpl.StackName, tmpl: tmpl}
		for _, art := range manifest.Artifacts {
			if filepath.Join(dir, art.Properties.TemplateFile) == tmpl.Path {
				s.templateURL = art.Properties.TemplateURL
			}
		}
		if s.raw, err = os.ReadFile(tmpl.Path); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s.raw, &s.template); err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, s)
	}
	return stacks
}

func (s *stack) resources(typ string) []map[string]any {
	var out []map[string]any
	for _, r := range cfn.Map(s.template["Resources"]) {
		if r := cfn.Map(r); r["Type"] == typ {
			out = append(out, cfn.Map(r["Properties"]))
		}
	}
	return out
}

// checkBootstrapVersion evaluates the template's CheckBootstrapVersion rule
// as CloudFormation would: the SSM parameter its BootstrapVersion parameter
// names must hold a version the rule does not refuse.
func checkBootstrapVersion(t *testing.T, c *clients, s *stack) {
	name, _ := cfn.Dig(s.template, "Parameters", "BootstrapVersion", "Default").(string)
	assertions, _ := cfn.Dig(s.template, "Rules", "CheckBootstrapVersion", "Assertions").([]any)
	if name == "" || len(assertions) != 1 {
		t.Fatalf("no BootstrapVersion parameter (%q) or CheckBootstrapVersion rule (%d assertions)", name, len(assertions))
	}
	// {"Fn::Not": [{"Fn::Contains": [["1", ..., "5"], {"Ref": "BootstrapVersion"}]}]}
	not, _ := cfn.Dig(assertions[0], "Assert", "Fn::Not").([]any)
	contains, _ := cfn.Dig(firstOf(not), "Fn::Contains").([]any)
	refused, _ := firstOf(contains).([]any)
	if len(refused) == 0 {
		t.Fatalf("CheckBootstrapVersion has an unexpected form: %v", assertions[0])
	}
	p, err := c.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: &name})
	if err != nil {
		t.Fatalf("the bootstrap version parameter %s: %v", name, err)
	}
	version := aws.ToString(p.Parameter.Value)
	if slices.Contains(refused, any(version)) || !regexp.MustCompile(`^\d+$`).MatchString(version) {
		t.Errorf("%s is %q, which CheckBootstrapVersion refuses (%v)", name, version, refused)
	}
}

func firstOf(list []any) any {
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

// checkToolkit finds the environment's bootstrap stack, named for its
// qualifier (and no CDKToolkit, the default qualifier's), made from the
// template cmd/bootstrap wrote, with the execution policy and boundary it
// creates handed to it by name.
func checkToolkit(t *testing.T, c *clients, env config.Environment, out string) {
	ctx := context.Background()
	if _, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("CDKToolkit")}); err == nil {
		t.Error("make bootstrap deployed CDKToolkit, the default qualifier's bootstrap, which every CDK app of the account may use")
	}
	name := bootstrap.ToolkitStack(env)
	got, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &name})
	if err != nil || len(got.Stacks) != 1 {
		t.Fatalf("the bootstrap stack %s: %v", name, err)
	}
	params := map[string]string{}
	for _, p := range got.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for key, want := range map[string]string{
		"Qualifier":                       env.Qualifier,
		"CloudFormationExecutionPolicies": bootstrap.PolicyARN(env, motoAccount),
		"InputPermissionsBoundary":        bootstrap.BoundaryName(env),
	} {
		// moto writes a list parameter as Python writes a list: ['...'].
		if v := strings.Trim(params[key], "[']"); v != want {
			t.Errorf("%s: parameter %s is %q, want %q", name, key, params[key], want)
		}
	}
	tmpl, err := c.cfn.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: &name})
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(filepath.Join(out, "bootstrap-"+env.Name+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameTemplate(t, []byte(aws.ToString(tmpl.TemplateBody)), written) {
		t.Errorf("%s's template is not the one cmd/bootstrap wrote", name)
	}
}

// checkRole reads the role CloudFormation got for the stack's change set:
// role, or none (the caller's own credentials).
func checkRole(t *testing.T, c *clients, s *stack, role string) {
	got, err := c.cfn.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: &s.name})
	if err != nil || len(got.Stacks) != 1 {
		t.Fatalf("%s: %v", s.name, err)
	}
	if r := aws.ToString(got.Stacks[0].RoleARN); r != role {
		t.Errorf("CloudFormation deploys %s with role %q, want %q", s.name, r, role)
	}
}

// sameTemplate compares two templates as documents: the CLI may hand a
// template over as YAML, and moto hands it back as it came.
func sameTemplate(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := yaml.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		return false
	}
	return true
}

// objectRef is an S3 object a template names.
type objectRef struct{ what, bucket, key string }

// assetRefs are the objects the template's resources read at deploy time:
// the code of functions and layers, the sources of site deployments.
func (s *stack) assetRefs(t *testing.T) []objectRef {
	t.Helper()
	var refs []objectRef
	literal := func(v any, what string) string {
		str, ok := v.(string)
		if !ok {
			t.Fatalf("%s: %v is not a literal: with the caller's account known, CDK writes bucket names in full", what, v)
		}
		return str
	}
	for typ, key := range map[string]string{"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"} {
		for _, p := range s.resources(typ) {
			code := cfn.Map(p[key])
			if code["S3Key"] == nil {
				continue // inline code
			}
			what := typ + " code"
			refs = append(refs, objectRef{what, literal(code["S3Bucket"], what), literal(code["S3Key"], what)})
		}
	}
	for _, p := range s.resources("Custom::CDKBucketDeployment") {
		buckets, _ := p["SourceBucketNames"].([]any)
		keys, _ := p["SourceObjectKeys"].([]any)
		if len(buckets) != len(keys) {
			t.Fatalf("a site deployment with %d buckets for %d keys", len(buckets), len(keys))
		}
		for i := range keys {
			what := fmt.Sprintf("site deployment source %d", i)
			refs = append(refs, objectRef{what, literal(buckets[i], what), literal(keys[i], what)})
		}
	}
	return refs
}

func checkAssets(t *testing.T, c *clients, s *stack) {
	for _, ref := range s.assetRefs(t) {
		if !strings.Contains(ref.bucket, motoAccount) {
			t.Errorf("%s: bucket %s does not name the account %s the CLI deployed with", ref.what, ref.bucket, motoAccount)
		}
		if _, err := c.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &ref.bucket, Key: &ref.key}); err != nil {
			t.Errorf("%s: s3://%s/%s is not published: %v", ref.what, ref.bucket, ref.key, err)
		}
	}
}

// checkChangeSet finds the change set the CLI prepared for the stack and
// checks that it was made from the synthesized template: the template
// object the CLI uploaded for it is that template, and the change set adds
// each of its resources. (moto's GetTemplate ignores ChangeSetName, and its
// DescribeChangeSet finds a change set by name in any stack, so the ID is
// looked up by stack.)
func checkChangeSet(t *testing.T, c *clients, s *stack) {
	ctx := context.Background()
	list, err := c.cfn.ListChangeSets(ctx, &cloudformation.ListChangeSetsInput{StackName: &s.name})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, cs := range list.Summaries {
		if aws.ToString(cs.StackName) == s.name && aws.ToString(cs.ChangeSetName) == changeSet {
			id = aws.ToString(cs.ChangeSetId)
		}
	}
	if id == "" {
		t.Fatalf("no change set %s for %s", changeSet, s.name)
	}
	cs, err := c.cfn.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: &s.name, ChangeSetName: &id})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status != cfntypes.ChangeSetStatusCreateComplete || cs.ExecutionStatus != cfntypes.ExecutionStatusAvailable {
		t.Errorf("change set %s, execution %s (%s), want CREATE_COMPLETE and not executed", cs.Status, cs.ExecutionStatus, aws.ToString(cs.StatusReason))
	}
	var adds, want []string
	for _, ch := range cs.Changes {
		if rc := ch.ResourceChange; rc != nil && rc.Action == cfntypes.ChangeActionAdd {
			adds = append(adds, aws.ToString(rc.LogicalResourceId)+" "+aws.ToString(rc.ResourceType))
		}
	}
	for id, r := range cfn.Map(s.template["Resources"]) {
		want = append(want, id+" "+fmt.Sprint(cfn.Map(r)["Type"]))
	}
	slices.Sort(adds)
	slices.Sort(want)
	if !slices.Equal(adds, want) {
		t.Errorf("the change set adds %d resources, the template has %d:\nadds     %v\ntemplate %v", len(adds), len(want), adds, want)
	}
	if s.templateURL == "" {
		// A stack without a bootstrap: the CLI hands the template over in
		// the call, whose body moto's GetTemplate does not give back before
		// execution; the resources the change set adds are what is left to
		// compare.
		return
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(s.templateURL, "s3://"), "/")
	if !ok {
		t.Fatalf("the assembly names no template object for %s (%q)", s.name, s.templateURL)
	}
	obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("the template the change set was made from, %s: %v", s.templateURL, err)
	}
	defer obj.Body.Close()
	uploaded, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(uploaded, s.raw) {
		t.Errorf("%s (%d bytes) is not the synthesized template (%d bytes)", s.templateURL, len(uploaded), len(s.raw))
	}
}

// checkFunction downloads the predict function's code and reads its
// bootstrap's ELF header: Lambda's provided.al2023 on arm64 runs nothing else.
func checkFunction(t *testing.T, c *clients, s *stack) {
	var found bool
	for _, p := range s.resources("AWS::Lambda::Function") {
		if p["Handler"] != "bootstrap" {
			continue // CDK's own handlers (Python)
		}
		found = true
		files := c.zip(t, cfn.Dig(p, "Code", "S3Bucket").(string), cfn.Dig(p, "Code", "S3Key").(string))
		bin, ok := files["bootstrap"]
		if !ok {
			t.Fatalf("the function's zip holds %v, no bootstrap", names(files))
		}
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("bootstrap is not an ELF binary: %v", err)
		}
		if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
			t.Errorf("bootstrap is for %v (%v), want linux/arm64", f.Machine, f.OSABI)
		}
	}
	if !found {
		t.Fatal("no function with the bootstrap handler")
	}
}

// checkSiteContent opens the site deployment's sources, their deploy-time
// markers replaced as the deployment replaces them (with local stand-ins
// for what only AWS knows): the site's files (those the page loads, no
// tests), the page with its CSP for the API, and config.json with the API's
// URL and the model the function embeds.
func checkSiteContent(t *testing.T, c *clients, s *stack, root string) {
	deployments := s.resources("Custom::CDKBucketDeployment")
	if len(deployments) != 1 {
		t.Fatalf("%d site deployments, want 1", len(deployments))
	}
	p := deployments[0]
	buckets, _ := p["SourceBucketNames"].([]any)
	keys, _ := p["SourceObjectKeys"].([]any)
	markers, _ := p["SourceMarkers"].([]any)
	res := &cfn.Resolver{Templates: []*cfn.Template{s.tmpl}}
	published := map[string]string{}
	for i := range keys {
		for name, b := range c.zip(t, fmt.Sprint(buckets[i]), fmt.Sprint(keys[i])) {
			text := string(b)
			for marker, value := range cfn.Map(firstOf(markers[i:])) {
				v, err := res.String(s.tmpl, value)
				if err != nil {
					t.Fatalf("marker %s: %v", marker, err)
				}
				text = strings.ReplaceAll(text, marker, v)
			}
			published[name] = text
		}
	}
	site, err := os.ReadDir(filepath.Join(root, "site"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range site {
		_, ok := published[f.Name()]
		if test := strings.HasSuffix(f.Name(), ".test.js"); ok == test {
			t.Errorf("site/%s published: %v, want %v", f.Name(), ok, !test)
		}
	}
	apiURL := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="connect-src 'self' https://[^"]+\.execute-api\.[^"]+">`)
	if !apiURL.MatchString(published["index.html"]) {
		t.Errorf("the published index.html has no CSP naming its API:\n%.600s", published["index.html"])
	}
	var conf struct {
		APIURL string `json:"apiUrl"`
		Model  struct {
			Version string `json:"version"`
		} `json:"model"`
	}
	if err := json.Unmarshal([]byte(published["config.json"]), &conf); err != nil || !strings.HasPrefix(conf.APIURL, "https://") || conf.Model.Version == "" {
		t.Errorf("config.json (%v): %.300s, want the API's URL and the model", err, published["config.json"])
	}
}

func names(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// clients talk to moto.
type clients struct {
	s3  *s3.Client
	cfn *cloudformation.Client
	ssm *ssm.Client
}

func newClients(endpoint, region string) *clients {
	creds := credentials.NewStaticCredentialsProvider("testing", "testing", "")
	return &clients{
		s3:  s3.New(s3.Options{Region: region, BaseEndpoint: &endpoint, Credentials: creds, UsePathStyle: true}),
		cfn: cloudformation.New(cloudformation.Options{Region: region, BaseEndpoint: &endpoint, Credentials: creds}),
		ssm: ssm.New(ssm.Options{Region: region, BaseEndpoint: &endpoint, Credentials: creds}),
	}
}

// zip downloads an object and returns the files of the zip it is.
func (c *clients) zip(t *testing.T, bucket, key string) map[string][]byte {
	t.Helper()
	obj, err := c.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("s3://%s/%s is not a zip: %v", bucket, key, err)
	}
	files := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// startMoto runs moto's server on a port it picks itself (port 0, read
// back from what it prints), so no other process can take the port first,
// and stops its process group at the end of the test.
func startMoto(t *testing.T, server string) string {
	cmd := exec.Command(server, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	listening := regexp.MustCompile(`Running on http://127\.0\.0\.1:(\d+)`)
	port := make(chan string, 1)
	var seen bytes.Buffer
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
				io.Copy(io.Discard, logs) // keep the pipe drained
				return
			}
			fmt.Fprintln(&seen, sc.Text())
		}
		close(port)
	}()
	// Generous: this waits for a Python server to start, not a deadline a
	// busy machine should meet.
	select {
	case p, ok := <-port:
		if !ok {
			t.Fatalf("moto_server exited before listening:\n%s", seen.String())
		}
		// moto reads a template URL as path-style only on localhost.
		return "http://localhost:" + p
	case <-time.After(2 * time.Minute):
		t.Fatalf("moto_server did not listen within two minutes:\n%s", seen.String())
	}
	return ""
}

// cliEnv is the environment of the CLI: this one without any AWS setting
// of the user's (no profile, config file or real credentials can be
// reached), pointed at moto with dummy credentials.
func cliEnv(endpoint, region, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CDK_DEFAULT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION="+region, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func makeTarget(t *testing.T, root string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir, cmd.Env = root, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("make %s: %.1fs", args[0], time.Since(start).Seconds())
}

// openInputs opens every file of the module. The CLI builds the app and
// the function in processes of its own, out of sight of go test's cache,
// which keys a test's result on the files the test process itself opens (a
// directory by its listing): so that a change to any input (a stack, the
// function, the Makefile, site/) runs the test again instead of replaying an
// earlier pass.
func openInputs(t *testing.T, root string) {
	t.Helper()
	skip := []string{".git", "node_modules", "cdk.out", "bin"}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (slices.Contains(skip, d.Name()) || strings.HasPrefix(d.Name(), ".")):
			return filepath.SkipDir
		case d.IsDir():
			_, err := os.ReadDir(path)
			return err
		case d.Type().IsRegular():
			_, err := os.ReadFile(path)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func devEnv(t *testing.T, root string) config.Environment {
	t.Helper()
	envs, err := config.Load(filepath.Join(root, "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := config.Select(envs, []string{envName})
	if err != nil {
		t.Fatal(err)
	}
	return e[0]
}
