// Package system runs a synthesized environment on one machine: the RestApi
// of the API template through package apigw, its Lambda functions built for
// this host and run under aws-lambda-rie, and the static site with the
// CloudFront headers of the site template. What is the app's (which package
// each function is, how to build it, what the site's deployment writes) the
// caller hands in through Options.
package system

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/apigw"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/rie"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/sitesrv"
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
	// Build builds a function's Go package into out, for this machine; nil
	// runs `go build` in ModuleRoot.
	Build func(ctx context.Context, pkg, out string) error
	// RIE is the aws-lambda-rie binary; empty builds it (BuildRIE).
	RIE string
	// Site is what the site serves for what the system serves (the API's
	// and the sign-in's URLs), on SiteAddr; nil (or no address) serves no
	// site. The app decides what is in it; the server
	// serves any fs.FS.
	Site func(Endpoints) fs.FS
	// SiteDir is where the site's sources are, for the watcher: a save
	// there is served at the next request.
	SiteDir string
	// SignInAddr is where a local OpenID issuer stands in for the
	// templates' Cognito user pools (package oidc), when they have one;
	// SignInListener, when set, is served instead. Empty: methods behind a
	// user pool authorizer refuse every request.
	SignInAddr     string
	SignInListener net.Listener
	APIAddr        string // e.g. 127.0.0.1:3000; port 0 picks a free one
	SiteAddr       string
	// APIListener and SiteListener, when set, are served instead of listening
	// on APIAddr and SiteAddr, whose host then only names the origin. A caller
	// that must know a port before the stack starts (to allow the site's
	// origin in the templates) listens itself and hands the listener over, so
	// no other process can take the port in between.
	APIListener  net.Listener
	SiteListener net.Listener
	// RestApi picks the API of a template that defines several (its
	// logical ID).
	RestApi  string
	Throttle bool
	// Concurrency is the number of execution environments per function.
	Concurrency int
	// AllowRemote serves on addresses other machines reach (":3000",
	// "0.0.0.0:3000", a LAN address); without it Start refuses them. The
	// servers' Host check keeps DNS rebinding out, not another machine,
	// which can send "Host: localhost" itself.
	AllowRemote bool
	Log         io.Writer
}

// System is the running local system: an API, its functions, a site.
type System struct {
	APIURL  string // base URL with the stage, ending in "/"
	SiteURL string // empty without a site
	// SignInURL is the local issuer's, empty without one.
	SignInURL string
	// WorkDir holds the built binaries while the stack runs.
	WorkDir string

	opts      Options
	apiOrigin string
	listeners []net.Listener // closed by Close even if never served
	servers   []*http.Server
	content   atomic.Pointer[content] // what the servers serve; a reload swaps it
	mu        sync.Mutex              // one reload at a time
	rieBin    string
	signIn    *signIn // nil while the templates have no app client
	// signInStarted says a sign-in was started once (and may have used
	// Options.SignInListener).
	signInStarted bool
	generation    int // numbers the builds, so a new binary never overwrites a running one
}

// content is everything a reload replaces: the API, the site's handler and
// the functions behind the API.
type content struct {
	endpoints Endpoints
	api       *apigw.API
	site      *sitesrv.Site
	functions map[string]*function // by logical ID
}

// function is one Lambda function: its pool of emulated environments behind
// a slot the API invokes, so a rebuild swaps the pool without reloading the
// API.
type function struct {
	id, pkg string // pkg "" for a prebuilt executable, which is not rebuilt
	opts    rie.Options
	sum     [sha256.Size]byte // of what runs, to tell whether a rebuild changed anything
	slot    atomic.Pointer[rie.Pool]
}

func (f *function) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	return f.slot.Load().Invoke(ctx, event)
}

