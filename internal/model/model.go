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
	"strconv"
	"strings"

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

// Feature describes one input: its JSON name, what it is, its unit and the
// range the API accepts. Min is exclusive, Max inclusive.
type Feature struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Unit        string  `json:"unit"`
	Min         float64 `json:"min_exclusive"`
	Max         float64 `json:"max"`
}

// Valid reports whether v is a value the model may be asked about.
func (f Feature) Valid(v float64) bool {
	return v > f.Min && v <= f.Max // false for NaN too
}

// Range says what Valid accepts, for messages: "more than 0 and at most 30 cm".
func (f Feature) Range() string {
	unit := ""
	if f.Unit != "" {
		unit = " " + f.Unit
	}
	return fmt.Sprintf("more than %g and at most %g%s", f.Min, f.Max, unit)
}

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
// predicts for it; a regression's with a word such as "low".
type Example struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"` // in feature order
}

// Scaler is a StandardScaler in front of the model, as in a scikit-learn
// Pipeline: the model sees (x - mean) / scale.
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
	// Params are the kind's parameters, decoded by Parse.
	Params  jsontext.Value `json:"params"`
	Metrics Metrics        `json:"metrics"`

	family family
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
	for i, f := range m.Features {
		switch {
		case !validName(f.Name) || slices.Contains(reserved, f.Name) || f.Name == m.Target:
			return fmt.Errorf("feature %d: name %q: want letters, digits and _, not %q", i, f.Name, append(reserved, m.Target))
		case slices.ContainsFunc(m.Features[:i], func(g Feature) bool { return g.Name == f.Name }):
			return fmt.Errorf("feature %q appears twice", f.Name)
		case !(f.Min < f.Max) || math.IsInf(f.Min, 0) || math.IsInf(f.Max, 0):
			return fmt.Errorf("feature %q: range (%g, %g] is empty or unbounded", f.Name, f.Min, f.Max)
		}
	}
	for k, c := range m.Classes {
		if c == "" || slices.Contains(m.Classes[:k], c) {
			return fmt.Errorf("class %d: %q is empty or repeated", k, c)
		}
	}
	for i, e := range m.Examples {
		switch {
		case e.Label == "" || slices.ContainsFunc(m.Examples[:i], func(o Example) bool { return o.Label == e.Label }):
			return fmt.Errorf("example %d: label %q is empty or repeated", i, e.Label)
		case m.Task == Classification && !slices.Contains(m.Classes, e.Label):
			return fmt.Errorf("example %q: a classifier's example is labelled with its class, one of %v", e.Label, m.Classes)
		case len(e.Values) != nf:
			return fmt.Errorf("example %q has %d values for %d features", e.Label, len(e.Values), nf)
		}
		for j, v := range e.Values {
			if !m.Features[j].Valid(v) {
				return fmt.Errorf("example %q: %s = %g is outside the feature's range", e.Label, m.Features[j].Name, v)
			}
		}
	}
	return nil
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

// AcceptsMissing reports whether the model learned where a missing value
// goes (histogram gradient boosting, XGBoost): then a row may hold NaN, a
// request null, for any feature.
func (m *Model) AcceptsMissing() bool { return kinds[m.Kind].missing }

// Predict writes the model's outputs for one row x (feature order; NaN for
// a missing value where AcceptsMissing) into out (Outputs long): the class
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
// middle of each feature's range when the model has none.
func (m *Model) Example() (label string, x []float64) {
	if len(m.Examples) > 0 {
		return m.Examples[0].Label, m.Examples[0].Values
	}
	x = make([]float64, len(m.Features))
	for j, f := range m.Features {
		x[j] = f.Min + (f.Max-f.Min)/2
	}
	return "", x
}

// ExampleBody is a valid POST /predict body: Example as JSON.
func (m *Model) ExampleBody() string {
	_, x := m.Example()
	return m.Body(x)
}

// Body is x as the JSON object POST /predict takes; NaN becomes null.
func (m *Model) Body(x []float64) string { return Body(m.Features, x) }

// Body is x, a row of features, as the JSON object POST /predict takes.
func Body(features []Feature, x []float64) string {
	var b strings.Builder
	b.WriteByte('{')
	for j, f := range features {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Name))
		b.WriteByte(':')
		if math.IsNaN(x[j]) {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatFloat(x[j], 'g', -1, 64))
		}
	}
	b.WriteByte('}')
	return b.String()
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
// take 24 characters (the longest a float64 needs), twice over for white
// space, plus the batch's own brackets.
func (m *Model) MaxBodyBytes() int {
	row := 2 // braces
	for _, f := range m.Features {
		row += len(f.Name) + 3 + 24 + 1 // "name":value,
	}
	return 2*MaxBatch*(row+1) + 64
}
