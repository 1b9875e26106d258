package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	pathpkg "path"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// The model the function embeds, whatever it is, parses, and answers its
// own examples: a classifier with their class and probabilities that sum
// to 1, a regression with a finite number, even at the ranges' edges.
func TestServedModel(t *testing.T) {
	m, err := model.Parse(served)
	if err != nil {
		t.Fatalf("model.json: %v", err)
	}
	out := make([]float64, m.Outputs())
	rows := map[string][]float64{}
	for _, e := range m.Examples {
		if rows["example "+e.Label], err = m.Row(e.Values); err != nil {
			t.Fatal(err)
		}
	}
	low, high := make([]float64, len(m.Features)), make([]float64, len(m.Features))
	for j, f := range m.Features {
		if f.IsCategory() { // its last category at the maximum, its first at the minimum
			high[j] = float64(len(f.Categories) - 1)
			continue
		}
		low[j], high[j] = math.Nextafter(f.Min, f.Max), f.Max
	}
	rows["every feature at its minimum"], rows["every feature at its maximum"] = low, high
	for name, x := range rows {
		best := m.Predict(x, out)
		if label, ok := strings.CutPrefix(name, "example "); ok && m.Task == model.Classification && m.Classes[best] != label {
			t.Errorf("%s: predicted %s (%v)", name, m.Classes[best], out)
		}
		sum := 0.0
		for _, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) || (m.Task == model.Classification && (v < 0 || v > 1)) {
				t.Errorf("%s: output %v", name, v)
			}
			sum += v
		}
		if m.Task == model.Classification && math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: probabilities sum to %v, want 1", name, sum)
		}
	}
}

// A regression answers its number under the target's name, one row or a batch.
func TestRegressionAnswersTheNumber(t *testing.T) {
	m := testModel(t, "regression")
	h := handlerFor(t, m)
	body := model.Body(m.Features, m.Examples[0].Values)
	for _, req := range []string{body, `{"instances":[` + body + `,` + body + `]}`} {
		resp, _ := h.Handle(context.Background(), post(req))
		var got map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s (%v)", resp.StatusCode, resp.Body, err)
		}
		one := got
		if preds, ok := got["predictions"].([]any); ok {
			if len(preds) != 2 {
				t.Fatalf("predictions %v", preds)
			}
			one = preds[1].(map[string]any)
		}
		if v, ok := one[m.Target].(float64); !ok || math.IsNaN(v) || len(one) != map[bool]int{true: 1, false: 2}[one["model_version"] == nil] {
			t.Errorf("%s: want {%q: number, model_version}", resp.Body, m.Target)
		}
		if got["model_version"] != m.Version {
			t.Errorf("model_version %v, want %s", got["model_version"], m.Version)
		}
	}
}

// A model that learned where missing values go takes null for any feature;
// every other model answers 400 naming the feature.
func TestMissingValues(t *testing.T) {
	m := testModel(t, "missing")
	_, x := m.Example()
	x[0] = math.NaN()
	resp, _ := handlerFor(t, m).Handle(context.Background(), post(m.Body(x)))
	if resp.StatusCode != 200 || !strings.Contains(m.Body(x), "null") {
		t.Errorf("%s with a null: %d %s", m.Family, resp.StatusCode, resp.Body)
	}
	iris := irisModel(t)
	_, x = iris.Example()
	x[2] = math.NaN()
	resp, _ = testHandler(t).Handle(context.Background(), post(iris.Body(x)))
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "petal_length: must be a number more than 0 and at most 30 cm, got null: this feature takes no missing values") {
		t.Errorf("iris with a null: %d %s", resp.StatusCode, resp.Body)
	}
}

