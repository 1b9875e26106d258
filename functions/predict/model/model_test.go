package model

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The embedded model, whatever it is: each example is predicted as its class,
// with probabilities that sum to 1, even far outside the data.
func TestEmbeddedModel(t *testing.T) {
	m := Default()
	p := make([]float64, len(m.Classes))
	rows := map[string][]float64{}
	for c, x := range m.Examples {
		rows["example of "+c] = x
	}
	low, high := make([]float64, len(m.Features)), make([]float64, len(m.Features))
	for j, f := range m.Features {
		low[j], high[j] = math.Nextafter(f.Min, f.Max), f.Max
	}
	rows["every feature at its minimum"], rows["every feature at its maximum"] = low, high
	for name, x := range rows {
		best := m.Predict(x, p)
		if c, ok := strings.CutPrefix(name, "example of "); ok && m.Classes[best] != c {
			t.Errorf("%s: predicted %s (p = %v)", name, m.Classes[best], p)
		}
		sum := 0.0
		for _, v := range p {
			if v < 0 || v > 1 || math.IsNaN(v) {
				t.Errorf("%s: probability %v outside [0, 1]", name, v)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: probabilities sum to %v, want 1", name, sum)
		}
	}
}

// Training works on standardized rows, serving on raw ones: the same bits.
func TestPredictStandardizedIsPredict(t *testing.T) {
	m := Default()
	_, x := m.Example()
	z := make([]float64, len(x))
	for j := range x {
		z[j] = (x[j] - m.Mean[j]) / m.Scale[j]
	}
	p, q := make([]float64, len(m.Classes)), make([]float64, len(m.Classes))
	if a, b := m.Predict(x, p), m.PredictStandardized(z, q); a != b || !equal(p, q) {
		t.Errorf("Predict %d %v, PredictStandardized %d %v", a, p, b, q)
	}
}

func equal(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestExampleBodyIsARequest(t *testing.T) {
	m := Default()
	_, x := m.Example()
	var got map[string]float64
	if err := json.Unmarshal([]byte(m.Body(x)), &got); err != nil || len(got) != len(m.Features) {
		t.Fatalf("Body = %s (%v), want an object with the %d features", m.Body(x), err, len(m.Features))
	}
	for j, f := range m.Features {
		if got[f.Name] != x[j] {
			t.Errorf("%s = %v, want %v", f.Name, got[f.Name], x[j])
		}
	}
	if m.MaxBodyBytes() < len(`{"instances":[]}`)+MaxBatch*(len(m.Body(x))+1) {
		t.Errorf("MaxBodyBytes %d is less than a full batch of examples", m.MaxBodyBytes())
	}
}

// A broken model.json is refused with what is wrong, before any binary,
// schema or page is built from it.
func TestParseRejectsBrokenModels(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{
			"version": "v1", "target": "kind",
			"features": []any{map[string]any{"name": "a", "min_exclusive": 0, "max": 1}, map[string]any{"name": "b", "min_exclusive": 0, "max": 1}},
			"classes":  []any{"x", "y"},
			"mean":     []any{0, 0}, "scale": []any{1, 1},
			"weights": []any{[]any{1, 0}, []any{0, 1}}, "bias": []any{0, 0},
			"examples": map[string]any{"x": []any{0.5, 0.5}},
		}
	}
	doc, _ := json.Marshal(valid())
	if _, err := Parse(doc); err != nil {
		t.Fatalf("the valid base document: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(map[string]any)
	}{
		{"no version", "no version", func(m map[string]any) { delete(m, "version") }},
		{"no target", "target", func(m map[string]any) { delete(m, "target") }},
		{"one class", "want at least 2", func(m map[string]any) {
			m["classes"], m["weights"], m["bias"] = []any{"x"}, []any{[]any{1, 0}}, []any{0}
		}},
		{"zero scale", `feature "b": scale 0`, func(m map[string]any) { m["scale"] = []any{1, 0} }},
		{"short weight row", `class "y": 1 weights for 2 features`, func(m map[string]any) { m["weights"] = []any{[]any{1, 0}, []any{1}} }},
		{"missing mean", "2 features but 1 means", func(m map[string]any) { m["mean"] = []any{0} }},
		{"repeated feature", `feature "a" appears twice`, func(m map[string]any) {
			m["features"] = []any{map[string]any{"name": "a", "max": 1}, map[string]any{"name": "a", "max": 1}}
		}},
		{"feature named instances", `name "instances"`, func(m map[string]any) {
			m["features"] = []any{map[string]any{"name": "a", "max": 1}, map[string]any{"name": "instances", "max": 1}}
		}},
		{"feature name with a space", `name "b c"`, func(m map[string]any) {
			m["features"] = []any{map[string]any{"name": "a", "max": 1}, map[string]any{"name": "b c", "max": 1}}
		}},
		{"empty range", `range (1, 1]`, func(m map[string]any) {
			m["features"] = []any{map[string]any{"name": "a", "min_exclusive": 1, "max": 1}, map[string]any{"name": "b", "max": 1}}
		}},
		{"example of no class", `example for "z"`, func(m map[string]any) { m["examples"] = map[string]any{"z": []any{0.5, 0.5}} }},
		{"example out of range", `b = 2 is outside`, func(m map[string]any) { m["examples"] = map[string]any{"x": []any{0.5, 2}} }},
		{"repeated class", `"x" is empty or repeated`, func(m map[string]any) { m["classes"] = []any{"x", "x"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.edit(m)
			doc, _ := json.Marshal(m)
			if _, err := Parse(doc); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("{")); err == nil {
		t.Error("Parse accepted broken JSON")
	}
}

func BenchmarkPredict(b *testing.B) {
	m := Default()
	_, x := m.Example()
	p := make([]float64, len(m.Classes))
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(x, p)
	}
}
