// Command local runs a synthesized environment on this machine: the API on
// :3000 (API Gateway emulated from the template, the function under
// aws-lambda-rie) and the site on :8080 with CloudFront's headers. While it
// runs, saving a Go file rebuilds and swaps the function, and changing
// cdk.json, the app or stacks/ synthesizes again and reloads the API.
//
//	go run ./cmd/local                       # cdk.out, environment dev (make local)
//	go run ./cmd/local -template X.template.json [-stage NAME]   # any RestApi
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

func main() {
	var templates, functions []string
	appendTo := func(list *[]string) func(string) error {
		return func(v string) error { *list = append(*list, v); return nil }
	}
	assembly := flag.String("assembly", "cdk.out", "CDK cloud assembly to read (ignored with -template)")
	env := flag.String("env", "dev", "environment (Stage) in the assembly")
	flag.Func("template", "CloudFormation template to serve (repeatable: the API's and the site's)", appendTo(&templates))
	restAPI := flag.String("rest-api", "", "logical ID of the RestApi to serve, when the template defines several")
	stage := flag.String("stage", "", "API stage, when the template has several")
	flag.Func("function", "LogicalIdOrPrefix=./go/package (built for this machine) or =/path/to/bootstrap (an executable, run as it is): this Lambda function (repeatable; default "+project.FunctionID+"="+project.FunctionPackage+")", appendTo(&functions))
	apiAddr := flag.String("api", "localhost:3000", "address of the API")
	siteAddr := flag.String("site", "localhost:8080", "address of the site")
	siteDir := flag.String("site-dir", "site", "the site's files; empty to serve no site")
	throttle := flag.Bool("throttle", true, "apply the stage's throttling limits (429 beyond them)")
	concurrency := flag.Int("concurrency", 2, "execution environments per function")
	watch := flag.Bool("watch", true, "rebuild and reload on save")
	synth := flag.String("synth", "", "command that synthesizes the assembly again when cdk.json, the app or stacks/ change (make local: make local-synth)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	restore := foreground()
	err := run(ctx, *assembly, *env, templates, functions, *watch, *synth, func(o *system.Options) {
		o.RestApi, o.Stage, o.APIAddr, o.SiteAddr, o.SiteDir = *restAPI, *stage, *apiAddr, *siteAddr, *siteDir
		o.Throttle, o.Concurrency, o.Log = *throttle, *concurrency, os.Stderr
	})
	restore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, assembly, env string, templates, functions []string, watch bool, synth string, set func(*system.Options)) error {
	start := time.Now()
	o, resynth, err := configure(assembly, env, templates, functions, synth)
	if err != nil {
		return err
	}
	set(&o)
	s, err := system.Start(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("API  %s   (%s)\n", s.APIURL, strings.Join(s.API().Paths(), "; "))
	for _, r := range s.API().Refused {
		fmt.Printf("     note: %s\n", r)
	}
	if s.SiteURL != "" {
		fmt.Printf("Site %s\n", s.SiteURL)
	}
	loop := "Ctrl-C stops everything."
	if watch {
		loop = "Saving a Go file reloads the function; " + loop
	}
	fmt.Printf("Ready in %.1fs. %s\n", time.Since(start).Seconds(), loop)
	if watch {
		err = s.Watch(ctx, system.WatchOptions{Root: o.ModuleRoot, Synthesizes: local.Synthesizes, Synth: resynth, Log: os.Stdout})
	} else {
		<-ctx.Done()
	}
	fmt.Println("\nStopping.")
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// configure runs this project (local.Options, from the working directory):
// the templates of the assembly's environment, or the files given (any
// RestApi: then no function is this project's unless -function says so),
// and the functions' packages. It also returns how to synthesize again,
// when synth is given.
func configure(assembly, env string, templates, functions []string, synth string) (system.Options, func(context.Context) ([]*cfn.Template, error), error) {
	root, err := os.Getwd()
	if err != nil {
		return system.Options{}, nil, err
	}
	o := local.Options(root)
	load := func() ([]*cfn.Template, error) {
		a, err := cfn.LoadAssembly(assembly, env)
		if err != nil {
			return nil, err
		}
		o.Region = a.Region
		return a.Templates, nil
	}
	var resynth func(context.Context) ([]*cfn.Template, error)
	if len(templates) == 0 {
		if o.Templates, err = load(); err != nil {
			return o, nil, err
		}
		if synth != "" {
			resynth = func(ctx context.Context) ([]*cfn.Template, error) {
				args := strings.Fields(synth)
				if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
					return nil, fmt.Errorf("%s: %v\n%s", synth, err, out)
				}
				return load()
			}
		}
	}
	for _, p := range templates {
		t, err := cfn.Load(p)
		if err != nil {
			return o, nil, err
		}
		o.Templates = append(o.Templates, t)
	}
	if len(templates) > 0 || len(functions) > 0 {
		o.Functions = map[string]string{}
	}
	for _, f := range functions {
		id, pkg, ok := strings.Cut(f, "=")
		if !ok || id == "" || pkg == "" {
			return o, nil, fmt.Errorf("-function %q: want LogicalIdOrPrefix=./package", f)
		}
		o.Functions[id] = pkg
	}
	return o, resynth, nil
}
