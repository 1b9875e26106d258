package model

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/python"
	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// Every family computes what its library computes, on every row of the
// committed fixtures (testdata/parity, written by testdata/parity.py): the
// datasets' rows, rows at each split of the first tree and one float64 step
// either side, and rows with missing values for the models that take them.
// Within 1e-9 of predict_proba (absolute) or predict (relative) for
// scikit-learn, 1e-6 for XGBoost's float32 model, and the same class.
func TestParity(t *testing.T) {
	compare(t, "testdata/parity")
}

// The fixtures are what scikit-learn and XGBoost give today: fit them again
// and compare, where Python has both (CI requires it).
func TestParityRefit(t *testing.T) {
	py := python.With("sklearn", "joblib", "xgboost", "pandas")
	if py == "" {
		msg := python.ScikitLearnHint + " and run make test again"
		testtool.Missing(t, "SKLEARN_REQUIRED", msg)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(py, "testdata/parity.py", root, dir)
	// One OpenMP thread: two make HistGradientBoosting 60 times slower here.
	// No bytecode: the exporter it imports would leave scripts/__pycache__
	// in the checkout.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s testdata/parity.py: %v\n%s", py, err, out)
	}
	compare(t, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "refused.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refused map[string]string
	if err := json.Unmarshal(raw, &refused); err != nil {
		t.Fatal(err)
	}
	// What each refusal must name.
	for label, want := range map[string]string{
		"another step": "a PolynomialFeatures step; served are", "another family": "got SVC",
		"one-vs-rest": "one-vs-rest", "not fitted": "not fitted", "two outputs": "2 outputs",
		"a custom init": "init=LinearRegression", "a dart booster": "dart", "a gblinear booster": "gblinear",
		"another objective": "reg:absoluteerror", "missing=0": "missing=0.0", "XGBoost's categories without their names": "pass the training data as a DataFrame whose category columns", "an imputer's indicator": "add_indicator",
		"a step nested in a ColumnTransformer": "a PolynomialFeatures step; served are", "MinMaxScaler(clip=True)": "MinMaxScaler(clip=True)",
		"an imputer after a scaler":          "a SimpleImputer after a scaler: put the imputer first",
		"a column both encoded and a number": "is both encoded as a category and used as a number",
		"boolean categories":                 "its categories are booleans",
		"no data and no ranges":              "--data", "missing values for a model without them": "does not take",
	} {
		if !strings.Contains(refused[label], want) {
			t.Errorf("exporting %s: %q, want a refusal naming %q", label, refused[label], want)
		}
	}
	if msg, ok := refused["no data, ranges in meta"]; !ok || msg != "" {
		t.Errorf("exporting without data, every range in meta: %q, want it exported", msg)
	}
}

// compare checks each case of dir against its library's outputs.
func compare(t *testing.T, dir string) {
	cases, err := filepath.Glob(filepath.Join(dir, "*.expected.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no fixtures in %s (%v)", dir, err)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".expected.json")
		t.Run(name, func(t *testing.T) {
			var want struct {
				Dataset string
				Bound   float64
				// Extra rows: lists in feature order, or (for a table) objects by column.
				Extra   []any
				Outputs [][]float64
				Labels  []any
				// Refused are rows scikit-learn raises for: the API refuses
				// them, naming one of the features.
				Refused []struct {
					Row      map[string]any
					Features []string
				}
			}
			readJSON(t, path, &want)
			var data struct{ Rows []any }
			readJSON(t, filepath.Join(dir, want.Dataset+".rows.json"), &data)
			m, err := Load(filepath.Join(dir, name+".model.json"))
			if err != nil {
				t.Fatal(err)
			}
			// An exported model takes every row it was trained on: the
			// ranges come from the training data, span plus half again.
			// (An earlier fallback, the scaler's mean ± 6 sd, refused
			// row 152 of breast cancer.)
			var rows [][]float64
			for i, r := range append(data.Rows, want.Extra...) {
				x, err := m.Row(values(m, r))
				if err != nil {
					t.Fatalf("row %d %v: %v", i, r, err)
				}
				rows = append(rows, x)
			}
			if len(rows) != len(want.Outputs) {
				t.Fatalf("%d rows, %d expected outputs", len(rows), len(want.Outputs))
			}
			out := make([]float64, m.Outputs())
			worst, wrong := 0.0, 0
			for i, x := range rows {
				best := m.Predict(x, out)
				for k, v := range out {
					d := math.Abs(v - want.Outputs[i][k])
					if m.Task == Regression {
						d /= max(1, math.Abs(want.Outputs[i][k]))
					}
					if !(d <= worst) {
						worst = d
					}
				}
				if m.Task == Classification && m.Classes[best] != want.Labels[i] {
					wrong++
					if wrong <= 3 {
						t.Errorf("row %d %s: class %s (%v), the library's %v (%v)", i, m.Body(x), m.Classes[best], out, want.Labels[i], want.Outputs[i])
					}
				}
			}
			for _, r := range want.Refused {
				_, err := m.Row(values(m, r.Row))
				if err == nil || !slices.ContainsFunc(r.Features, func(f string) bool { return strings.HasPrefix(err.Error(), f+": ") }) {
					t.Errorf("%v: %v, want it refused naming one of %v, as scikit-learn raises", r.Row, err, r.Features)
				}
			}
			if !(worst <= want.Bound) || wrong > 0 {
				t.Errorf("%s (%s): largest difference %.3g over %d rows (%d extra), bound %g; %d with another class", m.Family, m.Kind, worst, len(rows), len(want.Extra), want.Bound, wrong)
			}
			t.Logf("%s (%s), %d rows (%d at thresholds, missing or unseen; %d refused): largest difference %.3g", m.Family, m.Kind, len(rows), len(want.Extra), len(want.Refused), worst)
		})
	}
}

// values is a fixture's row in m's feature order: a list already, or an
// object by column name.
func values(m *Model, row any) []any {
	obj, ok := row.(map[string]any)
	if !ok {
		return row.([]any)
	}
	out := make([]any, len(m.Features))
	for j, f := range m.Features {
		out[j] = obj[f.Name]
	}
	return out
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
