package corscheck

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const page = "https://site.example"

// validBody is a request the tests' servers accept.
const validBody = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`

// server is an API that does CORS right, unless a flaw is named.
func server(flaw string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		allow := func() {
			if origin == page && flaw != "no-origin" {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Vary", "Origin")
			}
		}
		if flaw == "redirect" {
			http.Redirect(w, r, "/dev/predict/", http.StatusMovedPermanently)
			return
		}
		signIn := strings.HasPrefix(flaw, "sign-in")
		if r.Method == http.MethodOptions {
			if flaw == "sign-in, a guarded preflight" {
				w.WriteHeader(401)
				return
			}
			if flaw == "no-options" {
				w.WriteHeader(403)
				io.WriteString(w, `{"message":"Missing Authentication Token"}`)
				return
			}
			allow()
			if flaw == "wrong-origin" {
				h.Set("Access-Control-Allow-Origin", "https://d111.cloudfront.net")
			}
			h.Set("Access-Control-Allow-Methods", "GET,POST,OPTIONS")
			switch {
			case signIn:
				h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			case flaw != "no-headers":
				h.Set("Access-Control-Allow-Headers", "Content-Type")
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(204)
			return
		}
		if signIn && r.Header.Get("Authorization") != "Bearer good" {
			switch flaw {
			case "sign-in, a 401 without CORS":
			case "sign-in, gateway errors for any origin": // dev's gateway responses
				h.Set("Access-Control-Allow-Origin", origin)
			default:
				allow()
			}
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"UNAUTHORIZED","message":"Unauthorized"}}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "invalid") {
			if flaw != "no-cors-on-errors" {
				allow()
			}
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"invalid_input","message":"bad"}}`)
			return
		}
		allow()
		if flaw == "500" {
			w.WriteHeader(500)
			return
		}
		io.WriteString(w, `{"species":"setosa"}`)
	}))
}

