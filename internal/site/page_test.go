package site

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithAPI(t *testing.T) {
	const meta = `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' https://abc.execute-api.eu-west-1.amazonaws.com/dev/">`
	for _, tc := range []struct{ name, page, after, before string }{
		{"after charset", "<!doctype html><html><head>\n<meta charset=\"utf-8\">\n<script src=app.js></script>", "<meta charset", "<script"},
		{"after head", "<html><HEAD lang=en><link rel=stylesheet href=s.css>", "<HEAD", "<link"},
		{"no head", "<!doctype html><title>t</title><script src=a.js></script>", "<!doctype html>", "<title"},
		{"nothing", "<p>hi<img src=x.png>", "", "<p>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WithAPI(tc.page, "https://abc.execute-api.eu-west-1.amazonaws.com/dev/")
			if err != nil {
				t.Fatal(err)
			}
			// A <meta> policy covers only what the page loads after it;
			// the charset comes first of all.
			if h, i, j := strings.Index(got, tc.after), strings.Index(got, meta), strings.Index(got, tc.before); i < 0 || i < h || j < i {
				t.Errorf("the policy is not between %s and %s:\n%s", tc.after, tc.before, got)
			}
		})
	}
	if _, err := WithAPI("<script src=a.js></script><head><meta charset=utf-8>", "https://x/"); err == nil || !strings.Contains(err.Error(), "<script> before") {
		t.Errorf("a script before the policy's place: error %v", err)
	}
	// The sign-in's token endpoint joins the API.
	if got, _ := WithAPI("<head>", "https://api.example/dev/", "https://signin.example/oauth2/token"); !strings.Contains(got, `content="connect-src 'self' https://api.example/dev/ https://signin.example/oauth2/token"`) {
		t.Errorf("another source: %s", got)
	}
	// The URL is an attribute value: it cannot end the attribute or the tag.
	got, _ := WithAPI("<head>", `https://x/"><script>`)
	if strings.Contains(got, `"><script>`) {
		t.Errorf("the URL escaped its attribute: %s", got)
	}
}

// Every HTML page the site has, at any depth and in either spelling, is
// deployed with the policy; what stays in the repository (tests) is not.
func TestEveryPageGetsThePolicy(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	page := "<!doctype html><meta charset=utf-8><title>x</title>"
	write("index.html", page)
	write("help/about.htm", page)
	write("Guide.HTML", page)
	write("app.js", "")
	write("test/fixture.html", page)
	write("page.test.js", "")

	pages, err := Content{Dir: dir, APIURL: "https://api.example/dev/"}.Pages()
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
func TestAPageWithoutAPlaceIsNamed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><meta charset=utf-8>"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.html"), []byte("<script src=early.js></script><meta charset=utf-8>"), 0o644)
	_, err := Content{Dir: dir, APIURL: "https://api.example/dev/"}.Pages()
	if err == nil || !strings.Contains(err.Error(), "broken.html") {
		t.Fatalf("error %v, want one naming broken.html", err)
	}
}
