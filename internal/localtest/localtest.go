// Package localtest starts the local system for tests: the dev
// environment's golden templates (test/testdata, kept equal to the
// synthesized ones by the snapshot tests), the project's function under
// aws-lambda-rie, free ports. It says what the test wants as a
// local.Config and starts it as cmd/local does (local.Start).
package localtest

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// DevOrigin is the origin the dev environment allows besides its site (its
// templates say which), where the tests call the local API from.
func DevOrigin(t testing.TB) string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	templates, err := devTemplates(root, "dev-")
	if err != nil {
		t.Fatal(err)
	}
	origin, err := local.DevOrigin(templates, "")
	if err != nil {
		t.Fatal(err)
	}
	return origin
}

// Options adjust the system for a test.
type Options struct {
	// SiteAddr serves the site there (e.g. "localhost:0"); empty for no site.
	SiteAddr string
	// AllowSite replaces the dev origin in the templates with the site's own origin,
	// as if cdk.json allowed the port the test got. Browser tests need it.
	AllowSite bool
	// AllowOrigin replaces the dev origin with this one instead: a front
	// end the test serves itself (its preflights, the function's allowed
	// origins and the sign-in's callbacks follow).
	AllowOrigin string
	Throttle    bool
	Log         io.Writer
	// SignIn serves dev with "auth": "cognito" (the signin-dev golden
	// templates), with the local issuer on a free port.
	SignIn bool
	// Model, a model.json, is served instead of the one the function
	// embeds: the function is built with it in place (go build -overlay),
	// and the site's config.json describes it.
	Model string
}

// Start runs the system until the test ends.
func Start(t testing.TB, o Options) *system.System {
	t.Helper()
	s, stop, err := start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

func start(o Options) (s *system.System, stop func(), err error) {
	root, err := project.Root()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "iris-localtest-")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	c := local.Config{Root: root, APIAddr: "127.0.0.1:0", Throttle: o.Throttle, Log: o.Log, AllowOrigin: o.AllowOrigin}
	if c.Model, c.Functions, err = serve(root, dir, o.Model); err != nil {
		return nil, nil, err
	}
	golden := "dev-"
	if o.SignIn {
		golden, c.SignInAddr = "signin-dev-", "localhost:0"
	}
	if c.Templates, err = devTemplates(root, golden); err != nil {
		return nil, nil, err
	}
	if o.SiteAddr != "" {
		c.SiteDir, c.SiteAddr = filepath.Join(root, "site"), o.SiteAddr
		if o.AllowSite {
			// The templates must name the site's origin before the system
			// starts: listen now and hand the listener to it.
			if c.SiteListener, err = net.Listen("tcp", o.SiteAddr); err != nil {
				return nil, nil, err
			}
			defer func() {
				if err != nil {
					c.SiteListener.Close()
				}
			}()
			c.AllowOrigin = system.Origin(o.SiteAddr, c.SiteListener)
		}
	}
	if s, err = local.Start(context.Background(), c); err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }, nil
}

// devTemplates are the dev environment's golden templates, their names
// starting with golden.
func devTemplates(root, golden string) ([]*cfn.Template, error) {
	var templates []*cfn.Template
	for _, stack := range []string{config.APIStackID, config.SiteStackID} {
		tmpl, err := cfn.Load(filepath.Join(root, "test", "testdata", golden+stack+".template.json"))
		if err != nil {
			return nil, err
		}
		templates = append(templates, tmpl)
	}
	return templates, nil
}

// serve is the model to serve and the functions that serve it: the served
// model and the function's package, or the model at path and the function
// built with it in dir.
func serve(root, dir, path string) (*model.Model, map[string]string, error) {
	if path == "" {
		m, err := model.Load(filepath.Join(root, project.ModelFile))
		return m, nil, err
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, nil, err
	}
	bin := filepath.Join(dir, "predict", "bootstrap")
	err = project.Build{Root: root, Package: project.FunctionPackage, Out: bin, Host: true, Model: path}.Run(context.Background())
	return m, map[string]string{project.FunctionID: bin}, err
}