func check(t *testing.T, flaw string, expectDenied bool) *Report {
	t.Helper()
	srv := server(flaw)
	defer srv.Close()
	rep, err := Run(context.Background(), Options{URL: srv.URL + "/dev/predict", Origin: page, Body: validBody, ErrorBody: DefaultErrorBody, ExpectDenied: expectDenied,
		SimpleURL: srv.URL + "/dev/model"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestServers(t *testing.T) {
	for _, tc := range []struct {
		flaw    string
		pass    bool
		explain string // a fragment of the fix
	}{
		{"", true, ""},
		{"no-options", false, "403 Missing Authentication Token: the resource has no OPTIONS method, or the stage was not redeployed"},
		{"no-origin", false, "is not an allowed origin. Allow the page's origin in the API's CORS configuration"},
		{"wrong-origin", false, "The API allows https://d111.cloudfront.net, not https://site.example"},
		{"no-headers", false, "Add the header to the preflight's Access-Control-Allow-Headers"},
		{"no-cors-on-errors", false, "this 400 response lacks Access-Control-Allow-Origin"},
		{"redirect", false, "The preflight was redirected (301 to /dev/predict/)"},
		{"500", false, ""},
	} {
		t.Run("flaw "+tc.flaw, func(t *testing.T) {
			rep := check(t, tc.flaw, false)
			if rep.Pass != tc.pass {
				var b strings.Builder
				rep.WriteText(&b)
				t.Errorf("pass = %v, want %v\n%s", rep.Pass, tc.pass, b.String())
			}
			var all []string
			for _, s := range rep.Steps {
				all = append(all, s.Explain...)
			}
			if tc.explain != "" && !strings.Contains(strings.Join(all, "\n"), tc.explain) {
				t.Errorf("explanations %q lack %q", all, tc.explain)
			}
		})
	}
}

// Behind sign-in, a token in the Authorization header passes; a readable
// 401 is reported as authentication, not CORS, and the two ways an
// authorizer breaks CORS (a guarded preflight, a 401 without CORS headers)
// as CORS, each with its fix.
func TestSignIn(t *testing.T) {
	for _, tc := range []struct {
		name, flaw, header string
		failure, explain   string
		unauthorized       bool // -expect-unauthorized
	}{
		{"signed out, as expected", "sign-in", "", "", "PASS: the API requires sign-in", true},
		{"open, but expected to require sign-in", "", "", "authentication", "FAIL: the call answered 200 without a token, not 401", true},
		{"a token", "sign-in", "Authorization: Bearer good", "", "", false},
		{"no token", "sign-in", "", "authentication", "the API wants a token. Send the signed-in user's token: -header 'Authorization: Bearer <token>'", false},
		{"a refused token", "sign-in", "Authorization: Bearer expired", "authentication", "the API refused the token sent", false},
		{"a preflight behind the authorizer", "sign-in, a guarded preflight", "Authorization: Bearer good", "cors", "The preflight answered 401: OPTIONS requires a token, but a browser never sends one", false},
		{"a 401 without CORS", "sign-in, a 401 without CORS", "", "cors", "The API wants a token and says so with 401, but without Access-Control-Allow-Origin", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server(tc.flaw)
			defer srv.Close()
			o := Options{URL: srv.URL + "/dev/predict", Origin: page, Body: validBody, ErrorBody: DefaultErrorBody, ExpectUnauthorized: tc.unauthorized}
			if tc.header != "" {
				o.Headers = append(o.Headers, tc.header)
			}
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.WriteText(&b)
			if rep.Pass != (tc.failure == "") || rep.Failure != tc.failure {
				t.Errorf("pass = %v, failure %q; want failure %q\n%s", rep.Pass, rep.Failure, tc.failure, b.String())
			}
			if !strings.Contains(b.String(), tc.explain) {
				t.Errorf("the report lacks %q:\n%s", tc.explain, b.String())
			}
			if n, want := strings.Count(b.String(), "fix:"), min(len(tc.failure), 1); n != want && !tc.unauthorized {
				t.Errorf("%d fixes, want %d (the one that matters, if any):\n%s", n, want, b.String())
			}
			if tc.failure == "authentication" && !tc.unauthorized && !strings.Contains(b.String(), "FAIL: authentication, not CORS") {
				t.Errorf("the verdict does not say authentication:\n%s", b.String())
			}
		})
	}
}

func TestExpectDenied(t *testing.T) {
	if rep := check(t, "no-origin", true); !rep.Pass || !rep.Denied || rep.SimpleReadable {
		t.Errorf("an origin refused everywhere, with -expect-denied: pass=%v denied=%v simpleReadable=%v, want pass and denied", rep.Pass, rep.Denied, rep.SimpleReadable)
	}
	// The preflight names another origin, but the function echoes this one:
	// a page on it cannot POST JSON, yet reads GET /model.
	rep := check(t, "wrong-origin", true)
	if rep.Pass || !rep.Denied || !rep.SimpleReadable || !strings.HasSuffix(rep.SimpleURL, "/dev/model") {
		t.Errorf("a strict preflight over a function that echoes any origin: pass=%v denied=%v simpleReadable=%v simpleURL=%s, want a failure naming /dev/model", rep.Pass, rep.Denied, rep.SimpleReadable, rep.SimpleURL)
	}
	if rep := check(t, "", true); rep.Pass {
		t.Error("an allowed origin with -expect-denied passed")
	}
	// Behind sign-in, dev's gateway responses let any page read the 401 of
	// a simple GET: an error, none of the API's data.
	srv := server("sign-in, gateway errors for any origin")
	defer srv.Close()
	rep, err := Run(context.Background(), Options{URL: srv.URL + "/dev/predict", Origin: "https://evil.example", Body: validBody, ExpectDenied: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || rep.SimpleReadable {
		var b strings.Builder
		rep.WriteText(&b)
		t.Errorf("a foreign origin that can read only a 401: pass=%v simpleReadable=%v, want a pass\n%s", rep.Pass, rep.SimpleReadable, b.String())
	}
	if _, err := Run(context.Background(), Options{URL: srv.URL, Origin: page, ExpectDenied: true, ExpectUnauthorized: true}); err == nil {
		t.Error("-expect-denied with -expect-unauthorized ran")
	}
}

func TestUsageAndNetworkErrors(t *testing.T) {
	for _, o := range []Options{
		{URL: "", Origin: page},
		{URL: "ftp://x", Origin: page},
		{URL: "http://127.0.0.1:1/dev/predict", Origin: page},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) succeeded, want an error (exit 2)", o)
		}
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Run(context.Background(), Options{URL: srv.URL, Origin: page})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("self-signed certificate: error = %v, want a TLS explanation", err)
	}
}

// chain serves /0, /1, ...: hop i redirects to hop i+1 (on next, when set)
// until the last, each answer echoing the Origin it got unless told otherwise.
type chain struct {
	hops   int
	status int    // of each redirect
	next   string // base URL of the hop after the first; "" for this server
	acao   func(origin string, hop int) string
	seen   []string // "METHOD /path Origin"
}

func (c *chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hop, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
	c.seen = append(c.seen, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, r.Header.Get("Origin")))
	origin := r.Header.Get("Origin")
	acao := origin
	if c.acao != nil {
		acao = c.acao(origin, hop)
	}
	if acao != "" {
		w.Header().Set("Access-Control-Allow-Origin", acao)
	}
	w.Header().Set("Vary", "Origin")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "content-type")
		w.Header().Set("Access-Control-Max-Age", "60")
		w.WriteHeader(204)
		return
	}
	if hop < c.hops {
		w.Header().Set("Location", fmt.Sprintf("%s/%d", c.next, hop+1))
		w.WriteHeader(c.status)
		return
	}
	io.WriteString(w, "done")
}

