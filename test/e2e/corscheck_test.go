package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iris-cors/iris-cors-cdk/internal/corscheck"
)

// corsCase is one server behaviour and the call a page makes to it. The
// server answers right (echoing the Origin it got, allowing GET, POST, PUT,
// DELETE and the headers content-type and x-trace) unless the case says
// otherwise, so each case is wrong in one way at most.
type corsCase struct {
	name        string
	method      string
	headers     [][2]string // set by the page, Content-Type included
	body        bool        // send a body (with the Content-Type among headers)
	credentials bool
	preflight   answer   // the answer to every preflight of the case
	hops        []answer // the actual request's answers: hop i is /c/<name>/<i>; past the end, the right answer
}

// answer changes the right answer: set replaces header lines (an empty
// list removes the header), and a 3xx status redirects to the next hop, on
// this server, on the other API origin (to "other"), or with a user name in
// the URL (to "userinfo").
type answer struct {
	status int
	set    http.Header
	to     string
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			h[http.CanonicalHeaderKey(kv[i])] = []string{}
			continue
		}
		h.Add(kv[i], kv[i+1])
	}
	return h
}

const (
	acao = "Access-Control-Allow-Origin"
	acac = "Access-Control-Allow-Credentials"
	acam = "Access-Control-Allow-Methods"
	acah = "Access-Control-Allow-Headers"
)

var jsonBody = [][2]string{{"Content-Type", "application/json"}}

func redirects(n int, a answer) []answer {
	out := make([]answer, n)
	for i := range out {
		out[i] = a
	}
	return out
}

