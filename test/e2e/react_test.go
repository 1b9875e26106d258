package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
	"github.com/iris-cors/iris-cors-cdk/internal/openapi"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// reactExample is examples/react, built (its types checked by tsc, then
// bundled by Vite) into a directory of the test's.
func reactExample(t *testing.T) string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "examples", "react")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "vite")); err != nil {
		testtool.Missing(t, "E2E_REQUIRED", "examples/react has no node_modules: make test installs them (cd examples/react && npm ci)")
	}
	checkGeneratedTypes(t, dir)
	out := t.TempDir()
	build := exec.Command("npm", "run", "build", "--", "--outDir", out, "--emptyOutDir")
	build.Dir = dir
	if report, err := build.CombinedOutput(); err != nil {
		t.Fatalf("npm run build in examples/react: %v\n%s", err, report)
	}
	return out
}

// checkGeneratedTypes holds the example's src/schema.d.ts to what
// openapi-typescript (docs/api.md's command) generates from the API's
// document today: a model with other features makes the example's types,
// and so its build, follow.
func checkGeneratedTypes(t *testing.T, dir string) {
	t.Helper()
	doc, err := openapi.Document(served(t), "")
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(t.TempDir(), "openapi.json"), filepath.Join(t.TempDir(), "schema.d.ts")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command(filepath.Join("node_modules", ".bin", "openapi-typescript"), in, "-o", out)
	gen.Dir = dir
	if report, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("openapi-typescript: %v\n%s", err, report)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile(filepath.Join(dir, "src", "schema.d.ts"))
	if string(got) != string(want) {
		t.Errorf("examples/react/src/schema.d.ts is not what the API's document generates: run npm run types in examples/react against make local")
	}
}

// serveFrontEnd serves the built example on a localhost port of its own,
// with the config.json the site would get for s: a front end of one's own
// on its own origin, which the test's templates allow.
func serveFrontEnd(t *testing.T, dist string, signIn bool) (url string, browser *browserEnv) {
	t.Helper()
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s := localtest.Start(t, localtest.Options{AllowOrigin: origin, SignIn: signIn})
	e := s.Endpoints()
	doc := site.Config{APIURL: e.API, Model: served(t).Public()}
	if signIn {
		doc.SignIn = &site.SignIn{URL: e.SignIn, ClientID: e.Client, Issuer: e.Issuer}
	}
	config, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(config)
	})
	mux.Handle("/", http.FileServer(http.Dir(dist)))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return origin + "/", &browserEnv{local: s}
}

// setInput types v into a React-controlled input (its own value setter,
// then the input event React listens for).
func (p *page) setInput(name, v string) {
	p.t.Helper()
	p.eval(`(() => { const i = document.querySelector(` + jsString(`input[name="`+name+`"]`) + `);
		Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(i, ` + jsString(v) + `);
		i.dispatchEvent(new Event("input", {bubbles: true})); return "set"; })()`)
}

// The React example users copy (examples/react: Vite, react-oidc-context
// over oidc-client-ts, openapi-fetch with generated types), built and run
// against the local stack from its own origin: without sign-in it shows the
// prediction and a 400's message; with sign-in a signed-out call's 401
// reads "sign in", and after oidc-client-ts signs in through the local
// issuer (discovery, no static metadata; the code flow with PKCE; the ID
// token's issuer and audience checked) the ID token reaches the API and
// the prediction shows.
func reactExampleRuns(t *testing.T, browser context.Context) {
	dist := reactExample(t)
	m := served(t)
	class, _ := m.Example()
	t.Run("without sign-in", func(t *testing.T) {
		url, e := serveFrontEnd(t, dist, false)
		e.browser = browser
		p := open(t, e, url)
		p.do(chromedp.Click(`#predict button[type=submit]`))
		if got := waitText(p, `#predicted`); got != class {
			t.Errorf("predicted %q, want the example's %q", got, class)
		}
		f := m.Features[0]
		p.setInput(f.Name, strconv.FormatFloat(f.Max*2+1, 'g', -1, 64))
		p.do(chromedp.Click(`#predict button[type=submit]`), chromedp.WaitVisible(`#error`))
		if got, want := p.text(`#error`), f.Name+": must be a number "+f.Range(); !strings.HasPrefix(got, "400: ") || !strings.Contains(got, want) {
			t.Errorf("a value out of range: %q, want the API's 400 message %q", got, want)
		}
	})
	t.Run("with sign-in", func(t *testing.T) {
		url, e := serveFrontEnd(t, dist, true)
		e.browser = browser
		p := open(t, e, url)
		p.do(chromedp.WaitVisible(`#sign-in`), chromedp.Click(`#predict button[type=submit]`), chromedp.WaitVisible(`#error`))
		if got := p.text(`#error`); !strings.Contains(got, "Sign in") || !strings.Contains(got, "401") {
			t.Errorf("signed out, a prediction: %q, want the 401 worded as the sign-in's", got)
		}
		p.do(chromedp.Click(`#sign-in`), chromedp.WaitVisible(`#account`))
		if got := p.text(`#account`); !strings.Contains(got, "dev@example.com") {
			t.Errorf("after the sign-in: %q", got)
		}
		if href := p.eval(`location.href`); strings.Contains(href, "code=") {
			t.Errorf("the code stays in the address bar: %s", href)
		}
		p.do(chromedp.Click(`#predict button[type=submit]`))
		if got := waitText(p, `#predicted`); got != class {
			t.Errorf("signed in, predicted %q (error %q), want %q", got, p.eval(`document.getElementById("error")?.textContent ?? ""`), class)
		}
	})
}

// waitText is the element's text once it has one.
func waitText(p *page, sel string) string {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](`document.querySelector(`+jsString(sel)+`)?.textContent !== ""`)); err != nil {
		p.t.Fatalf("browser: waiting for %s: %v", sel, err)
	}
	return p.text(sel)
}
