// Package model is the contract between a trained model and everything that
// serves it: model.json, read here and nowhere else. A model is a task
// (classification or regression) and a kind: the family of arithmetic that
// computes it (kinds.go), each in a file of its own behind one small
// interface, exact to the library that fitted it. Around the parameters sit
// what the API needs: the features (name, description, unit, valid range),
// the classes and the name of what they are (the target: "species" for
// Iris), or for a regression what the number means and its unit; examples,
// the metrics, a version.
//
// The predict function validates and answers with it, the API Gateway model
// and the OpenAPI document are generated from it, the site builds its form
// from it, and corscheck, the benchmarks and the tests take their sample
// bodies from it. model.json comes from `go run ./cmd/train` (any numeric
// CSV) or from a model fitted in scikit-learn or XGBoost, through
// scripts/export_sklearn.py.
package model

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBatch is the most rows one request may carry; the API Gateway model
// and the function both enforce it.
const MaxBatch = 100

// Task is what a model predicts: a class or a number.
type Task string

const (
	Classification Task = "classification"
	Regression     Task = "regression"
)

// Metrics records how well the model did when it was trained: accuracy for
// a classifier, R² and RMSE for a regression.
type Metrics struct {
	CVFolds          int     `json:"cv_folds,omitzero"`
	CVAccuracy       float64 `json:"cv_accuracy,omitzero"`
	TrainingAccuracy float64 `json:"training_accuracy,omitzero"`
	CVR2             float64 `json:"cv_r2,omitzero"`
	CVRMSE           float64 `json:"cv_rmse,omitzero"`
	TrainingR2       float64 `json:"training_r2,omitzero"`
	TrainingRMSE     float64 `json:"training_rmse,omitzero"`
	TrainingSamples  int     `json:"training_samples,omitzero"`
	Confusion        [][]int `json:"cv_confusion_matrix,omitempty"` // [actual][predicted]
}

// Source says where a model came from, so a test can reproduce it.
type Source struct {
	Tool   string `json:"tool"`             // "cmd/train" or "scikit-learn 1.2.1", "xgboost 1.7.4"
	Data   string `json:"data,omitempty"`   // cmd/train: the CSV, relative to the module root
	Meta   string `json:"meta,omitempty"`   // cmd/train: the meta file, if any
	Folds  int    `json:"folds,omitzero"`   // cmd/train: cross-validation folds
	Target string `json:"target,omitempty"` // cmd/train: the target column
	Task   Task   `json:"task,omitempty"`   // cmd/train: what it learned
}

// Example is a typical row, for the site's presets, sample requests and
// smoke tests. A classifier's is labelled with its class, which the model
// predicts for it; a regression's with a word such as "low". Its values are
// in feature order, each as a request sends it: a number, a category's
// string (or number), null for a missing value.
type Example struct {
	Label  string `json:"label"`
	Values []any  `json:"values"`
}

// Scaler is a StandardScaler in front of the model, as in a scikit-learn
// Pipeline: the model sees (x - mean) / scale. It is how model.json said
// so before Prepare, which says it now; such files still load.
type Scaler struct {
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
}

// Model is a trained model as stored in model.json.
type Model struct {
	Name        string `json:"name"`
	Title       string `json:"title"`       // what the site calls it
	Description string `json:"description"` // one sentence for the site
	Version     string `json:"version"`
	// Kind names the arithmetic and the layout of Params, with a version
	// (kinds.go); Family the estimator, e.g. RandomForestClassifier.
	Kind      string `json:"kind"`
	Family    string `json:"family"`
	Algorithm string `json:"algorithm"`
	Task      Task   `json:"task"`
	Source    Source `json:"source"`
	// Target is the name a prediction goes under; for a regression,
	// TargetDescription and TargetUnit say what the number is.
	Target            string    `json:"target"`
	TargetDescription string    `json:"target_description,omitempty"`
	TargetUnit        string    `json:"target_unit,omitempty"`
	Features          []Feature `json:"features"`
	Classes           []string  `json:"classes,omitempty"`
	Examples          []Example `json:"examples,omitempty"`
	Scaler            *Scaler   `json:"scaler,omitempty"`
	Prepare           *Prepare  `json:"prepare,omitempty"`
	// Params are the kind's parameters, decoded by Parse.
	Params  jsontext.Value `json:"params"`
	Metrics Metrics        `json:"metrics"`

	family family
	prep   *program
}

// Load reads and checks the model.json at path.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// reserved names cannot be features: the batch request uses "instances".
var reserved = []string{"instances"}

