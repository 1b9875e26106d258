// Package localtest starts the local system for tests: the dev
// environment's golden templates (test/testdata, kept equal to the
// synthesized ones by the snapshot tests), the project's function under
// aws-lambda-rie (internal/local), free ports.
package localtest

import (
	"context"
	"encoding/json"
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

// DevOrigin is the origin cdk.json's dev environment allows besides its
// site (its first).
func DevOrigin(t testing.TB) string {
	t.Helper()
	origin, err := devOrigin()
	if err != nil {
		t.Fatal(err)
	}
	return origin
}

func devOrigin() (string, error) {
	root, err := project.Root()
	if err != nil {
		return "", err
	}
	return local.DevOrigin(root)
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
	served, function, err := serve(root, dir, o.Model)
	if err != nil {
		return nil, nil, err
	}
	lo := local.Served(local.Options(root), served)
	lo.Functions = map[string]string{project.FunctionID: function}
	lo.APIAddr, lo.Throttle, lo.Concurrency, lo.Log = "127.0.0.1:0", o.Throttle, 2, o.Log
	siteOrigin := o.AllowOrigin
	if o.SiteAddr != "" {
		lo.SiteAddr = o.SiteAddr
		if o.AllowSite {
			// The templates must name the site's origin before the system
			// starts: listen now and hand the listener to it.
			if lo.SiteListener, err = net.Listen("tcp", o.SiteAddr); err != nil {
				return nil, nil, err
			}
			defer func() {
				if err != nil {
					lo.SiteListener.Close()
				}
			}()
			siteOrigin = system.Origin(o.SiteAddr, lo.SiteListener)
		}
	}
	golden := "dev-"
	if o.SignIn {
		golden, lo.SignInAddr = "signin-dev-", "localhost:0"
	}
	if lo.Templates, err = devTemplates(root, golden, siteOrigin); err != nil {
		return nil, nil, err
	}
	if s, err = system.Start(context.Background(), lo); err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }, nil
}

// devTemplates are the dev environment's golden templates (their names
// starting with golden), with siteOrigin allowed in the dev origin's place
// when it is set.
func devTemplates(root, golden, siteOrigin string) ([]*cfn.Template, error) {
	devOrigin, err := devOrigin()
	if err != nil {
		return nil, err
	}
	var templates []*cfn.Template
	for _, stack := range []string{config.APIStackID, config.SiteStackID} {
		tmpl, err := cfn.Load(filepath.Join(root, "test", "testdata", golden+stack+".template.json"))
		if err != nil {
			return nil, err
		}
		if siteOrigin != "" {
			tmpl.Replace(devOrigin, siteOrigin)
		}
		templates = append(templates, tmpl)
	}
	return templates, nil
}

// serve is the model to serve and the function that serves it: the served
// model and the function's package, or the model at path and the function
// built with it in dir.
func serve(root, dir, path string) (*model.Model, string, error) {
	if path == "" {
		m, err := model.Load(filepath.Join(root, project.ModelFile))
		return m, project.FunctionPackage, err
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, project.ModelFile): abs}})
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return nil, "", err
	}
	bin := filepath.Join(dir, "predict", "bootstrap")
	err = project.Build{Root: root, Package: project.FunctionPackage, Out: bin, Host: true, Overlay: overlayFile}.Run(context.Background())
	return m, bin, err
}
