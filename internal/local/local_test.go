package local

import (
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// Which saves synthesize again and which only rebuild the function.
func TestWhatASaveDoes(t *testing.T) {
	for path, want := range map[string]bool{
		"cdk.json": true, "app.go": true, "stacks/api.go": true, project.ModelFile: true, "go.mod": true,
		"functions/predict/main.go": false, "internal/model/model.go": false, "site/app.js": false,
	} {
		if Synthesizes(path) != want {
			t.Errorf("%s: synthesizes %v, want %v", path, !want, want)
		}
	}
}

// make local serves every page of the site with the policy naming the
// local API, as the API stack deploys it, and the other files as they are.
func TestEveryPageNamesTheLocalAPI(t *testing.T) {
	o := Options(t.TempDir())
	for name, want := range map[string]bool{"/index.html": true, "/help/About.HTM": true, "/app.js": false, "/config.json": false} {
		if o.SitePages(name) != want {
			t.Errorf("%s: a page %v, want %v", name, !want, want)
		}
	}
	for e, want := range map[system.Endpoints]string{
		{API: "http://localhost:3000/dev/"}: `content="connect-src 'self' http://localhost:3000/dev/"`,
		// With sign-in, the local issuer's token endpoint joins the API.
		{API: "http://localhost:3000/dev/", SignIn: "http://localhost:8088", Client: "c"}: `content="connect-src 'self' http://localhost:3000/dev/ http://localhost:8088/oauth2/token"`,
	} {
		page, err := o.SitePage([]byte("<!doctype html><meta charset=utf-8><title>x</title>"), e)
		if err != nil || !strings.Contains(string(page), want) {
			t.Errorf("page %q, %v; want %s", page, err, want)
		}
	}
}
