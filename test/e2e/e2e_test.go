// Package e2e drives Debian's Chromium (headless, through chromedp) against the
// local stack: CORS and CSP are enforced by browsers, so only a browser shows
// that the site, the API and their headers work together.
//
// Without a Chromium on PATH the tests skip, saying how to install one; with
// E2E_REQUIRED=1 (set by .ci/run) they fail instead.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iris-cors/iris-cors-cdk/internal/localstack"
	"github.com/iris-cors/iris-cors-cdk/internal/localstack/localtest"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/sitesrv"
)

var screenshot = flag.String("screenshot", "", "save a screenshot of the allowed-origin scenario here (the README's docs/screenshot.png)")

// installHint is how to turn the browser tests on where they skipped.
const installHint = "install it (Debian/Ubuntu: `sudo apt-get install chromium`) and run `make test` again; with E2E_REQUIRED=1 a missing browser fails instead (CI sets it)"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// browserEnv is what the site scenarios use: one local stack, one Chromium.
type browserEnv struct {
	stack   *localstack.Stack
	browser context.Context // a tab per scenario
}

// TestBrowser runs every browser test as a subtest of one Chromium: the site's
// scenarios against the local stack, and corscheck's verdicts against the
// browser's. Without a Chromium on PATH it skips, once and saying how to
// enable it, so a newcomer's `make test` passes and its summary ends with the hint.
func TestBrowser(t *testing.T) {
	browser := startChromium(t)
	t.Run("site", func(t *testing.T) {
		e := &browserEnv{stack: localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowSite: true}), browser: browser}
		for _, sc := range []struct {
			name string
			run  func(*testing.T, *browserEnv)
		}{
			{"an allowed origin gets a prediction", allowedOriginGetsAPrediction},
			{"a disallowed origin is reported as CORS", disallowedOriginIsReportedAsCORS},
			{"a CSP block is reported as CSP", cspBlockIsReportedAsCSP},
			{"an HTTP error shows the API's message", httpErrorShowsTheAPIMessage},
			{"the form works with the keyboard only", keyboardOnly},
		} {
			t.Run(sc.name, func(t *testing.T) { sc.run(t, e) })
		}
	})
	t.Run("corscheck agrees with Chromium", func(t *testing.T) { corscheckAgreesWithChromium(t, browser) })
}

// startChromium starts a headless Chromium for the test, or skips it (fails
// with E2E_REQUIRED=1) when there is none.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		msg := "the browser tests did not run: no chromium, chromium-browser or google-chrome on PATH; " + installHint
		if os.Getenv("E2E_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The flags keep Chromium from calling home: this machine's network is
	// closed, and background connections would only slow it down.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		// Chromium leaves its singleton socket directory in TMPDIR.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1000, 1100),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// page is one browser tab on the site at url, recording console errors.
type page struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func open(t *testing.T, e *browserEnv, url string) *page {
	t.Helper()
	// A bound on a scenario that hangs, far above what one takes on a busy
	// machine; no scenario measures time.
	ctx, cancelTimeout := context.WithTimeout(e.browser, 2*time.Minute)
	ctx, cancel := chromedp.NewContext(ctx)
	p := &page{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.mu.Lock()
				p.errors = append(p.errors, m.String())
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			p.screenshot(filepath.Join("output", strings.ReplaceAll(t.Name(), "/", "_")+".png"))
		}
		cancel()
		cancelTimeout()
	})
	p.do(chromedp.Navigate(url), chromedp.WaitVisible(`#predict`))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(sel))
	if err != nil {
		p.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

func (p *page) eval(expr string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("browser: %s: %v", expr, err)
	}
	return s
}

func (p *page) screenshot(path string) {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, png, 0o644); err == nil {
		p.t.Logf("screenshot: %s", path)
	}
}

func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// diagnosis waits for the diagnostics panel and returns its kind and text.
func (p *page) diagnosis() (kind, text string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(`#diagnostics`))
	return p.eval(`document.getElementById("diagnostics").dataset.kind`), p.text(`#diagnostics`)
}

func (p *page) predictPreset(species string) {
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`),
		chromedp.Click(fmt.Sprintf(`[data-preset=%q]`, species)),
		chromedp.Click(`#predict`))
}

