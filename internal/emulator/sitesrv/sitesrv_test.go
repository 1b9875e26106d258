package sitesrv

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

func TestHeadersFromTheTemplate(t *testing.T) {
	tmpl, err := cfn.Load("testdata/site.template.json")
	if err != nil {
		t.Fatal(err)
	}
	h, root, err := FromTemplate(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if root != "home.html" {
		t.Errorf("root object %q, want the distribution's home.html", root)
	}
	for k, want := range map[string]string{
		"X-Frame-Options":           "SAMEORIGIN",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": "max-age=600; includeSubDomains; preload",
		"Permissions-Policy":        "camera=()",
		"Content-Security-Policy":   "default-src 'self'; connect-src 'self' https://*.execute-api.eu-west-1.amazonaws.com; frame-ancestors 'none'",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestAddConnectSrc(t *testing.T) {
	got := AddConnectSrc("default-src 'self'; connect-src 'self' https://a; frame-ancestors 'none'", "http://localhost:3000")
	if want := "default-src 'self'; connect-src 'self' https://a http://localhost:3000; frame-ancestors 'none'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := AddConnectSrc("default-src 'self'", "http://x"); got != "default-src 'self'; connect-src http://x" {
		t.Errorf("without connect-src: %q", got)
	}
}

// Any fs.FS, served as CloudFront serves the bucket: the root object for
// "/", the headers on every answer, no listings, nothing outside the FS,
// GET and HEAD only; every answer revalidated (a local file changes).
func TestServingAnFS(t *testing.T) {
	files := fstest.MapFS{
		"index.html":      {Data: []byte("<h1>hi</h1>")},
		"sub/page.html":   {Data: []byte("page")},
		"notes.txt":       {Data: []byte("notes")},
		"config.json":     {Data: []byte(`{"apiUrl":"http://localhost:3000/dev/"}`)},
		"sub/nested/x.js": {Data: []byte("x")},
	}
	s := &Site{FS: files, RootObject: "index.html", Headers: http.Header{"X-Frame-Options": {"DENY"}}}
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "<h1>hi</h1>"},
		{"GET", "/config.json", 200, `{"apiUrl":"http://localhost:3000/dev/"}`},
		{"GET", "/sub/page.html", 200, "page"},
		{"HEAD", "/notes.txt", 200, ""},
		{"GET", "/../notes.txt", 200, "notes"}, // cleaned to /notes.txt, as a browser would send it
		{"GET", "/%2e%2e/secret.txt", 404, ""},
		{"GET", "/sub/", 404, ""},
		{"GET", "/sub", 404, ""},
		{"GET", "/sub\\page.html", 404, ""},
		{"GET", "/missing.html", 404, ""},
		{"POST", "/", 405, ""},
	} {
		req := httptest.NewRequest(tc.method, "http://site"+tc.path, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.status || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status, tc.body)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s: security headers missing", tc.method, tc.path)
		}
		if rec.Code == 200 && rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s %s: Cache-Control %q", tc.method, tc.path, rec.Header().Get("Cache-Control"))
		}
	}
}
