// Package smoke is the test a new version of the predict function passes
// before CodeDeploy moves any traffic to it (functions/prehook runs it):
// the version describes its model (GET /model), then answers each of the
// model's own examples with the contract's shape and the expected class
// (a finite number for a regression), and refuses a body the contract
// refuses with a 400. What it checks is what the function says of itself,
// so it follows any model.
package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// Invoke runs the version under test with an API Gateway proxy event and
// returns its answer.
type Invoke func(ctx context.Context, event []byte) ([]byte, error)

// BadBody is a request the contract refuses: no feature, an unknown field.
const BadBody = `{"no_such_feature": 1}`

// Check runs the test and returns every failure, joined.
func Check(ctx context.Context, invoke Invoke) error {
	var doc model.Public
	status, body, err := call(ctx, invoke, http.MethodGet, "/model", "")
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET /model answered %d: %.200s", status, body)
	}
	if err == nil {
		err = json.Unmarshal([]byte(body), &doc)
	}
	if err != nil {
		return fmt.Errorf("the version does not describe its model: %w", err)
	}
	if len(doc.Examples) == 0 {
		return errors.New("the model has no examples to check")
	}
	var errs []error
	for _, e := range doc.Examples {
		if err := answers(ctx, invoke, doc, e); err != nil {
			errs = append(errs, fmt.Errorf("example %q: %w", e.Label, err))
		}
	}
	if status, body, err := call(ctx, invoke, http.MethodPost, "/predict", BadBody); err != nil {
		errs = append(errs, err)
	} else if status != http.StatusBadRequest {
		errs = append(errs, fmt.Errorf("a body without features (%s) answered %d, want 400: %.200s", BadBody, status, body))
	}
	return errors.Join(errs...)
}

// answers checks one example's answer: 200, exactly the contract's members,
// the version the model describes, and the example's class or a finite
// number.
func answers(ctx context.Context, invoke Invoke, doc model.Public, e model.Example) error {
	status, body, err := call(ctx, invoke, http.MethodPost, "/predict", model.Body(doc.Features, e.Values))
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("answered %d: %.200s", status, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		return fmt.Errorf("answered no JSON object: %.200s", body)
	}
	want := []string{doc.Target, "model_version"}
	if doc.Task == model.Classification {
		want = append(want, "probabilities")
	}
	if keys := sortedKeys(got); !slices.Equal(keys, sorted(want)) {
		return fmt.Errorf("answered the members %v, the contract has %v", keys, sorted(want))
	}
	if got["model_version"] != doc.Version {
		return fmt.Errorf("answered model_version %v, the model is %s", got["model_version"], doc.Version)
	}
	if doc.Task == model.Regression {
		if v, ok := got[doc.Target].(float64); !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %v, not a finite number", doc.Target, got[doc.Target])
		}
		return nil
	}
	if got[doc.Target] != e.Label {
		return fmt.Errorf("predicted %s %v, its label is %s", doc.Target, got[doc.Target], e.Label)
	}
	return probabilities(got["probabilities"], doc.Classes)
}

// probabilities checks one probability per class, summing to 1.
func probabilities(v any, classes []string) error {
	p, ok := v.(map[string]any)
	if !ok || len(p) != len(classes) {
		return fmt.Errorf("probabilities %v: want one per class of %v", v, classes)
	}
	sum := 0.0
	for _, c := range classes {
		x, ok := p[c].(float64)
		if !ok || x < 0 || x > 1 {
			return fmt.Errorf("the probability of %s is %v", c, p[c])
		}
		sum += x
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("the probabilities sum to %v", sum)
	}
	return nil
}

// call sends one request through invoke and returns the proxy answer.
func call(ctx context.Context, invoke Invoke, method, path, body string) (int, string, error) {
	req := events.APIGatewayProxyRequest{Resource: path, Path: path, HTTPMethod: method, Body: body,
		Headers: map[string]string{"Content-Type": "application/json"}}
	event, _ := json.Marshal(req)
	raw, err := invoke(ctx, event)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &resp); err != nil || resp.StatusCode == 0 {
		return 0, "", fmt.Errorf("%s %s: no proxy answer: %.200s", method, path, raw)
	}
	return resp.StatusCode, resp.Body, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return sorted(keys)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