// Start builds, starts and serves everything; Close stops it.
func Start(ctx context.Context, o Options) (_ *System, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &System{opts: o}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.WorkDir, err = os.MkdirTemp("", "iris-local-"); err != nil {
		return nil, err
	}
	// Listen first: a busy port should fail before any build.
	apiLn, err := s.listen(o.APIListener, o.APIAddr, "API", true)
	if err != nil {
		return nil, err
	}
	siteLn, err := s.listen(o.SiteListener, o.SiteAddr, "site", o.Site != nil && o.SiteAddr != "")
	if err != nil {
		return nil, err
	}
	s.apiOrigin = Origin(o.APIAddr, apiLn)
	if s.signIn, _, err = s.signInFor(o.Templates); err != nil {
		return nil, err
	}
	if s.signIn != nil {
		s.SignInURL = s.signIn.url
	}
	c, err := s.load(ctx, o.Templates, s.signIn)
	if err != nil {
		return nil, err
	}
	s.content.Store(c)
	s.APIURL = s.apiOrigin + "/" + c.api.Stage + "/"
	s.serve(apiLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.content.Load().api.ServeHTTP(w, r) }))
	if siteLn != nil {
		s.SiteURL = Origin(o.SiteAddr, siteLn) + "/"
		s.serve(siteLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.content.Load().site.ServeHTTP(w, r) }))
	}
	return s, nil
}

// Endpoints are what the system serves that the site calls.
func (s *System) Endpoints() Endpoints { return s.content.Load().endpoints }

// API is the RestApi being served.
func (s *System) API() *apigw.API { return s.content.Load().api }

// load builds and starts what templates describe: the functions, the API
// in front of them (its tokens checked by si, when there is one) and the
// site's handler.
func (s *System) load(ctx context.Context, templates []*cfn.Template, si *signIn) (_ *content, err error) {
	o := s.opts
	apiT, siteT, err := classify(templates)
	if err != nil {
		return nil, err
	}
	res := &cfn.Resolver{Templates: templates, Region: o.Region}
	if si != nil {
		res.Attrs = si.attrs(apiT)
	}
	c := &content{functions: map[string]*function{}}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	invokers, err := s.startFunctions(ctx, apiT, res, c)
	if err != nil {
		return nil, err
	}
	clients, err := userPoolClients(apiT, res)
	if err != nil {
		return nil, err
	}
	api := apigw.Options{RestApi: o.RestApi, Stage: o.Stage, Functions: invokers, Throttle: o.Throttle}
	var endpoints Endpoints
	if si != nil {
		api.Tokens, endpoints.SignIn, endpoints.Issuer = si.issuer, si.url, si.issuer.URL
		if len(clients) > 0 {
			endpoints.Client = clients[0].ID
		}
	}
	if c.api, err = apigw.Load(apiT, res, api); err != nil {
		return nil, err
	}
	endpoints.API = s.apiOrigin + "/" + c.api.Stage + "/"
	c.endpoints, c.site = endpoints, o.siteFor(endpoints)
	if siteT != nil {
		if c.site.Headers, c.site.RootObject, err = sitesrv.FromTemplate(siteT, res); err != nil {
			return nil, err
		}
		if csp := c.site.Headers.Get("Content-Security-Policy"); csp != "" {
			for _, local := range []string{s.apiOrigin, endpoints.SignIn} {
				if local != "" {
					csp = sitesrv.AddConnectSrc(csp, local)
				}
			}
			c.site.Headers.Set("Content-Security-Policy", csp)
		}
	}
	if si != nil {
		// Only once all loaded: after a failed reload the old clients stay,
		// with the old API that still serves.
		si.issuer.SetClients(clients)
	}
	return c, nil
}

// Endpoints are what the local system serves that the site calls.
type Endpoints struct {
	API    string // the API's URL with its stage, ending in "/"
	SignIn string // the local issuer's base URL; "" without one
	Issuer string // its issuer (an OpenID client's authority)
	Client string // the app client the page signs in with
}

// siteFor is the site o serves for e (the headers come from the site's
// template).
func (o Options) siteFor(e Endpoints) *sitesrv.Site {
	site := &sitesrv.Site{FS: fstest.MapFS{}}
	if o.Site != nil {
		site.FS = o.Site(e)
	}
	return site
}

