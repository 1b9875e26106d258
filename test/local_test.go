package test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// What `make local` runs is what deploys: the dev environment's cloud
// assembly, synthesized by this run, served with the real function under
// aws-lambda-rie and called the way a browser on the dev origin would.
func TestLocalStackServesTheSynthesizedDevEnvironment(t *testing.T) {
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) { serveDev(t, c) })
	}
}

// serveDev serves the dev environment as c synthesized it: with the
// caller's account, its ARNs and bucket names hold digits, not tokens.
func serveDev(t *testing.T, c *caller) {
	dev := envByName(t, "dev")
	if len(dev.AllowedOrigins) == 0 {
		t.Fatal("the dev environment allows no extra origin; this test calls from its first")
	}
	origin := dev.AllowedOrigins[0]
	a, err := cfn.LoadAssembly(c.assembly, "dev")
	if err != nil {
		t.Fatal(err)
	}
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	s, err := local.Start(context.Background(), local.Config{Root: root, Templates: a.Templates, Region: a.Region, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The requests come from the model the function embeds, whatever it is.
	m := served
	class, x := m.Example()
	good := m.Body(x)
	outOfRange := slices.Clone(x)
	outOfRange[0] = m.Features[0].Max*2 + 1
	predicted := `"` + m.Target + `":"` + class
	if class == "" || m.Task == model.Regression {
		predicted = `"` + m.Target + `":`
	}
	for _, c := range []struct {
		name, method, path, origin, body string
		status                           int
		acao, inBody                     string // acao "": must be absent
	}{
		{"a preflight from the dev origin is allowed", "OPTIONS", "predict", origin, "", 204, origin, ""},
		{"a preflight from another origin gets the site's", "OPTIONS", "predict", "https://evil.example", "", 204, "https://distribution830fac52-domainname.local.invalid", ""},
		{"a prediction", "POST", "predict", origin, good, 200, origin, predicted},
		{"another origin's prediction has no CORS headers", "POST", "predict", "https://evil.example", good, 200, "", predicted},
		{"the function's 400 carries CORS", "POST", "predict", origin, m.Body(outOfRange), 400, origin, `"code":"invalid_input"`},
		{"the gateway's model rejects a string for a number, with CORS", "POST", "predict", origin, `{"` + m.Features[0].Name + `":"1"}`, 400, origin, `"message":"The request body must be a JSON object with the numbers`},
		{"the function names an unknown field, with CORS", "POST", "predict", origin, `{"no_such_feature_1":1}`, 400, origin, `unknown field \"no_such_feature_1\"`},
		{"an unknown path is API Gateway's 403, with CORS", "GET", "nope", origin, "", 403, origin, `"code":"MISSING_AUTHENTICATION_TOKEN"`},
		{"the model's description", "GET", "model", origin, "", 200, origin, `"version":"` + m.Version + `"`},
		{"the OpenAPI document, with CORS like every route", "GET", "openapi.json", origin, "", 200, origin, `"openapi":"3.0.3"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.APIURL+c.path, strings.NewReader(c.body))
			req.Header.Set("Origin", c.origin)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.inBody) {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, body, c.status, c.inBody)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != c.acao {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, c.acao)
			}
		})
	}
}
