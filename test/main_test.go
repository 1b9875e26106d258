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
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/stacks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.template.json")

// Synthesized once for all tests.
var (
	cdkContext map[string]any
	envs       []config.Environment
	deployed   map[string]*synthesized // by environment name
	ci         *stacks.GitHubOIDCStack // built with a test repository
	ciTemplate assertions.Template
	assembly   string // the cloud assembly of every environment, as `cdk synth` writes it
)

// testRepository is the repository the CI roles trust in the tests.
const testRepository = "example-org/iris-cors-cdk"

type synthesized struct {
	env       *stacks.Environment
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
	assembly = filepath.Join(dir, "app")
	if deployed, err = synth(assembly, envs...); err != nil {
		return err
	}
	// The ci Stage is built on its own: the app adds it only on request.
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(filepath.Join(dir, "ci"))})
	ci = stacks.NewCI(app, testRepository, "main", envs)
	app.Synth(nil)
	ciTemplate = assertions.Template_FromStack(ci.Stack, nil)
	return nil
}

// synth builds an app with the given environments, the way app.go does, and
// synthesizes it into dir. A failed synth (CDK panics through jsii) is
// returned as an error.
func synth(dir string, envs ...config.Environment) (map[string]*synthesized, error) {
	return synthModel(dir, model.Default(), envs...)
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
	d := stacks.NewDeployment(app, envs, root, m)
	app.Synth(nil) // runs the aspects and fails on their errors, as `cdk synth` does
	accounts := map[stacks.Account]*stacks.AccountStack{}
	for _, a := range d.Accounts {
		accounts[a.Account] = a
	}
	out = map[string]*synthesized{}
	for i, env := range d.Environments {
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
