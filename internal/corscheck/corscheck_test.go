package corscheck

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const page = "https://site.example"

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
		if r.Method == http.MethodOptions {
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
			if flaw != "no-headers" {
				h.Set("Access-Control-Allow-Headers", "Content-Type")
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(204)
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
	rep, err := Run(context.Background(), Options{URL: srv.URL + "/dev/predict", Origin: page, Body: DefaultBody, ErrorBody: DefaultErrorBody, ExpectDenied: expectDenied})
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
		{"no-origin", false, "is not an allowed origin. Add it to environments.<env>.allowedOrigins in cdk.json"},
		{"wrong-origin", false, "The API allows https://d111.cloudfront.net, not https://site.example"},
		{"no-headers", false, "Add the header to CorsPolicy.Headers"},
		{"no-cors-on-errors", false, "this 400 response lacks Access-Control-Allow-Origin"},
		{"redirect", false, "The server redirected (301 to /dev/predict/)"},
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

func TestExpectDenied(t *testing.T) {
	if rep := check(t, "wrong-origin", true); !rep.Pass || !rep.Denied {
		t.Errorf("a refused origin with -expect-denied: pass=%v denied=%v, want both", rep.Pass, rep.Denied)
	}
	if rep := check(t, "", true); rep.Pass {
		t.Error("an allowed origin with -expect-denied passed")
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
