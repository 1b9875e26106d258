package train

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func load(t *testing.T) *Dataset {
	t.Helper()
	f, err := os.Open("../../data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The committed model must be exactly what training produces today, so a change
// to the data or the training code cannot ship with a stale model.
func TestCommittedModelIsReproducible(t *testing.T) {
	m, err := Train(load(t), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../functions/predict/model/model.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("functions/predict/model/model.json is stale (fresh version %s): run `go run ./cmd/train` and commit the result", m.Version)
	}
	if m.Metrics.CVAccuracy < 0.95 {
		t.Errorf("cross-validated accuracy = %.4f, want >= 0.95", m.Metrics.CVAccuracy)
	}
}

func TestCrossValidationIsStratified(t *testing.T) {
	d := load(t)
	_, confusion := CrossValidate(d, DefaultOptions)
	for k, row := range confusion {
		n := 0
		for _, c := range row {
			n += c
		}
		if n != 50 {
			t.Errorf("class %s: %d held-out predictions, want 50 (every sample held out once)", d.Classes[k], n)
		}
	}
}

func TestReadCSVRejectsBadData(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"wrong header", "a,b,c,d,species\n", `header column 1 is "a"`},
		{"non-number", "sepal_length,sepal_width,petal_length,petal_width,species\nx,1,1,1,setosa\n", `line 2: sepal_length "x"`},
		{"negative", "sepal_length,sepal_width,petal_length,petal_width,species\n1,-1,1,1,setosa\n", `line 2: sepal_width "-1"`},
		{"too many species", "sepal_length,sepal_width,petal_length,petal_width,species\n1,1,1,1,a\n1,1,1,1,b\n1,1,1,1,c\n1,1,1,1,d\n", "more than 3 species"},
		{"too few species", "sepal_length,sepal_width,petal_length,petal_width,species\n1,1,1,1,a\n", "found 1 species"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.csv))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