func TestRedirects(t *testing.T) {
	other := &chain{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	for _, tc := range []struct {
		name   string
		c      *chain
		method string
		denied bool
		seen   []string // the requests that reached the first server, in order
		code   string   // a finding expected on the last step
	}{
		{name: "followed on the same origin, each answer checked", c: &chain{hops: 2, status: 302}, method: "GET", seen: []string{"GET /0 " + page, "GET /1 " + page, "GET /2 " + page}},
		{name: "a redirect without CORS headers is refused", c: &chain{hops: 1, status: 302, acao: func(o string, hop int) string {
			if hop == 0 {
				return ""
			}
			return o
		}}, method: "GET", denied: true, seen: []string{"GET /0 " + page}, code: "no_allow_origin"},
		{name: "the 21st redirect is refused", c: &chain{hops: 21, status: 302}, method: "GET", denied: true, code: "too_many_redirects"},
		{name: "a 302 turns POST into GET, and the GET needs no preflight", c: &chain{hops: 1, status: 302}, method: "POST", seen: []string{"OPTIONS /0 " + page, "POST /0 " + page, "GET /1 " + page}},
		{name: "a 307 keeps POST, with a preflight for the new URL", c: &chain{hops: 1, status: 307}, method: "POST", seen: []string{"OPTIONS /0 " + page, "POST /0 " + page, "OPTIONS /1 " + page, "POST /1 " + page}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.c)
			defer srv.Close()
			o := Options{URL: srv.URL + "/0", Origin: page, Method: tc.method}
			if tc.method == "POST" {
				o.Body = validBody
			}
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Denied != tc.denied {
				var b strings.Builder
				rep.WriteText(&b)
				t.Errorf("denied = %v, want %v\n%s", rep.Denied, tc.denied, b.String())
			}
			if tc.seen != nil && !slices.Equal(tc.c.seen, tc.seen) {
				t.Errorf("requests %q, want %q", tc.c.seen, tc.seen)
			}
			if last := rep.Steps[len(rep.Steps)-2]; tc.code != "" && !last.Verdict.Has(tc.code) { // the error path comes last
				t.Errorf("last step %+v lacks %s", last, tc.code)
			}
		})
	}

	t.Run("after a hop to another origin the Origin is null", func(t *testing.T) {
		first := &chain{hops: 1, status: 307}
		srv := httptest.NewServer(first)
		defer srv.Close()
		first.next = otherSrv.URL
		other.seen = nil
		rep, err := Run(context.Background(), Options{URL: srv.URL + "/0", Origin: page, Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"GET /1 null"}; !slices.Equal(other.seen, want) || rep.Denied {
			t.Errorf("other origin saw %q (denied %v), want %q read by the page through Access-Control-Allow-Origin: null", other.seen, rep.Denied, want)
		}
	})

	t.Run("a redirect with a user name in the URL is refused", func(t *testing.T) {
		first := &chain{hops: 1, status: 302}
		srv := httptest.NewServer(first)
		defer srv.Close()
		first.next = strings.Replace(srv.URL, "://", "://user:pw@", 1)
		rep, err := Run(context.Background(), Options{URL: srv.URL + "/0", Origin: page, Method: "GET"})
		if err != nil || !rep.Denied || !rep.Steps[1].Verdict.Has("redirect_credentials") {
			t.Errorf("denied=%v steps %+v (%v), want redirect_credentials", rep.Denied, rep.Steps, err)
		}
	})

	t.Run("a redirected preflight is refused", func(t *testing.T) {
		rep := check(t, "redirect", false)
		if !rep.Denied || !rep.Steps[0].Verdict.Has("preflight_redirect") {
			t.Errorf("denied=%v, preflight %+v; want preflight_redirect", rep.Denied, rep.Steps[0])
		}
	})
}

func TestCredentialsAndHeaderValues(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			got = r.Header.Clone()
		}
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Headers", "x-trace")
		w.Header().Set("Vary", "Origin")
	}))
	defer srv.Close()
	o := Options{URL: srv.URL, Origin: page, Method: "GET", Headers: []string{"X-Trace: abc", "Accept-Language: en"}}
	rep, err := Run(context.Background(), o)
	if err != nil || rep.Denied || got.Get("X-Trace") != "abc" || got.Get("Accept-Language") != "en" {
		t.Errorf("denied=%v headers %v (%v), want the page's header values sent and allowed", rep.Denied, got, err)
	}
	o.Credentials = true
	rep, err = Run(context.Background(), o)
	if err != nil || !rep.Denied || !slices.ContainsFunc(rep.Steps, func(s Step) bool { return s.Verdict.Has("credentials_not_allowed") }) {
		t.Errorf("with credentials and no Access-Control-Allow-Credentials: denied=%v (%v), want credentials_not_allowed", rep.Denied, err)
	}
	if _, err := Run(context.Background(), Options{URL: srv.URL, Origin: page, Headers: []string{": x"}}); err == nil {
		t.Error("a header without a name was accepted")
	}
}

