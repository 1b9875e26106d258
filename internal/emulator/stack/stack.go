// Package stack runs a synthesized environment on one machine: the RestApi
// of the API template through package apigw, its Lambda functions built for
// this host and run under aws-lambda-rie, and the static site with the
// CloudFront headers of the site template. `make local`, the integration and
// browser tests and the benchmarks all start it through Start.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/rie"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/sitesrv"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// Options say what to run and where.
type Options struct {
	// Templates: the API's and, optionally, the site's (with the CloudFront
	// distribution). Cross-stack references are resolved between them.
	Templates []*cfn.Template
	Region    string
	Stage     string
	// Functions maps a Lambda function's logical ID, or its prefix (CDK
	// appends a hash), to the Go package to build for it, or to an
	// executable to run as its bootstrap as it is (any language).
	Functions map[string]string
	// FunctionEnv is added to every function's environment from the template.
	FunctionEnv map[string]string
	// ModuleRoot is where `go build` runs (the module of the functions).
	ModuleRoot string
	SiteDir    string // empty: serve no site
	APIAddr    string // e.g. 127.0.0.1:3000; port 0 picks a free one
	SiteAddr   string
	// APIListener and SiteListener, when set, are served instead of listening
	// on APIAddr and SiteAddr, whose host then only names the origin. A caller
	// that must know a port before the stack starts (to allow the site's
	// origin in the templates) listens itself and hands the listener over, so
	// no other process can take the port in between.
	APIListener  net.Listener
	SiteListener net.Listener
	Throttle     bool
	// Concurrency is the number of execution environments per function.
	Concurrency int
	Log         io.Writer
}

// Stack is the running system.
type Stack struct {
	APIURL  string // base URL with the stage, ending in "/"
	SiteURL string // empty without a site
	API     *apigw.API
	// WorkDir holds the built binaries while the stack runs.
	WorkDir string

	listeners []net.Listener // closed by Close even if never served
	servers   []*http.Server
	functions []*rie.Function
}

// Start builds, starts and serves everything; Close stops it.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.WorkDir, err = os.MkdirTemp("", "iris-local-"); err != nil {
		return nil, err
	}
	// Listen first: a busy port should fail before any build.
	apiLn := o.APIListener
	if apiLn == nil {
		if apiLn, err = listen(o.APIAddr, "API"); err != nil {
			return nil, err
		}
	}
	s.listeners = append(s.listeners, apiLn)
	siteLn := o.SiteListener
	if siteLn == nil && o.SiteDir != "" {
		if siteLn, err = listen(o.SiteAddr, "site"); err != nil {
			return nil, err
		}
	}
	if siteLn != nil {
		s.listeners = append(s.listeners, siteLn)
	}
	apiOrigin := Origin(o.APIAddr, apiLn)
	var siteOrigin string
	if siteLn != nil {
		siteOrigin = Origin(o.SiteAddr, siteLn)
	}

	apiT, siteT, err := classify(o.Templates)
	if err != nil {
		return nil, err
	}
	res := &cfn.Resolver{Templates: o.Templates, Region: o.Region}

	invokers, err := s.startFunctions(ctx, o, apiT, res)
	if err != nil {
		return nil, err
	}
	if s.API, err = apigw.Load(apiT, res, apigw.Options{Stage: o.Stage, Functions: invokers, Throttle: o.Throttle}); err != nil {
		return nil, err
	}
	s.APIURL = apiOrigin + "/" + s.API.Stage + "/"
	s.serve(apiLn, s.API)

	if siteLn != nil {
		site := &sitesrv.Site{Dir: o.SiteDir, RootObject: "index.html", Config: sitesrv.ConfigJSON(s.APIURL, model.Default())}
		if siteT != nil {
			if site.Headers, site.RootObject, err = sitesrv.FromTemplate(siteT, res); err != nil {
				return nil, err
			}
			if csp := site.Headers.Get("Content-Security-Policy"); csp != "" {
				site.Headers.Set("Content-Security-Policy", sitesrv.AddConnectSrc(csp, apiOrigin))
			}
		}
		s.SiteURL = siteOrigin + "/"
		s.serve(siteLn, site)
	}
	return s, nil
}

func listen(addr, what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("the %s address %s is already in use (is another `make local` running?); choose another port with a flag", what, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s address %s: %w", what, addr, err)
	}
	return ln, nil
}

