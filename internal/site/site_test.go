package site

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// writer writes files of dir by slash path, making their directories.
func writer(t *testing.T, dir string) func(name, content string) {
	return func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fixture is a site with everything that must not be published beside
// what must: tests, a dotfile, a .git directory, .DS_Store, symlinks out
// of the site and to hidden files, and a symlink to a published file.
func fixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	write := writer(t, dir)
	write("index.html", "<!doctype html><meta charset=utf-8><title>x</title>")
	write("help/about.htm", "<!doctype html><meta charset=utf-8><title>about</title>")
	write("app.js", "app")
	write("style.css", "css")
	write("lib.test.js", "test")
	write("lib.test.mjs", "test")
	write("test/fixture.html", "fixture")
	write(".env", "TOKEN=x")
	write(".git/config", "[core]")
	write(".DS_Store", "finder")
	write("img/.hidden.png", "hidden")
	if err := os.WriteFile(filepath.Join(dir, "..", "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"leak.txt": filepath.Join(dir, "..", "secret.txt"), "etc": "/etc", "x.txt": ".env",
		"config.txt": ".git/config", "lib.js": "lib.test.js", "alias.css": "style.css", "dangling.txt": "nowhere",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var published = []string{"alias.css", "app.js", "help/about.htm", "index.html", "style.css"}

// One rule of what the site publishes, for the deployment and make local
// alike: no dotfile or dot directory, no test, nothing a symlink takes out
// of the site or to a hidden file. Before, cdk deploy published site/.env,
// .git/, .DS_Store and a symlink's target outside site/, which make local
// refused.
func TestOneRuleOfWhatIsPublished(t *testing.T) {
	dir := fixture(t)
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, published) {
		t.Errorf("Files = %v, want %v", files, published)
	}
	unpublished, err := Unpublished(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".DS_Store", ".env", ".git", "config.txt", "dangling.txt", "etc", "img/.hidden.png", "leak.txt", "lib.js", "lib.test.js", "lib.test.mjs", "test", "x.txt"}
	if slices.Sort(unpublished); !slices.Equal(unpublished, want) {
		t.Errorf("Unpublished = %v, want %v", unpublished, want)
	}
}

// What make local serves is Content as an fs.FS: the published files, the
// pages with the policy naming the API and the sign-in's token endpoint,
// and config.json; nothing else is there.
func TestContentServesWhatIsPublished(t *testing.T) {
	m, err := project.Served()
	if err != nil {
		t.Fatal(err)
	}
	c := Content{Dir: fixture(t), APIURL: "http://localhost:3000/dev/", Model: m,
		SignIn: &SignIn{URL: "http://localhost:8088", ClientID: "client", Issuer: "http://localhost:8088/pool"}}
	for _, name := range published {
		f, err := c.Open(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		if IsPage(name) && !strings.Contains(string(raw), `content="connect-src 'self' http://localhost:3000/dev/ http://localhost:8088/oauth2/token"`) {
			t.Errorf("%s has no policy naming the API and the token endpoint: %s", name, raw)
		}
	}
	for _, name := range []string{".env", ".git/config", "lib.test.js", "test/fixture.html", "leak.txt", "x.txt", "config.txt", "lib.js", "etc/passwd", ".", "help", "../secret.txt"} {
		if f, err := c.Open(name); err == nil {
			f.Close()
			t.Errorf("%s is served", name)
		}
	}
	f, err := c.Open(ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		APIURL string `json:"apiUrl"`
		Model  model.Public
		SignIn struct{ URL, ClientID, Issuer string }
	}
	if err := json.NewDecoder(f.(io.Reader)).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.APIURL != c.APIURL || got.Model.Version != m.Version || len(got.Model.Features) != len(m.Features) || got.SignIn.Issuer != "http://localhost:8088/pool" {
		t.Errorf("config.json = %+v", got)
	}
	if _, err := fs.ReadDir(c, "."); err == nil {
		t.Error("the site lists a directory")
	}
}
