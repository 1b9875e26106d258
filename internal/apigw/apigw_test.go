package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/cfn"
)

// fakeFunction records the events it gets and answers as told.
type fakeFunction struct {
	events []events.APIGatewayProxyRequest
	answer string
	err    error
}

func (f *fakeFunction) Invoke(_ context.Context, event []byte) ([]byte, error) {
	var e events.APIGatewayProxyRequest
	json.Unmarshal(event, &e)
	f.events = append(f.events, e)
	return []byte(f.answer), f.err
}

// load serves the golden template of an environment (test/testdata), which
// the snapshot tests keep equal to what the CDK app synthesizes.
func load(t *testing.T, env string, fn Invoker, throttle bool) *API {
	t.Helper()
	var ts []*cfn.Template
	for _, stack := range []string{"Api", "Site"} {
		tmpl, err := cfn.Load("../../test/testdata/" + env + "-" + stack + ".template.json")
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tmpl)
	}
	fns := map[string]Invoker{}
	for _, id := range Functions(ts[0]) {
		fns[id] = fn
	}
	api, err := Load(ts[0], &cfn.Resolver{Templates: ts}, Options{Functions: fns, Throttle: throttle})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func do(api *API, method, path string, headers map[string]string, body string) *http.Response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

const siteOrigin = "https://distribution830fac52-domainname.local.invalid"

func TestPreflightFromTheTemplate(t *testing.T) {
	dev, prod := load(t, "dev", nil, false), load(t, "prod", nil, false)
	if got := strings.Join(dev.Paths(), "; "); got != "GET,OPTIONS /model; OPTIONS /; OPTIONS,POST /predict" {
		t.Errorf("paths = %s", got)
	}
	for _, tc := range []struct {
		name   string
		api    *API
		origin string
		want   string
	}{
		{"dev, the developer's origin (VTL)", dev, "http://localhost:8080", "http://localhost:8080"},
		{"dev, the site's origin (static)", dev, siteOrigin, siteOrigin},
		{"dev, another origin gets the site's, which the browser rejects", dev, "https://evil.example", siteOrigin},
		{"prod, localhost is not allowed", prod, "http://localhost:8080", siteOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(tc.api, "OPTIONS", "/"+tc.api.Stage+"/predict", map[string]string{"Origin": tc.origin, "Access-Control-Request-Method": "POST"}, "")
			if resp.StatusCode != 204 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for header, want := range map[string]string{
				"Access-Control-Allow-Origin":  tc.want,
				"Access-Control-Allow-Methods": "GET,POST,OPTIONS",
				"Access-Control-Allow-Headers": "Content-Type",
				"Vary":                         "Origin",
			} {
				if got := resp.Header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
		})
	}
}

func TestGatewayErrorsCarryCORS(t *testing.T) {
	dev := load(t, "dev", &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}, false)
	origin := map[string]string{"Origin": "http://localhost:8080", "Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown path", "GET", "/dev/nope", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"unknown stage", "GET", "/prod/model", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"method without an integration", "DELETE", "/dev/predict", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"body failing the model", "POST", "/dev/predict", `{"sepal_length":"x"}`, 400, "invalid_input"},
		{"body that is not JSON", "POST", "/dev/predict", `{`, 400, "invalid_input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(dev, tc.method, tc.path, origin, tc.body)
			body := readBody(resp)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:8080" {
				t.Errorf("ACAO = %q: the browser would report CORS instead of %d", got, tc.status)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("body %s, want the error envelope with code %s", body, tc.code)
			}
		})
	}
}

func TestProxyEvent(t *testing.T) {
	fn := &fakeFunction{answer: `{"statusCode":201,"headers":{"X-One":"1"},"multiValueHeaders":{"X-Two":["a","b"]},"body":"eyJvayI6dHJ1ZX0=","isBase64Encoded":true}`}
	dev := load(t, "dev", fn, false)
	body := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	resp := do(dev, "POST", "/dev/predict?debug=1&debug=2", map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:8080"}, body)
	if resp.StatusCode != 201 || readBody(resp) != `{"ok":true}` || resp.Header.Get("X-One") != "1" || len(resp.Header.Values("X-Two")) != 2 {
		t.Errorf("response %d %v", resp.StatusCode, resp.Header)
	}
	if len(fn.events) != 1 {
		t.Fatalf("%d invocations, want 1", len(fn.events))
	}
	e := fn.events[0]
	if e.Resource != "/predict" || e.Path != "/predict" || e.HTTPMethod != "POST" || e.Body != body || e.IsBase64Encoded {
		t.Errorf("event = %+v", e)
	}
	if e.RequestContext.Stage != "dev" || e.RequestContext.Path != "/dev/predict" || e.RequestContext.RequestID == "" {
		t.Errorf("requestContext = %+v", e.RequestContext)
	}
	if e.Headers["Origin"] != "http://localhost:8080" || e.QueryStringParameters["debug"] != "2" || len(e.MultiValueQueryStringParameters["debug"]) != 2 {
		t.Errorf("headers %v, query %v %v", e.Headers, e.QueryStringParameters, e.MultiValueQueryStringParameters)
	}
}

func TestFunctionFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     *fakeFunction
		status int
	}{
		{"function error", &fakeFunction{answer: `{"errorMessage":"boom","errorType":"Panic"}`}, 502},
		{"not a proxy response", &fakeFunction{answer: `"hello"`}, 502},
		{"invoke failed", &fakeFunction{err: errors.New("connection refused")}, 502},
		{"timeout", &fakeFunction{err: ErrTimeout}, 504},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(load(t, "dev", tc.fn, false), "GET", "/dev/model", map[string]string{"Origin": "http://localhost:8080"}, "")
			if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8080" {
				t.Errorf("status %d, ACAO %q; want %d with CORS", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tc.status)
			}
		})
	}
}

func TestMissingFunctionSaysSo(t *testing.T) {
	resp := do(load(t, "dev", nil, false), "GET", "/dev/model", nil, "")
	if body := readBody(resp); resp.StatusCode != 502 || !strings.Contains(body, "no local binary for Lambda function Predict") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

func TestStageThrottling(t *testing.T) {
	dev := load(t, "dev", nil, true) // dev: 20 requests/s, burst 40
	throttled := 0
	for range 60 {
		if do(dev, "OPTIONS", "/dev/model", nil, "").StatusCode == 429 {
			throttled++
		}
	}
	if throttled < 10 || throttled > 20 {
		t.Errorf("%d of 60 immediate requests throttled, want about 20 beyond the burst of 40", throttled)
	}
}

func TestUnsupportedTemplatesFailAtLoad(t *testing.T) {
	raw, err := os.ReadFile("../../test/testdata/dev-Api.template.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"VTL outside the subset", `#set($origin = $input.params().header.get(\"Origin\"))`, `#foreach($h in $input.params().header)#end`, `method OPTIONS ApiOPTIONS5886EA5D in dev-Api: response template: line 1 col 1: unsupported directive "foreach"`},
		{"unmappable header", `"gatewayresponse.header.Vary": "'Origin'"`, `"gatewayresponse.header.Vary": "context.requestId"`, `mapping expression "context.requestId" is not emulated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(string(raw), tc.from, tc.to, 1)
			if changed == string(raw) {
				t.Fatalf("fixture text %q not found in the golden template", tc.from)
			}
			path := t.TempDir() + "/dev-Api.template.json"
			os.WriteFile(path, []byte(changed), 0o644)
			tmpl, err := cfn.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
