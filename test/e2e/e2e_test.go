// Package e2e drives Debian's Chromium (headless, through chromedp) against the
// local stack: CORS and CSP are enforced by browsers, so only a browser shows
// that the site, the API and their headers work together.
//
// Without a Chromium on PATH the tests skip, saying how to install one; with
// E2E_REQUIRED=1 (set by .ci/run) they fail instead.
package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/sitesrv"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

var screenshot = flag.String("screenshot", "", "save a screenshot of the allowed-origin scenario here (the README's docs/screenshot.png)")

// installHint is how to turn the browser tests on where they skipped.
const installHint = "install it (Debian/Ubuntu: `sudo apt-get install chromium`) and run `make test` again; with E2E_REQUIRED=1 a missing browser fails instead (CI sets it)"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// browserEnv is what the site scenarios use: one local system, one Chromium.
type browserEnv struct {
	local   *system.System
	browser context.Context // a tab per scenario
}

// TestBrowser runs every browser test as a subtest of one Chromium: the site's
// scenarios against the local stack, and corscheck's verdicts against the
// browser's. Without a Chromium on PATH it skips, once and saying how to
// enable it, so a newcomer's `make test` passes and its summary ends with the hint.
func TestBrowser(t *testing.T) {
	browser := startChromium(t)
	t.Run("site", func(t *testing.T) {
		e := &browserEnv{local: localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowSite: true}), browser: browser}
		for _, sc := range []struct {
			name string
			run  func(*testing.T, *browserEnv)
		}{
			{"an allowed origin gets a prediction", allowedOriginGetsAPrediction},
			{"a disallowed origin is reported as CORS", disallowedOriginIsReportedAsCORS},
			{"a CSP block is reported as CSP", cspBlockIsReportedAsCSP},
			{"another API of the region is blocked as CSP", anotherAPIIsBlockedAsCSP},
			{"an HTTP error shows the API's message", httpErrorShowsTheAPIMessage},
			{"the form works with the keyboard only", keyboardOnly},
		} {
			t.Run(sc.name, func(t *testing.T) { sc.run(t, e) })
		}
	})
	t.Run("a regression shows its number", func(t *testing.T) { regressionShowsItsNumber(t, browser) })
	t.Run("a pipeline's categories are chosen", func(t *testing.T) { categoriesAreChosen(t, browser) })
	t.Run("signing in gets a prediction", func(t *testing.T) { signingInGetsAPrediction(t, browser) })
	t.Run("the React example", func(t *testing.T) { reactExampleRuns(t, browser) })
	t.Run("corscheck agrees with Chromium", func(t *testing.T) { corscheckAgreesWithChromium(t, browser) })
}

// regressionModel is a histogram gradient boosting regression (it takes
// missing values) of the model package's parity fixtures.
const regressionModel = "../../internal/model/testdata/parity/hgb-diabetes.model.json"

// A regression served through the whole local stack: the page shows the
// number with its unit and no bars, and a field left empty is a missing
// value the model takes.
func regressionShowsItsNumber(t *testing.T, browser context.Context) {
	m, err := model.Load(regressionModel)
	if err != nil {
		t.Fatal(err)
	}
	e := &browserEnv{local: localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowSite: true, Model: regressionModel}), browser: browser}
	p := open(t, e, e.local.SiteURL)
	label := m.Examples[len(m.Examples)-1].Label
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`), chromedp.Click(fmt.Sprintf(`[data-preset=%q]`, label)))
	p.do(chromedp.SetValue("#"+m.Features[1].Name, ""), chromedp.Click(`#predict`), chromedp.WaitVisible(`#result-body`))
	checkPredicted(t, m, p.text(`#predicted`), label, p.eval(`String(document.querySelectorAll("#bars li").length)`))
	if name := p.text(`#target-name`); !strings.HasPrefix(strings.ToLower(name), strings.ToLower(m.TargetDescription)) {
		t.Errorf("the number is called %q, want the model's %q", name, m.TargetDescription)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// pipelineModel is a scikit-learn pipeline of the model package's parity
// fixtures: text categories (one a number used as a label), blanks imputed.
const pipelineModel = "../../internal/model/testdata/parity/titanic-logistic.model.json"

// A pipeline served through the whole local stack: each category is a
// select of its values (a blank option where the feature takes null), the
// preset fills them in, and a changed choice and an emptied number reach
// the function as a string and a null.
func categoriesAreChosen(t *testing.T, browser context.Context) {
	m, err := model.Load(pipelineModel)
	if err != nil {
		t.Fatal(err)
	}
	e := &browserEnv{local: localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowSite: true, Model: pipelineModel}), browser: browser}
	p := open(t, e, e.local.SiteURL)
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`))
	for _, f := range m.Features {
		want := "INPUT"
		if f.IsCategory() {
			want = "SELECT"
			options := []string{map[bool]string{true: "(not known)", false: "(choose)"}[f.TakesMissing()]}
			for k := range f.Categories {
				options = append(options, fmt.Sprint(f.Value(float64(k))))
			}
			got := p.eval(`[...document.getElementById(` + jsString(f.Name) + `).options].map((o) => o.text).join("|")`)
			if want := strings.Join(options, "|"); got != want {
				t.Errorf("%s offers %q, want %q", f.Name, got, want)
			}
		}
		if got := p.eval(`document.getElementById(` + jsString(f.Name) + `).tagName`); got != want {
			t.Errorf("%s is a %s, want a %s", f.Name, got, want)
		}
	}
	label := m.Examples[0].Label
	p.do(chromedp.Click(fmt.Sprintf(`[data-preset=%q]`, label)))
	p.do(chromedp.SetValue(`#embarked`, `"Q"`), chromedp.SetValue(`#age`, ""), chromedp.Click(`#predict`), chromedp.WaitVisible(`#result-body`))
	checkPredicted(t, m, p.text(`#predicted`), "", p.eval(`String(document.querySelectorAll("#bars li").length)`))
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// startChromium starts a headless Chromium for the test, or skips it (fails
// with E2E_REQUIRED=1) when there is none.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		msg := "the browser tests did not run: no chromium, chromium-browser or google-chrome on PATH; " + installHint
		testtool.Missing(t, "E2E_REQUIRED", msg)
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

