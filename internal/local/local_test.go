package local

import (
	"io/fs"
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

// make local serves the site as the API stack deploys it (internal/site),
// for the local API: every page with the policy naming it, and with
// sign-in the local issuer's token endpoint; config.json naming both.
func TestTheSiteIsTheDeployedOneForTheLocalAPI(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	o := options(root)
	for e, want := range map[system.Endpoints]string{
		{API: "http://localhost:3000/dev/"}:                                               `content="connect-src 'self' http://localhost:3000/dev/"`,
		{API: "http://localhost:3000/dev/", SignIn: "http://localhost:8088", Client: "c"}: `content="connect-src 'self' http://localhost:3000/dev/ http://localhost:8088/oauth2/token"`,
	} {
		files := o.Site(e)
		page, err := fs.ReadFile(files, "index.html")
		if err != nil || !strings.Contains(string(page), want) {
			t.Errorf("index.html %.200q, %v; want %s", page, err, want)
		}
		config, err := fs.ReadFile(files, "config.json")
		if err != nil || !strings.Contains(string(config), `"apiUrl":"http://localhost:3000/dev/"`) {
			t.Errorf("config.json %s, %v", config, err)
		}
	}
}
