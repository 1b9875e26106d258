package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emf"
)

func metricLines(t *testing.T, h *handler, reqs ...string) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	h.metrics = &emf.Writer{Out: &out, Namespace: "Predictor/test", Version: h.model.Version, Now: time.Now}
	for _, body := range reqs {
		h.Handle(context.Background(), post(body))
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			var doc map[string]any
			if err := json.Unmarshal([]byte(line), &doc); err != nil || doc["_aws"] == nil {
				t.Fatalf("not an EMF line: %q", line)
			}
			lines = append(lines, doc)
		}
	}
	return lines
}

// Each request's rows count once per class they got, by model version; a
// rejected request counts once by its error's code.
func TestMetricsCountClassesAndRejections(t *testing.T) {
	h := testHandler(t)
	lines := metricLines(t, h, setosa, `{"instances":[`+setosa+`,`+virginica+`,`+virginica+`]}`, `{"nope":1}`)
	got := map[string]float64{}
	for _, l := range lines {
		if l["ModelVersion"] != h.model.Version {
			t.Errorf("a line without the model version: %v", l)
		}
		switch {
		case l["Class"] != nil:
			got["class "+l["Class"].(string)] += l["Predictions"].(float64)
		case l["Reason"] != nil:
			got["rejected "+l["Reason"].(string)] += l["Rejections"].(float64)
		}
	}
	want := map[string]float64{"class setosa": 2, "class virginica": 2, "rejected invalid_input": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

// A regression's predictions are one value each, for a distribution.
func TestMetricsOfARegression(t *testing.T) {
	h := handlerFor(t, testModel(t, "regression"))
	_, x := h.model.Example()
	body := h.model.Body(x)
	lines := metricLines(t, h, `{"instances":[`+body+`,`+body+`]}`)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want one", len(lines))
	}
	if vs, ok := lines[0]["Prediction"].([]any); !ok || len(vs) != 2 {
		t.Errorf("Prediction %v, want the batch's two values", lines[0]["Prediction"])
	}
}
