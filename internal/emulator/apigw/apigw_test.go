package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/oidc"
)

// timeout is an error that says it is one, as the runner's are.
type timeout struct{}

func (timeout) Error() string { return "timed out" }
func (timeout) Timeout() bool { return true }

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

// fixture is this package's own template (testdata/api.template.json).
const fixture = "testdata/api.template.json"

// load serves the fixture (or a variant of it written by the test) with fn
// behind every Lambda integration.
func load(t *testing.T, path string, fn Invoker, opts Options) *API {
	t.Helper()
	tmpl, err := cfn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fn != nil {
		opts.Functions = map[string]Invoker{}
		for _, id := range Functions(tmpl) {
			opts.Functions[id] = fn
		}
	}
	api, err := Load(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}}, opts)
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

const (
	siteOrigin = "https://site.example"  // the preflight's static origin
	devOrigin  = "http://localhost:8080" // the one more its VTL allows
	client     = "X-Client"              // GET /items/{id} requires this header
)

func TestPreflightFromTheTemplate(t *testing.T) {
	api := load(t, fixture, nil, Options{})
	if got := strings.Join(api.Paths(), "; "); got != "GET /items/{id}; OPTIONS,POST /items" {
		t.Errorf("paths = %s", got)
	}
	for _, tc := range []struct {
		name   string
		origin string
		want   string
	}{
		{"the origin its VTL adds is echoed", devOrigin, devOrigin},
		{"the static origin", siteOrigin, siteOrigin},
		{"another origin gets the static one, which the browser rejects", "https://evil.example", siteOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(api, "OPTIONS", "/test/items", map[string]string{"Origin": tc.origin, "Access-Control-Request-Method": "POST"}, "")
			if resp.StatusCode != 204 {
				t.Fatalf("status %d, want 204", resp.StatusCode)
			}
			for header, want := range map[string]string{
				"Access-Control-Allow-Origin":  tc.want,
				"Access-Control-Allow-Methods": "GET,POST,OPTIONS",
				"Access-Control-Allow-Headers": "Content-Type,X-Client",
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
	api := load(t, fixture, &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}, Options{})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown path", "GET", "/test/nope", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"unknown stage", "GET", "/prod/items/1", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"method without an integration", "DELETE", "/test/items", "", 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"body failing the model", "POST", "/test/items", `{"name":1}`, 400, "invalid_item"},
		{"body that is not JSON", "POST", "/test/items", `{`, 400, "invalid_item"},
		{"required header missing", "GET", "/test/items/1", "", 400, "BAD_REQUEST_PARAMETERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(api, tc.method, tc.path, map[string]string{"Origin": devOrigin, "Content-Type": "application/json"}, tc.body)
			body := readBody(resp)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != devOrigin {
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

func TestValidRequestsReachTheFunction(t *testing.T) {
	fn := &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}
	api := load(t, fixture, fn, Options{})
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/test/items", `{"name":"a"}`},
		{"GET", "/test/items/1", ""},
	} {
		if resp := do(api, tc.method, tc.path, map[string]string{"Content-Type": "application/json", client: "t"}, tc.body); resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d, want 200: %s", tc.method, tc.path, resp.StatusCode, readBody(resp))
		}
	}
	if len(fn.events) != 2 {
		t.Errorf("%d invocations, want 2", len(fn.events))
	}
}

func TestProxyEvent(t *testing.T) {
	fn := &fakeFunction{answer: `{"statusCode":201,"headers":{"X-One":"1"},"multiValueHeaders":{"X-Two":["a","b"]},"body":"eyJvayI6dHJ1ZX0=","isBase64Encoded":true}`}
	api := load(t, fixture, fn, Options{})
	resp := do(api, "GET", "/test/items/42?debug=1&debug=2", map[string]string{client: "t", "Origin": devOrigin}, "")
	if resp.StatusCode != 201 || readBody(resp) != `{"ok":true}` || resp.Header.Get("X-One") != "1" || len(resp.Header.Values("X-Two")) != 2 {
		t.Errorf("response %d %v", resp.StatusCode, resp.Header)
	}
	if len(fn.events) != 1 {
		t.Fatalf("%d invocations, want 1", len(fn.events))
	}
	e := fn.events[0]
	if e.Resource != "/items/{id}" || e.Path != "/items/42" || e.HTTPMethod != "GET" || e.PathParameters["id"] != "42" || e.IsBase64Encoded {
		t.Errorf("event = %+v", e)
	}
	if e.RequestContext.Stage != "test" || e.RequestContext.Path != "/test/items/42" || e.RequestContext.RequestID == "" {
		t.Errorf("requestContext = %+v", e.RequestContext)
	}
	if e.Headers["Origin"] != devOrigin || e.QueryStringParameters["debug"] != "2" || len(e.MultiValueQueryStringParameters["debug"]) != 2 {
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
		{"a status code that is no HTTP status", &fakeFunction{answer: `{"statusCode":99}`}, 502},
		{"a status code beyond 599", &fakeFunction{answer: `{"statusCode":1000,"body":"x"}`}, 502},
		{"101 Switching Protocols", &fakeFunction{answer: `{"statusCode":101}`}, 502},
		{"103 Early Hints", &fakeFunction{answer: `{"statusCode":103,"body":"{}"}`}, 502},
		{"a status code as a string", &fakeFunction{answer: `{"statusCode":"200"}`}, 502},
		{"invoke failed", &fakeFunction{err: errors.New("connection refused")}, 502},
		{"timeout", &fakeFunction{err: timeout{}}, 504},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(load(t, fixture, tc.fn, Options{}), "GET", "/test/items/1", map[string]string{"Origin": devOrigin, client: "t"}, "")
			if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != devOrigin {
				t.Errorf("status %d, ACAO %q; want %d with CORS", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tc.status)
			}
		})
	}
}

