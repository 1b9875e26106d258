package system_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
)

// start runs this package's fixtures (testdata: an API template whose
// function is testdata/echo, and a site template) until the test ends.
func start(t *testing.T, o system.Options) *system.System {
	t.Helper()
	root := moduleRoot(t)
	if o.Templates == nil {
		o.Templates = fixtures(t)
	}
	if o.ModuleRoot == "" {
		o.ModuleRoot = root
	}
	if o.Functions == nil {
		o.Functions = map[string]string{"EchoFn": "./internal/emulator/system/testdata/echo"}
	}
	o.Region = "eu-west-1"
	s, err := system.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// moduleRoot is the directory of the module the tests run in.
func moduleRoot(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(gomod)) == 0 {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(string(bytes.TrimSpace(gomod)))
}

// fixtures are this package's templates: testdata/api and testdata/site.
func fixtures(t *testing.T) []*cfn.Template {
	t.Helper()
	var templates []*cfn.Template
	for _, name := range []string{"api", "site"} {
		tmpl, err := cfn.Load(filepath.Join("testdata", name+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, tmpl)
	}
	return templates
}

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// The function runs under aws-lambda-rie with the environment its template
// gives it, intrinsics resolved across the two stacks and nothing of the host's.
func TestFunctionRunsWithTheTemplatesEnvironment(t *testing.T) {
	s := start(t, system.Options{APIAddr: "127.0.0.1:0"})
	if !strings.HasSuffix(s.APIURL, "/local/") {
		t.Errorf("API URL %s, want the template's stage /local/", s.APIURL)
	}
	resp, body := get(t, s.APIURL+"echo", nil)
	var got map[string]string
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("GET /echo: %d %s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"path": "/echo", "method": "GET",
		"greeting": "hello from eu-west-1",
		"site":     "https://dist-domainname.local.invalid",
		"home":     "",
	} {
		if got[k] != want {
			t.Errorf("function saw %s = %q, want %q", k, got[k], want)
		}
	}
}

func TestSiteHasTheTemplatesHeadersAndALocalConfig(t *testing.T) {
	// The app hands in what its site serves (an fs.FS), for the API as the
	// system serves it: here a page naming it, and a config.json.
	site := func(e system.Endpoints) fs.FS {
		page, _ := os.ReadFile(filepath.Join("testdata", "site", "index.html"))
		return fstest.MapFS{
			"index.html":  {Data: append(page, `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' `+e.API+`">`...)},
			"config.json": {Data: []byte(`{"apiUrl":"` + e.API + `"}`)},
		}
	}
	s := start(t, system.Options{APIAddr: "127.0.0.1:0", SiteAddr: "127.0.0.1:0", Site: site})
	resp, body := get(t, s.SiteURL, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "echo site") {
		t.Fatalf("GET %s: %d %q", s.SiteURL, resp.StatusCode, body)
	}
	apiOrigin := strings.TrimSuffix(s.APIURL, "/local/")
	if got, want := resp.Header.Get("Content-Security-Policy"), "default-src 'self'; connect-src 'self' "+apiOrigin; got != want {
		t.Errorf("CSP = %q, want %q (the template's, admitting the local API)", got, want)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want the template's DENY", got)
	}
	// The app's rewrite, for the local API.
	if want := `content="connect-src 'self' ` + s.APIURL + `"`; !strings.Contains(body, want) {
		t.Errorf("the page %q lacks its policy %s", body, want)
	}
	_, body = get(t, s.SiteURL+"config.json", nil)
	var cfg struct{ APIURL string }
	if json.Unmarshal([]byte(body), &cfg) != nil || cfg.APIURL != s.APIURL {
		t.Errorf("config.json = %s, want apiUrl %s", body, s.APIURL)
	}
}

// A listener handed over is served as it is: the caller knew the port before
// the stack started, and nobody could take it in between.
func TestServesAListenerHandedOver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, system.Options{APIListener: ln, APIAddr: "localhost:0"})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if want := "http://localhost:" + port + "/local/"; s.APIURL != want {
		t.Errorf("API URL %s, want %s (the listener's port, the host asked for)", s.APIURL, want)
	}
	if resp, body := get(t, s.APIURL+"echo", nil); resp.StatusCode != 200 {
		t.Errorf("GET /echo on the handed-over listener: %d %s", resp.StatusCode, body)
	}
}