// corsMatrix is what corscheck must judge as Chromium does.
var corsMatrix = []corsCase{
	// A simple GET: no preflight.
	{name: "get", method: "GET"},
	{name: "get-no-acao", method: "GET", hops: []answer{{set: hdr(acao, "")}}},
	{name: "get-other-origin", method: "GET", hops: []answer{{set: hdr(acao, "https://other.example")}}},
	{name: "get-wildcard", method: "GET", hops: []answer{{set: hdr(acao, "*")}}},
	{name: "get-trailing-slash", method: "GET", hops: []answer{{set: hdr(acao, "{origin}/")}}},
	{name: "get-acao-twice", method: "GET", hops: []answer{{set: hdr(acao, "{origin}", acao, "{origin}")}}},
	{name: "get-acao-list", method: "GET", hops: []answer{{set: hdr(acao, "{origin}, https://other.example")}}},
	{name: "get-acao-null", method: "GET", hops: []answer{{set: hdr(acao, "null")}}},
	{name: "get-500-with-cors", method: "GET", hops: []answer{{status: 500}}},
	{name: "get-404-without-cors", method: "GET", hops: []answer{{status: 404, set: hdr(acao, "")}}},
	{name: "get-credentials", method: "GET", credentials: true},
	{name: "get-credentials-no-acac", method: "GET", credentials: true, hops: []answer{{set: hdr(acac, "")}}},
	{name: "get-credentials-wildcard", method: "GET", credentials: true, hops: []answer{{set: hdr(acao, "*")}}},
	{name: "get-credentials-acac-True", method: "GET", credentials: true, hops: []answer{{set: hdr(acac, "True")}}},
	{name: "get-credentials-acac-twice", method: "GET", credentials: true, hops: []answer{{set: hdr(acac, "true", acac, "true")}}},
	{name: "get-acac-twice-without-credentials", method: "GET", hops: []answer{{set: hdr(acac, "true", acac, "true")}}},
	// Redirects: each answer is CORS-checked; another origin makes Origin null.
	{name: "redirect-same-origin", method: "GET", hops: []answer{{status: 302}}},
	{name: "redirect-without-cors", method: "GET", hops: []answer{{status: 302, set: hdr(acao, "")}}},
	{name: "redirect-to-other-origin-echoing-null", method: "GET", hops: []answer{{status: 307, to: "other"}}},
	{name: "redirect-to-other-origin-naming-the-page", method: "GET", hops: []answer{{status: 307, to: "other"}, {set: hdr(acao, "{page}")}}},
	{name: "redirect-to-other-origin-wildcard", method: "GET", hops: []answer{{status: 307, to: "other"}, {set: hdr(acao, "*")}}},
	{name: "redirect-with-userinfo", method: "GET", hops: []answer{{status: 302, to: "userinfo"}}},
	{name: "redirect-20-times", method: "GET", hops: redirects(20, answer{status: 302})},
	{name: "redirect-21-times", method: "GET", hops: redirects(21, answer{status: 302})},
	{name: "post-json-redirected-307", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 307}}},
	{name: "post-json-redirected-302-to-get", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 302}}},
	{name: "post-json-redirected-to-other-origin", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 307, to: "other"}}},
	{name: "post-json-redirected-to-other-origin-allowing-null", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 307, to: "other"}, {set: hdr(acao, "null")}}},
	{name: "put-redirected-to-other-origin-allowing-null", method: "PUT", hops: []answer{{status: 307, to: "other"}, {set: hdr(acao, "null")}}},
	// A preflighted POST of JSON, as this project's page makes.
	{name: "post-json", method: "POST", headers: jsonBody, body: true},
	{name: "post-json-preflight-403", method: "POST", headers: jsonBody, body: true, preflight: answer{status: 403}},
	{name: "post-json-preflight-200", method: "POST", headers: jsonBody, body: true, preflight: answer{status: 200}},
	{name: "post-json-preflight-no-acao", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acao, "")}},
	{name: "post-json-preflight-other-origin", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acao, "https://other.example")}},
	{name: "post-json-preflight-no-acah", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acah, "")}},
	{name: "post-json-preflight-acah-other-case", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acah, "Content-Type")}},
	{name: "post-json-preflight-acah-wildcard", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acah, "*")}},
	{name: "post-json-preflight-acah-spaces", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acah, "content-type x-trace")}},
	{name: "post-json-preflight-acam-spaces", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acam, "GET POST")}},
	{name: "post-json-preflight-acam-two-lines", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr(acam, "GET", acam, "POST")}},
	{name: "post-json-preflight-redirected", method: "POST", headers: jsonBody, body: true, preflight: answer{status: 307}},
	{name: "post-json-no-acao", method: "POST", headers: jsonBody, body: true, hops: []answer{{set: hdr(acao, "")}}},
	{name: "post-json-400-with-cors", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 400}}},
	{name: "post-json-400-without-cors", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 400, set: hdr(acao, "")}}},
	{name: "post-json-max-age-not-a-number", method: "POST", headers: jsonBody, body: true, preflight: answer{set: hdr("Access-Control-Max-Age", "soon")}},
	// Other methods.
	{name: "put", method: "PUT"},
	{name: "put-not-allowed", method: "PUT", preflight: answer{set: hdr(acam, "GET, POST")}},
	{name: "put-lower-case", method: "PUT", preflight: answer{set: hdr(acam, "get, post, put")}},
	{name: "delete-wildcard", method: "DELETE", preflight: answer{set: hdr(acam, "*")}},
	{name: "delete-wildcard-with-credentials", method: "DELETE", credentials: true, preflight: answer{set: hdr(acam, "*")}},
	{name: "delete-empty-list-items", method: "DELETE", preflight: answer{set: hdr(acam, "GET,,DELETE,")}},
	{name: "delete-preflight-without-acam", method: "DELETE", preflight: answer{set: hdr(acam, "")}},
	{name: "patch-lower-case", method: "PATCH", preflight: answer{set: hdr(acam, "patch")}},
	// fetch() normalizes six methods' case before anything compares them:
	// a page's "put" is sent, and allowed, as PUT; "patch" stays "patch".
	{name: "put-named-in-lower-case", method: "put"},
	{name: "patch-named-in-lower-case", method: "patch", preflight: answer{set: hdr(acam, "PATCH")}},
	// Content-Type decides whether a POST is simple.
	{name: "post-text-plain", method: "POST", headers: [][2]string{{"Content-Type", "text/plain"}}, body: true, preflight: answer{status: 403}},
	{name: "post-text-plain-charset", method: "POST", headers: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, body: true, preflight: answer{status: 403}},
	{name: "post-text-plain-upper-case", method: "POST", headers: [][2]string{{"Content-Type", "Text/Plain"}}, body: true, preflight: answer{status: 403}},
	{name: "post-form", method: "POST", headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: true, preflight: answer{status: 403}},
	{name: "post-text-plain-unsafe-byte", method: "POST", headers: [][2]string{{"Content-Type", "text/plain; x=(y)"}}, body: true, preflight: answer{status: 403}},
	{name: "post-text-plain-too-long", method: "POST", headers: [][2]string{{"Content-Type", "text/plain; x=" + strings.Repeat("a", 120)}}, body: true, preflight: answer{status: 403}},
	// Other request headers.
	{name: "get-custom-header", method: "GET", headers: [][2]string{{"X-Trace", "1"}}},
	{name: "get-custom-header-not-allowed", method: "GET", headers: [][2]string{{"X-Trace", "1"}}, preflight: answer{set: hdr(acah, "content-type")}},
	{name: "get-authorization-wildcard", method: "GET", headers: [][2]string{{"Authorization", "Bearer x"}}, preflight: answer{set: hdr(acah, "*")}},
	{name: "get-accept-language", method: "GET", headers: [][2]string{{"Accept-Language", "en"}}, preflight: answer{status: 403}},
	{name: "get-content-language-unsafe", method: "GET", headers: [][2]string{{"Content-Language", "en(gb)"}}, preflight: answer{status: 403}},
	// One simple range of bytes is safelisted: no preflight.
	{name: "get-range", method: "GET", headers: [][2]string{{"Range", "bytes=0-4"}}, preflight: answer{status: 403}},
	{name: "get-range-suffix", method: "GET", headers: [][2]string{{"Range", "bytes=-5"}}, preflight: answer{status: 403}},
	// Behind sign-in: the token in the Authorization header, as this
	// project's page sends it, and the ways an authorizer breaks CORS.
	{name: "post-json-token", method: "POST", headers: signedIn, body: true, preflight: answer{set: hdr(acah, "content-type, authorization")}},
	{name: "post-json-token-not-allowed", method: "POST", headers: signedIn, body: true},
	{name: "post-json-token-preflight-401", method: "POST", headers: signedIn, body: true, preflight: answer{status: 401, set: hdr(acao, "", acam, "", acah, "")}},
	{name: "post-json-401-with-cors", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 401}}},
	{name: "post-json-401-without-cors", method: "POST", headers: jsonBody, body: true, hops: []answer{{status: 401, set: hdr(acao, "")}}},
}

