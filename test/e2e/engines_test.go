package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/corscheck"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// engine is a browser engine besides Chromium that the differential test
// runs: it opens a self-reporting page (which makes every case's call and
// posts what it could read back), with a fresh profile, kept on loopback.
type engine struct {
	name, install string
	find          func() string
	command       func(t *testing.T, path, url string) *exec.Cmd
	// console opens url in the engine that cmd started, collecting its
	// console: Firefox's over WebDriver BiDi, WebKit's over its remote
	// inspector. consoleKind says what kind of message one is, for
	// holdTheGuide.
	console     func(t *testing.T, cmd *exec.Cmd, output *lockedBuffer, url string) *consoleLog
	consoleKind func(string) string
}

var otherEngines = []engine{
	{
		name: "firefox", install: "sudo apt-get install firefox-esr", consoleKind: firefoxKind,
		console: func(t *testing.T, _ *exec.Cmd, output *lockedBuffer, url string) *consoleLog {
			return openWithConsole(t, output, url)
		},
		find: func() string { return lookPath("firefox-esr", "firefox") },
		command: func(t *testing.T, path, url string) *exec.Cmd {
			profile := t.TempDir()
			// Firefox calls Mozilla's hosts at start: a proxy that leads
			// nowhere keeps it on loopback, which it reaches directly.
			prefs := `user_pref("network.proxy.type", 1);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", 9);
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", 9);
user_pref("network.proxy.no_proxies_on", "localhost, 127.0.0.1");
user_pref("network.proxy.allow_hijacking_localhost", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("app.update.enabled", false);
`
			if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs), 0o644); err != nil {
				t.Fatal(err)
			}
			return exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0", url)
		},
	},
	{
		name: "webkit", install: "sudo apt-get install libwebkit2gtk-4.1-0 xvfb", consoleKind: webkitKind,
		console: func(t *testing.T, cmd *exec.Cmd, _ *lockedBuffer, url string) *consoleLog {
			for _, v := range cmd.Env {
				if addr, ok := strings.CutPrefix(v, "WEBKIT_INSPECTOR_HTTP_SERVER="); ok {
					return openWithInspector(t, addr, url)
				}
			}
			t.Fatal("MiniBrowser was started without its remote inspector")
			return nil
		},
		find: func() string {
			if lookPath("xvfb-run") == "" {
				return ""
			}
			matches, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
			if len(matches) == 0 {
				return ""
			}
			return matches[0]
		},
		command: func(t *testing.T, path, url string) *exec.Cmd {
			cmd := exec.Command("xvfb-run", "-a", path, url)
			// WebKit's bubblewrap sandbox needs user namespaces, which CI's
			// root does not get; the page it loads is the test's own.
			cmd.Env = append(os.Environ(), "WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1", "no_proxy=*", "HOME="+t.TempDir(),
				"WEBKIT_INSPECTOR_HTTP_SERVER="+inspectorAddress(t))
			return cmd
		},
	},
}