// Reload serves templates instead: new functions and API, swapped in when
// they are ready, the old ones stopped once their requests have finished.
// On error the old content keeps serving.
func (s *System) Reload(ctx context.Context, templates []*cfn.Template) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	si, started, err := s.signInFor(templates)
	if err != nil {
		return err
	}
	c, err := s.load(ctx, templates, si)
	if err != nil {
		if started {
			si.stop()
		}
		return err
	}
	s.content.Swap(c).stop()
	switch {
	case started:
		fmt.Fprintf(s.opts.Log, "the API has sign-in now: the local sign-in serves on %s\n", si.url)
	case si == nil && s.signIn != nil:
		s.signIn.stop()
		fmt.Fprintln(s.opts.Log, "the API has no sign-in now: the local sign-in stopped")
	}
	s.signIn, s.SignInURL = si, ""
	if si != nil {
		s.SignInURL = si.url
	}
	return nil
}

// Rebuild builds every function from its package again and swaps in those
// whose binary changed, returning their IDs. A compile error (with the
// compiler's file:line messages) leaves the running versions serving.
func (s *System) Rebuild(ctx context.Context) (changed []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.content.Load()
	ids := slices.Sorted(maps.Keys(c.functions))
	for _, id := range ids {
		f := c.functions[id]
		if f.pkg == "" {
			continue
		}
		bin, err := s.build(ctx, f.id, f.pkg)
		if err != nil {
			return changed, err
		}
		sum, err := fileSum(bin)
		if err != nil {
			return changed, err
		}
		if sum == f.sum {
			os.Remove(bin)
			continue
		}
		opts := f.opts
		opts.Bootstrap = bin
		pool, err := rie.Start(ctx, opts)
		if err != nil {
			return changed, err
		}
		f.sum = sum
		old := f.slot.Swap(pool)
		go old.Close() // after the requests it is serving
		changed = append(changed, id)
	}
	return changed, nil
}

// build builds a function's package into a path of its own.
func (s *System) build(ctx context.Context, id, pkg string) (string, error) {
	s.generation++
	bin := filepath.Join(s.WorkDir, id, strconv.Itoa(s.generation), "bootstrap")
	if s.opts.Build != nil {
		return bin, s.opts.Build(ctx, pkg, bin)
	}
	return bin, goBuild(ctx, s.opts.ModuleRoot, bin, pkg)
}

func fileSum(path string) ([sha256.Size]byte, error) {
	b, err := os.ReadFile(path)
	return sha256.Sum256(b), err
}

// stop stops the functions (each after the requests it is serving).
func (c *content) stop() {
	for _, f := range c.functions {
		if pool := f.slot.Load(); pool != nil {
			pool.Close()
		}
	}
}

// AddrInUse is Start's error when an address it was given is taken (by
// another local run, a front-end dev server): the caller can say how to pick
// another.
type AddrInUse struct {
	What string // "API" or "site"
	Addr string
}

func (e *AddrInUse) Error() string {
	return fmt.Sprintf("the %s address %s is already in use (by another local run, or a dev server)", e.What, e.Addr)
}

// listen is the listener a server of the system answers on: ln when the
// caller handed it over, else one on addr; none when the server is not
// wanted.
func (s *System) listen(ln net.Listener, addr, what string, wanted bool) (net.Listener, error) {
	if ln == nil && wanted {
		if err := s.loopbackOnly(addr, what); err != nil {
			return nil, err
		}
		var err error
		if ln, err = listen(addr, what); err != nil {
			return nil, err
		}
	}
	if ln != nil {
		s.listeners = append(s.listeners, ln)
	}
	return ln, nil
}

// loopbackOnly refuses an address other machines can reach, unless the
// caller allowed it (Options.AllowRemote), which it then warns of: what
// runs locally has the dev user signed in without a password, and answers
// as the API and sign-in of this machine.
func (s *System) loopbackOnly(addr, what string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s address %q: %w", what, addr, err)
	}
	ip := net.ParseIP(host)
	if strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() {
		return nil
	}
	if !s.opts.AllowRemote {
		return fmt.Errorf("the %s address %q is reachable from other machines (only localhost, 127.0.0.1 or [::1] are not); "+
			"serve it there only on a network you trust, with -allow-remote", what, addr)
	}
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, "warning: the %s listens on %s, which other machines reach: anyone there can use it (and, with sign-in, sign in as the dev user)\n", what, addr)
	}
	return nil
}

