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
	"regexp"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

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
	ciTemplate template
)

// testRepository is the repository the CI roles trust in the tests.
const testRepository = "example-org/iris-cors-cdk"

type synthesized struct {
	env  *stacks.Environment
	site template
	api  template
}

// template is a stack's CloudFormation template as plain JSON values.
type template map[string]any

func TestMain(m *testing.M) {
	flag.Parse()
	err := setup()
	if err == nil {
		err = synthCI()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func setup() error {
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
	deployed, _, err = synth(envs...)
	return err
}

// synthCI builds the ci Stage on its own: the app adds it only on request.
func synthCI() error {
	dir, err := os.MkdirTemp("", "cdk.out-ci-")
	if err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(dir)})
	ci = stacks.NewCI(app, testRepository, envs[0].Region)
	app.Synth(nil)
	ciTemplate = templateOf(ci.Stack)
	return nil
}

// synth builds an app with the given environments, the way app.go does, and
// synthesizes it into a fresh directory, which it returns. A failed synth (CDK
// panics through jsii) is returned as an error.
func synth(envs ...config.Environment) (out map[string]*synthesized, dir string, err error) {
	root, err := project.Root()
	if err != nil {
		return nil, "", err
	}
	if dir, err = os.MkdirTemp("", "cdk.out-"); err != nil {
		return nil, "", err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth failed: %v", r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkContext, Outdir: jsii.String(dir)})
	out = map[string]*synthesized{}
	for _, e := range envs {
		env := stacks.NewEnvironment(app, e, root)
		out[e.Name] = &synthesized{env: env}
	}
	app.Synth(nil) // runs the aspects and fails on their errors, as `cdk synth` does
	for _, s := range out {
		s.site, s.api = templateOf(s.env.Site.Stack), templateOf(s.env.Api.Stack)
	}
	return out, dir, nil
}

func templateOf(stack awscdk.Stack) template {
	return template(*assertions.Template_FromStack(stack, nil).ToJSON())
}

// resources returns the resources of one type, by logical ID.
func (t template) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range t["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// one returns the properties of the only resource of a type.
func (t template) one(tb testing.TB, typ string) map[string]any {
	tb.Helper()
	rs := t.resources(typ)
	if len(rs) != 1 {
		tb.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for _, p := range rs {
		return p
	}
	return nil
}

// dig walks nested maps and slices: dig(v, "A", 0, "B").
func dig(v any, path ...any) any {
	if t, ok := v.(template); ok {
		v = map[string]any(t)
	}
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// assetHash matches the content hashes of assets: the function binary differs
// between Go versions, so snapshots hold a placeholder.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

func normalized(t template) []byte {
	b, _ := json.MarshalIndent(t, "", "  ")
	return append(assetHash.ReplaceAll(b, []byte("<asset-hash>")), '\n')
}