func allowedOriginGetsAPrediction(t *testing.T, e *browserEnv) {
	p := open(t, e, e.stack.SiteURL)
	p.predictPreset("virginica")
	p.do(chromedp.WaitVisible(`#result-body`))
	species, bars := p.text(`#species`), p.eval(`String(document.querySelectorAll("#bars li").length)`)
	if species != "virginica" || bars != "3" {
		t.Errorf("species %q with %s bars, want virginica with 3", species, bars)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if *screenshot != "" {
		p.screenshot(*screenshot)
	}
}

// serveCopy serves the site from another origin, with the local site's
// headers changed by edit; it stops when the test ends.
func serveCopy(t *testing.T, e *browserEnv, edit func(http.Header)) string {
	t.Helper()
	resp, err := http.Get(e.stack.SiteURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	headers := http.Header{}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		headers.Set(h, resp.Header.Get(h))
	}
	edit(headers)
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&sitesrv.Site{Dir: filepath.Join(root, "site"), RootObject: "index.html", Headers: headers, Config: sitesrv.ConfigJSON(e.stack.APIURL)})
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func disallowedOriginIsReportedAsCORS(t *testing.T, e *browserEnv) {
	url := serveCopy(t, e, func(http.Header) {}) // http://127.0.0.1:<port>: not in the allow-list
	p := open(t, e, url)
	p.predictPreset("setosa")
	kind, text := p.diagnosis()
	origin := strings.TrimSuffix(url, "/")
	if kind != "cors" || !strings.Contains(text, origin) || !strings.Contains(text, "allowedOrigins") {
		t.Errorf("diagnosis %s: %q; want cors naming %s and the config key", kind, text, origin)
	}
}

func cspBlockIsReportedAsCSP(t *testing.T, e *browserEnv) {
	url := serveCopy(t, e, func(h http.Header) {
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
	})
	p := open(t, e, url)
	p.predictPreset("setosa")
	kind, text := p.diagnosis()
	if kind != "csp" || !strings.Contains(text, "connect-src") || !strings.Contains(text, strings.TrimSuffix(e.stack.APIURL, "/dev/")) {
		t.Errorf("diagnosis %s: %q; want csp naming connect-src and the API", kind, text)
	}
}

// The API's 400 reaches the page only because the error response carries
// CORS headers; without them the browser would hide it behind a CORS error.
func httpErrorShowsTheAPIMessage(t *testing.T, e *browserEnv) {
	p := open(t, e, e.stack.SiteURL)
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`),
		chromedp.Click(`[data-preset="setosa"]`),
		chromedp.SetValue(`#petal_width`, "-1"),
		chromedp.Click(`#predict`))
	kind, text := p.diagnosis()
	if kind != "http" || !strings.Contains(text, "400") || !strings.Contains(text, "petal_width: must be a number between 0 and 30") {
		t.Errorf("diagnosis %s: %q; want the API's 400 message", kind, text)
	}
}

func keyboardOnly(t *testing.T, e *browserEnv) {
	p := open(t, e, e.stack.SiteURL)
	focused := `document.activeElement.dataset.preset || document.activeElement.id`
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`), chromedp.KeyEvent("\t"))
	if got := p.eval(focused); got != "setosa" {
		t.Fatalf("first Tab focused %q, want the Setosa preset", got)
	}
	for range 3 { // the other two presets, then the first input
		p.do(chromedp.KeyEvent("\t"))
	}
	if got := p.eval(focused); got != "sepal_length" {
		t.Fatalf("focus on %q, want sepal_length", got)
	}
	for _, v := range []string{"6.7", "3.0", "5.8", "2.2"} { // type each field, Tab to the next
		p.do(chromedp.KeyEvent(v), chromedp.KeyEvent("\t"))
	}
	if got := p.eval(focused); got != "predict" {
		t.Fatalf("focus on %q after the last field, want the Predict button", got)
	}
	p.do(chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#result-body`))
	if species := p.text(`#species`); species != "virginica" {
		t.Errorf("species %q, want virginica", species)
	}
}