// A body API Gateway takes (under 10 MB: JSON white space passes any
// validator) but Lambda's 6 MB invoke limit refuses is API Gateway's 413,
// readable across origins, and the function never runs: an anonymous
// caller moves none of the function's metrics, which are what roll a
// deployment back (TestRollbackAlarmsMeasureTheVersion, test/rollout_test.go).
func TestABodyOverLambdasLimitNeverReachesTheFunction(t *testing.T) {
	fn := &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}
	api := load(t, fixture, fn, Options{})
	headers := map[string]string{"Content-Type": "application/json", "Origin": devOrigin}
	for _, size := range []int{6<<20 + 1, 7 << 20, 10<<20 - 1} {
		body := `{"name":"a"` + strings.Repeat(" ", size-len(`{"name":"a"}`)) + "}"
		resp := do(api, "POST", "/test/items", headers, body)
		if got := readBody(resp); resp.StatusCode != 413 || resp.Header.Get("Access-Control-Allow-Origin") != devOrigin || !strings.Contains(got, "Request Too Long") {
			t.Errorf("%d bytes: %d %q, ACAO %q; want 413 Request Too Long with CORS", size, resp.StatusCode, got, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if len(fn.events) != 0 {
		t.Errorf("the function ran %d times; Lambda refuses such an invoke before it runs", len(fn.events))
	}
	if resp := do(api, "POST", "/test/items", headers, `{"name":"a"`+strings.Repeat(" ", 5<<20)+"}"); resp.StatusCode != 200 || len(fn.events) != 1 {
		t.Errorf("a 5 MB body: %d, %d invocations; want the function's answer", resp.StatusCode, len(fn.events))
	}
}

func TestMissingFunctionSaysSo(t *testing.T) {
	resp := do(load(t, fixture, nil, Options{}), "GET", "/test/items/1", map[string]string{client: "t"}, "")
	if body := readBody(resp); resp.StatusCode != 502 || !strings.Contains(body, "no local binary for Lambda function Fn") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// The stage allows 2 requests a second with a burst of 3. The clock stands
// still unless the test moves it, so the count is exact on any machine.
func TestStageThrottling(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	api := load(t, fixture, nil, Options{Throttle: true, Now: func() time.Time { return now }})
	statuses := func(n int) (got []int) {
		for range n {
			got = append(got, do(api, "OPTIONS", "/test/items", nil, "").StatusCode)
		}
		return got
	}
	if got, want := statuses(5), []int{204, 204, 204, 429, 429}; !slices.Equal(got, want) {
		t.Errorf("5 requests at once: %v, want the burst of 3 then 429s %v", got, want)
	}
	now = now.Add(time.Second)
	if got, want := statuses(3), []int{204, 204, 429}; !slices.Equal(got, want) {
		t.Errorf("one second later: %v, want the rate of 2 then a 429 %v", got, want)
	}
	if resp := do(load(t, fixture, nil, Options{Now: func() time.Time { return now }}), "OPTIONS", "/test/items", nil, ""); resp.StatusCode != 204 {
		t.Errorf("without Throttle: status %d, want 204", resp.StatusCode)
	}
}

func TestUnsupportedTemplatesFailAtLoad(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"VTL outside the subset", `#set($origin = $input.params().header.get(\"Origin\"))`, `#foreach($h in $input.params().header)#end`, `method OPTIONS ItemsOptions in api: response template: line 1 col 1: unsupported directive "foreach"`},
		{"unmappable header", `"gatewayresponse.header.Vary": "'Origin'"`, `"gatewayresponse.header.Vary": "context.requestId"`, `mapping expression "context.requestId" is not emulated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := variant(t, tc.from, tc.to, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// variant writes the fixture with one piece of text replaced and loads it.
func variant(t *testing.T, from, to string, opts Options) (*API, error) {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(raw), from, to, 1)
	if changed == string(raw) {
		t.Fatalf("fixture text %q not found in %s", from, fixture)
	}
	path := filepath.Join(t.TempDir(), "api.template.json")
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := cfn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return Load(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}}, opts)
}

// What the emulator cannot check (authorizers, IAM, API keys), it refuses as
// API Gateway refuses a request without credentials, with the gateway
// response's CORS headers, and says so when it loads.
func TestProtectedMethodsFailClosed(t *testing.T) {
	const get = `"AuthorizationType": "NONE",
        "HttpMethod": "GET",`
	for _, tc := range []struct {
		name, to string
		status   int
		code     string
	}{
		{"a Lambda (TOKEN or REQUEST) authorizer", `"AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "Auth"}, "HttpMethod": "GET",`, 401, "UNAUTHORIZED"},
		{"a Cognito authorizer", `"AuthorizationType": "COGNITO_USER_POOLS", "HttpMethod": "GET",`, 401, "UNAUTHORIZED"},
		{"IAM authorization", `"AuthorizationType": "AWS_IAM", "HttpMethod": "GET",`, 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"an API key", `"AuthorizationType": "NONE", "ApiKeyRequired": true, "HttpMethod": "GET",`, 403, "INVALID_API_KEY"},
		{"an API key required by a string", `"AuthorizationType": "NONE", "ApiKeyRequired": "true", "HttpMethod": "GET",`, 403, "INVALID_API_KEY"},
		{"IAM through a condition", `"AuthorizationType": {"Fn::If": ["Secure", "AWS_IAM", "NONE"]}, "HttpMethod": "GET",`, 403, "MISSING_AUTHENTICATION_TOKEN"},
		{"an authorizer through a condition on the region", `"AuthorizationType": {"Fn::If": ["InIreland", "CUSTOM", "NONE"]}, "AuthorizerId": {"Fn::If": ["InIreland", {"Ref": "Auth"}, {"Ref": "AWS::NoValue"}]}, "HttpMethod": "GET",`, 401, "UNAUTHORIZED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}
			api, err := variantWithSections(t, get, tc.to, Options{Functions: map[string]Invoker{"Fn": fn}})
			if err != nil {
				t.Fatal(err)
			}
			resp := do(api, "GET", "/test/items/1", map[string]string{"Origin": devOrigin, client: "t", "Authorization": "Bearer anything"}, "")
			body := readBody(resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.code) || resp.Header.Get("Access-Control-Allow-Origin") != devOrigin {
				t.Errorf("%d %s (ACAO %q), want %d %s with CORS", resp.StatusCode, body, resp.Header.Get("Access-Control-Allow-Origin"), tc.status, tc.code)
			}
			if len(fn.events) != 0 {
				t.Error("the function ran behind a check the emulator cannot make")
			}
			if len(api.Refused) != 1 || !strings.Contains(api.Refused[0], "GET ItemGet") || !strings.Contains(api.Refused[0], fmt.Sprint(tc.status)) {
				t.Errorf("start-up notes %q, want the method and its answer", api.Refused)
			}
		})
	}
}

// sections are the conditions and parameters the variants below use.
const sections = `"Parameters": {"AuthParam": {"Type": "String", "Default": "NONE"}, "Stage": {"Type": "String"}},
  "Conditions": {
    "Secure": {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
    "InIreland": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
    "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
    "AccountIs0": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "000000000000"]}
  },
  "Resources": {`

// variantWithSections is variant with the template's conditions and
// parameters, in eu-west-1.
func variantWithSections(t *testing.T, from, to string, opts Options) (*API, error) {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(strings.Replace(string(raw), from, to, 1), `"Resources": {`, sections, 1)
	tmpl, err := cfn.Parse("api.template.json", []byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	return Load(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}, Region: "eu-west-1"}, opts)
}

