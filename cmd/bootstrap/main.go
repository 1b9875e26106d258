// Command bootstrap bootstraps one environment for CDK with its own
// qualifier, a deploy role limited to the environment's stacks and the
// project's least-privilege execution policy (internal/bootstrap). `make
// bootstrap ENV=dev` runs it after synthesizing the environment:
//
//	bootstrap -env dev -app cdk.out [-trust 111122223333]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/iris-cors/iris-cors-cdk/internal/bootstrap"
	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bootstrap:", err)
		os.Exit(1)
	}
}

var account = regexp.MustCompile(`^\d{12}$`)

func run(args []string) error {
	fs := flag.NewFlagSet("bootstrap", flag.ExitOnError)
	name := fs.String("env", "", "the environment of cdk.json to bootstrap")
	o := bootstrap.Options{Stdout: os.Stdout, Stderr: os.Stderr}
	fs.StringVar(&o.Assembly, "app", "cdk.out", "the environment synthesized with credentials (cdk synth -o)")
	fs.Func("trust", "an account whose CI deploys here, for an environment in an account of its own (repeatable)", func(v string) error {
		if !account.MatchString(v) {
			return fmt.Errorf("%q is not a 12-digit AWS account id", v)
		}
		o.Trust = append(o.Trust, v)
		return nil
	})
	fs.Parse(args)
	root, err := project.Root()
	if err != nil {
		return err
	}
	envs, err := config.Load(filepath.Join(root, "cdk.json"))
	if err != nil {
		return err
	}
	env, err := config.Select(envs, []string{*name})
	if err != nil {
		return err
	}
	o.Env = env[0]
	return bootstrap.Run(o)
}
