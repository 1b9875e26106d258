// Package local configures the emulator (internal/emulator/system) for this
// project: its function's package and build, and what its API stack's
// deployment writes into the site. make local, the tests and the benchmarks
// run the project through it.
package local

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/sitepage"
)

// Options run the project at root: its function built from its package as
// the stack bundles it (for this machine instead of arm64 Linux), the site
// served with the config.json and the pages the deployment writes. The
// config.json describes the model root's model.json holds now, read at each
// (re)load; Served replaces it.
func Options(root string) system.Options {
	return system.Options{
		ModuleRoot: root,
		Functions:  map[string]string{project.FunctionID: project.FunctionPackage},
		Build: func(ctx context.Context, pkg, out string) error {
			return project.Build{Root: root, Package: pkg, Out: out, Host: true}.Run(ctx)
		},
		SiteConfig: func(e system.Endpoints) []byte {
			m, err := model.Load(filepath.Join(root, project.ModelFile))
			if err != nil {
				return []byte(fmt.Sprintf(`{"error": %q}`, err.Error()))
			}
			return sitepage.Config(e.API, m, signIn(e))
		},
		SitePages: sitepage.IsPage,
		SitePage: func(page []byte, e system.Endpoints) ([]byte, error) {
			var others []string
			if e.SignIn != "" {
				others = append(others, e.SignIn+"/oauth2/token")
			}
			rewritten, err := sitepage.WithAPI(string(page), e.API, others...)
			return []byte(rewritten), err
		},
		SignInAddr: project.SignInAddr,
	}
}

// signIn is where the page signs in locally, nil without a local issuer.
func signIn(e system.Endpoints) *model.SignIn {
	if e.SignIn == "" {
		return nil
	}
	return &model.SignIn{URL: e.SignIn, ClientID: e.Client, Issuer: e.Issuer}
}

// Served makes o serve the site a config.json of m.
func Served(o system.Options, m *model.Model) system.Options {
	o.SiteConfig = func(e system.Endpoints) []byte { return sitepage.Config(e.API, m, signIn(e)) }
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

// DevOrigin is the first origin cdk.json's dev environment allows besides
// its site (make local's page, by default): what the tests and benchmarks
// call the local API from.
func DevOrigin(root string) (string, error) {
	envs, err := config.Load(filepath.Join(root, "cdk.json"))
	if err != nil {
		return "", err
	}
	dev, err := config.Select(envs, []string{"dev"})
	if err != nil {
		return "", err
	}
	if len(dev[0].AllowedOrigins) == 0 {
		return "", fmt.Errorf("cdk.json: environments.dev.allowedOrigins is empty; the local tests and benchmarks call from its first")
	}
	return dev[0].AllowedOrigins[0], nil
}