// Origin is the URL origin of a listener, keeping the host name of addr (a
// page on localhost:8080 and one on 127.0.0.1:8080 are different origins).
func Origin(addr string, ln net.Listener) string {
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if host == "" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// classify picks the template with the RestApi and the one with the
// CloudFront response headers policy.
func classify(ts []*cfn.Template) (api, site *cfn.Template, err error) {
	for _, t := range ts {
		if len(t.OfType("AWS::ApiGateway::RestApi")) > 0 {
			if api != nil {
				return nil, nil, fmt.Errorf("both %s and %s define a RestApi; pass one", api.Path, t.Path)
			}
			api = t
		}
		if len(t.OfType("AWS::CloudFront::ResponseHeadersPolicy")) > 0 {
			site = t
		}
	}
	if api == nil {
		return nil, nil, errors.New("no template defines an AWS::ApiGateway::RestApi")
	}
	return api, site, nil
}

// startFunctions builds and starts every Lambda function that an AWS_PROXY
// method integrates with and that Options.Functions names a package for.
func (s *Stack) startFunctions(ctx context.Context, o Options, t *cfn.Template, res *cfn.Resolver) (map[string]apigw.Invoker, error) {
	invokers := map[string]apigw.Invoker{}
	var rieBin string
	for _, id := range apigw.Functions(t) {
		pkg := packageFor(o.Functions, id)
		if pkg == "" {
			fmt.Fprintf(o.Log, "local: no package given for Lambda function %s; its methods will answer 502\n", t.Describe(id))
			continue
		}
		if rieBin == "" {
			rieBin = filepath.Join(s.WorkDir, "aws-lambda-rie")
			if err := goBuild(ctx, o.ModuleRoot, rieBin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"); err != nil {
				return nil, err
			}
		}
		bin := pkg
		if info, err := os.Stat(pkg); err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			bin = filepath.Join(s.WorkDir, id, "bootstrap")
			// Built as the stack bundles it, for this machine instead of arm64 Linux.
			if err := (project.Build{Root: o.ModuleRoot, Package: pkg, Out: bin, Host: true}).Run(ctx); err != nil {
				return nil, err
			}
		}
		p := t.Resources[id].Properties // absent for a function of another stack: defaults apply
		env := map[string]string{}
		vars, err := res.Resolve(t, cfn.Dig(p, "Environment", "Variables"))
		if err != nil {
			return nil, fmt.Errorf("function %s: environment: %w", t.Describe(id), err)
		}
		for k, v := range cfn.Map(vars) {
			env[k] = fmt.Sprint(v)
		}
		maps.Copy(env, o.FunctionEnv)
		timeout, _ := p["Timeout"].(float64)
		memory, _ := p["MemorySize"].(float64)
		fn, err := rie.Start(ctx, rie.Options{
			Name: id, RIE: rieBin, Bootstrap: bin, Env: env,
			Timeout: time.Duration(max(timeout, 3)) * time.Second, MemoryMB: int(max(memory, 128)),
			Concurrency: o.Concurrency, Output: o.Log,
		})
		if err != nil {
			return nil, err
		}
		s.functions = append(s.functions, fn)
		invokers[id] = fn
	}
	return invokers, nil
}

// packageFor finds the package for a logical ID by exact name or prefix.
func packageFor(functions map[string]string, id string) string {
	if pkg, ok := functions[id]; ok {
		return pkg
	}
	keys := make([]string, 0, len(functions))
	for k := range functions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.HasPrefix(id, k) {
			return functions[k]
		}
	}
	return ""
}

// goBuild builds a tool (aws-lambda-rie, a tool dependency of the module).
func goBuild(ctx context.Context, dir, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// serve answers on ln with bounds a local server still needs: a browser tab
// left open, or a client that trickles its request, must not hold it.
func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // API Gateway's payload limit is 10 MB; apigw enforces it
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // API Gateway's own header limit is 10 KB per header
	}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
}

// Functions are the function pools the stack runs.
func (s *Stack) Functions() []*rie.Function { return s.functions }

// Close stops the servers and the functions and removes the build directory.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
	for _, ln := range s.listeners {
		ln.Close() // a no-op for those the servers closed
	}
	for _, f := range s.functions {
		f.Close()
	}
	if s.WorkDir != "" {
		os.RemoveAll(s.WorkDir)
	}
}
