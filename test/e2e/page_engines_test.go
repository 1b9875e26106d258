package e2e

import (
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/sitesrv"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// driver plays a visitor on the site's page, in any engine: it waits for
// the page, fills the form (the scenario says how), presses Predict, waits
// for the prediction or the diagnosis, posts what the page shows to
// /report on its own origin, and goes on to the next scenario's page.
const driver = `const q = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const until = async (f) => { for (let i = 0; i < 600; i++) { const v = f(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); } return null; };
(async () => {
  await until(() => document.body.dataset.ready === "true");
  document.querySelector("[data-preset]")?.click();
  if (q.get("field")) $(q.get("field")).value = q.get("value");
  $("predict").click();
  const kind = await until(() => !$("diagnostics").hidden ? $("diagnostics").dataset.kind : (!$("result-body").hidden && $("predicted").textContent ? "result" : null));
  const text = kind === "result" ? $("predicted").textContent : $("diagnostics").textContent;
  await fetch("/report", {method: "POST", body: JSON.stringify({scenario: q.get("scenario"), kind, text})});
  if (q.get("next")) location.href = q.get("next");
})();
`

// pageReport is what the page showed in one scenario.
type pageReport struct{ Scenario, Kind, Text string }

// The site's own diagnosis holds in Firefox and WebKit as in Chromium: an
// allowed origin gets the prediction, an HTTP 400 shows the API's message,
// a page on another origin names the failure CORS, a policy that leaves out
// the API names it CSP. The page tells them apart by what happened (a
// TypeError, a no-cors probe, the securitypolicyviolation event), never by
// an engine's error text, which differs in each ("Failed to fetch",
// "NetworkError when attempting to fetch resource.", "Load failed"). What
// each engine's console printed meanwhile, the CSP block's message
// included, must be quoted in docs/troubleshooting.md.
func TestThePageInEveryEngine(t *testing.T) {
	eachEngine(t, "the site was not tried in it", func(t *testing.T, e engine, path string) {
		reports := make(chan pageReport, 8)
		allowed, other, strict := listen(t), listen(t), listen(t)
		origin := "http://localhost:" + strconv.Itoa(allowed.Addr().(*net.TCPAddr).Port)
		s := localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowOrigin: origin})
		content := withDriver(t, s.Endpoints())
		headers := siteHeaders(t, s.SiteURL)
		strictHeaders := headers.Clone()
		strictHeaders.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
		for ln, h := range map[net.Listener]http.Header{allowed: headers, other: headers, strict: strictHeaders} {
			serveReporting(t, ln, &sitesrv.Site{FS: content, Headers: h}, reports)
		}
		m := served(t)
		f := m.Features[0]
		class, _ := m.Example()
		steps := []struct{ base, scenario, extra string }{
			{origin, "predict", ""},
			{origin, "http", "&field=" + url.QueryEscape(f.Name) + "&value=" + strconv.FormatFloat(f.Max*2+1, 'g', -1, 64)},
			{"http://" + other.Addr().String(), "cors", ""},
			{"http://" + strict.Addr().String(), "csp", ""},
		}
		next := ""
		for i := len(steps) - 1; i >= 0; i-- {
			u := steps[i].base + "/?scenario=" + steps[i].scenario + steps[i].extra
			if next != "" {
				u += "&next=" + url.QueryEscape(next)
			}
			next = u
		}
		console, _ := e.start(t, path, next)
		want := map[string]func(pageReport) bool{
			"predict": func(r pageReport) bool { return r.Kind == "result" && r.Text == class },
			"http": func(r pageReport) bool {
				return r.Kind == "http" && strings.Contains(r.Text, f.Name+": must be a number "+f.Range())
			},
			"cors": func(r pageReport) bool { return r.Kind == "cors" && strings.Contains(r.Text, "allowedOrigins") },
			"csp":  func(r pageReport) bool { return r.Kind == "csp" && strings.Contains(r.Text, "connect-src") },
		}
		for len(want) > 0 {
			select {
			case r := <-reports:
				ok := want[r.Scenario]
				if ok == nil || !ok(r) {
					t.Errorf("%s, scenario %s: the page shows %s %q", e.name, r.Scenario, r.Kind, r.Text)
				}
				delete(want, r.Scenario)
			case <-time.After(3 * time.Minute):
				t.Fatalf("%s: scenarios %v never reported", e.name, slices.Collect(maps.Keys(want)))
			}
		}
		if console != nil {
			// The page's own console, the CSP block's message included,
			// is in the guide too.
			holdTheGuide(t, e.name, console.until(t, e.name, "its CSP message", func(m string) bool {
				return strings.Contains(strings.ToLower(m), "content security policy") || strings.Contains(m, "Content-Security-Policy")
			}), e.consoleKind)
		}
	})
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// withDriver is the site for e with the driver in it: a copy of site/ whose
// page loads driver.js after its own script (the page's policy allows its
// own origin's scripts).
func withDriver(t *testing.T, e system.Endpoints) site.Content {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "site"))); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, site.Name))
	if err != nil {
		t.Fatal(err)
	}
	const app = `<script type="module" src="app.js"></script>`
	if !strings.Contains(string(page), app) {
		t.Fatalf("%s no longer loads %s: the driver has no place", site.Name, app)
	}
	page = []byte(strings.Replace(string(page), app, app+`<script type="module" src="driver.js"></script>`, 1))
	for name, content := range map[string][]byte{site.Name: page, "driver.js": []byte(driver)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return local.Site(dir, e, served(t))
}

// siteHeaders are the headers make local's site answers with: CloudFront's,
// the local API allowed.
func siteHeaders(t *testing.T, siteURL string) http.Header {
	t.Helper()
	resp, err := http.Get(siteURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := http.Header{}
	for _, name := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		h.Set(name, resp.Header.Get(name))
	}
	return h
}

// serveReporting serves s on ln, and what the driver posts to /report into
// reports.
func serveReporting(t *testing.T, ln net.Listener, s *sitesrv.Site, reports chan<- pageReport) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep pageReport
		if raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16)); err == nil && json.Unmarshal(raw, &rep) == nil {
			reports <- rep
		}
	})
	mux.Handle("/", s)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}
