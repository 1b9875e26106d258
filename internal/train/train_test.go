package train

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// inRoot runs the test from the module root, where model.json's source paths
// are relative to.
func inRoot(t *testing.T) {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
}

// The committed model must be exactly what training produces today, so a
// change to the data or the training code cannot ship with a stale model. A
// model exported from scikit-learn is checked by the export's own test.
func TestCommittedModelIsReproducible(t *testing.T) {
	inRoot(t)
	path := project.ModelFile
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := model.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	src := committed.Source
	if src.Tool != "cmd/train" {
		t.Skipf("%s comes from %s, not cmd/train", path, src.Tool)
	}
	o := DefaultOptions
	o.Folds = src.Folds
	m, _, err := FromFiles(src.Data, src.Target, src.Meta, src.Task, o)
	if err != nil {
		t.Fatalf("%s was trained from %s, which cannot be trained from again: %v; keep the CSV in the repository (data/), relative to its root", path, src.Data, err)
	}
	got, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (fresh version %s): run `go run ./cmd/train -data %s -target %s` and commit the result", path, m.Version, src.Data, src.Target)
	}
}

func iris(t *testing.T) (*model.Model, *Dataset) {
	t.Helper()
	inRoot(t)
	m, d, err := FromFiles("data/iris.csv", "species", "data/iris.meta.json", model.Classification, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

// Fisher's irises: accurate, setosa never confused, and the examples are
// real flowers of their species.
func TestIris(t *testing.T) {
	m, d := iris(t)
	if m.Metrics.CVAccuracy < 0.95 {
		t.Errorf("cross-validated accuracy = %.4f, want >= 0.95", m.Metrics.CVAccuracy)
	}
	for k, row := range m.Metrics.Confusion {
		n := 0
		for _, c := range row {
			n += c
		}
		if n != 50 {
			t.Errorf("class %s: %d held-out predictions, want 50 (every row held out once)", d.Classes[k], n)
		}
	}
	if c := m.Metrics.Confusion; c[0][1]+c[0][2]+c[1][0]+c[2][0] != 0 {
		t.Errorf("setosa confused with another species: %v; it is linearly separable", c)
	}
	if m.Target != "species" || m.Features[3].Unit != "cm" || m.Features[3].Max != 30 || m.Title != "Iris species predictor" {
		t.Errorf("target %q, feature %+v, title %q: want what data/iris.meta.json says", m.Target, m.Features[3], m.Title)
	}
	for _, e := range m.Examples {
		found := false
		for i, y := range d.Y {
			found = found || d.Classes[y] == e.Label && fmt.Sprint(d.X[i]) == fmt.Sprint(e.Values)
		}
		if !found {
			t.Errorf("example %v of %s is not a row of that class", e.Values, e.Label)
		}
	}
	if len(m.Examples) != 3 {
		t.Errorf("examples %v, want one per species", m.Examples)
	}
}

// Training twice gives the same bytes.
func TestDeterministic(t *testing.T) {
	a, _ := iris(t)
	b, _ := iris(t)
	ea, _ := Encode(a)
	eb, _ := Encode(b)
	if !bytes.Equal(ea, eb) {
		t.Error("two trainings on the same data differ")
	}
}

// Any numeric CSV trains: here two classes, no meta file, the class column
// first and the ranges derived from the data.
func TestAnyCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("label,width,height\n")
	for i := range 40 {
		label, w := "small", 1+float64(i%10)/10
		if i%2 == 1 {
			label, w = "large", 5+float64(i%10)/10
		}
		fmt.Fprintf(&b, "%s,%g,%g\n", label, w, w*2)
	}
	d, err := ReadCSV(strings.NewReader(b.String()), "label", model.Classification, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(d, nil, model.Source{Tool: "test"}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if m.Target != "label" || m.Name != "label-softmax" || strings.Join(m.Classes, ",") != "small,large" || m.Metrics.CVAccuracy != 1 {
		t.Errorf("model %q for %q with classes %v, accuracy %v", m.Name, m.Target, m.Classes, m.Metrics.CVAccuracy)
	}
	if w := m.Features[0]; w.Name != "width" || w.Unit != "" || !(w.Min < 1 && w.Max > 5.9) {
		t.Errorf("width = %+v, want a range around the data's [1, 5.9] and no unit", w)
	}
	enc, _ := Encode(m)
	if _, err := model.Parse(enc); err != nil {
		t.Errorf("the trained model does not parse: %v", err)
	}
}

// ids is n rows of a column of names, each its own value.
func ids(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "id%d,%d,%s\n", i, i, []string{"p", "q"}[i%2])
	}
	return b.String()
}

func TestBadDataIsNamedByLineAndColumn(t *testing.T) {
	const header = "a,b,kind\n"
	rows := func(n int, kind string) string { return strings.Repeat("1,2,"+kind+"\n", n) }
	for _, tc := range []struct{ name, csv, target, meta, want string }{
		{"no such target", header + rows(5, "x"), "class", "", `no column "class" for the target; the columns are a, b, kind`},
		{"infinity", header + "Inf,1,p\n1,2,q\n", "kind", "", `column "a": "Inf" is not a finite number: give the value, or leave the cell blank`},
		{"a column of blanks", header + rows(3, "p") + ",2,q\n", "kind", "", ``},
		{"an empty column", "a,b,kind\n,1,p\n,2,q\n", "kind", "", `column "a" is blank in every row: leave it out`},
		{"a column of names", "name,b,kind\n" + ids(150), "kind", "", `column "name" has 150 different values ("id0" is not a number): one-hot encoding takes at most 100`},
		{"two columns one field", "a b,a/b,kind\n1,2,p\n1,2,q\n", "kind", "", `columns "a/b" and "a b" are both the API field "a_b": rename one`},
		{"a range for a category", header + "x,2,p\ny,3,q\n", "kind", `{"features":{"a":{"max":5}}}`, `meta: features.a: a category ("x" is not a number) has no unit or range`},
		{"missing class", header + "1,2,\n", "kind", "", `line 2, column "kind": missing class`},
		{"one class", header + rows(6, "p"), "kind", "", `holds 1 class(es)`},
		{"wrong number of fields", header + "1,2\n", "kind", "", "wrong number of fields"},
		{"value outside the meta's range", header + "1,2,p\n1,9,q\n", "kind", `{"features":{"b":{"max":5}}}`, `line 3, column "b": 9 is outside the range the meta file gives (more than`},
		{"meta names no column", header + rows(1, "p") + rows(1, "q"), "kind", `{"features":{"c":{}}}`, "meta: features.c: no such column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var meta *Meta
			if tc.meta != "" {
				var err error
				if meta, err = ReadMeta(strings.NewReader(tc.meta)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadCSV(strings.NewReader(tc.csv), tc.target, model.Classification, meta)
			if tc.want == "" { // fine: not every blank is an error
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	d, err := ReadCSV(strings.NewReader(header+rows(6, "p")+rows(3, "q")), "kind", model.Classification, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(d, nil, model.Source{}, DefaultOptions); err == nil || !strings.Contains(err.Error(), `class "q" has 3 row(s); 5-fold cross-validation needs at least 5 per class`) {
		t.Errorf("too few rows: error = %v", err)
	}
	if _, err := ReadMeta(strings.NewReader(`{"features":{"a":{"units":"cm"}}}`)); err == nil {
		t.Error("a meta file with a misspelled key was accepted")
	}
}

// cmd/train writes where -out says; a relative data path is recorded as given.
func TestFromFilesRecordsTheSource(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 10 {
		fmt.Fprintf(&b, "%d,%s\n", i, map[bool]string{true: "lo", false: "hi"}[i < 5])
	}
	os.WriteFile(csv, []byte(b.String()), 0o644)
	m, _, err := FromFiles(csv, "y", "", model.Classification, Options{Folds: 2, Iterations: 100, Rate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != (model.Source{Tool: "cmd/train", Data: csv, Folds: 2, Target: "y", Task: model.Classification}) {
		t.Errorf("source %+v", m.Source)
	}
}

// -task regression: ridge on standardized features, cross-validated R² and
// RMSE, low, median and high examples, the target's unit kept. On data that
// is linear but for a little deterministic noise, it recovers the line.
func TestRegression(t *testing.T) {
	var b strings.Builder
	b.WriteString("area,rooms,price\n")
	for i := range 60 {
		area, rooms := 40+float64(i*7%97), float64(1+i%5)
		noise := float64(i%7-3) / 10
		fmt.Fprintf(&b, "%g,%g,%g\n", area, rooms, 3*area+20*rooms+100+noise)
	}
	meta := &Meta{TargetDescription: "Asking price", TargetUnit: "kEUR"}
	d, err := ReadCSV(strings.NewReader(b.String()), "price", model.Regression, meta)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(d, meta, model.Source{Tool: "test"}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if m.Task != model.Regression || m.Kind != model.KindLinear || m.Name != "price-ridge" || m.TargetUnit != "kEUR" || m.TargetDescription != "Asking price" {
		t.Errorf("model %+v", m)
	}
	if m.Metrics.CVR2 < 0.999 || m.Metrics.CVRMSE > 1 || m.Metrics.TrainingR2 < m.Metrics.CVR2 {
		t.Errorf("metrics %+v, want R² near 1 and an RMSE near the noise", m.Metrics)
	}
	var labels []string
	for _, e := range m.Examples {
		labels = append(labels, e.Label)
	}
	if strings.Join(labels, ",") != "low,median,high" {
		t.Errorf("examples %v", labels)
	}
	out := []float64{0}
	m.Predict([]float64{100, 3}, out)
	if want := 3*100.0 + 20*3 + 100; math.Abs(out[0]-want) > 0.5 {
		t.Errorf("predicted %v for area 100, 3 rooms, want about %v", out[0], want)
	}
	enc, _ := Encode(m)
	if _, err := model.Parse(enc); err != nil {
		t.Errorf("the trained model does not parse: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,y\n1,x\n"), "y", model.Regression, nil); err == nil || !strings.Contains(err.Error(), `line 2, column "y": "x" is not a finite number`) {
		t.Errorf("a regression of a text column: %v", err)
	}
}

// Any CSV trains: a text column becomes a category, one-hot encoded; a
// column with blanks takes null, imputed; a column name that is no API
// field becomes one, its name kept as the description. The model predicts
// from a category and from a blank, and a category it never saw is a 400
// listing the ones it knows.
func TestAnyCSVTrains(t *testing.T) {
	var b strings.Builder
	b.WriteString("sex,age,od280/od315,survived\n")
	for i := range 120 {
		sex, age, survived := []string{"female", "male"}[i%2], fmt.Sprint(20+i%40), []string{"yes", "no"}[i%2]
		if i%7 == 0 {
			age = ""
		}
		if i%11 == 0 { // a few exceptions, so the classes overlap
			survived = []string{"no", "yes"}[i%2]
		}
		fmt.Fprintf(&b, "%s,%s,%g,%s\n", sex, age, 1+float64(i%5)/10, survived)
	}
	d, err := ReadCSV(strings.NewReader(b.String()), "survived", model.Classification, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(d, nil, model.Source{Tool: "test"}, Options{Folds: 5, Iterations: 300, Rate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := Encode(m)
	served, err := model.Parse(enc)
	if err != nil {
		t.Fatalf("the trained model does not parse: %v", err)
	}
	sex, age, ratio := served.Features[0], served.Features[1], served.Features[2]
	switch {
	case !sex.IsCategory() || fmt.Sprint(sex.Categories) != "[\"female\" \"male\"]" || sex.Missing != model.MissingRefused || sex.Unknown != model.UnknownRefused:
		t.Errorf("sex = %+v, want a category of female and male, refusing null and unknowns", sex)
	case age.IsCategory() || age.Missing != model.MissingImputed:
		t.Errorf("age = %+v, want a number whose blanks are imputed", age)
	case ratio.Name != "od280_od315" || ratio.Description != "od280/od315":
		t.Errorf("od280/od315 = %+v, want the field od280_od315 described as its column", ratio)
	case m.Metrics.CVAccuracy < 0.85:
		t.Errorf("cross-validated accuracy %v: the sex column decides most rows", m.Metrics.CVAccuracy)
	}
	out := make([]float64, served.Outputs())
	for values, want := range map[[3]any]string{{"female", nil, 1.2}: "yes", {"male", 30.0, 1.2}: "no"} {
		x, err := served.Row(values[:])
		if err != nil {
			t.Fatal(err)
		}
		if got := served.Classes[served.Predict(x, out)]; got != want {
			t.Errorf("%v: %s (%v), want %s", values, got, out, want)
		}
	}
	if _, err := served.Row([]any{"other", 30.0, 1.2}); err == nil || !strings.Contains(err.Error(), `sex: must be a string: one of "female", "male", got the string "other", which the model never saw`) {
		t.Errorf("an unseen category: %v", err)
	}
}
