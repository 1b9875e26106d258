package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// Options are one `make bootstrap`.
type Options struct {
	Env      config.Environment
	Assembly string   // the synthesized app (cdk synth -o): where the environment deploys to
	Trust    []string // accounts whose CI may deploy here (cdk bootstrap --trust)
	Stdout   io.Writer
	Stderr   io.Writer
}

// Run bootstraps o.Env: CDK's template (the CLI's, so it follows the CLI's
// version) made the environment's, deployed as its own toolkit stack with
// its qualifier, its execution policy and its own permissions boundary
// (Boundary, BoundaryPolicy), which the environment's Stage puts on every
// role it creates.
func Run(o Options) error {
	account, err := Account(o.Assembly, o.Env)
	if err != nil {
		return err
	}
	var base strings.Builder
	show := exec.Command("cdk", "bootstrap", "--show-template", "--app", o.Assembly)
	show.Stdout, show.Stderr = &base, o.Stderr
	if err := show.Run(); err != nil {
		return fmt.Errorf("cdk bootstrap --show-template: %w", err)
	}
	tmpl, err := Template([]byte(base.String()), o.Env)
	if err != nil {
		return err
	}
	file := filepath.Join(o.Assembly, "bootstrap-"+o.Env.Name+".template.json")
	if err := os.WriteFile(file, tmpl, 0o644); err != nil {
		return err
	}
	args := []string{"bootstrap", "aws://" + account + "/" + o.Env.Region, "--app", o.Assembly,
		"--template", file, "--qualifier", o.Env.Qualifier, "--toolkit-stack-name", ToolkitStack(o.Env),
		"--cloudformation-execution-policies", PolicyARN(o.Env, account),
		"--custom-permissions-boundary", BoundaryName(o.Env)}
	for _, a := range o.Trust {
		args = append(args, "--trust", a)
	}
	cdk := exec.Command("cdk", args...)
	cdk.Stdout, cdk.Stderr = o.Stdout, o.Stderr
	fmt.Fprintln(o.Stderr, "cdk", strings.Join(args, " "))
	return cdk.Run()
}

// Account is the account env's stacks deploy to in the synthesized app at
// assembly: cdk.json's, or the one the CLI found in its credentials.
func Account(assembly string, env config.Environment) (string, error) {
	want := env.Name + "-" + config.APIStackID
	var found string
	err := filepath.WalkDir(assembly, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "manifest.json" || found != "" {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m struct {
			Artifacts map[string]struct {
				Environment string `json:"environment"`
				Properties  struct {
					StackName string `json:"stackName"`
				} `json:"properties"`
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, a := range m.Artifacts {
			if a.Properties.StackName == want {
				found = a.Environment
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if found == "" {
		return "", fmt.Errorf("%s has no stack %s: synthesize the environment first (cdk synth '%s/*' -c env=%s -o %s)", assembly, want, env.Name, env.Name, assembly)
	}
	account, region, ok := strings.Cut(strings.TrimPrefix(found, "aws://"), "/")
	switch {
	case !ok:
		return "", fmt.Errorf("%s: environment %q is not aws://account/region", want, found)
	case account == "unknown-account":
		return "", errors.New("the account is unknown: the CLI found no AWS credentials when it synthesized (set them, or environments." + env.Name + ".account in cdk.json)")
	case region != env.Region:
		return "", fmt.Errorf("%s deploys to %s, cdk.json says %s: synthesize again", want, region, env.Region)
	}
	return account, nil
}