// What the emulator cannot decide locally it refuses when it loads, naming
// the method, rather than serve it open: a value that depends on a
// deploy-time parameter, a value that is no authorization.
func TestUndecidableAuthorizationFailsAtLoad(t *testing.T) {
	const get = `"AuthorizationType": "NONE",
        "HttpMethod": "GET",`
	for _, tc := range []struct{ name, to, want string }{
		{"a parameter", `"AuthorizationType": {"Ref": "AuthParam"}, "HttpMethod": "GET",`, "AuthorizationType cannot be decided locally: it depends on the parameter AuthParam"},
		{"a condition on a parameter", `"AuthorizationType": {"Fn::If": ["IsProd", "AWS_IAM", "NONE"]}, "HttpMethod": "GET",`, "condition IsProd: it depends on the parameter Stage"},
		{"an API key flag from a parameter", `"AuthorizationType": "NONE", "ApiKeyRequired": {"Ref": "AuthParam"}, "HttpMethod": "GET",`, "ApiKeyRequired cannot be decided locally"},
		{"an API key flag that is no boolean", `"AuthorizationType": "NONE", "ApiKeyRequired": "yes", "HttpMethod": "GET",`, `ApiKeyRequired "yes" is not true or false`},
		{"an unknown authorization", `"AuthorizationType": "MAGIC", "HttpMethod": "GET",`, `AuthorizationType "MAGIC" is not known`},
		{"an authorizer without its type", `"AuthorizationType": "NONE", "AuthorizerId": {"Ref": "Auth"}, "HttpMethod": "GET",`, "an AuthorizerId with AuthorizationType"},
		{"an undefined condition", `"AuthorizationType": {"Fn::If": ["Nope", "AWS_IAM", "NONE"]}, "HttpMethod": "GET",`, `condition "Nope" is not defined`},
		// The local account is a placeholder: open here, IAM on AWS.
		{"a condition on the account", `"AuthorizationType": {"Fn::If": ["AccountIs0", "NONE", "AWS_IAM"]}, "HttpMethod": "GET",`, "condition AccountIs0: it depends on AWS::AccountId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := variantWithSections(t, get, tc.to, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ItemGet") {
				t.Errorf("error = %v, want one naming the method and %q", err, tc.want)
			}
		})
	}
}