// GET /openapi.json is a valid OpenAPI 3.0 document (kin-openapi checks
// it), and the function's real answers, good and bad, match it, for a
// classifier, a regression, a model taking missing values and pipelines
// with categories (one refusing a category it never saw, one ignoring it).
func TestOpenAPIDescribesTheAnswers(t *testing.T) {
	for _, name := range []string{"iris", "regression", "missing", parity + "houses-ridge", parity + "titanic-logistic"} {
		t.Run(pathpkg.Base(name), func(t *testing.T) {
			m := testModel(t, name)
			h := handlerFor(t, m)
			resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{Resource: "/openapi.json", HTTPMethod: "GET"})
			if resp.StatusCode != 200 {
				t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, resp.Body)
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData([]byte(resp.Body))
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(loader.Context); err != nil {
				t.Fatalf("invalid OpenAPI document: %v", err)
			}
			doc.Servers = openapi3.Servers{{URL: "https://api.example/dev"}}
			router, err := gorillamux.NewRouter(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, x := m.Example()
			missing := append([]float64{}, x...)
			missing[0] = math.NaN()
			// A category's value never seen: refused where the encoder
			// raises (the document's enum), else answered.
			unseen, refuses := m.Body(x), false
			for j, f := range m.Features {
				if f.IsCategory() && !f.Categories[0].IsNumber {
					values := m.Values(x)
					values[j], refuses = "never seen", f.Unknown == model.UnknownRefused
					unseen = model.Body(m.Features, values)
					break
				}
			}
			for _, c := range []struct {
				method, path, body string
				status             int
				requestValid       bool
			}{
				{"POST", "/predict", m.Body(x), 200, true},
				{"POST", "/predict", `{"instances":[` + m.Body(x) + `]}`, 200, true},
				{"POST", "/predict", m.Body(missing), map[bool]int{true: 200, false: 400}[m.Features[0].TakesMissing()], m.Features[0].TakesMissing()},
				{"POST", "/predict", `{"nope":1}`, 400, false},
				{"POST", "/predict", unseen, map[bool]int{true: 400, false: 200}[refuses], !refuses},
				{"GET", "/model", "", 200, true},
			} {
				req := httptest.NewRequest(c.method, "https://api.example/dev"+c.path, strings.NewReader(c.body))
				if c.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				route, params, err := router.FindRoute(req)
				if err != nil {
					t.Fatal(err)
				}
				in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
				if err := openapi3filter.ValidateRequest(context.Background(), in); (err == nil) != c.requestValid {
					t.Errorf("%s %s %s: request validation %v, want valid %v", c.method, c.path, c.body, err, c.requestValid)
				}
				ev := events.APIGatewayProxyRequest{Resource: c.path, Path: c.path, HTTPMethod: c.method, Body: c.body,
					Headers: map[string]string{"Content-Type": "application/json"}}
				got, _ := h.Handle(context.Background(), ev)
				if got.StatusCode != c.status {
					t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, got.StatusCode, got.Body, c.status)
				}
				header := http.Header{}
				for k, v := range got.Headers {
					header.Set(k, v)
				}
				out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: got.StatusCode, Header: header,
					Body: io.NopCloser(bytes.NewReader([]byte(got.Body)))}
				if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
					t.Errorf("%s %s: the answer %s does not match the document: %v", c.method, c.path, got.Body, err)
				}
			}
		})
	}
}

// parity is where the model package's parity fixtures are, for tests that
// serve them.
const parity = "../../internal/model/testdata/parity/"

// A pipeline's request: a category is its string (or, for a number used
// as a label, the number); where the encoder raises, for a value it never
// saw or a foreign JSON type, a 400 names the feature and lists its values;
// null is a missing value where the feature takes one.
func TestCategories(t *testing.T) {
	titanic, houses := testModel(t, parity+"titanic-logistic"), testModel(t, parity+"houses-ridge")
	row := `{"pclass":3,"sex":"male","age":null,"fare":7.25,"sibsp":0,"embarked":"S"}`
	house := `{"neighbourhood":"NAmes","overall_quality":"TA","living_area":1500,"lot_frontage":null,"year_built":1990,"central_air":"Y"}`
	for _, c := range []struct {
		name  string
		m     *model.Model
		body  string
		code  int
		words string
	}{
		{"a row of a pipeline", titanic, row, 200, `"survived":"`},
		{"a category it ignores", titanic, strings.Replace(row, `"S"`, `"X"`, 1), 200, `"survived":"`},
		{"a number used as a label", titanic, strings.Replace(row, `"pclass":3`, `"pclass":4`, 1), 200, `"survived":"`},
		{"a number as a string", titanic, strings.Replace(row, `"pclass":3`, `"pclass":"3"`, 1), 400,
			`pclass: must be a number, such as one of 1, 2, 3, or null for a missing value, got the string \"3\"`},
		{"a string as a number", titanic, strings.Replace(row, `"sex":"male"`, `"sex":1`, 1), 400,
			`sex: must be a string, such as one of \"female\", \"male\", or null for a missing value, got the number 1`},
		{"a category it refuses", houses, strings.Replace(house, `"NAmes"`, `"Nowhere"`, 1), 400,
			`neighbourhood: must be a string: one of \"Blueste\", \"CollgCr\", \"Edwards\", \"Gilbert\", \"Mitchel\", \"NAmes\", \"NridgHt\", \"OldTown\", \"Sawyer\", \"Somerst\", got the string \"Nowhere\", which the model never saw`},
		{"null where the encoder raises", houses, strings.Replace(house, `"TA"`, `null`, 1), 400, `overall_quality: must be a string: one of \"Po\", \"Fa\", \"TA\", \"Gd\", \"Ex\", got null: this feature takes no missing values`},
		{"null where an imputer fills it in", houses, house, 200, `"sale_price":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := handlerFor(t, c.m).Handle(context.Background(), post(c.body))
			if resp.StatusCode != c.code || !strings.Contains(resp.Body, c.words) {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, resp.Body, c.code, c.words)
			}
		})
	}
}
