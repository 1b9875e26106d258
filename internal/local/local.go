// Package local is this project's local system: the emulator
// (internal/emulator/system) configured with its function's package and
// build and its site (internal/site), from one Config that cmd/local, the
// tests' local stack and the benchmarks each fill in and Start. The dev
// origin the templates allow is read from them, not from cdk.json again.
package local

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// options run the project at root: its function built from its package as
// the stack bundles it (for this machine instead of arm64 Linux), and the
// site (root's site/) as the API stack deploys it (internal/site), for the
// local API. Its config.json describes the model root's model.json holds
// now, read at each (re)load; served replaces it.
func options(root string) system.Options {
	return siteAt(system.Options{
		ModuleRoot: root,
		Functions:  map[string]string{project.FunctionID: project.FunctionPackage},
		Build: func(ctx context.Context, pkg, out string) error {
			return project.Build{Root: root, Package: pkg, Out: out, Host: true}.Run(ctx)
		},
		SignInAddr: project.SignInAddr,
	}, filepath.Join(root, "site"))
}

// siteAt makes o serve the site in dir, its config.json describing the
// model o.ModuleRoot's model.json holds at each (re)load.
func siteAt(o system.Options, dir string) system.Options {
	modelFile := filepath.Join(o.ModuleRoot, project.ModelFile)
	o.SiteDir = dir
	o.Site = func(e system.Endpoints) fs.FS {
		m, err := model.Load(modelFile)
		if err != nil {
			return fstest.MapFS{site.ConfigFile: {Data: []byte(fmt.Sprintf(`{"error": %q}`, err.Error()))}}
		}
		return Site(dir, e, m)
	}
	return o
}

// Site is what the site in dir serves for the local endpoints e and the
// model m: what the API stack deploys, for the local API and sign-in.
func Site(dir string, e system.Endpoints, m *model.Model) site.Content {
	c := site.Content{Dir: dir, APIURL: e.API, Model: m}
	if e.SignIn != "" {
		c.SignIn = &site.SignIn{URL: e.SignIn, ClientID: e.Client, Issuer: e.Issuer}
	}
	return c
}

// served makes o serve a site whose config.json describes m.
func served(o system.Options, m *model.Model) system.Options {
	dir := o.SiteDir
	o.Site = func(e system.Endpoints) fs.FS { return Site(dir, e, m) }
	return o
}

// Synthesizes tells the saves that change the templates: the app, its
// stacks, cdk.json, the model the function embeds (its schema and form are
// in them), the module's dependencies. Any other Go file only rebuilds the
// function.
func Synthesizes(path string) bool {
	switch path {
	case "cdk.json", "app.go", project.ModelFile, "go.mod", "go.sum":
		return true
	}
	return strings.HasPrefix(path, "stacks/")
}