// Parse decodes and checks a model document: every shape and name the
// function, the gateway schema and the site rely on, and the kind's
// parameters, which it decodes for Predict.
func Parse(data []byte) (*Model, error) {
	var m Model
	// A misspelt key would otherwise lose a unit, a range or a parameter
	// without a word.
	if err := json.Unmarshal(data, &m, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := m.Compile(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Compile checks m and decodes its parameters, which Predict needs; Parse
// calls it, a trainer that builds a Model calls it before predicting.
func (m *Model) Compile() error {
	if err := m.check(); err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	k, ok := kinds[m.Kind]
	if !ok {
		return fmt.Errorf("model %q: kind %q is not known; this version of the project serves %s", m.Name, m.Kind, strings.Join(kindNames(), ", "))
	}
	if !slices.Contains(k.tasks, m.Task) {
		return fmt.Errorf("model %q: kind %s does not do %s", m.Name, m.Kind, m.Task)
	}
	if err := m.compilePrepare(k.missing); err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	if err := m.checkExamples(); err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	f, err := k.decode(m)
	if err != nil {
		return fmt.Errorf("model %q: %s params: %w", m.Name, m.Kind, err)
	}
	m.family = f
	return nil
}

func (m *Model) check() error {
	nf, nc := len(m.Features), len(m.Classes)
	switch {
	case m.Version == "":
		return errors.New("no version")
	case m.Target == "" || slices.Contains(reserved, m.Target):
		return fmt.Errorf("target %q: want the name of what the model predicts, e.g. species", m.Target)
	case nf == 0:
		return errors.New("no features")
	case m.Task != Classification && m.Task != Regression:
		return fmt.Errorf("task %q: want %q or %q", m.Task, Classification, Regression)
	case m.Task == Classification && nc < 2:
		return fmt.Errorf("%d classes, want at least 2", nc)
	case m.Task == Regression && nc > 0:
		return fmt.Errorf("a regression has no classes, got %v", m.Classes)
	}
	if s := m.Scaler; s != nil {
		if len(s.Mean) != nf || len(s.Scale) != nf {
			return fmt.Errorf("%d features but the scaler has %d means and %d scales", nf, len(s.Mean), len(s.Scale))
		}
		for j, f := range m.Features {
			if !(s.Scale[j] > 0) || math.IsInf(s.Scale[j], 0) || math.IsNaN(s.Mean[j]) || math.IsInf(s.Mean[j], 0) {
				return fmt.Errorf("feature %q: scale %v and mean %v, want a positive scale and a finite mean", f.Name, s.Scale[j], s.Mean[j])
			}
		}
	}
	for i := range m.Features {
		f := &m.Features[i]
		switch {
		case !validName(f.Name) || slices.Contains(reserved, f.Name) || f.Name == m.Target:
			return fmt.Errorf("feature %d: name %q: want letters, digits and _, and not %q", i, f.Name, append(reserved, m.Target))
		case slices.ContainsFunc(m.Features[:i], func(g Feature) bool { return g.Name == f.Name }):
			return fmt.Errorf("feature %q appears twice", f.Name)
		}
		if err := f.check(); err != nil {
			return err
		}
	}
	for k, c := range m.Classes {
		if c == "" || slices.Contains(m.Classes[:k], c) {
			return fmt.Errorf("class %d: %q is empty or repeated", k, c)
		}
	}
	return nil
}

// checkExamples checks each example is a row the API takes (after
// compilePrepare, which says what a feature takes).
func (m *Model) checkExamples() error {
	for i, e := range m.Examples {
		switch {
		case e.Label == "" || slices.ContainsFunc(m.Examples[:i], func(o Example) bool { return o.Label == e.Label }):
			return fmt.Errorf("example %d: label %q is empty or repeated", i, e.Label)
		case m.Task == Classification && !slices.Contains(m.Classes, e.Label):
			return fmt.Errorf("example %q: a classifier's example is labelled with its class, one of %v", e.Label, m.Classes)
		}
		if _, err := m.Row(e.Values); err != nil {
			return fmt.Errorf("example %q: %w", e.Label, err)
		}
	}
	return nil
}

// Row reads values, one per feature in feature order as a request holds
// them, into a row for Predict; its error names the feature.
func (m *Model) Row(values []any) ([]float64, error) {
	if len(values) != len(m.Features) {
		return nil, fmt.Errorf("%d values for %d features", len(values), len(m.Features))
	}
	x := make([]float64, len(values))
	for j, v := range values {
		var err error
		if x[j], err = m.Features[j].Read(v); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Features[j].Name, err)
		}
	}
	return x, nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_')
	})
}

// Outputs is how many numbers Predict writes: one probability per class, or
// the one predicted value.
func (m *Model) Outputs() int {
	if m.Task == Classification {
		return len(m.Classes)
	}
	return 1
}