var signedIn = [][2]string{{"Content-Type", "application/json"}, {"Authorization", "Bearer eyJ.e30.sig"}}

// call is the case as a page calls it from origin (the URL on apiBase and
// fetch's init) and as corscheck checks it.
func (c corsCase) call(apiBase, origin string) (string, map[string]any, corscheck.Options) {
	url := fmt.Sprintf("%s/c/%s/0", apiBase, c.name)
	init := map[string]any{"method": c.method, "cache": "no-store", "credentials": "omit"}
	if c.credentials {
		init["credentials"] = "include"
	}
	o := corscheck.Options{URL: url, Origin: origin, Method: c.method, Credentials: c.credentials}
	headers := map[string]string{}
	for _, h := range c.headers {
		headers[h[0]] = h[1]
		if strings.EqualFold(h[0], "Content-Type") {
			o.ContentType = h[1]
		} else {
			o.Headers = append(o.Headers, h[0]+": "+h[1])
		}
	}
	init["headers"] = headers
	if c.body {
		o.Body = "{}"
		init["body"] = o.Body
	}
	return url, init, o
}

// matrixServer answers the cases under /c/<name>/<hop>. other is the second
// API origin (for cross-origin redirects); page is the page's origin.
type matrixServer struct {
	self, other, page string
	cases             map[string]corsCase
}

