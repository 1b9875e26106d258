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
		{"a column of no feature", "titanic-logistic", func(d map[string]any) { prepColumn(d, 0)["feature"] = "cabin" }, `prepare column 0: feature "cabin" is not one of the features`},
		{"a table of another length", "titanic-logistic", func(d map[string]any) { delete(prepColumn(d, 3), "one_hot"); prepColumn(d, 3)["table"] = []any{1.0} },
			"1 table values for 2 categories"},
		{"a one-hot column of no category", "titanic-logistic", func(d map[string]any) { prepColumn(d, 3)["one_hot"] = 2.0 }, "one_hot 2: want the index of one of its 2 categories"},
		{"an unknown category as NaN where the family takes none", "titanic-logistic", func(d map[string]any) { prepColumn(d, 3)["unknown"] = "NaN" },
			"an unknown category becomes NaN, which logistic/1 does not take"},
		{"a divisor of 0", "titanic-logistic", func(d map[string]any) { prepColumn(d, 0)["ops"] = []any{map[string]any{"sub_div": []any{1.0, 0.0}}} }, "a divisor other than 0"},
		{"a feature no column uses", "titanic-logistic", func(d map[string]any) {
			cols := d["prepare"].(map[string]any)["columns"].([]any)
			d["prepare"].(map[string]any)["columns"] = cols[1:]
		}, `feature "age": no column of prepare uses it`},
		{"a missing value said taken that is not", "titanic-xgb-dense", func(d map[string]any) {
			feature(d, "sex")["missing"] = "refused"
		}, `feature "sex": missing "refused", but the preparation says`},
		{"a category among numbers", "titanic-logistic", func(d map[string]any) { feature(d, "pclass")["categories"] = []any{1.0, "2", 3.0} }, "a number among strings"},
		{"a number with categories", "titanic-logistic", func(d map[string]any) { feature(d, "age")["categories"] = []any{"a"} }, `a number has no categories`},
		{"an example of a category never seen", "titanic-logistic", func(d map[string]any) {
			d["examples"].([]any)[0].(map[string]any)["values"].([]any)[1] = 7.0
		}, `sex: must be a string`},
		{"a categorical split on a numeric column", "titanic-hgb-native", func(d map[string]any) {
			d["params"].(map[string]any)["categorical"].(map[string]any)["columns"] = []any{7.0, 8.0, 9.0}
		}, "is not among the categorical columns [7 8 9]"},
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

// prepColumn is the i-th column of a fixture's prepare, to edit.
func prepColumn(doc map[string]any, i int) map[string]any {
	return doc["prepare"].(map[string]any)["columns"].([]any)[i].(map[string]any)
}

// feature is a fixture's feature of that name, to edit.
func feature(doc map[string]any, name string) map[string]any {
	for _, f := range doc["features"].([]any) {
		if f := f.(map[string]any); f["name"] == name {
			return f
		}
	}
	panic(name)
}

// A model.json from before features had types and models a preparation
// (its StandardScaler under "scaler") still loads, and predicts as it did.
func TestTheOldContractLoads(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "scaler-iris.model.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, m.Outputs())
	if class := m.Classes[m.Predict([]float64{5.1, 3.5, 1.4, 0.2}, out)]; class != "setosa" || m.Features[0].Type != TypeNumber || m.Features[0].Missing != MissingRefused {
		t.Errorf("the 2025 Iris model: %s (%v), feature %+v", class, out, m.Features[0])
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
			x, err := m.Row(e.Values)
			if err != nil {
				t.Fatal(err)
			}
			best := m.Predict(x, out)
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
//
// titanic-forest is a pipeline (one-hot encoders, imputers, a scaler) in
// front of 100 trees; titanic-forest-bare is the same trees on rows already
// prepared: the difference is what the preparation costs a row.
func BenchmarkPredict(b *testing.B) {
	for _, c := range []struct{ name, dataset string }{
		{"logistic-iris", "iris"}, {"forest-cancer", "cancer"}, {"hgb-cancer", "cancer"}, {"xgb-cancer", "cancer"}, {"forest-diabetes", "diabetes"},
		{"titanic-forest", "titanic"}, {"titanic-forest-bare", "titanic"},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := fixture(b, strings.TrimSuffix(c.name, "-bare"))
			rows := datasetRows(b, m, c.dataset)
			predict := m.Predict
			if strings.HasSuffix(c.name, "-bare") {
				bare := *m.family.(*trees)
				bare.prep = nil
				for i, x := range rows {
					rows[i] = m.prep.apply(x, nil)
				}
				predict = func(z, out []float64) int { bare.predict(z, out); return 0 }
			}
			out := make([]float64, m.Outputs())
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				predict(rows[i%len(rows)], out)
				i++
			}
		})
	}
}

// datasetRows reads a fixture dataset's rows for m.
func datasetRows(tb testing.TB, m *Model, dataset string) [][]float64 {
	tb.Helper()
	var data struct{ Rows []any }
	readJSON(tb, filepath.Join("testdata", "parity", dataset+".rows.json"), &data)
	rows := make([][]float64, len(data.Rows))
	for i, r := range data.Rows {
		var err error
		if rows[i], err = m.Row(values(m, r)); err != nil {
			tb.Fatal(err)
		}
	}
	return rows
}

// A pipeline costs a row no allocation: the preparation writes into the
// row's buffer on the stack.
func TestAPipelineDoesNotAllocate(t *testing.T) {
	for _, name := range []string{"titanic-forest", "titanic-logistic", "titanic-hgb-native", "titanic-xgb-sparse", "houses-ridge"} {
		m := fixture(t, name)
		x := datasetRows(t, m, strings.SplitN(name, "-", 2)[0])[0]
		out := make([]float64, m.Outputs())
		if n := testing.AllocsPerRun(100, func() { m.Predict(x, out) }); n != 0 {
			t.Errorf("%s: %v allocations per row", name, n)
		}
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