// A hostile server's headers and body cannot drive the terminal (escape
// sequences are printed escaped) or become GitHub Actions workflow commands
// in a deploy job's log (no line starts with "::", no "##[" is left).
func TestHostileServerOutputIsSafe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	body := "::warning::pwned\r\n  ::add-mask::x\n##[set-env name=A]b\x1b]0;title\x07 \x1b[31mred"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				time.Sleep(10 * time.Millisecond) // the rest of the request
				if strings.HasPrefix(line, "OPTIONS") {
					fmt.Fprintf(c, "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Methods: POST\r\nAccess-Control-Allow-Headers: Content-Type\r\nVary: Origin\r\nConnection: close\r\n\r\n", page)
					return
				}
				// (Go's client itself refuses control characters in a header.)
				fmt.Fprintf(c, "HTTP/1.1 500 Oops\r\nAccess-Control-Allow-Origin: %s\r\nVary: Origin\r\nX-Note: ::error::x\u202e ##[debug]y\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", page, len(body), body)
			}()
		}
	}()
	rep, err := Run(context.Background(), Options{URL: "http://" + ln.Addr().String() + "/dev/predict", Origin: page, Body: validBody, ErrorBody: DefaultErrorBody})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.WriteText(&out)
	text := out.String()
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "##["} {
		if strings.Contains(text, bad) {
			t.Errorf("the report holds %q:\n%s", bad, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			t.Errorf("a line starts with \"::\": %q", line)
		}
	}
	if !strings.Contains(text, `\x1b[31mred`) || !strings.Contains(text, "problem: the request itself failed with 500: ::warning::pwned") || !strings.Contains(text, `|   ::add-mask::x`) {
		t.Errorf("the server's data should still be shown, escaped:\n%s", text)
	}
}

// The advice is the caller's where it gives it (cmd/corscheck gives this
// project's: stacks/cors.go, cdk.json), generic where it does not.
func TestFixesAreTheCallers(t *testing.T) {
	srv := server("no-origin")
	defer srv.Close()
	o := Options{URL: srv.URL + "/dev/predict", Origin: page, Body: validBody, Fixes: Fixes{AllowOrigin: "Add it to our config."}}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !strings.Contains(b.String(), "is not an allowed origin. Add it to our config.") {
		t.Errorf("the caller's advice is missing:\n%s", b.String())
	}
}

// With -expect-denied a refusal is what was asked for: the steps say DENY,
// not FAIL, and give no fix that would contradict the PASS below them.
func TestExpectDeniedPrintsNoFailure(t *testing.T) {
	rep := check(t, "no-origin", true)
	var b strings.Builder
	rep.WriteText(&b)
	if !rep.Pass || strings.Contains(b.String(), "FAIL") || strings.Contains(b.String(), "fix:") || !strings.Contains(b.String(), "DENY") {
		t.Errorf("pass=%v:\n%s", rep.Pass, b.String())
	}
}

// Every engine gets a verdict, in -json and in the text, and the strictest
// one is the report's.
func TestAVerdictPerEngine(t *testing.T) {
	for _, flaw := range []string{"", "no-origin"} {
		rep := check(t, flaw, false)
		want := map[string]string{"chromium": "allowed", "firefox": "allowed", "webkit": "allowed"}
		if rep.Denied {
			want = map[string]string{"chromium": "refused", "firefox": "refused", "webkit": "refused"}
		}
		if rep.Denied != (flaw == "no-origin") || !maps.Equal(rep.Engines, want) {
			t.Errorf("%q: denied=%v, engines %v", flaw, rep.Denied, rep.Engines)
		}
		var text, js strings.Builder
		rep.WriteText(&text)
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		line := "engines  Chromium 156: " + want["chromium"] + ", Firefox ESR 153: " + want["firefox"] + ", WebKitGTK 2.50: " + want["webkit"] + "\n"
		if !strings.Contains(text.String(), line) || !strings.Contains(js.String(), `"firefox": "`+want["firefox"]+`"`) {
			t.Errorf("%q: the engines are missing:\n%s\n%s", flaw, text.String(), js.String())
		}
	}
}