// Close ends every process the stack started: each aws-lambda-rie leads a
// process group that holds its function too, so an empty group means both
// are gone.
func TestCloseStopsEverything(t *testing.T) {
	s := start(t, system.Options{APIAddr: "127.0.0.1:0"})
	var groups []int
	for _, f := range s.Functions() {
		groups = append(groups, f.PIDs()...)
	}
	if len(groups) == 0 {
		t.Fatal("the stack reports no processes; the check below would prove nothing")
	}
	for _, g := range groups {
		if err := syscall.Kill(-g, 0); err != nil {
			t.Fatalf("process group %d not running before Close: %v", g, err)
		}
	}
	s.Close()
	for _, g := range groups {
		if err := syscall.Kill(-g, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still has processes after Close (kill: %v)", g, err)
		}
	}
	if _, err := http.Get(s.APIURL + "echo"); err == nil {
		t.Error("API still answering after Close")
	}
}

func TestBusyPortIsAClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = system.Start(context.Background(), system.Options{APIAddr: ln.Addr().String()})
	var busy *system.AddrInUse
	if !errors.As(err, &busy) || busy.What != "API" || busy.Addr != ln.Addr().String() || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("error = %v, want a clear 'already in use' naming the API's address", err)
	}
}

// A prebuilt executable runs as the function as it is, with extra environment:
// any language, or a Go function built some other way.
func TestRunsAPrebuiltBootstrap(t *testing.T) {
	root := moduleRoot(t)
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bin, "./internal/emulator/system/testdata/echo").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s := start(t, system.Options{APIAddr: "127.0.0.1:0", Functions: map[string]string{"EchoFn": bin}, FunctionEnv: map[string]string{"GREETING": "from the caller"}})
	resp, body := get(t, s.APIURL+"echo", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"greeting":"from the caller"`) {
		t.Errorf("GET /echo: %d %s, want the prebuilt function with the extra environment", resp.StatusCode, body)
	}
}

// reloadModule is a module of its own in a temporary directory holding the
// echo function, so a test can change its source: it returns the module's
// root and the path of the function's main.go.
func reloadModule(t *testing.T) (root, mainGo string) {
	t.Helper()
	project := moduleRoot(t)
	root = t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "echo", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(project, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mainGo = filepath.Join(root, "echo", "main.go")
	os.MkdirAll(filepath.Dir(mainGo), 0o755)
	for path, content := range map[string]string{
		filepath.Join(root, "go.mod"): "module reloadtest\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go v1.55.1\n",
		filepath.Join(root, "go.sum"): string(sum),
		mainGo:                        string(src),
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, mainGo
}

func greeting(t *testing.T, s *system.System) string {
	t.Helper()
	resp, body := get(t, s.APIURL+"echo", nil)
	var got map[string]string
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("GET /echo: %d %s", resp.StatusCode, body)
	}
	return got["greeting"]
}

// Saving a function's source swaps the new build in without restarting the
// API; a build that fails keeps the old one serving and says where it failed.
func TestWatchReloadsTheFunctionOnSave(t *testing.T) {
	root, mainGo := reloadModule(t)
	s := start(t, system.Options{ModuleRoot: root, APIAddr: "127.0.0.1:0", Functions: map[string]string{"EchoFn": "./echo"}})
	if got := greeting(t, s); got != "hello from eu-west-1" {
		t.Fatalf("greeting %q before the change", got)
	}
	type reload struct {
		kind string
		err  error
	}
	reloads := make(chan reload, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		s.Watch(ctx, system.WatchOptions{Root: root, Done: func(kind string, _ []string, _ time.Duration, err error) { reloads <- reload{kind, err} }})
	}()
	wait := func() reload {
		t.Helper()
		select {
		case r := <-reloads:
			return r
		case <-time.After(2 * time.Minute): // bounds a watcher that never reacts
			t.Fatal("no reload after the save")
			return reload{}
		}
	}
	src, _ := os.ReadFile(mainGo)
	// The watcher may start after the first write: write until it reacts.
	changed := strings.Replace(string(src), `os.Getenv("GREETING")`, `"saved " + os.Getenv("GREETING")`, 1)
	for done := false; !done; {
		os.WriteFile(mainGo, []byte(changed), 0o644)
		select {
		case r := <-reloads:
			if r.err != nil || r.kind != "build" {
				t.Fatalf("reload %+v", r)
			}
			done = true
		case <-time.After(time.Second):
		}
	}
	if got := greeting(t, s); got != "saved hello from eu-west-1" {
		t.Errorf("greeting %q after the save, want the new code's", got)
	}
	os.WriteFile(mainGo, []byte(changed+"\nfunc broken() { undefined() }\n"), 0o644)
	if r := wait(); r.err == nil || !strings.Contains(r.err.Error(), "main.go:") {
		t.Errorf("a broken build: %v, want the compiler's file:line", r.err)
	}
	if got := greeting(t, s); got != "saved hello from eu-west-1" {
		t.Errorf("greeting %q after a failed build, want the last good version", got)
	}
	cancel()
	<-watching
}

// Reloading the templates (after a synth) swaps in the new API and functions;
// a template that fails to load leaves the running one serving.
func TestReloadSwapsTheTemplates(t *testing.T) {
	s := start(t, system.Options{APIAddr: "127.0.0.1:0"})
	var templates []*cfn.Template
	for _, name := range []string{"api", "site"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfn.Parse(name+".template.json", []byte(strings.Replace(string(raw), "hello from", "reloaded in", 1)))
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, tmpl)
	}
	if err := s.Reload(context.Background(), templates); err != nil {
		t.Fatal(err)
	}
	if got := greeting(t, s); got != "reloaded in eu-west-1" {
		t.Errorf("greeting %q after the reload, want the new template's", got)
	}
	broken, err := cfn.Parse("api.template.json", []byte(`{"Resources": {"X": {"Type": "AWS::S3::Bucket"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(context.Background(), []*cfn.Template{broken}); err == nil {
		t.Error("a template without a RestApi was loaded")
	}
	if got := greeting(t, s); got != "reloaded in eu-west-1" {
		t.Errorf("greeting %q after a failed reload, want the last good one", got)
	}
}

// withSignIn are the fixtures with GET /echo behind a Cognito authorizer:
// "auth": "cognito" turned on.
func withSignIn(t *testing.T) []*cfn.Template {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "api.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(raw), `"Properties": {"AuthorizationType": "NONE", "HttpMethod": "GET"`,
		`"Properties": {"AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "SignedIn"}, "HttpMethod": "GET"`, 1)
	doc = strings.Replace(doc, `"Resources": {`, `"Resources": {
    "Users": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
    "SiteClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": {"Ref": "Users"}, "CallbackURLs": ["http://localhost:8080/"]}},
    "SignedIn": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "COGNITO_USER_POOLS", "RestApiId": {"Ref": "Api"},
      "IdentitySource": "method.request.header.Authorization", "ProviderARNs": [{"Fn::GetAtt": ["Users", "Arn"]}]}},`, 1)
	api, err := cfn.Parse("api.template.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return []*cfn.Template{api, fixtures(t)[1]}
}

// lockedLog is a log the functions' output and the system write to at once.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Turning "auth" on while make local runs starts the local sign-in, and
// the API checks its tokens; turning it off stops it and opens the API.
// Before, the API reloaded with sign-in (401 for every call) and no issuer
// ever started.
func TestSignInFollowsTheTemplates(t *testing.T) {
	log := &lockedLog{}
	s := start(t, system.Options{APIAddr: "127.0.0.1:0", SignInAddr: "127.0.0.1:0", Log: log})
	if s.SignInURL != "" || s.Issuer() != nil {
		t.Fatalf("sign-in %q without a user pool client", s.SignInURL)
	}
	if err := s.Reload(context.Background(), withSignIn(t)); err != nil {
		t.Fatal(err)
	}
	if s.SignInURL == "" || s.Issuer() == nil {
		t.Fatal("auth turned on: no local sign-in")
	}
	signIn := s.SignInURL
	if resp, _ := get(t, s.Issuer().URL+"/.well-known/openid-configuration", nil); resp.StatusCode != 200 {
		t.Errorf("discovery: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.APIURL+"echo", nil); resp.StatusCode != 401 {
		t.Errorf("GET /echo without a token: %d, want 401", resp.StatusCode)
	}
	token, err := s.Issuer().Token(s.Issuer().Clients()[0].ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, s.APIURL+"echo", http.Header{"Authorization": {"Bearer " + token}}); resp.StatusCode != 200 {
		t.Errorf("GET /echo with the issuer's token: %d %s", resp.StatusCode, body)
	}
	if err := s.Reload(context.Background(), fixtures(t)); err != nil {
		t.Fatal(err)
	}
	if s.SignInURL != "" || s.Issuer() != nil {
		t.Error("auth turned off: the sign-in is still there")
	}
	if _, err := http.Get(signIn + "/local_DevPool/.well-known/openid-configuration"); err == nil {
		t.Error("auth turned off: the sign-in still answers")
	}
	if got := greeting(t, s); got != "hello from eu-west-1" {
		t.Errorf("after auth went off: %q", got)
	}
	if !strings.Contains(log.String(), "the local sign-in serves on") || !strings.Contains(log.String(), "the local sign-in stopped") {
		t.Errorf("the log does not say the sign-in started and stopped: %s", log.String())
	}
}

// The servers bound what a client may send: a header block over 64 KiB is
// refused before it reaches the API.
func TestServersBoundHeaders(t *testing.T) {
	s := start(t, system.Options{APIAddr: "127.0.0.1:0"})
	resp, _ := get(t, s.APIURL+"echo", http.Header{"X-Big": {strings.Repeat("a", 128<<10)}})
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d for a 128 KiB header, want 431", resp.StatusCode)
	}
}

// A page on another name that resolves to this machine (DNS rebinding)
// reaches the ports but not the API or the site: only requests addressed to
// localhost, 127.0.0.1 or [::1] with the port are served.
func TestServersAnswerOnlyThisMachinesNames(t *testing.T) {
	s := start(t, system.Options{APIAddr: "127.0.0.1:0", SiteAddr: "127.0.0.1:0", Site: func(system.Endpoints) fs.FS { return os.DirFS(filepath.Join("testdata", "site")) }})
	for _, base := range []string{s.APIURL, s.SiteURL} {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		for host, want := range map[string]int{
			"evil.example:" + u.Port(): http.StatusMisdirectedRequest,
			"127.0.0.1":                http.StatusMisdirectedRequest, // another port
			"localhost:" + u.Port():    0,
			"LOCALHOST:" + u.Port():    0,
			"[::1]:" + u.Port():        0,
		} {
			req, _ := http.NewRequest(http.MethodGet, base, nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := resp.StatusCode; (want != 0 && got != want) || (want == 0 && got == http.StatusMisdirectedRequest) {
				t.Errorf("%s with Host %s: %d %s, want %d", base, host, got, body, want)
			}
			if want != 0 && !strings.Contains(string(body), "is not this machine") {
				t.Errorf("%s with Host %s: %q, want the reason", base, host, body)
			}
		}
	}
}
