// Package test holds the CDK app's snapshot and assertion tests. The app is
// synthesized once per run (TestMain) for every environment in cdk.json; each
// test reads the shared templates. Regenerate the golden files after an
// intended change with `go test ./test -update` and review the diff.
package test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/stacks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.template.json")

// A caller is one way the app gets synthesized. Without AWS credentials (a
// newcomer, a pull request) the account is a token; the CDK CLI with
// credentials sets CDK_DEFAULT_ACCOUNT, and every ARN, bucket name and
// condition that names the account holds its twelve digits instead. Every
// test of the synthesized app runs for both (eachEnv), each synthesized once.
type caller struct {
	name    string
	account string // CDK_DEFAULT_ACCOUNT; "" without credentials
	// envs are cdk.json's environments; with credentials also one that names
	// its own account in cdk.json (ownAccountEnv).
	envs       []config.Environment
	deployed   map[string]*synthesized // by environment name
	assembly   string                  // the cloud assembly, as `cdk synth` writes it
	ci         *stacks.GitHubOIDCStack // built with a test repository
	ciTemplate assertions.Template
}

var (
	withoutCredentials = &caller{name: "no-credentials"}
	withCredentials    = &caller{name: "credentials", account: "111122223333"}
	callers            = []*caller{withoutCredentials, withCredentials}
)

// Shared by all tests, read from cdk.json and the served model.json.
var (
	cdkContext map[string]any
	envs       []config.Environment
	served     *model.Model // what the function embeds (project.ModelFile)
)

// testRepository is the repository the CI roles trust in the tests.
const testRepository = "example-org/iris-cors-cdk"

// testRepositoryID is its number.
const testRepositoryID = "123456789"

// ownAccountEnv is an environment that names its own account and region in
// cdk.json, as a team with a separate production account writes it.
func ownAccountEnv() config.Environment {
	e, _ := findEnv(envs, "dev")
	e.Name, e.Account, e.Region = "partner", "444455556666", "us-east-1"
	return e
}

type synthesized struct {
	env       *stacks.Stage
	site, api assertions.Template
	// The Stage of the account and region the environment deploys to,
	// shared with the other environments there.
	account         *stacks.AccountStack
	accountTemplate assertions.Template
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer jsii.Close()
	// The shared cloud assemblies go to a directory removed at the end, so a
	// test run leaves nothing behind; tests that synthesize more use t.TempDir.
	dir, err := os.MkdirTemp("", "iris-test-synth-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		return 1
	}
	return m.Run()
}

func setup(dir string) error {
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		return err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("cdk.json: %w", err)
	}
	cdkContext = doc.Context
	if envs, err = config.Parse(cdkContext["environments"]); err != nil {
		return err
	}
	if served, err = model.Load(filepath.Join("..", project.ModelFile)); err != nil {
		return err
	}
	withoutCredentials.envs = envs
	withCredentials.envs = append(slices.Clone(envs), ownAccountEnv())
	for _, c := range callers {
		if err := c.synth(filepath.Join(dir, c.name)); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// synth synthesizes the caller's environments and the ci Stage (which the
// app adds only on request) into dir.
func (c *caller) synth(dir string) (err error) {
	restore := c.become()
	defer restore()
	c.assembly = filepath.Join(dir, "app")
	if c.deployed, err = synth(c.assembly, c.envs...); err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(filepath.Join(dir, "ci"))})
	c.ci = stacks.NewCI(app, stacks.Repository{Name: testRepository, ID: testRepositoryID}, "main", c.envs)
	app.Synth(nil)
	c.ciTemplate = assertions.Template_FromStack(c.ci.Stack, nil)
	return nil
}

// become sets CDK_DEFAULT_ACCOUNT as the CLI would for c, and returns how
// to put it back.
func (c *caller) become() (restore func()) {
	old, had := os.LookupEnv("CDK_DEFAULT_ACCOUNT")
	if c.account == "" {
		os.Unsetenv("CDK_DEFAULT_ACCOUNT")
	} else {
		os.Setenv("CDK_DEFAULT_ACCOUNT", c.account)
	}
	return func() {
		if had {
			os.Setenv("CDK_DEFAULT_ACCOUNT", old)
		} else {
			os.Unsetenv("CDK_DEFAULT_ACCOUNT")
		}
	}
}

// accountOf is the account e deploys to, as the caller's templates name it:
// cdk.json's, else the caller's, else "" (a token).
func (c *caller) accountOf(e config.Environment) string {
	if e.Account != "" {
		return e.Account
	}
	return c.account
}

// arn is the value CDK writes for an ARN made of parts around the account
// (accountID): a literal account joins its neighbours, the token stays a
// {"Ref": "AWS::AccountId"} between them.
func (c *caller) arn(e config.Environment, parts ...any) []any {
	var out []any
	for _, p := range parts {
		if p == accountID {
			if a := c.accountOf(e); a != "" {
				p = a
			} else {
				p = obj{"Ref": "AWS::AccountId"}
			}
		}
		if s, ok := p.(string); ok && len(out) > 0 {
			if last, ok := out[len(out)-1].(string); ok {
				out[len(out)-1] = last + s
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// accountID marks where the account goes in caller.arn.
const accountID = "<account>"

// eachEnv runs f for every environment of every caller, each a subtest
// named caller/environment.
func eachEnv(t *testing.T, f func(t *testing.T, c *caller, e config.Environment, d *synthesized)) {
	t.Helper()
	for _, c := range callers {
		for _, e := range c.envs {
			t.Run(c.name+"/"+e.Name, func(t *testing.T) { f(t, c, e, c.deployed[e.Name]) })
		}
	}
}

// synth builds an app with the given environments, the way app.go does, and
// synthesizes it into dir. A failed synth (CDK panics through jsii) is
// returned as an error.
func synth(dir string, envs ...config.Environment) (map[string]*synthesized, error) {
	return synthModel(dir, served, envs...)
}

// synthModel is synth for a function that serves m.
func synthModel(dir string, m *model.Model, envs ...config.Environment) (out map[string]*synthesized, err error) {
	root, err := project.Root()
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth failed: %v", r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(dir)})
	d := stacks.NewDeployment(app, envs, envs, root, m)
	app.Synth(nil) // runs the aspects and fails on their errors, as `cdk synth` does
	accounts := map[stacks.Account]*stacks.AccountStack{}
	for _, a := range d.Accounts {
		accounts[a.Account] = a
	}
	out = map[string]*synthesized{}
	for i, env := range d.Stages {
		a := accounts[stacks.Account{ID: envs[i].Account, Region: envs[i].Region}]
		out[envs[i].Name] = &synthesized{
			env:             env,
			site:            assertions.Template_FromStack(env.Site.Stack, nil),
			api:             assertions.Template_FromStack(env.Api.Stack, nil),
			account:         a,
			accountTemplate: assertions.Template_FromStack(a.Stack, nil),
		}
	}
	return out, nil
}

// check runs CDK assertions, which panic (a jsii error) when they fail, and
// reports the library's explanation as a test failure.
func check(t testing.TB, assertions func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	assertions()
}

// assetHash matches the content hashes of assets: the function binary differs
// between Go versions, so snapshots hold a placeholder.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

func normalized(t assertions.Template) []byte {
	b, _ := json.MarshalIndent(t.ToJSON(), "", "  ")
	return append(assetHash.ReplaceAll(b, []byte("<asset-hash>")), '\n')
}
