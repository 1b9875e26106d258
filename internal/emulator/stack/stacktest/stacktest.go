// Package stacktest starts the local stack for tests: the dev environment's
// golden templates (test/testdata, kept equal to the synthesized ones by the
// snapshot tests), the real function under aws-lambda-rie, free ports.
package stacktest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/stack"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/sitepage"
)

// DevOrigin is the origin the dev environment allows besides its site.
const DevOrigin = "http://localhost:8080"

// Options adjust the stack for a test.
type Options struct {
	// SiteAddr serves the site there (e.g. "localhost:0"); empty for no site.
	SiteAddr string
	// AllowSite replaces DevOrigin in the templates with the site's own origin,
	// as if cdk.json allowed the port the test got. Browser tests need it.
	AllowSite bool
	Throttle  bool
	Log       io.Writer
	// Model, a model.json, is served instead of the one the function
	// embeds: the function is built with it in place (go build -overlay),
	// and the site's config.json describes it.
	Model string
}

// Start runs the stack until the test ends.
func Start(t testing.TB, o Options) *stack.Stack {
	t.Helper()
	s, stop, err := start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

func start(o Options) (s *stack.Stack, stop func(), err error) {
	root, err := project.Root()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "iris-templates-")
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
	lo := stack.Options{
		SiteConfig:  func(apiURL string) []byte { return sitepage.Config(apiURL, served) },
		Functions:   map[string]string{"Predict": function},
		ModuleRoot:  root,
		APIAddr:     "127.0.0.1:0",
		Throttle:    o.Throttle,
		Concurrency: 2,
		Log:         o.Log,
	}
	siteOrigin := ""
	if o.SiteAddr != "" {
		lo.SiteDir = filepath.Join(root, "site")
		lo.SiteAddr = o.SiteAddr
		if o.AllowSite {
			// The templates must name the site's origin before the stack
			// starts: listen now and hand the listener to the stack.
			if lo.SiteListener, err = net.Listen("tcp", o.SiteAddr); err != nil {
				return nil, nil, err
			}
			defer func() {
				if err != nil {
					lo.SiteListener.Close()
				}
			}()
			siteOrigin = stack.Origin(o.SiteAddr, lo.SiteListener)
		}
	}
	for _, stack := range []string{"Api", "Site"} {
		raw, err := os.ReadFile(filepath.Join(root, "test", "testdata", "dev-"+stack+".template.json"))
		if err != nil {
			return nil, nil, err
		}
		text := string(raw)
		if siteOrigin != "" {
			text = strings.ReplaceAll(text, DevOrigin, siteOrigin)
		}
		path := filepath.Join(dir, "dev-"+stack+".template.json")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, nil, err
		}
		tmpl, err := cfn.Load(path)
		if err != nil {
			return nil, nil, err
		}
		lo.Templates = append(lo.Templates, tmpl)
	}
	if s, err = stack.Start(context.Background(), lo); err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }, nil
}

// serve is the model to serve and the function that serves it: the served
// model and the function's package, or the model at path and the function
// built with it in dir.
func serve(root, dir, path string) (*model.Model, string, error) {
	if path == "" {
		m, err := model.Load(filepath.Join(root, project.ModelFile))
		return m, "./functions/predict", err
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
	err = project.Build{Root: root, Package: "./functions/predict", Out: bin, Host: true, Overlay: overlayFile}.Run(context.Background())
	return m, bin, err
}