func (m *matrixServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/c/"), "/")
	c, ok := m.cases[parts[0]]
	if !ok || len(parts) != 2 {
		http.NotFound(w, r)
		return
	}
	hop, _ := strconv.Atoi(parts[1])
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Set(acao, origin)
	h.Set("Vary", "Origin")
	if c.credentials {
		h.Set(acac, "true")
	}
	a, status := answer{}, http.StatusOK
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set(acam, "GET, POST, PUT, DELETE")
		h.Set(acah, "content-type, x-trace")
		h.Set("Access-Control-Max-Age", "600")
		a, status = c.preflight, http.StatusNoContent
	} else if hop < len(c.hops) {
		a = c.hops[hop]
	}
	for k, vs := range a.set {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, strings.NewReplacer("{origin}", origin, "{page}", m.page).Replace(v))
		}
	}
	if a.status != 0 {
		status = a.status
	}
	if status >= 300 && status < 400 {
		next := fmt.Sprintf("/c/%s/%d", c.name, hop+1)
		switch a.to {
		case "other":
			next = m.other + next
		case "userinfo":
			next = strings.Replace(m.self, "://", "://user:secret@", 1) + next
		}
		h.Set("Location", next)
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "case %s hop %d", c.name, hop)
}

// callPage is the page the browser calls from: one function, call(), that
// makes the fetch and says whether the page could read the answer.
const callPage = `<!doctype html><title>caller</title><script>
async function call(url, init) {
  try { const r = await fetch(url, init); await r.text(); return "read " + r.status; }
  catch (e) { return "refused: " + e.message; }
}
</script>`

// serveMatrix serves the matrix's cases, and extra, to a page on page
// (127.0.0.1) from two API origins until the test ends: localhost, and
// 127.0.0.1 on another port for redirects that leave the first. It returns
// the first's base URL.
func serveMatrix(t *testing.T, page string, extra ...corsCase) string {
	cases := map[string]corsCase{}
	for _, c := range append(slices.Clone(corsMatrix), extra...) {
		cases[c.name] = c
	}
	api, other := &matrixServer{page: page, cases: cases}, &matrixServer{page: page, cases: cases}
	apiSrv, otherSrv := httptest.NewServer(api), httptest.NewServer(other)
	t.Cleanup(apiSrv.Close)
	t.Cleanup(otherSrv.Close)
	apiBase := strings.Replace(apiSrv.URL, "127.0.0.1", "localhost", 1)
	api.self, api.other = apiBase, otherSrv.URL
	other.self, other.other = otherSrv.URL, apiBase
	return apiBase
}

// corscheckAgreesWithChromium runs every case of the matrix twice: as
// fetch() from a page on another origin in Chromium, and through corscheck
// from the same origin. A disagreement is a corscheck bug. Every message
// Chromium prints on the way must have its entry in docs/troubleshooting.md.
func corscheckAgreesWithChromium(t *testing.T, browser context.Context) {
	pageSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, callPage)
	}))
	defer pageSrv.Close()
	apiBase := serveMatrix(t, pageSrv.URL, sentinel)

	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	console, entries := &consoleLog{}, chromedp.Console(ctx) // before Navigate: it attaches to the tab
	go func() {
		for m, err := range entries {
			if err != nil {
				return
			}
			console.add(m.Text)
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageSrv.URL)); err != nil {
		t.Fatalf("browser: %v", err)
	}

	agree := 0
	for _, c := range append(corsMatrix, sentinel) {
		url, init, o := c.call(apiBase, pageSrv.URL)
		arg, _ := json.Marshal(init)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("call(%q, %s)", url, arg), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: browser: %v", c.name, err)
		}
		rep, err := corscheck.Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s: corscheck: %v", c.name, err)
		}
		if refused := strings.HasPrefix(got, "refused"); refused != (rep.Engines["chromium"] == "refused") || rep.Engines["chromium"] == "" {
			var b strings.Builder
			rep.WriteText(&b)
			t.Errorf("%s: Chromium %q, but corscheck says chromium %q:\n%s", c.name, got, rep.Engines["chromium"], b.String())
			continue
		}
		agree++
	}
	t.Logf("corscheck agrees with Chromium on %d of %d server behaviours", agree-1, len(corsMatrix))

	holdTheGuide(t, "Chromium", console.untilSentinel(t, "Chromium"), messageKind)
}

