package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// Config is one run of this project's local system, as cmd/local's flags,
// the tests' local stack (internal/localtest) and the benchmarks each say
// it: one value, which Start turns into the running system.
type Config struct {
	Root string // the module root (project.Root)
	// The templates served: the Stage Env of the cloud assembly Assembly
	// (cdk synth -o), or Templates as given (any RestApi: then no function
	// is the project's unless Functions says so) in Region.
	Assembly, Env string
	Templates     []*cfn.Template
	Region        string
	// Functions maps a function's logical ID (or its prefix) to a Go
	// package or a bootstrap to run; nil runs the project's function.
	Functions   map[string]string
	FunctionEnv map[string]string
	// Model describes the served model in the site's config.json; nil
	// reads the module's model.json at each (re)load.
	Model *model.Model
	// The addresses (port 0: a free one), or listeners handed over.
	APIAddr, SiteAddr, SignInAddr             string
	APIListener, SiteListener, SignInListener net.Listener
	SiteDir                                   string // the site's files; "" serves no site
	// AllowOrigin is allowed in the templates as served in place of the
	// origin the environment allows besides its site (dev's
	// http://localhost:8080, found in the templates): a site on another
	// port, or a test's own front end. "" leaves the templates as they are.
	AllowOrigin string
	RestApi     string // the RestApi, when a template defines several
	Stage       string
	Throttle    bool
	Concurrency int
	AllowRemote bool
	Log         io.Writer
}

// Load returns the templates c serves and their region: the assembly's
// environment, or c.Templates; with AllowOrigin, that origin in place of
// the environment's other allowed one. It loads the assembly anew at each
// call (make local synthesizes again, then loads).
func (c Config) Load() ([]*cfn.Template, string, error) {
	templates, region := c.Templates, c.Region
	if len(templates) == 0 {
		a, err := cfn.LoadAssembly(c.Assembly, c.Env)
		if err != nil {
			return nil, "", err
		}
		templates, region = a.Templates, a.Region
	}
	if c.AllowOrigin == "" {
		return templates, region, nil
	}
	dev, err := DevOrigin(templates, region)
	if err != nil {
		return nil, "", err
	}
	if dev != c.AllowOrigin {
		for _, t := range templates {
			t.Replace(dev, c.AllowOrigin)
		}
	}
	return templates, region, nil
}

// Options are c as the emulator takes it, the templates loaded.
func (c Config) Options() (system.Options, error) {
	templates, region, err := c.Load()
	if err != nil {
		return system.Options{}, err
	}
	o := options(c.Root)
	o.Templates, o.Region = templates, region
	if c.Functions != nil {
		o.Functions = c.Functions
	}
	o.FunctionEnv, o.RestApi, o.Stage = c.FunctionEnv, c.RestApi, c.Stage
	o.APIAddr, o.SiteAddr, o.SignInAddr = c.APIAddr, c.SiteAddr, cmp.Or(c.SignInAddr, o.SignInAddr)
	o.APIListener, o.SiteListener, o.SignInListener = c.APIListener, c.SiteListener, c.SignInListener
	o.Throttle, o.Concurrency, o.AllowRemote, o.Log = c.Throttle, cmp.Or(c.Concurrency, 2), c.AllowRemote, c.Log
	switch {
	case c.SiteDir == "":
		o.Site, o.SiteDir = nil, ""
	case c.Model != nil:
		o.SiteDir = c.SiteDir
		o = served(o, c.Model)
	default:
		o = siteAt(o, c.SiteDir)
	}
	return o, nil
}

// Start runs c until the system is closed.
func Start(ctx context.Context, c Config) (*system.System, error) {
	o, err := c.Options()
	if err != nil {
		return nil, err
	}
	return system.Start(ctx, o)
}

// DevOrigin is the origin the templates' environment allows besides its
// own site (dev's http://localhost:8080, make local's page): the first of
// the project's function's ALLOWED_ORIGINS that is not the site's
// CloudFront origin, which is only known at deploy (a placeholder locally).
func DevOrigin(templates []*cfn.Template, region string) (string, error) {
	res := &cfn.Resolver{Templates: templates, Region: region}
	for _, t := range templates {
		for _, id := range t.OfType("AWS::Lambda::Function") {
			if !strings.HasPrefix(id, project.FunctionID) {
				continue
			}
			fn, err := res.Function(t, id)
			if err != nil {
				return "", err
			}
			origins := strings.Split(fn.Env["ALLOWED_ORIGINS"], ",")
			if i := slices.IndexFunc(origins, func(o string) bool { return o != "" && !strings.HasSuffix(o, ".invalid") }); i >= 0 {
				return origins[i], nil
			}
			return "", fmt.Errorf("%s: the function allows no origin besides its site's (%q): allow one in cdk.json (environments.<env>.allowedOrigins)", t.Describe(id), fn.Env["ALLOWED_ORIGINS"])
		}
	}
	return "", errors.New("the templates have no " + project.FunctionID + " function, whose ALLOWED_ORIGINS name the origins allowed")
}