func TestBadStatusCodesFailAtLoad(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"integration response", `"StatusCode": "204"`, `"StatusCode": "2xx"`, `integration response StatusCode: "2xx" is not an HTTP status code`},
		{"gateway response", `"ResponseType": "BAD_REQUEST_BODY",`, `"ResponseType": "BAD_REQUEST_BODY", "StatusCode": "4000",`, `StatusCode: "4000" is not an HTTP status code`},
		{"MOCK request template", `{ statusCode: 200 }`, `{ statusCode: 999 }`, `MOCK request template: "999" is not an HTTP status code`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := variant(t, tc.from, tc.to, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// A template with several RestApis needs one chosen; the others' parts are
// left out.
func TestChoosingOneOfSeveralRestApis(t *testing.T) {
	const from = `"Api": {
      "Type": "AWS::ApiGateway::RestApi",`
	const to = `"Other": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "other"}},
    "OtherRoot": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "AuthorizationType": "NONE", "RestApiId": {"Ref": "Other"}, "ResourceId": {"Fn::GetAtt": ["Other", "RootResourceId"]}, "Integration": {"Type": "MOCK"}}},
    ` + from
	if _, err := variant(t, from, to, Options{}); err == nil || !strings.Contains(err.Error(), "defines 2 RestApis (Api, Other): choose one") {
		t.Errorf("no choice: %v", err)
	}
	if _, err := variant(t, from, to, Options{RestApi: "Nope"}); err == nil || !strings.Contains(err.Error(), `no RestApi "Nope"`) {
		t.Errorf("a wrong choice: %v", err)
	}
	api, err := variant(t, from, to, Options{RestApi: "Api"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(api.Paths(), "; "); got != "GET /items/{id}; OPTIONS,POST /items" {
		t.Errorf("paths of the chosen API: %s", got)
	}
}

// Any template gives an API or an error, and any API answers requests:
// never a panic.
func FuzzLoadAndServe(f *testing.F) {
	raw, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"Resources":{"A":{"Type":"AWS::ApiGateway::RestApi"},"S":{"Type":"AWS::ApiGateway::Stage","Properties":{"StageName":"s","RestApiId":{"Ref":"A"}}}}}`))
	f.Add([]byte(`{"Resources":{"A":{"Type":"AWS::ApiGateway::RestApi"},"R":{"Type":"AWS::ApiGateway::Resource","Properties":{"ParentId":{"Ref":"R"},"PathPart":"x","RestApiId":{"Ref":"A"}}}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		tmpl, err := cfn.Parse("fuzz.template.json", doc)
		if err != nil {
			return
		}
		api, err := Load(tmpl, &cfn.Resolver{Templates: []*cfn.Template{tmpl}}, Options{Throttle: true, Functions: map[string]Invoker{"Fn": &fakeFunction{answer: `{"statusCode":200}`}}})
		if err != nil {
			return
		}
		for _, method := range []string{"GET", "POST", "OPTIONS", "DELETE"} {
			for _, path := range []string{"/" + api.Stage + "/", "/" + api.Stage + "/items", "/" + api.Stage + "/items/1", "/x"} {
				do(api, method, path, map[string]string{"Origin": devOrigin, "Content-Type": "application/json", client: "t"}, `{"name":"a"}`)
			}
		}
	})
}

// Whatever a function answers, the gateway answers an HTTP response: the
// function's, or API Gateway's 502 for a malformed one; never a panic.
func FuzzProxyResponse(f *testing.F) {
	for _, seed := range []string{`{"statusCode":200,"body":"ok"}`, `{"statusCode":99}`, `{"statusCode":204,"isBase64Encoded":true,"body":"!!"}`,
		`{"statusCode":200,"headers":{"X":"a\r\nb"},"multiValueHeaders":{"Y":["1","2"]}}`, `null`, `{"errorMessage":"boom"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		api := load(t, fixture, &fakeFunction{answer: answer}, Options{})
		resp := do(api, "GET", "/test/items/1", map[string]string{"Origin": devOrigin, client: "t"}, "")
		if resp.StatusCode < 100 || resp.StatusCode > 599 {
			t.Fatalf("status %d for the answer %q", resp.StatusCode, answer)
		}
	})
}

// An integration through an alias (or a version) runs the function the
// alias's version belongs to, as Lambda would.
func TestAnAliasIsItsFunction(t *testing.T) {
	tmpl, err := cfn.Parse("alias.template.json", []byte(`{"Resources": {
		"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
		"Version": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
		"Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}, "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]}, "Name": "live"}},
		"Method": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "POST", "Integration": {"Type": "AWS_PROXY",
			"Uri": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:eu-west-1:lambda:path/2015-03-31/functions/", {"Ref": "Live"}, "/invocations"]]}}}},
		"ByVersion": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "Integration": {"Type": "AWS_PROXY",
			"Uri": {"Fn::Join": ["", ["arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/", {"Ref": "Version"}, "/invocations"]]}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := Functions(tmpl); !slices.Equal(got, []string{"Fn"}) {
		t.Errorf("Functions = %v, want the alias's and the version's function, Fn", got)
	}
}

// behindCognito serves the fixture with GET /items/{id} behind a Cognito
// user pool authorizer (with method properties extra, e.g. its OAuth
// scopes), an issuer for the pool's client (site) and another pool's
// (other), and a fake function.
func behindCognito(t *testing.T, extra string) (api *API, issuer *oidc.Issuer, fn *fakeFunction, site, other string) {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	const get = `"AuthorizationType": "NONE",
        "HttpMethod": "GET",`
	changed := strings.Replace(string(raw), get, `"AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "SignedIn"}, `+extra+`"HttpMethod": "GET",`, 1)
	changed = strings.Replace(changed, `"Resources": {`, `"Resources": {
    "Users": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
    "SiteClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": {"Ref": "Users"}}},
    "OtherPool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
    "OtherClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": {"Ref": "OtherPool"}}},
    "SignedIn": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "COGNITO_USER_POOLS", "RestApiId": {"Ref": "Api"},
      "IdentitySource": "method.request.header.Authorization", "ProviderARNs": [{"Fn::GetAtt": ["Users", "Arn"]}]}},`, 1)
	tmpl, err := cfn.Parse("api.template.json", []byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	res := &cfn.Resolver{Templates: []*cfn.Template{tmpl}}
	site, _ = res.String(tmpl, map[string]any{"Ref": "SiteClient"})
	other, _ = res.String(tmpl, map[string]any{"Ref": "OtherClient"})
	if issuer, err = oidc.New("http://localhost:8088", []oidc.Client{{ID: site}, {ID: other}}); err != nil {
		t.Fatal(err)
	}
	fn = &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}
	if api, err = Load(tmpl, res, Options{Functions: map[string]Invoker{"Fn": fn}, Tokens: issuer}); err != nil {
		t.Fatal(err)
	}
	return api, issuer, fn, site, other
}

// A method that names OAuth scopes takes an access token with one of them,
// as API Gateway's Cognito authorizer does, and no ID token; a method that
// names none takes the ID token only.
func TestMethodsWithScopesTakeAccessTokens(t *testing.T) {
	api, issuer, _, site, _ := behindCognito(t, `"AuthorizationScopes": ["email"], `)
	id, _ := issuer.Token(site, time.Hour)
	withEmail, _ := issuer.AccessToken(site, "openid email", time.Hour)
	withoutEmail, _ := issuer.AccessToken(site, "openid", time.Hour)
	for name, tc := range map[string]struct {
		token  string
		status int
	}{"an access token with the scope": {withEmail, 200}, "an access token without it": {withoutEmail, 401}, "an ID token": {id, 401}} {
		if resp := do(api, "GET", "/test/items/1", map[string]string{client: "t", "Authorization": "Bearer " + tc.token}, ""); resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", name, resp.StatusCode, tc.status)
		}
	}
	noScopes, _, _, _, _ := behindCognito(t, "")
	if resp := do(noScopes, "GET", "/test/items/1", map[string]string{client: "t", "Authorization": "Bearer " + withEmail}, ""); resp.StatusCode != 401 {
		t.Errorf("an access token where the method names no scope: %d, want 401", resp.StatusCode)
	}
}

// With a token verifier (make local's issuer), a method behind a Cognito
// user pool authorizer takes exactly the tokens API Gateway would: a good
// one reaches the function with its claims in requestContext.authorizer;
// none, a bad one or one for another client gets 401 with CORS, and the
// function never runs.
func TestTokensAreCheckedLikeCognito(t *testing.T) {
	api, issuer, fn, site, other := behindCognito(t, "")
	if len(api.Refused) != 0 {
		t.Errorf("start-up notes %q: the method is checked, not refused", api.Refused)
	}
	good, _ := issuer.Token(site, time.Hour)
	forOther, _ := issuer.Token(other, time.Hour)
	expired, _ := issuer.Token(site, -time.Minute)
	impostor, err := oidc.New(issuer.Origin, issuer.Clients()) // the same issuer's name, another key
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := impostor.Token(site, time.Hour)
	for _, tc := range []struct {
		name, authorization string
		status              int
	}{
		{"no token", "", 401},
		{"a token for another pool's client", forOther, 401},
		{"an expired token", "Bearer " + expired, 401},
		{"a token signed by another key", "Bearer " + foreign, 401},
		{"garbage", "Bearer not-a-token", 401},
		{"a good token", good, 200},
		{"a good token after Bearer", "Bearer " + good, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn.events = nil
			resp := do(api, "GET", "/test/items/1", map[string]string{"Origin": devOrigin, client: "t", "Authorization": tc.authorization}, "")
			body := readBody(resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 401 {
				// API Gateway's own answer: the gateway response's CORS.
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != devOrigin {
					t.Errorf("401 with Access-Control-Allow-Origin %q: the page would see a CORS error", got)
				}
				if !strings.Contains(body, "UNAUTHORIZED") || len(fn.events) != 0 {
					t.Errorf("%s; the function ran %d times", body, len(fn.events))
				}
				return
			}
			claims, _ := fn.events[0].RequestContext.Authorizer["claims"].(map[string]any)
			if claims["email"] != oidc.DevUser.Email || claims["token_use"] != "id" || claims["aud"] != site {
				t.Errorf("the function's claims: %v", fn.events[0].RequestContext.Authorizer)
			}
		})
	}
}
