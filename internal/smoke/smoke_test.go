package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// fake answers as the predict function would for m, then lets a test
// break one answer.
type fake struct {
	m     *model.Model
	spoil func(req events.APIGatewayProxyRequest, status int, body map[string]any) (int, map[string]any)
}

func (f *fake) invoke(_ context.Context, event []byte) ([]byte, error) {
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &req); err != nil {
		return nil, err
	}
	status, body := f.answer(req)
	if f.spoil != nil {
		status, body = f.spoil(req, status, body)
	}
	b, _ := json.Marshal(body)
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: status, Body: string(b)})
}

func (f *fake) answer(req events.APIGatewayProxyRequest) (int, map[string]any) {
	if req.Path == "/model" {
		var doc map[string]any
		b, _ := json.Marshal(f.m.Public())
		json.Unmarshal(b, &doc)
		return http.StatusOK, doc
	}
	var row map[string]any
	json.Unmarshal([]byte(req.Body), &row)
	values := make([]any, len(f.m.Features))
	missing := false
	for j, feat := range f.m.Features {
		v, ok := row[feat.Name]
		values[j], missing = v, missing || !ok
	}
	x, err := f.m.Row(values)
	if err != nil || missing || len(row) != len(values) {
		return http.StatusBadRequest, map[string]any{"error": map[string]any{"code": "invalid_input"}}
	}
	p := make([]float64, f.m.Outputs())
	best := f.m.Predict(x, p)
	if f.m.Task == model.Regression {
		return http.StatusOK, map[string]any{f.m.Target: p[0], "model_version": f.m.Version}
	}
	probs := map[string]any{}
	for k, c := range f.m.Classes {
		probs[c] = p[k]
	}
	return http.StatusOK, map[string]any{f.m.Target: f.m.Classes[best], "probabilities": probs, "model_version": f.m.Version}
}

func served(t *testing.T) *model.Model {
	t.Helper()
	m, err := project.Served()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A version that answers as the contract says passes; a classifier, a
// regression and a pipeline whose examples hold categories and blanks alike.
func TestAGoodVersionPasses(t *testing.T) {
	root, _ := project.Root()
	regression, err := model.Load(filepath.Join(root, "functions", "predict", "testdata", "regression.model.json"))
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := model.Load(filepath.Join(root, "internal", "model", "testdata", "parity", "titanic-hgb-native.model.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*model.Model{served(t), regression, pipeline} {
		if err := Check(context.Background(), (&fake{m: m}).invoke); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
}

// Each way a version can be wrong fails the test, saying how.
func TestABadVersionFails(t *testing.T) {
	m := served(t)
	predict := func(req events.APIGatewayProxyRequest) bool { return req.Path == "/predict" && req.Body != BadBody }
	for _, tc := range []struct {
		name  string
		spoil func(events.APIGatewayProxyRequest, int, map[string]any) (int, map[string]any)
		want  string
	}{
		{"a wrong class", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if predict(req) && b[m.Target] == m.Examples[0].Label {
				b[m.Target] = m.Examples[1].Label
			}
			return s, b
		}, "its label is " + m.Examples[0].Label},
		{"a missing field", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if predict(req) {
				delete(b, "probabilities")
			}
			return s, b
		}, "the contract has"},
		{"another model version", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if predict(req) {
				b["model_version"] = "old"
			}
			return s, b
		}, "answered model_version old"},
		{"a 200 to the bad request", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if req.Body == BadBody {
				return http.StatusOK, map[string]any{m.Target: m.Classes[0]}
			}
			return s, b
		}, "want 400"},
		{"probabilities that do not sum to 1", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if predict(req) {
				b["probabilities"].(map[string]any)[m.Classes[0]] = 1.0
			}
			return s, b
		}, "sum to"},
		{"no model description", func(req events.APIGatewayProxyRequest, s int, b map[string]any) (int, map[string]any) {
			if req.Path == "/model" {
				return http.StatusInternalServerError, nil
			}
			return s, b
		}, "does not describe its model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(context.Background(), (&fake{m: m, spoil: tc.spoil}).invoke)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if err := Check(context.Background(), func(context.Context, []byte) ([]byte, error) { return nil, errors.New("throttled") }); err == nil {
		t.Error("a version that cannot be invoked passes")
	}
}
