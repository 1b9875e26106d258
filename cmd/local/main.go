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
	"io"
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

// Main is the command: its configuration (ParseFlags), run until a signal
// (Run). The tests' local stack and the benchmarks start the same system
// from a local.Config of their own (local.Start).
type Main struct {
	Config local.Config
	// Synth synthesizes the assembly again when cdk.json, the app or
	// stacks/ change (make local: make local-synth); "" never does.
	Synth string
	Watch bool
	Out   io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for an orderly stop; a second one, if that
	// stop hangs (a load, a build), ends the process as signals do.
	context.AfterFunc(ctx, stop)
	m := &Main{Out: os.Stdout}
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(2)
	}
	restore := foreground()
	err := m.Run(ctx)
	restore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// ParseFlags reads the command line into m.Config: this project at the
// working directory, the dev Stage of cdk.out unless -template says
// otherwise.
func (m *Main) ParseFlags(args []string) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	c := local.Config{Root: root, Log: os.Stderr}
	var templates, functions []string
	appendTo := func(list *[]string) func(string) error {
		return func(v string) error { *list = append(*list, v); return nil }
	}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.StringVar(&c.Assembly, "assembly", "cdk.out", "CDK cloud assembly to read (ignored with -template)")
	fs.StringVar(&c.Env, "env", "dev", "environment (Stage) in the assembly")
	fs.Func("template", "CloudFormation template to serve (repeatable: the API's and the site's)", appendTo(&templates))
	fs.StringVar(&c.RestApi, "rest-api", "", "logical ID of the RestApi to serve, when the template defines several")
	fs.StringVar(&c.Stage, "stage", "", "API stage, when the template has several")
	fs.Func("function", "LogicalIdOrPrefix=./go/package (built for this machine) or =/path/to/bootstrap (an executable, run as it is): this Lambda function (repeatable; default "+project.FunctionID+"="+project.FunctionPackage+")", appendTo(&functions))
	fs.StringVar(&c.APIAddr, "api", "localhost:3000", "address of the API (make local API=...)")
	fs.StringVar(&c.SiteAddr, "site", "localhost:8080", "address of the site (make local SITE=...)")
	fs.StringVar(&c.SiteDir, "site-dir", "site", "the site's files; empty to serve no site")
	fs.StringVar(&c.SignInAddr, "signin", project.SignInAddr, "address of the local sign-in, when the API has a Cognito authorizer (make local SIGNIN=...)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "serve on addresses other machines reach (e.g. -api 0.0.0.0:3000); only on a network you trust")
	fs.BoolVar(&c.Throttle, "throttle", true, "apply the stage's throttling limits (429 beyond them)")
	fs.IntVar(&c.Concurrency, "concurrency", 2, "execution environments per function")
	fs.BoolVar(&m.Watch, "watch", true, "rebuild and reload on save")
	fs.StringVar(&m.Synth, "synth", "", "command that synthesizes the assembly again when cdk.json, the app or stacks/ change (make local: make local-synth)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, p := range templates {
		t, err := cfn.Load(p)
		if err != nil {
			return err
		}
		c.Templates = append(c.Templates, t)
	}
	// Given templates serve any RestApi: no function is this project's
	// unless -function says so.
	if len(templates) > 0 || len(functions) > 0 {
		c.Functions = map[string]string{}
	}
	for _, fn := range functions {
		id, pkg, ok := strings.Cut(fn, "=")
		if !ok || id == "" || pkg == "" {
			return fmt.Errorf("-function %q: want LogicalIdOrPrefix=./package", fn)
		}
		c.Functions[id] = pkg
	}
	// The environment allows make local's page by its default origin
	// (dev's http://localhost:8080); a site served on another address is
	// allowed instead, in the templates as they are served, so the page's
	// calls pass CORS as they would from the default address.
	if host, port, err := net.SplitHostPort(c.SiteAddr); err == nil && c.SiteDir != "" && len(templates) == 0 {
		c.AllowOrigin = "http://" + net.JoinHostPort(cmp.Or(host, "127.0.0.1"), port)
	}
	m.Config = c
	return nil
}

// Run starts the system, prints where it serves, and runs the loop (or
// waits) until ctx ends.
func (m *Main) Run(ctx context.Context) error {
	start := time.Now()
	fmt.Fprintln(m.Out, "Starting: building the function and the Lambda runtime emulator for this machine (about a minute on a first run, seconds after)")
	s, err := local.Start(ctx, m.Config)
	if err != nil {
		return another(err)
	}
	defer s.Close()
	m.ready(s, time.Since(start))
	if m.Watch {
		err = s.Watch(ctx, system.WatchOptions{Root: m.Config.Root, Synthesizes: local.Synthesizes, Synth: m.resynth(), Log: m.Out})
	} else {
		<-ctx.Done()
	}
	fmt.Fprintln(m.Out, "\nStopping.")
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// ready says where everything is served.
func (m *Main) ready(s *system.System, took time.Duration) {
	fmt.Fprintf(m.Out, "API  %s   (%s)\n", s.APIURL, strings.Join(s.API().Paths(), "; "))
	for _, r := range s.API().Refused {
		fmt.Fprintf(m.Out, "     note: %s\n", r)
	}
	if s.SiteURL != "" {
		fmt.Fprintf(m.Out, "Site %s\n", s.SiteURL)
	}
	if s.SignInURL != "" {
		fmt.Fprintf(m.Out, "Sign-in %s   (stands in for Cognito: %s signs in without a password; the API checks its tokens)\n", s.SignInURL, s.Issuer().User.Email)
		fmt.Fprintf(m.Out, "     issuer (an OpenID client's authority) %s\n", s.Issuer().URL)
		fmt.Fprintf(m.Out, "     a token for scripts: curl -s -X POST %s/local/token | jq -r .id_token\n", s.SignInURL)
	}
	loop := "Ctrl-C stops everything."
	if m.Watch {
		loop = "Saving a Go file reloads the function; " + loop
	}
	fmt.Fprintf(m.Out, "Ready in %.1fs. %s\n", took.Seconds(), loop)
}

// resynth is how the loop synthesizes again and loads what it wrote; nil
// without -synth or with given templates.
func (m *Main) resynth() func(context.Context) ([]*cfn.Template, error) {
	if m.Synth == "" || len(m.Config.Templates) > 0 {
		return nil
	}
	return func(ctx context.Context) ([]*cfn.Template, error) {
		args := strings.Fields(m.Synth)
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", m.Synth, err, out)
		}
		templates, _, err := m.Config.Load()
		return templates, err
	}
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