// AcceptsMissing reports whether any feature takes a missing value (null
// in a request, NaN in a row): where the trees learned where it goes
// (histogram gradient boosting, XGBoost), an imputer fills it in, or an
// encoder learned it as a category. Each feature's Missing says which.
func (m *Model) AcceptsMissing() bool {
	return slices.ContainsFunc(m.Features, func(f Feature) bool { return f.TakesMissing() })
}

// width is how many columns the estimator sees.
func (m *Model) width() int { return m.prep.width(len(m.Features)) }

// Predict writes the model's outputs for one row x (feature order, as Row
// reads it: a category's index, NaN for a missing value) into out (Outputs long): the class
// probabilities of a classifier, the value of a regression. It returns the
// index of the most likely class (the first of equals, as numpy's argmax),
// 0 for a regression. It does not allocate for rows of up to stackRow
// features.
func (m *Model) Predict(x, out []float64) int {
	m.family.predict(x, out)
	best := 0
	for k := range out {
		if out[k] > out[best] {
			best = k
		}
	}
	return best
}

// Example is a valid row for sample requests: the first example, or the
// middle of each number's range and each category's first value when the
// model has none.
func (m *Model) Example() (label string, x []float64) {
	if len(m.Examples) > 0 {
		x, _ := m.Row(m.Examples[0].Values) // checked at Compile
		return m.Examples[0].Label, x
	}
	x = make([]float64, len(m.Features))
	for j, f := range m.Features {
		if !f.IsCategory() {
			x[j] = f.Min + (f.Max-f.Min)/2
		}
	}
	return "", x
}

// ExampleBody is a valid POST /predict body: Example as JSON.
func (m *Model) ExampleBody() string {
	_, x := m.Example()
	return m.Body(x)
}

// Body is x, a row, as the JSON object POST /predict takes: a category's
// value, null for NaN.
func (m *Model) Body(x []float64) string { return Body(m.Features, m.Values(x)) }

// Values is row x as a request holds it, one value per feature: the
// inverse of Row.
func (m *Model) Values(x []float64) []any {
	values := make([]any, len(x))
	for j := range m.Features {
		values[j] = m.Features[j].Value(x[j])
	}
	return values
}

// Body is values, one per feature as Example holds them, as the JSON
// object POST /predict takes.
func Body(features []Feature, values []any) string {
	obj := jsontext.Value("{")
	for j, f := range features {
		if j > 0 {
			obj = append(obj, ',')
		}
		obj, _ = jsontext.AppendQuote(obj, f.Name)
		v, _ := json.Marshal(values[j])
		obj = append(append(obj, ':'), v...)
	}
	return string(append(obj, '}'))
}

// Public is what GET /model and the site's config.json say about the model:
// everything but its parameters.
type Public struct {
	Name              string    `json:"name"`
	Title             string    `json:"title"`
	Description       string    `json:"description"`
	Version           string    `json:"version"`
	Task              Task      `json:"task"`
	Family            string    `json:"family"`
	Target            string    `json:"target"`
	TargetDescription string    `json:"target_description,omitempty"`
	TargetUnit        string    `json:"target_unit,omitempty"`
	Features          []Feature `json:"features"`
	Classes           []string  `json:"classes,omitempty"`
	Examples          []Example `json:"examples,omitempty"`
	MissingValues     bool      `json:"missing_values"`
	MaxBatch          int       `json:"max_batch"`
	Metrics           Metrics   `json:"metrics"`
}

// Public describes the model to its callers.
func (m *Model) Public() Public {
	return Public{
		Name: m.Name, Title: m.Title, Description: m.Description, Version: m.Version,
		Task: m.Task, Family: m.Family, Target: m.Target, TargetDescription: m.TargetDescription, TargetUnit: m.TargetUnit,
		Features: m.Features, Classes: m.Classes, Examples: m.Examples, MissingValues: m.AcceptsMissing(),
		MaxBatch: MaxBatch, Metrics: m.Metrics,
	}
}

// MaxBodyBytes bounds a request body: a full batch of rows whose numbers
// take 24 characters (the longest a float64 needs) and whose categories
// their longest value with every character escaped (\uXXXX), twice over
// for white space, plus the batch's own brackets.
func (m *Model) MaxBodyBytes() int {
	row := 2 // braces
	for _, f := range m.Features {
		value := 24
		for _, c := range f.Categories {
			value = max(value, 2+6*utf16Len(c.Text))
		}
		row += len(f.Name) + 3 + value + 1 // "name":value,
	}
	return 2*MaxBatch*(row+1) + 64
}

// utf16Len is how many \uXXXX escapes s takes at most.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
