package model

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(tb testing.TB, name string) *Model {
	tb.Helper()
	m, err := Load(filepath.Join("testdata", "parity", name+".model.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// fixtureDoc is a fixture as a JSON document to edit.
func fixtureDoc(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parity", name+".model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// A model.json that is not what this version serves is refused at parse,
// saying what is wrong: never a model that answers nonsense.
func TestParseRefusesWhatItCannotServe(t *testing.T) {
	int32s := func(v ...int32) string {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	for _, tc := range []struct {
		name, fixture string
		edit          func(doc map[string]any)
		want          string
	}{
		{"an unknown kind", "forest-iris", func(d map[string]any) { d["kind"] = "sklearn-trees/2" },
			`kind "sklearn-trees/2" is not known; this version of the project serves linear/1, logistic/1, sklearn-hist-gradient-boosting/1, sklearn-trees/1, xgboost/1`},
		{"a misspelt key", "forest-iris", func(d map[string]any) { d["target_unti"] = "cm" }, `unknown object member name "target_unti"`},
		{"a misspelt parameter", "gb-cancer", func(d map[string]any) { d["params"].(map[string]any)["learningrate"] = 0.1 }, `unknown object member name "learningrate"`},
		{"a task the kind does not do", "logistic-iris", func(d map[string]any) { d["task"] = "regression"; delete(d, "classes"); delete(d, "examples") }, "kind logistic/1 does not do regression"},
		{"a regression with classes", "linear-diabetes", func(d map[string]any) { d["classes"] = []any{"a", "b"} }, "a regression has no classes"},
		{"an example of no class", "forest-iris", func(d map[string]any) { d["examples"].([]any)[0].(map[string]any)["label"] = "tulip" }, `example "tulip": a classifier's example is labelled with its class`},
		{"a child before its parent", "tree-wine", func(d map[string]any) {
			nodes := d["params"].(map[string]any)["nodes"].(map[string]any)
			b, _ := base64.StdEncoding.DecodeString(nodes["left"].(string))
			binary.LittleEndian.PutUint32(b, 0)
			nodes["left"] = base64.StdEncoding.EncodeToString(b)
		}, "tree 0, node 0: children 0 and"},
		{"a feature out of range", "tree-wine", func(d map[string]any) {
			nodes := d["params"].(map[string]any)["nodes"].(map[string]any)
			b, _ := base64.StdEncoding.DecodeString(nodes["feature"].(string))
			binary.LittleEndian.PutUint32(b, 99)
			nodes["feature"] = base64.StdEncoding.EncodeToString(b)
		}, "tree 0, node 0: feature 99 of 13"},
		{"columns of different lengths", "tree-wine", func(d map[string]any) {
			d["params"].(map[string]any)["nodes"].(map[string]any)["roots"] = int32s(0, 1000)
		}, "root 1000"},
		{"a link that does not fit", "gb-cancer", func(d map[string]any) { d["params"].(map[string]any)["link"] = "softmax" }, `link "softmax" with 1 raw values does not fit a classification of 2 classes`},
		{"another XGBoost objective", "xgb-diabetes", func(d map[string]any) { d["params"].(map[string]any)["objective"] = "reg:pseudohubererror" }, `objective "reg:pseudohubererror"`},
		{"a threshold that is no float32", "xgb-diabetes", func(d map[string]any) { d["params"].(map[string]any)["base_score"] = 0.1 }, "base_score 0.1 is not a float32"},
		{"a scaler of another width", "forest-iris", func(d map[string]any) { d["scaler"].(map[string]any)["mean"] = []any{1.0} }, "4 features but the scaler has 1 means"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := fixtureDoc(t, tc.fixture)
			tc.edit(doc)
			b, _ := json.Marshal(doc)
			if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Every fixture's examples are real rows, and a classifier's are predicted
// as the class they are labelled with (the site's presets, the smoke test).
func TestExamplesArePredictedAsLabelled(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "parity", "*.model.json"))
	for _, p := range paths {
		m := fixture(t, strings.TrimSuffix(filepath.Base(p), ".model.json"))
		if len(m.Examples) == 0 {
			t.Errorf("%s: no examples", p)
		}
		out := make([]float64, m.Outputs())
		for _, e := range m.Examples {
			best := m.Predict(e.Values, out)
			if m.Task == Classification && m.Classes[best] != e.Label {
				t.Errorf("%s: example %s predicted as %s", p, e.Label, m.Classes[best])
			}
		}
	}
}

func TestBodyIsARequest(t *testing.T) {
	m := fixture(t, "hgb-cancer-missing")
	_, x := m.Example()
	x = append([]float64{}, x...)
	x[1] = math.NaN()
	var got map[string]*float64
	if err := json.Unmarshal([]byte(m.Body(x)), &got); err != nil || len(got) != len(m.Features) {
		t.Fatalf("Body = %s (%v), want an object with the %d features", m.Body(x), err, len(m.Features))
	}
	for j, f := range m.Features {
		if j == 1 && got[f.Name] != nil || j != 1 && *got[f.Name] != x[j] {
			t.Errorf("%s = %v, want %v (a missing value as null)", f.Name, got[f.Name], x[j])
		}
	}
	if m.MaxBodyBytes() < len(`{"instances":[]}`)+MaxBatch*(len(m.Body(x))+1) {
		t.Errorf("MaxBodyBytes %d is less than a full batch of examples", m.MaxBodyBytes())
	}
}

// Predict allocates nothing per row, whatever the family.
func TestPredictDoesNotAllocate(t *testing.T) {
	for _, name := range []string{"logistic-iris", "linear-diabetes", "forest-cancer", "gb-iris", "hgb-cancer", "hgb-iris", "xgb-iris", "xgb-wine"} {
		m := fixture(t, name)
		_, x := m.Example()
		out := make([]float64, m.Outputs())
		if n := testing.AllocsPerRun(100, func() { m.Predict(x, out) }); n != 0 {
			t.Errorf("%s (%s): %v allocations per row", name, m.Kind, n)
		}
	}
}

// A row wider than the stack buffer takes a pooled one: still no
// allocation per row.
func TestWideRowsDoNotAllocate(t *testing.T) {
	doc := fixtureDoc(t, "linear-diabetes")
	nf := 3 * stackRow
	features, weights, x := make([]any, nf), make([]any, nf), make([]float64, nf)
	for j := range features {
		features[j] = map[string]any{"name": "f" + strings.Repeat("x", j), "description": "f", "unit": "", "min_exclusive": -1, "max": 1}
		weights[j] = 0.5
	}
	doc["features"], doc["params"], doc["examples"] = features, map[string]any{"weights": weights, "bias": 1.0}, []any{}
	b, _ := json.Marshal(doc)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	out := []float64{0}
	if n := testing.AllocsPerRun(100, func() { m.Predict(x, out) }); n != 0 || out[0] != 1 {
		t.Errorf("%d features: %v allocations per row, value %v", nf, n, out[0])
	}
}

// make bench reports these: a row through each family, and the largest
// fixture decoded as a cold start decodes it. The rows are the dataset's,
// in turn: one row again and again would let the branch predictor learn its
// path through the trees.
func BenchmarkPredict(b *testing.B) {
	for _, c := range []struct{ name, dataset string }{
		{"logistic-iris", "iris"}, {"forest-cancer", "cancer"}, {"hgb-cancer", "cancer"}, {"xgb-cancer", "cancer"}, {"forest-diabetes", "diabetes"},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := fixture(b, c.name)
			var data struct{ Rows [][]float64 }
			readJSON(b, filepath.Join("testdata", "parity", c.dataset+".rows.json"), &data)
			out := make([]float64, m.Outputs())
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Predict(data.Rows[i%len(data.Rows)], out)
				i++
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "parity", "forest-diabetes.model.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// An exported model never refuses a row it was trained on: the ranges come
// from the training data, span plus half again. (The earlier fallback, the
// scaler's mean ± 6 sd, refused row 152 of breast cancer.)
func TestTrainingRowsAreInRange(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "parity", "*.expected.json"))
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".expected.json")
		var want struct{ Dataset string }
		readJSON(t, p, &want)
		var data struct{ Rows [][]float64 }
		readJSON(t, filepath.Join("testdata", "parity", want.Dataset+".rows.json"), &data)
		m := fixture(t, name)
		for i, x := range data.Rows {
			for j, f := range m.Features {
				if !f.Valid(x[j]) {
					t.Errorf("%s: row %d: %s = %g is refused (%s)", name, i, f.Name, x[j], f.Range())
				}
			}
		}
	}
}
