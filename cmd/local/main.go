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
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// flags are the command line.
type flags struct {
	assembly, env        string
	templates, functions []string
	synth                string
	watch                bool
	system.Options       // the addresses, the site's directory, throttling, concurrency
}

func main() {
	var f flags
	appendTo := func(list *[]string) func(string) error {
		return func(v string) error { *list = append(*list, v); return nil }
	}
	flag.StringVar(&f.assembly, "assembly", "cdk.out", "CDK cloud assembly to read (ignored with -template)")
	flag.StringVar(&f.env, "env", "dev", "environment (Stage) in the assembly")
	flag.Func("template", "CloudFormation template to serve (repeatable: the API's and the site's)", appendTo(&f.templates))
	flag.StringVar(&f.RestApi, "rest-api", "", "logical ID of the RestApi to serve, when the template defines several")
	flag.StringVar(&f.Stage, "stage", "", "API stage, when the template has several")
	flag.Func("function", "LogicalIdOrPrefix=./go/package (built for this machine) or =/path/to/bootstrap (an executable, run as it is): this Lambda function (repeatable; default "+project.FunctionID+"="+project.FunctionPackage+")", appendTo(&f.functions))
	flag.StringVar(&f.APIAddr, "api", "localhost:3000", "address of the API (make local API=...)")
	flag.StringVar(&f.SiteAddr, "site", "localhost:8080", "address of the site (make local SITE=...)")
	flag.StringVar(&f.SiteDir, "site-dir", "site", "the site's files; empty to serve no site")
	flag.StringVar(&f.SignInAddr, "signin", project.SignInAddr, "address of the local sign-in, when the API has a Cognito authorizer (make local SIGNIN=...)")
	flag.BoolVar(&f.AllowRemote, "allow-remote", false, "serve on addresses other machines reach (e.g. -api 0.0.0.0:3000); only on a network you trust")
	flag.BoolVar(&f.Throttle, "throttle", true, "apply the stage's throttling limits (429 beyond them)")
	flag.IntVar(&f.Concurrency, "concurrency", 2, "execution environments per function")
	flag.BoolVar(&f.watch, "watch", true, "rebuild and reload on save")
	flag.StringVar(&f.synth, "synth", "", "command that synthesizes the assembly again when cdk.json, the app or stacks/ change (make local: make local-synth)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for an orderly stop; a second one, if that
	// stop hangs (a load, a build), ends the process as signals do.
	context.AfterFunc(ctx, stop)
	restore := foreground()
	err := run(ctx, f)
	restore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, f flags) error {
	start := time.Now()
	o, resynth, err := configure(f)
	if err != nil {
		return err
	}
	s, err := system.Start(ctx, o)
	if err != nil {
		return another(err)
	}
	defer s.Close()
	fmt.Printf("API  %s   (%s)\n", s.APIURL, strings.Join(s.API().Paths(), "; "))
	for _, r := range s.API().Refused {
		fmt.Printf("     note: %s\n", r)
	}
	if s.SiteURL != "" {
		fmt.Printf("Site %s\n", s.SiteURL)
	}
	if s.SignInURL != "" {
		fmt.Printf("Sign-in %s   (stands in for Cognito: %s signs in without a password; the API checks its tokens)\n", s.SignInURL, s.Issuer().User.Email)
		fmt.Printf("     issuer (an OpenID client's authority) %s\n", s.Issuer().URL)
		fmt.Printf("     a token for scripts: curl -s -X POST %s/local/token | jq -r .id_token\n", s.SignInURL)
	}
	loop := "Ctrl-C stops everything."
	if f.watch {
		loop = "Saving a Go file reloads the function; " + loop
	}
	fmt.Printf("Ready in %.1fs. %s\n", time.Since(start).Seconds(), loop)
	if f.watch {
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

// another says how to choose another address when one is taken.
func another(err error) error {
	var busy *system.AddrInUse
	if !errors.As(err, &busy) {
		return err
	}
	variable, flagName := "API", "-api"
	switch busy.What {
	case "site":
		variable, flagName = "SITE", "-site"
	case "sign-in":
		variable, flagName = "SIGNIN", "-signin"
	}
	next := busy.Addr
	if host, port, err := net.SplitHostPort(busy.Addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			next = net.JoinHostPort(host, strconv.Itoa(n+1))
		}
	}
	return fmt.Errorf("%w; choose another: make local %s=%s (or go run ./cmd/local %s %s)", err, variable, next, flagName, next)
}

// configure runs this project (local.Options, from the working directory)
// with the flags: the templates of the assembly's environment, or the files
// given (any RestApi: then no function is this project's unless -function
// says so), the functions' packages. It also returns how to synthesize
// again, when -synth is given.
func configure(f flags) (system.Options, func(context.Context) ([]*cfn.Template, error), error) {
	root, err := os.Getwd()
	if err != nil {
		return system.Options{}, nil, err
	}
	o := local.Options(root)
	o.RestApi, o.Stage, o.APIAddr, o.SiteAddr, o.SignInAddr = f.RestApi, f.Stage, f.APIAddr, f.SiteAddr, f.SignInAddr
	if o.Site, o.SiteDir = nil, ""; f.SiteDir != "" {
		o = local.SiteAt(o, f.SiteDir)
	}
	o.Throttle, o.Concurrency, o.AllowRemote, o.Log = f.Throttle, f.Concurrency, f.AllowRemote, os.Stderr
	var resynth func(context.Context) ([]*cfn.Template, error)
	if len(f.templates) == 0 {
		load, err := assemblyLoader(&o, f)
		if err != nil {
			return o, nil, err
		}
		if o.Templates, err = load(); err != nil {
			return o, nil, err
		}
		if f.synth != "" {
			resynth = func(ctx context.Context) ([]*cfn.Template, error) {
				args := strings.Fields(f.synth)
				if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
					return nil, fmt.Errorf("%s: %v\n%s", f.synth, err, out)
				}
				return load()
			}
		}
	}
	for _, p := range f.templates {
		t, err := cfn.Load(p)
		if err != nil {
			return o, nil, err
		}
		o.Templates = append(o.Templates, t)
	}
	if len(f.templates) > 0 || len(f.functions) > 0 {
		o.Functions = map[string]string{}
	}
	for _, fn := range f.functions {
		id, pkg, ok := strings.Cut(fn, "=")
		if !ok || id == "" || pkg == "" {
			return o, nil, fmt.Errorf("-function %q: want LogicalIdOrPrefix=./package", fn)
		}
		o.Functions[id] = pkg
	}
	return o, resynth, nil
}

// assemblyLoader reads the environment's templates from the assembly. The
// dev environment allows make local's page by its default origin
// (cdk.json); a site served on another address is allowed instead, in the
// templates as they are served, so the page's calls pass CORS as they
// would from the default address.
func assemblyLoader(o *system.Options, f flags) (func() ([]*cfn.Template, error), error) {
	devOrigin, err := local.DevOrigin(o.ModuleRoot)
	if err != nil {
		return nil, err
	}
	siteOrigin := ""
	if host, port, err := net.SplitHostPort(f.SiteAddr); err == nil && f.SiteDir != "" {
		siteOrigin = "http://" + net.JoinHostPort(cmp.Or(host, "127.0.0.1"), port)
	}
	return func() ([]*cfn.Template, error) {
		a, err := cfn.LoadAssembly(f.assembly, f.env)
		if err != nil {
			return nil, err
		}
		o.Region = a.Region
		if siteOrigin != "" && siteOrigin != devOrigin {
			for _, t := range a.Templates {
				t.Replace(devOrigin, siteOrigin)
			}
		}
		return a.Templates, nil
	}, nil
}
