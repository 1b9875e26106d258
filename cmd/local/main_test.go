package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// make local serves the page a config.json that names the local API and
// the model the function serves, as the deployment writes it.
func TestTheSiteGetsItsConfig(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var m Main
	if err := m.ParseFlags([]string{"-template", filepath.Join("test", "testdata", "dev-Api.template.json"), "-template", filepath.Join("test", "testdata", "dev-Site.template.json")}); err != nil {
		t.Fatal(err)
	}
	o, err := m.Config.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.Site == nil {
		t.Fatal("no site")
	}
	served, err := model.Load(project.ModelFile)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		APIURL string       `json:"apiUrl"`
		Model  model.Public `json:"model"`
	}
	raw, err := fs.ReadFile(o.Site(system.Endpoints{API: "http://localhost:3000/dev/"}), "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.APIURL != "http://localhost:3000/dev/" || got.Model.Version != served.Version {
		t.Errorf("config.json %+v, want the local API and model %s", got, served.Version)
	}
	if _, err := os.Stat(o.ModuleRoot); err != nil || len(o.Templates) != 2 {
		t.Errorf("module root %q, %d templates", o.ModuleRoot, len(o.Templates))
	}
}

// A site served on another address than make local's default is the origin
// the served templates allow in the dev origin's place: its page's calls
// pass CORS as they would from :8080.
func TestASiteOnAnotherPortIsAllowed(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	assembly := t.TempDir()
	dir := filepath.Join(assembly, "assembly-dev")
	os.MkdirAll(dir, 0o755)
	manifest := map[string]any{"artifacts": map[string]any{}}
	for _, stack := range []string{"dev-Api", "dev-Site"} {
		raw, err := os.ReadFile(filepath.Join("test", "testdata", stack+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, stack+".template.json"), raw, 0o644)
		manifest["artifacts"].(map[string]any)[stack] = map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/eu-west-1",
			"properties": map[string]any{"templateFile": stack + ".template.json", "stackName": stack}}
	}
	doc, _ := json.Marshal(manifest)
	os.WriteFile(filepath.Join(dir, "manifest.json"), doc, 0o644)
	const dev = "http://localhost:8080" // cdk.json's, for dev
	for site, want := range map[string]string{"localhost:8081": "http://localhost:8081", "localhost:8080": dev} {
		var m Main
		if err := m.ParseFlags([]string{"-assembly", assembly, "-site", site}); err != nil {
			t.Fatal(err)
		}
		o, err := m.Config.Options()
		if err != nil {
			t.Fatal(err)
		}
		var resources []any
		for _, tmpl := range o.Templates {
			resources = append(resources, tmpl.Resources)
		}
		served, _ := json.Marshal(resources)
		if !strings.Contains(string(served), want) || want != dev && strings.Contains(string(served), dev) {
			t.Errorf("site %s: the served templates do not allow %s instead of %s", site, want, dev)
		}
	}
}

// A taken address says what to type instead.
func TestABusyPortSaysWhatToType(t *testing.T) {
	for busy, want := range map[*system.AddrInUse]string{
		{What: "API", Addr: "localhost:3000"}:  "make local API=localhost:3001 (or go run ./cmd/local -api localhost:3001)",
		{What: "site", Addr: "localhost:8080"}: "make local SITE=localhost:8081 (or go run ./cmd/local -site localhost:8081)",
	} {
		if err := another(fmt.Errorf("start: %w", busy)); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %q, want it to say %q", busy, err, want)
		}
	}
}