// sentinel is the last call of a run: its console message tells that all
// earlier ones have arrived, since the browser prints them in order.
var sentinel = corsCase{name: "sentinel", method: "GET", hops: []answer{{set: hdr(acao, "")}}}

// consoleLog is what an engine printed to a page's console.
type consoleLog struct {
	mu    sync.Mutex
	texts []string
}

func (c *consoleLog) add(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.texts = append(c.texts, text)
}

// untilSentinel returns every message once the sentinel call's is among
// them.
func (c *consoleLog) untilSentinel(t *testing.T, engine string) []string {
	t.Helper()
	return c.until(t, engine, "the sentinel call's CORS error", func(m string) bool { return strings.Contains(m, "/c/sentinel/") })
}

// until returns every message once one that last says is among them.
// Bounded: an engine that never prints it fails here, whatever the
// machine's speed.
func (c *consoleLog) until(t *testing.T, engine, what string, last func(string) bool) []string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		texts := slices.Clone(c.texts)
		c.mu.Unlock()
		if slices.ContainsFunc(texts, last) {
			return texts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never printed %s; its console:\n%s", engine, what, strings.Join(texts, "\n"))
		}
	}
}

// holdTheGuide fails for each kind of message an engine printed that
// docs/troubleshooting.md does not quote (in backticks, outside code
// blocks). kind says what a message is without what varies between calls;
// "" for a message that is not about CORS.
func holdTheGuide(t *testing.T, engine string, messages []string, kind func(string) string) {
	t.Helper()
	guide, err := os.ReadFile("../../docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	prose := fence.ReplaceAllString(string(guide), "")
	for _, m := range backticked.FindAllStringSubmatch(prose, -1) {
		documented[kind(m[1])] = true
	}
	seen := map[string]bool{}
	for _, m := range messages {
		if k := kind(m); k != "" && !documented[k] && !seen[k] {
			seen[k] = true
			t.Errorf("docs/troubleshooting.md has no entry for %s's message %q (as %q)", engine, m, k)
		}
	}
	t.Logf("%s printed %d console messages, %d kinds missing from the guide", engine, len(messages), len(seen))
}

var (
	fence      = regexp.MustCompile("(?s)```.*?```")
	backticked = regexp.MustCompile("`([^`]+)`")
	// The parts of Chromium's messages that name this call, not its kind.
	callPrefix = regexp.MustCompile(`^.*has been blocked by CORS policy: `)
	quotedText = regexp.MustCompile(`(^|[ (])'[^']*'`) // not the one in "doesn't"
	named      = regexp.MustCompile(`\b(Method|Request header field) \S+ is`)
	statusText = regexp.MustCompile(`status of \d+ \([^)]*\)`)
)

// messageKind is a console message without what varies between calls (URLs,
// origins, header values, names, statuses), so one guide entry covers a kind.
func messageKind(m string) string {
	m = callPrefix.ReplaceAllString(strings.TrimSpace(m), "")
	m = quotedText.ReplaceAllString(m, "$1'…'")
	m = named.ReplaceAllString(m, "$1 … is")
	return statusText.ReplaceAllString(m, "status of …")
}

var (
	firefoxReason = regexp.MustCompile(`\(Reason: ([^)]*)\)`)
	firefoxQuoted = regexp.MustCompile(`[‘'’]([^‘'’]*)[’']`)
)

// firefoxKind is a Firefox CORS message's reason, with straight quotes and
// every quoted value but a header's name left out: the guide quotes the
// reason, which names the kind; the URL and status code before and after it
// are the call's. "" for a message with no reason (not a CORS refusal).
func firefoxKind(m string) string {
	r := firefoxReason.FindStringSubmatch(m)
	if r == nil {
		return ""
	}
	return firefoxQuoted.ReplaceAllStringFunc(r[1], func(q string) string {
		if inner := firefoxQuoted.FindStringSubmatch(q)[1]; strings.HasPrefix(inner, "Access-Control-") {
			return "'" + inner + "'"
		}
		return "'…'"
	})
}