// servedModel is the model the function serves (project.ModelFile): the
// tests take their rows and expectations from it, whatever it is.
var servedModel = sync.OnceValues(project.Served)

func served(t testing.TB) *model.Model {
	t.Helper()
	m, err := servedModel()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fill enters a row of the served model's values into the form.
func (p *page) fill(x []float64) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`))
	for j, f := range served(p.t).Features {
		p.do(chromedp.SetValue("#"+f.Name, strconv.FormatFloat(x[j], 'g', -1, 64)))
	}
}

// predictExample fills in the model's example and presses Predict; it
// returns the example's class ("" when the model has no examples).
func (p *page) predictExample() string {
	p.t.Helper()
	class, x := served(p.t).Example()
	if class != "" { // through its preset button, as a visitor would
		p.do(chromedp.WaitVisible(`body[data-ready="true"]`), chromedp.Click(fmt.Sprintf(`[data-preset=%q]`, class)))
	} else {
		p.fill(x)
	}
	p.do(chromedp.Click(`#predict`))
	return class
}

// checkPredicted checks what the page shows: for a classifier the example's
// class (label, when it has one) and a bar per class, for a regression a
// number (and its unit) and no bars.
func checkPredicted(t *testing.T, m *model.Model, got, label, bars string) {
	t.Helper()
	if m.Task == model.Regression {
		value, unit, _ := strings.Cut(got, " ")
		if _, err := strconv.ParseFloat(value, 64); err != nil || unit != m.TargetUnit || bars != "0" {
			t.Errorf("shown %q with %s bars, want a number in %q and no bars", got, bars, m.TargetUnit)
		}
		return
	}
	if (label != "" && got != label) || !slices.Contains(m.Classes, got) || bars != strconv.Itoa(len(m.Classes)) {
		t.Errorf("predicted %q with %s bars, want %q (one of %v) with %d", got, bars, label, m.Classes, len(m.Classes))
	}
}

