package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/cors"
	"github.com/iris-cors/iris-cors-cdk/internal/emf"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

const (
	siteOrigin = "https://d111111abcdef8.cloudfront.net"
	setosa     = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	virginica  = `{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.8,"petal_width":2.2}`
)

// irisModel is testdata/iris.model.json: the handler's behaviour is pinned
// on models of its own (testdata/*.model.json), so it holds whatever
// model.json the function embeds.
func irisModel(tb testing.TB) *model.Model { return testModel(tb, "iris") }

func testModel(tb testing.TB, name string) *model.Model {
	tb.Helper()
	if !strings.Contains(name, "/") {
		name = "testdata/" + name
	}
	m, err := model.Load(name + ".model.json")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func testHandler(tb testing.TB) *handler { return handlerFor(tb, irisModel(tb)) }

func handlerFor(tb testing.TB, m *model.Model) *handler {
	tb.Helper()
	origins, err := cors.NewMatcher([]string{siteOrigin, "http://localhost:8080"})
	if err != nil {
		tb.Fatal(err)
	}
	met := &emf.Writer{Out: io.Discard, Namespace: "Predictor/test", Version: m.Version, Now: time.Now}
	h, err := newHandler(m, origins, slog.New(slog.NewJSONHandler(io.Discard, nil)), met, "")
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func post(body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource:   "/predict",
		Path:       "/predict",
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{"content-type": "application/json", "origin": siteOrigin},
		Body:       body,
	}
}

type errorEnvelope struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestBadInputGetsAClear4xxWithCORS(t *testing.T) {
	h := testHandler(t)
	batch := func(n int) string {
		return `{"instances":[` + strings.TrimSuffix(strings.Repeat(setosa+",", n), ",") + `]}`
	}
	for _, tc := range []struct {
		name    string
		req     events.APIGatewayProxyRequest
		status  int
		code    string
		message string // a fragment the message must contain
	}{
		{"empty body", post(""), 400, "invalid_input", "request body is empty"},
		{"whitespace body", post(" \n\t"), 400, "invalid_input", "request body is empty"},
		{"null", post("null"), 400, "invalid_input", "got null"},
		{"an array", post("[]"), 400, "invalid_input", "got an array"},
		{"a bare number", post("5.1"), 400, "invalid_input", "got the number 5.1"},
		{"not JSON", post("sepal_length=5.1"), 400, "invalid_input", "not valid JSON: invalid character 's' at start of value at byte 0"},
		{"truncated JSON", post(`{"sepal_length":5.1,"sepal_wid`), 400, "invalid_input", "not valid JSON"},
		{"trailing data", post(setosa + setosa), 400, "invalid_input", "after top-level value"},
		{"duplicate key", post(`{"sepal_length":5.1,"sepal_length":9,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "sepal_length: duplicate field"},
		{"unknown field", post(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"color":"blue"}`), 400, "invalid_input", `unknown field "color"`},
		{"misspelled field", post(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_widht":0.2}`), 400, "invalid_input", `unknown field "petal_widht"`},
		{"missing field", post(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}`), 400, "invalid_input", "petal_width: missing"},
		{"string for a number", post(`{"sepal_length":"5.1","sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "sepal_length: must be a number more than 0 and at most 30 cm, got the string"},
		{"bool for a number", post(`{"sepal_length":true,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "got a boolean"},
		{"null for a number", post(`{"sepal_length":5.1,"sepal_width":null,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "sepal_width: must be a number more than 0 and at most 30 cm, got null: this feature takes no missing values"},
		{"object for a number", post(`{"sepal_length":{},"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "got an object"},
		{"NaN spelled in JSON", post(`{"sepal_length":NaN,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "not valid JSON"},
		{"Infinity spelled in JSON", post(`{"sepal_length":Infinity,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "not valid JSON"},
		{"NaN as a string", post(`{"sepal_length":"NaN","sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "got the string"},
		{"negative", post(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-0.2}`), 400, "invalid_input", "petal_width: must be a number more than 0 and at most 30 cm, got the number -0.2"},
		{"zero", post(`{"sepal_length":0,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "sepal_length: must be a number more than 0 and at most 30 cm, got the number 0"},
		{"absurdly large", post(`{"sepal_length":1e308,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "got the number 1e+308"},
		{"beyond float64", post(`{"sepal_length":1e999,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 400, "invalid_input", "sepal_length: must be a number more than 0 and at most 30 cm, got 1e999"},
		{"beyond float64 in a batch", post(`{"instances":[` + setosa + `,{"sepal_length":1e999}]}`), 400, "invalid_input", "instances[1].sepal_length: must be a number"},
		{"duplicate key in a batch row", post(`{"instances":[` + setosa + `,{"sepal_width":1,"sepal_width":2}]}`), 400, "invalid_input", "instances[1].sepal_width: duplicate field"},
		{"a long unknown field is quoted in part", post(`{"` + strings.Repeat("x", 500) + `":1}`), 400, "invalid_input", `unknown field "` + strings.Repeat("x", 40) + `…"`},
		{"invalid UTF-8", post("{\"sepal_length\":\"\xff\"}"), 400, "invalid_input", "invalid UTF-8"},
		{"deeply nested", post(strings.Repeat("[", 1000) + strings.Repeat("]", 1000)), 400, "invalid_input", "got an array"},
		{"batch of 0", post(`{"instances":[]}`), 400, "invalid_input", "instances: must hold 1 to 100 rows, got 0"},
		{"batch of 101", post(batch(101)), 400, "invalid_input", "got 101"},
		{"batch not an array", post(`{"instances":{}}`), 400, "invalid_input", "instances: must be an array"},
		{"batch mixed with fields", post(`{"instances":[` + setosa + `],"sepal_length":1}`), 400, "invalid_input", `only the field "instances"`},
		{"batch item not an object", post(`{"instances":[` + setosa + `,7]}`), 400, "invalid_input", "instances[1]: must be an object"},
		{"mixed valid and invalid batch names the index", post(`{"instances":[` + setosa + `,` + virginica + `,{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":99}]}`), 400, "invalid_input", "instances[2].petal_width: must be a number more than 0 and at most 30 cm, got the number 99"},
		{"no content type", func() events.APIGatewayProxyRequest { r := post(setosa); delete(r.Headers, "content-type"); return r }(), 415, "unsupported_media_type", "Content-Type must be application/json"},
		{"form content type", func() events.APIGatewayProxyRequest {
			r := post(setosa)
			r.Headers["content-type"] = "application/x-www-form-urlencoded"
			return r
		}(), 415, "unsupported_media_type", `got "application/x-www-form-urlencoded"`},
		{"text/plain (a CORS simple request)", func() events.APIGatewayProxyRequest {
			r := post(setosa)
			r.Headers["content-type"] = "text/plain"
			return r
		}(), 415, "unsupported_media_type", "application/json"},
		{"non-UTF-8 charset", func() events.APIGatewayProxyRequest {
			r := post(setosa)
			r.Headers["content-type"] = "application/json; charset=latin1"
			return r
		}(), 415, "unsupported_media_type", `charset "latin1"`},
		{"oversized body", post(`{"sepal_length":5.1` + strings.Repeat(" ", irisModel(t).MaxBodyBytes()) + `}`), 413, "payload_too_large", "send at most 100 rows"},
		{"oversized base64 body", func() events.APIGatewayProxyRequest {
			r := post(base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", irisModel(t).MaxBodyBytes()+10))))
			r.IsBase64Encoded = true
			return r
		}(), 413, "payload_too_large", "larger than"},
		{"invalid base64", func() events.APIGatewayProxyRequest { r := post("not base64!"); r.IsBase64Encoded = true; return r }(), 400, "invalid_body", "not valid base64"},
		{"base64 of bad JSON", func() events.APIGatewayProxyRequest {
			r := post(base64.StdEncoding.EncodeToString([]byte("{")))
			r.IsBase64Encoded = true
			return r
		}(), 400, "invalid_input", "not valid JSON"},
		{"unknown path", func() events.APIGatewayProxyRequest {
			r := post(setosa)
			r.Resource, r.Path = "/predictions", "/predictions"
			return r
		}(), 404, "not_found", `no such resource "/predictions"`},
		{"wrong method on /predict", func() events.APIGatewayProxyRequest { r := post(""); r.HTTPMethod = http.MethodGet; return r }(), 405, "method_not_allowed", "GET is not allowed on /predict; use POST"},
		{"wrong method on /model", func() events.APIGatewayProxyRequest {
			r := post(setosa)
			r.Resource, r.Path = "/model", "/model"
			return r
		}(), 405, "method_not_allowed", "use GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.Handle(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Handle returned error %v; bad input must be an HTTP answer", err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			var e errorEnvelope
			if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, resp.Body)
			}
			if e.Error.Code != tc.code {
				t.Errorf("code = %q, want %q", e.Error.Code, tc.code)
			}
			if !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", e.Error.Message, tc.message)
			}
			if got := resp.Headers["Access-Control-Allow-Origin"]; got != siteOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q: without it the browser hides this error", got, siteOrigin)
			}
			if got := resp.Headers["Vary"]; got != "Origin" {
				t.Errorf("Vary = %q, want Origin", got)
			}
			if tc.status == 405 && resp.Headers["Allow"] == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

type prediction struct {
	Species       string             `json:"species"`
	Probabilities map[string]float64 `json:"probabilities"`
}

func checkPrediction(t *testing.T, p prediction, want string) {
	t.Helper()
	if p.Species != want {
		t.Errorf("species = %q, want %q", p.Species, want)
	}
	sum := 0.0
	for _, c := range []string{"setosa", "versicolor", "virginica"} {
		v, ok := p.Probabilities[c]
		if !ok {
			t.Errorf("no probability for %s", c)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func TestPredictSingle(t *testing.T) {
	resp, _ := testHandler(t).Handle(context.Background(), post(setosa))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
	var got struct {
		prediction
		ModelVersion string `json:"model_version"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	checkPrediction(t, got.prediction, "setosa")
	if want := irisModel(t).Version; got.ModelVersion != want {
		t.Errorf("model_version = %q, want %q", got.ModelVersion, want)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != siteOrigin || !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		t.Errorf("headers = %v", resp.Headers)
	}
}

func TestPredictBatchKeepsOrder(t *testing.T) {
	req := post(`{"instances":[` + setosa + `,` + virginica + `]}`)
	req.IsBase64Encoded = true
	req.Body = base64.StdEncoding.EncodeToString([]byte(req.Body))
	req.Headers["Content-Type"] = "application/json; charset=UTF-8"
	delete(req.Headers, "content-type")
	resp, _ := testHandler(t).Handle(context.Background(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
	var got struct {
		Predictions  []prediction `json:"predictions"`
		ModelVersion string       `json:"model_version"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	if len(got.Predictions) != 2 || got.ModelVersion == "" {
		t.Fatalf("got %+v", got)
	}
	checkPrediction(t, got.Predictions[0], "setosa")
	checkPrediction(t, got.Predictions[1], "virginica")
}

func TestModelDescribesTheContract(t *testing.T) {
	req := events.APIGatewayProxyRequest{Resource: "/model", HTTPMethod: "GET", Headers: map[string]string{"Origin": "http://localhost:8080"}}
	resp, _ := testHandler(t).Handle(context.Background(), req)
	var got struct {
		Version  string
		Target   string
		MaxBatch int `json:"max_batch"`
		Classes  []string
		Features []struct {
			Name, Unit string
			Max        float64
		}
		Metrics struct {
			CVAccuracy float64 `json:"cv_accuracy"`
		}
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, resp.Body)
	}
	if len(got.Features) != 4 || got.Features[3].Name != "petal_width" || got.Features[3].Unit != "cm" || got.Features[3].Max != 30 {
		t.Errorf("features = %+v", got.Features)
	}
	if len(got.Classes) != 3 || got.Version == "" || got.Metrics.CVAccuracy < 0.95 || got.Target != "species" || got.MaxBatch != 100 {
		t.Errorf("model = %+v", got)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != "http://localhost:8080" {
		t.Errorf("ACAO = %q", resp.Headers["Access-Control-Allow-Origin"])
	}
}

func TestOtherOriginsGetNoCORSHeaders(t *testing.T) {
	h := testHandler(t)
	for _, origin := range []string{"https://evil.example", "null", "", "http://localhost:8081"} {
		req := post(setosa)
		req.Headers["origin"] = origin
		resp, _ := h.Handle(context.Background(), req)
		if resp.StatusCode != 200 {
			t.Errorf("origin %q: status %d; CORS is the browser's business, the answer is the same", origin, resp.StatusCode)
		}
		if got, ok := resp.Headers["Access-Control-Allow-Origin"]; ok {
			t.Errorf("origin %q: Access-Control-Allow-Origin = %q, want none", origin, got)
		}
		if resp.Headers["Vary"] != "Origin" {
			t.Errorf("origin %q: Vary = %q, want Origin so caches keep answers apart", origin, resp.Headers["Vary"])
		}
	}
}

func FuzzHandler(f *testing.F) {
	for _, s := range []string{setosa, `{"instances":[` + setosa + `]}`, "", "null", "[", `{"a":1}`, `{"instances":[{}]}`, `{"sepal_length":1e999}`} {
		f.Add(s, false)
	}
	h := testHandler(f)
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		req := post(body)
		req.IsBase64Encoded = b64
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle error: %v", err)
		}
		if resp.StatusCode != 200 && (resp.StatusCode < 400 || resp.StatusCode > 499) {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Fatalf("invalid JSON response %q", resp.Body)
		}
		if resp.Headers["Access-Control-Allow-Origin"] != siteOrigin {
			t.Fatalf("no CORS header on status %d", resp.StatusCode)
		}
	})
}

func BenchmarkHandlerSingle(b *testing.B) {
	h, req := testHandler(b), post(setosa)
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(context.Background(), req)
	}
}

// A pipeline's row: strings to look up, blanks to impute, one-hot columns,
// then 100 trees.
func BenchmarkHandlerPipeline(b *testing.B) {
	h := handlerFor(b, testModel(b, parity+"titanic-forest"))
	req := post(`{"pclass":3,"sex":"male","age":null,"fare":7.25,"sibsp":1,"embarked":"S","deck":null}`)
	if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 200 {
		b.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(context.Background(), req)
	}
}

func BenchmarkHandlerBatch100(b *testing.B) {
	h := testHandler(b)
	req := post(`{"instances":[` + strings.TrimSuffix(strings.Repeat(virginica+",", 100), ",") + `]}`)
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(context.Background(), req)
	}
}