func listen(addr, what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, &AddrInUse{What: what, Addr: addr}
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
func (s *System) startFunctions(ctx context.Context, t *cfn.Template, res *cfn.Resolver, c *content) (map[string]apigw.Invoker, error) {
	o := s.opts
	invokers := map[string]apigw.Invoker{}
	for _, id := range apigw.Functions(t) {
		pkg := packageFor(o.Functions, id)
		if pkg == "" {
			fmt.Fprintf(o.Log, "local: no package given for Lambda function %s; its methods will answer 502\n", t.Describe(id))
			continue
		}
		if s.rieBin == "" {
			if s.rieBin = o.RIE; s.rieBin == "" {
				s.rieBin = filepath.Join(s.WorkDir, "aws-lambda-rie")
				if err := rie.Build(ctx, s.rieBin); err != nil {
					return nil, err
				}
			}
		}
		f := &function{id: id}
		bin := pkg
		if info, err := os.Stat(pkg); err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			f.pkg = pkg
			if bin, err = s.build(ctx, id, pkg); err != nil {
				return nil, err
			}
		}
		var err error
		if f.sum, err = fileSum(bin); err != nil {
			return nil, err
		}
		fn, err := res.Function(t, id)
		if err != nil {
			return nil, err
		}
		maps.Copy(fn.Env, o.FunctionEnv)
		f.opts = rie.Options{
			Name: id, RIE: s.rieBin, Bootstrap: bin, Env: fn.Env, Timeout: fn.Timeout, MemoryMB: fn.MemoryMB,
			Concurrency: o.Concurrency, Output: o.Log,
		}
		pool, err := rie.Start(ctx, f.opts)
		if err != nil {
			return nil, err
		}
		f.slot.Store(pool)
		c.functions[id] = f
		invokers[id] = f
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

// goBuild builds a function's package for this machine, as Lambda's Go
// runtime would run it (no RPC mode, no cgo).
func goBuild(ctx context.Context, dir, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// serve answers on ln with bounds a local server still needs: a browser tab
// left open, or a client that trickles its request, must not hold it.
func (s *System) serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           thisMachineOnly(ln, h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // API Gateway's payload limit is 10 MB; apigw enforces it
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // API Gateway's own header limit is 10 KB per header
	}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return srv
}

// thisMachineOnly answers only requests addressed to this machine by name:
// Host localhost, 127.0.0.1 or [::1] with the listener's port. A page on a
// DNS-rebinding name (evil.example resolving to 127.0.0.1) reaches the port
// too, but with its own name in Host, and gets 421 instead of the API.
func thisMachineOnly(ln net.Listener, h http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	allowed := map[string]bool{}
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
		allowed[host+":"+port] = true
		if port == "80" {
			allowed[host] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, fmt.Sprintf("local server: Host %q is not this machine; use localhost:%s, 127.0.0.1:%s or [::1]:%s (a page on another name may not use make local)",
				r.Host, port, port, port), http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Functions are the function pools the stack runs now.
func (s *System) Functions() []*rie.Pool {
	var pools []*rie.Pool
	if c := s.content.Load(); c != nil {
		for _, id := range slices.Sorted(maps.Keys(c.functions)) {
			pools = append(pools, c.functions[id].slot.Load())
		}
	}
	return pools
}

// Close stops the servers and the functions and removes the build directory.
func (s *System) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
	for _, ln := range s.listeners {
		ln.Close() // a no-op for those the servers closed
	}
	if c := s.content.Load(); c != nil {
		c.stop()
	}
	if s.WorkDir != "" {
		os.RemoveAll(s.WorkDir)
	}
}