func allowedOriginGetsAPrediction(t *testing.T, e *browserEnv) {
	p := open(t, e, e.local.SiteURL)
	want := p.predictExample()
	p.do(chromedp.WaitVisible(`#result-body`))
	m := served(t)
	checkPredicted(t, m, p.text(`#predicted`), want, p.eval(`String(document.querySelectorAll("#bars li").length)`))
	visible := `[...document.querySelectorAll(".picture")].filter((e) => e.getBoundingClientRect().width > 0).map((e) => e.id).join()`
	if got := p.eval(visible); got != "flower" && got != "neutral" {
		t.Errorf("pictures shown: %q, want the flower or the neutral mark", got)
	}
	if title := p.text(`#title`); title != m.Title {
		t.Errorf("page title %q, want the model's %q", title, m.Title)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if *screenshot != "" {
		p.screenshot(*screenshot)
	}
}

// serveCopy serves the site from another origin as the local stack serves
// it (its headers, its page's policy naming the local API, config.json),
// changed by edit (the server's headers and files, or the site's content,
// before the server takes it); it stops when the test ends.
func serveCopy(t *testing.T, e *browserEnv, edit func(*sitesrv.Site, *site.Content)) string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	content := local.Site(filepath.Join(root, "site"), e.local.Endpoints(), served(t))
	s := &sitesrv.Site{Headers: siteHeaders(t, e.local.SiteURL)}
	edit(s, &content)
	if s.FS == nil {
		s.FS = content
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func disallowedOriginIsReportedAsCORS(t *testing.T, e *browserEnv) {
	url := serveCopy(t, e, func(*sitesrv.Site, *site.Content) {}) // http://127.0.0.1:<port>: not in the allow-list
	p := open(t, e, url)
	p.predictExample()
	kind, text := p.diagnosis()
	origin := strings.TrimSuffix(url, "/")
	if kind != "cors" || !strings.Contains(text, origin) || !strings.Contains(text, "allowedOrigins") {
		t.Errorf("diagnosis %s: %q; want cors naming %s and the config key", kind, text, origin)
	}
}

func cspBlockIsReportedAsCSP(t *testing.T, e *browserEnv) {
	url := serveCopy(t, e, func(s *sitesrv.Site, _ *site.Content) {
		s.Headers.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
	})
	p := open(t, e, url)
	p.predictExample()
	kind, text := p.diagnosis()
	if kind != "csp" || !strings.Contains(text, "connect-src") || !strings.Contains(text, strings.TrimSuffix(e.local.APIURL, "/dev/")) {
		t.Errorf("diagnosis %s: %q; want csp naming connect-src and the API", kind, text)
	}
}

// CloudFront's header lets the page connect to every execute-api host of the
// region; each page's own policy narrows that to the API deployed with it,
// so an injected script (here: a config.json naming another API) cannot send
// data to another API of the region, from the main page or from any other.
func anotherAPIIsBlockedAsCSP(t *testing.T, e *browserEnv) {
	const other = "https://0123456789.execute-api.eu-west-1.amazonaws.com/dev/"
	url := serveCopy(t, e, func(s *sitesrv.Site, c *site.Content) {
		if csp := s.Headers.Get("Content-Security-Policy"); !strings.Contains(csp, "https://*.execute-api.eu-west-1.amazonaws.com") {
			t.Fatalf("the header policy %q does not admit the region's APIs: the test would prove nothing", csp)
		}
		c.Dir = withSecondPage(t, c.Dir, "second.html")
		injected, _ := json.Marshal(site.Config{APIURL: other, Model: served(t).Public()})
		s.FS = withFile{FS: *c, name: site.ConfigFile, data: injected}
	})
	for _, page := range []string{"", "second.html"} {
		p := open(t, e, url+page)
		p.predictExample()
		kind, text := p.diagnosis()
		if kind != "csp" || !strings.Contains(text, "connect-src") || !strings.Contains(text, "0123456789.execute-api") {
			t.Errorf("/%s: diagnosis %s: %q; want csp naming connect-src and the other API", page, kind, text)
		}
	}
}

// withFile is an FS with one file's content replaced.
type withFile struct {
	fs.FS
	name string
	data []byte
}

func (w withFile) Open(name string) (fs.File, error) {
	if name == w.name {
		return fstest.MapFS{name: {Data: w.data}}.Open(name)
	}
	return w.FS.Open(name)
}

// withSecondPage copies the site in dir and adds a copy of its main page
// under name.
func withSecondPage(t *testing.T, dir, name string) string {
	t.Helper()
	copied := t.TempDir()
	if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, site.Name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copied, name), page, 0o644); err != nil {
		t.Fatal(err)
	}
	return copied
}

// The API's 400 reaches the page only because the error response carries
// CORS headers; without them the browser would hide it behind a CORS error.
func httpErrorShowsTheAPIMessage(t *testing.T, e *browserEnv) {
	p := open(t, e, e.local.SiteURL)
	m := served(t)
	_, x := m.Example()
	bad := slices.Clone(x)
	f := m.Features[0]
	bad[0] = f.Max*2 + 1 // out of range: only the API knows, and says so
	p.fill(bad)
	p.do(chromedp.Click(`#predict`))
	kind, text := p.diagnosis()
	if want := f.Name + ": must be a number " + f.Range(); kind != "http" || !strings.Contains(text, "400") || !strings.Contains(text, want) {
		t.Errorf("diagnosis %s: %q; want the API's 400 message %q", kind, text, want)
	}
}

func keyboardOnly(t *testing.T, e *browserEnv) {
	p := open(t, e, e.local.SiteURL)
	m := served(t)
	focused := `document.activeElement.dataset.preset || document.activeElement.id`
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`))
	// The presets first (one per example), then the inputs.
	for _, ex := range m.Examples {
		if p.do(chromedp.KeyEvent("\t")); p.eval(focused) != ex.Label {
			t.Fatalf("focus on %q, want the %s preset", p.eval(focused), ex.Label)
		}
	}
	class, x := m.Example()
	p.do(chromedp.KeyEvent("\t"))
	for j, f := range m.Features { // type each field, Tab to the next
		if got := p.eval(focused); got != f.Name {
			t.Fatalf("focus on %q, want the input %s", got, f.Name)
		}
		p.do(chromedp.KeyEvent(strconv.FormatFloat(x[j], 'g', -1, 64)), chromedp.KeyEvent("\t"))
	}
	if got := p.eval(focused); got != "predict" {
		t.Fatalf("focus on %q after the last field, want the Predict button", got)
	}
	p.do(chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#result-body`))
	checkPredicted(t, m, p.text(`#predicted`), class, p.eval(`String(document.querySelectorAll("#bars li").length)`))
}
