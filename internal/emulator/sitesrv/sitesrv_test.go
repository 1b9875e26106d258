package sitesrv

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func TestServing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hi</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "lib.test.js"), []byte("test"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "..", "secret.txt"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("TOKEN=x"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[core]"), 0o644)
	os.WriteFile(filepath.Join(dir, "inside.txt"), []byte("inside"), 0o644)
	os.Symlink(filepath.Join(dir, "..", "secret.txt"), filepath.Join(dir, "leak.txt"))
	os.Symlink("/etc", filepath.Join(dir, "etc"))
	os.Symlink("inside.txt", filepath.Join(dir, "alias.txt"))
	os.Symlink(".env", filepath.Join(dir, "x.txt"))             // a dotfile behind a plain name
	os.Symlink(".git/config", filepath.Join(dir, "config.txt")) // a file in a dot directory
	os.Symlink("lib.test.js", filepath.Join(dir, "lib.js"))
	s := &Site{Dir: dir, RootObject: "index.html", Headers: http.Header{"X-Frame-Options": {"DENY"}}, Config: []byte(`{"apiUrl":"http://localhost:3000/dev/"}`)}
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "<h1>hi</h1>"},
		{"GET", "/config.json", 200, `{"apiUrl":"http://localhost:3000/dev/"}`},
		{"GET", "/../secret.txt", 404, ""},
		{"GET", "/%2e%2e/secret.txt", 404, ""},
		{"GET", "/sub/", 404, ""},
		{"GET", "/sub", 404, ""},
		{"GET", "/lib.test.js", 404, ""},
		{"GET", "/.env", 404, ""},
		{"GET", "/.git/config", 404, ""},
		{"GET", "/sub/../.env", 404, ""},
		{"GET", "/leak.txt", 404, ""},
		{"GET", "/etc/passwd", 404, ""},
		{"GET", "/alias.txt", 200, "inside"},
		{"GET", "/x.txt", 404, ""},
		{"GET", "/config.txt", 404, ""},
		{"GET", "/lib.js", 404, ""},
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
	}
}

// The files an app rewrites at deploy time are served rewritten, the root
// object included; the others as they are on disk.
func TestRewrittenFiles(t *testing.T) {
	dir := t.TempDir()
	page := []byte("<head><script src=app.js></script>")
	os.WriteFile(filepath.Join(dir, "index.html"), page, 0o644)
	os.MkdirAll(filepath.Join(dir, "help"), 0o755)
	os.WriteFile(filepath.Join(dir, "help", "About.HTM"), page, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), page, 0o644)
	s := &Site{Dir: dir,
		Rewrites: func(name string) bool {
			return strings.HasSuffix(strings.ToLower(name), ".html") || strings.HasSuffix(name, ".HTM")
		},
		Rewrite: func(b []byte) ([]byte, error) { return bytes.ToUpper(b), nil },
	}
	for path, want := range map[string][]byte{"/": bytes.ToUpper(page), "/index.html": bytes.ToUpper(page), "/help/About.HTM": bytes.ToUpper(page), "/notes.txt": page} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "http://site"+path, nil))
		if rec.Body.String() != string(want) {
			t.Errorf("GET %s: %q, want %q", path, rec.Body.String(), want)
		}
	}
	s.Rewrite = func([]byte) ([]byte, error) { return nil, errors.New("no place for the policy") }
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "http://site/index.html", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "no place for the policy") {
		t.Errorf("a failed rewrite: %d %q", rec.Code, rec.Body.String())
	}
}