func lookPath(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// selfReporting is the page: every call in order, then one POST of what
// each could read to /report on its own origin.
const selfReporting = `<!doctype html><title>cases</title>
<script id="calls" type="application/json">%s</script>
<script>
(async () => {
  const calls = JSON.parse(document.getElementById("calls").textContent), out = {};
  for (const c of calls) {
    try { const r = await fetch(c.url, c.init); await r.text(); out[c.name] = "read " + r.status; }
    catch (e) { out[c.name] = "refused: " + e.message; }
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

// corscheck's verdict for Firefox and for WebKit (Report.Engines) is what
// each engine does on every case of the matrix (the Chromium test's,
// corsMatrix). None split at the last check; a split found here is taught
// to corscheck (engineVerdicts), not excused. A missing engine skips,
// saying how to install it; CI (.ci/run) installs both and requires them.
func TestCorscheckAgreesWithOtherEngines(t *testing.T) {
	eachEngine(t, "the differential test against it did not run", func(t *testing.T, e engine, path string) {
		start := time.Now()
		got, cases, checks, console := runEngine(t, e, path)
		agree := 0
		for _, c := range cases {
			refused := strings.HasPrefix(got[c.name], "refused")
			verdict := checks[c.name].Engines[e.name]
			if _, ok := got[c.name]; !ok || refused != (verdict == "refused") || verdict == "" {
				t.Errorf("%s: %s %q, corscheck says %s %q", c.name, e.name, got[c.name], e.name, verdict)
				continue
			}
			agree++
		}
		t.Logf("%s agrees with corscheck's verdict for it on %d of %d server behaviours, in %.1fs", e.name, agree, len(cases), time.Since(start).Seconds())
		if e.console != nil {
			holdTheGuide(t, e.name, console, e.consoleKind)
		}
	})
}

// eachEngine runs f in a subtest per engine of otherEngines, with the
// engine's path; a missing engine skips (fails in CI), saying what did not
// run and how to install it.
func eachEngine(t *testing.T, notRun string, f func(t *testing.T, e engine, path string)) {
	for _, e := range otherEngines {
		t.Run(e.name, func(t *testing.T) {
			path := e.find()
			if path == "" {
				testtool.Missing(t, "E2E_REQUIRED", e.name+" not found: "+notRun+"; "+e.install+" and run make test again")
			}
			f(t, e, path)
		})
	}
}

// runEngine runs the matrix in the engine at path through the
// self-reporting page: what each case could read, the cases, corscheck's
// reports for them, and, where the engine's console can be collected,
// what it printed there.
func runEngine(t *testing.T, e engine, path string) (map[string]string, []corsCase, map[string]*corscheck.Report, []string) {
	t.Helper()
	reports := make(chan map[string]string, 1)
	var page atomic.Value // the page's HTML, written once the calls are known
	pageSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/report" && r.Method == http.MethodPost {
			var got map[string]string
			raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if json.Unmarshal(raw, &got) == nil {
				select {
				case reports <- got:
				default:
				}
			}
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page.Load())
	}))
	defer pageSrv.Close()
	apiBase := serveMatrix(t, pageSrv.URL, sentinel)

	var calls []map[string]any
	checks := map[string]*corscheck.Report{}
	for _, c := range corsMatrix {
		url, init, o := c.call(apiBase, pageSrv.URL)
		calls = append(calls, map[string]any{"name": c.name, "url": url, "init": init})
		rep, err := corscheck.Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s: corscheck: %v", c.name, err)
		}
		checks[c.name] = rep
	}
	url, init, _ := sentinel.call(apiBase, pageSrv.URL)
	calls = append(calls, map[string]any{"name": sentinel.name, "url": url, "init": init})
	// json.Marshal writes <, > and & as \u escapes: nothing in it can end
	// the script element.
	doc, _ := json.Marshal(calls)

	page.Store(fmt.Sprintf(selfReporting, doc))
	console, log := e.start(t, path, pageSrv.URL+"/")
	// Bounded: far above the ~1 minute a run takes on a busy 2-core machine.
	var got map[string]string
	select {
	case got = <-reports:
	case <-time.After(4 * time.Minute):
		t.Fatalf("%s never reported; its output:\n%s", e.name, log)
	}
	if console == nil {
		return got, corsMatrix, checks, nil
	}
	return got, corsMatrix, checks, console.untilSentinel(t, e.name)
}

// start starts the engine at path on url, in a process group of its own
// that ends with the test, and returns what it prints and, where its
// console can be collected, its console (nil elsewhere): the engine then
// starts on a blank page, and url is opened once the console is watched.
func (e engine) start(t *testing.T, path, url string) (*consoleLog, *lockedBuffer) {
	t.Helper()
	open := url
	if e.console != nil {
		open = "about:blank"
	}
	cmd := e.command(t, path, open)
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := testtool.StartGroup(t, cmd); err != nil {
		t.Fatalf("%s: %v", e.name, err)
	}
	if e.console == nil {
		return nil, output
	}
	return e.console(t, cmd, output, url), output
}

// lockedBuffer keeps what a process writes on two streams at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
