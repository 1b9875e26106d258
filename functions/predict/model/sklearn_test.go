package model

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/sklearn"
)

// The Go function computes what scikit-learn's predict_proba computes, for
// every row of three datasets (multinomial, from the command line and from
// Python; binary), and the export refuses what it cannot serve.
func TestScikitLearnParity(t *testing.T) {
	py := sklearn.Python()
	if py == "" {
		msg := sklearn.Hint + " and run make test again"
		if os.Getenv("SKLEARN_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(py, "testdata/sklearn_parity.py", root, dir).CombinedOutput(); err != nil {
		t.Fatalf("%s testdata/sklearn_parity.py: %v\n%s", py, err, out)
	}
	for _, name := range []string{"iris", "wine", "cancer"} {
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join(dir, name+".model.json"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(doc)
			if err != nil {
				t.Fatalf("the exported model does not parse: %v", err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, name+".expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Rows    [][]float64
				Proba   [][]float64
				Classes []string
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if strings.Join(m.Classes, ",") != strings.Join(want.Classes, ",") {
				t.Fatalf("classes %v, scikit-learn's %v", m.Classes, want.Classes)
			}
			p, worst := make([]float64, len(m.Classes)), 0.0
			for i, x := range want.Rows {
				m.Predict(x, p)
				for k := range p {
					worst = max(worst, math.Abs(p[k]-want.Proba[i][k]))
				}
			}
			if worst > 1e-9 {
				t.Errorf("largest difference from predict_proba over %d rows: %g, want <= 1e-9", len(want.Rows), worst)
			}
			t.Logf("%d rows, %d features: largest difference from predict_proba %.1g", len(want.Rows), len(m.Features), worst)
		})
	}
	raw, err := os.ReadFile(filepath.Join(dir, "refused.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refused map[string]string
	json.Unmarshal(raw, &refused)
	for label, msg := range refused {
		if !strings.Contains(msg, "supported: Pipeline([StandardScaler(), LogisticRegression()])") && !strings.Contains(msg, "not fitted") {
			t.Errorf("exporting %s: %q, want a refusal saying what is supported", label, msg)
		}
	}
	if len(refused) != 4 {
		t.Errorf("refusals %v, want 4", refused)
	}
}
