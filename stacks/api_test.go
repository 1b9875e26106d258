package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every HTML page the site has, at any depth and in either spelling, is
// deployed with the policy; what stays in the repository (tests) is not.
func TestSitePagesAreEveryPage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := "<!doctype html><meta charset=utf-8><title>x</title>"
	write("index.html", page)
	write("help/about.htm", page)
	write("Guide.HTML", page)
	write("app.js", "")
	write("test/fixture.html", page)
	write("page.test.js", "")

	pages, err := SitePages(dir, "https://api.example/dev/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pages {
		names = append(names, p.Name)
		if !strings.Contains(p.Content, `content="connect-src 'self' https://api.example/dev/"`) {
			t.Errorf("%s: no policy naming the API in %q", p.Name, p.Content)
		}
	}
	if got, want := strings.Join(names, " "), "Guide.HTML help/about.htm index.html"; got != want {
		t.Errorf("pages %q, want %q", got, want)
	}
}

// A page whose policy would come too late fails synth naming the page.
func TestSitePagesNameAPageWithoutAPlace(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><meta charset=utf-8>"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.html"), []byte("<script src=early.js></script><meta charset=utf-8>"), 0o644)
	_, err := SitePages(dir, "https://api.example/dev/")
	if err == nil || !strings.Contains(err.Error(), "broken.html") {
		t.Fatalf("error %v, want one naming broken.html", err)
	}
}
