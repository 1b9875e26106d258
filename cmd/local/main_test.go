package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
	templates := []string{filepath.Join("test", "testdata", "dev-Api.template.json"), filepath.Join("test", "testdata", "dev-Site.template.json")}
	o, _, err := configure("", "", templates, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.SiteConfig == nil {
		t.Fatal("no config.json for the site")
	}
	served, err := model.Load(project.ModelFile)
	if err != nil {
		t.Fatal(err)
	}
	var got model.SiteConfig
	if err := json.Unmarshal(o.SiteConfig("http://localhost:3000/dev/"), &got); err != nil {
		t.Fatal(err)
	}
	if got.APIURL != "http://localhost:3000/dev/" || got.Model.Version != served.Version {
		t.Errorf("config.json %+v, want the local API and model %s", got, served.Version)
	}
	if _, err := os.Stat(o.ModuleRoot); err != nil || len(o.Templates) != 2 {
		t.Errorf("module root %q, %d templates", o.ModuleRoot, len(o.Templates))
	}
}
