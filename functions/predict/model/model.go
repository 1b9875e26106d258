// Package model is the contract between a trained classifier and everything
// that serves it: model.json, read here and nowhere else. It holds the
// model's features (name, description, unit, valid range), its classes and
// the name of what they are (the target: "species" for Iris), a multinomial
// logistic regression over standardized features, the cross-validated
// metrics and a version. The predict function validates and answers with it,
// the API Gateway model and its messages are generated from it, the site
// builds its form from it, and corscheck, bench and the tests take their
// sample bodies from it.
//
// model.json comes from `go run ./cmd/train` (any numeric CSV) or from a
// fitted scikit-learn pipeline through scripts/export_sklearn.py, and is
// embedded at build time, so the function needs no I/O at start-up.
package model

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxBatch is the most rows one request may carry; the API Gateway model
// and the function both enforce it.
const MaxBatch = 100

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

// Metrics records how well the model did when it was trained.
type Metrics struct {
	CVFolds          int     `json:"cv_folds,omitempty"`
	CVAccuracy       float64 `json:"cv_accuracy,omitempty"`
	TrainingAccuracy float64 `json:"training_accuracy,omitempty"`
	TrainingSamples  int     `json:"training_samples,omitempty"`
	Confusion        [][]int `json:"cv_confusion_matrix,omitempty"` // [actual][predicted]
}

// Source says where a model came from, so a test can reproduce it.
type Source struct {
	Tool   string `json:"tool"`             // "cmd/train" or "scikit-learn <version>"
	Data   string `json:"data,omitempty"`   // cmd/train: the CSV, relative to the module root
	Meta   string `json:"meta,omitempty"`   // cmd/train: the meta file, if any
	Folds  int    `json:"folds,omitempty"`  // cmd/train: cross-validation folds
	Target string `json:"target,omitempty"` // cmd/train: the class column
}

// Model is a trained classifier as stored in model.json.
type Model struct {
	Name        string    `json:"name"`
	Title       string    `json:"title"`       // what the site calls it
	Description string    `json:"description"` // one sentence for the site
	Version     string    `json:"version"`
	Algorithm   string    `json:"algorithm"`
	Source      Source    `json:"source"`
	Target      string    `json:"target"` // the name a prediction's class goes under
	Features    []Feature `json:"features"`
	Classes     []string  `json:"classes"`
	// Examples holds a typical row per class (feature order), for the site's
	// presets and sample requests; a class may have none.
	Examples map[string][]float64 `json:"examples,omitempty"`
	Mean     []float64            `json:"mean"`
	Scale    []float64            `json:"scale"`
	Weights  [][]float64          `json:"weights"` // [class][feature]
	Bias     []float64            `json:"bias"`
	Metrics  Metrics              `json:"metrics"`
}

//go:embed model.json
var embedded []byte

// Default is the embedded model. It panics if model.json is broken, which a
// test rules out before any binary is built.
func Default() *Model {
	m, err := Parse(embedded)
	if err != nil {
		panic(err)
	}
	return m
}

// reserved names cannot be features: the batch request uses "instances".
var reserved = []string{"instances"}

// Parse decodes and checks a model document: every shape and name the
// function, the gateway schema and the site rely on.
func Parse(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model %q: %w", m.Name, err)
	}
	return &m, nil
}

func (m *Model) check() error {
	nf, nc := len(m.Features), len(m.Classes)
	switch {
	case m.Version == "":
		return errors.New("no version")
	case m.Target == "" || slices.Contains(reserved, m.Target):
		return fmt.Errorf("target %q: want the name of what the classes are, e.g. species", m.Target)
	case nf == 0:
		return errors.New("no features")
	case nc < 2:
		return fmt.Errorf("%d classes, want at least 2", nc)
	case len(m.Mean) != nf || len(m.Scale) != nf:
		return fmt.Errorf("%d features but %d means and %d scales", nf, len(m.Mean), len(m.Scale))
	case len(m.Weights) != nc || len(m.Bias) != nc:
		return fmt.Errorf("%d classes but %d weight rows and %d biases", nc, len(m.Weights), len(m.Bias))
	}
	for i, f := range m.Features {
		switch {
		case !validName(f.Name) || slices.Contains(reserved, f.Name) || f.Name == m.Target:
			return fmt.Errorf("feature %d: name %q: want letters, digits and _, not %q", i, f.Name, append(reserved, m.Target))
		case slices.ContainsFunc(m.Features[:i], func(g Feature) bool { return g.Name == f.Name }):
			return fmt.Errorf("feature %q appears twice", f.Name)
		case !(f.Min < f.Max) || math.IsInf(f.Min, 0) || math.IsInf(f.Max, 0):
			return fmt.Errorf("feature %q: range (%g, %g] is empty or unbounded", f.Name, f.Min, f.Max)
		case !(m.Scale[i] > 0) || math.IsInf(m.Scale[i], 0) || math.IsNaN(m.Mean[i]):
			return fmt.Errorf("feature %q: scale %v and mean %v, want a positive scale", f.Name, m.Scale[i], m.Mean[i])
		}
	}
	for k, c := range m.Classes {
		if c == "" || slices.Contains(m.Classes[:k], c) {
			return fmt.Errorf("class %d: %q is empty or repeated", k, c)
		}
		if len(m.Weights[k]) != nf {
			return fmt.Errorf("class %q: %d weights for %d features", c, len(m.Weights[k]), nf)
		}
	}
	for c, x := range m.Examples {
		if !slices.Contains(m.Classes, c) {
			return fmt.Errorf("example for %q, which is not a class", c)
		}
		if len(x) != nf {
			return fmt.Errorf("example for %q has %d values for %d features", c, len(x), nf)
		}
		for j, v := range x {
			if !m.Features[j].Valid(v) {
				return fmt.Errorf("example for %q: %s = %g is outside the feature's range", c, m.Features[j].Name, v)
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

// Predict writes the class probabilities of one row x (feature order) into p
// (one per class) and returns the index of the most likely class. It does
// not allocate.
func (m *Model) Predict(x, p []float64) int {
	for k := range p {
		s := m.Bias[k]
		for j, w := range m.Weights[k] {
			s += float64(w * ((x[j] - m.Mean[j]) / m.Scale[j]))
		}
		p[k] = s
	}
	return softmax(p)
}

// PredictStandardized is Predict for a row already standardized, as training
// has them; it gives the same bits as Predict on the raw row.
func (m *Model) PredictStandardized(z, p []float64) int {
	for k := range p {
		s := m.Bias[k]
		for j, w := range m.Weights[k] {
			s += float64(w * z[j])
		}
		p[k] = s
	}
	return softmax(p)
}

// softmax turns logits into probabilities in place and returns the argmax.
// The explicit float64 conversions above stop the compiler from fusing
// multiply-adds on CPUs that have them, so training gives the same bits on
// every machine; the shift by the largest logit keeps exp from overflowing.
func softmax(p []float64) int {
	top := math.Inf(-1)
	for _, l := range p {
		top = max(top, l)
	}
	var sum float64
	for k := range p {
		p[k] = math.Exp(p[k] - top)
		sum += p[k]
	}
	best := 0
	for k := range p {
		p[k] /= sum
		if p[k] > p[best] {
			best = k
		}
	}
	return best
}

// Example is a valid row for sample requests: the first class's example, or
// the middle of each feature's range when the model has none.
func (m *Model) Example() (class string, x []float64) {
	for _, c := range m.Classes {
		if e, ok := m.Examples[c]; ok {
			return c, e
		}
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

// Body is x as the JSON object POST /predict takes.
func (m *Model) Body(x []float64) string {
	var b strings.Builder
	b.WriteByte('{')
	for j, f := range m.Features {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Name))
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(x[j], 'g', -1, 64))
	}
	b.WriteByte('}')
	return b.String()
}

// Public is what GET /model and the site's config.json say about the model:
// everything but its parameters.
type Public struct {
	Name        string               `json:"name"`
	Title       string               `json:"title"`
	Description string               `json:"description"`
	Version     string               `json:"version"`
	Target      string               `json:"target"`
	Features    []Feature            `json:"features"`
	Classes     []string             `json:"classes"`
	Examples    map[string][]float64 `json:"examples,omitempty"`
	MaxBatch    int                  `json:"max_batch"`
	Metrics     Metrics              `json:"metrics"`
}

// Public describes the model to its callers.
func (m *Model) Public() Public {
	return Public{m.Name, m.Title, m.Description, m.Version, m.Target, m.Features, m.Classes, m.Examples, MaxBatch, m.Metrics}
}

// SiteConfig is the site's config.json, written at deploy time beside the
// page (and served by make local): where the API is, and the model the page
// builds its form from.
type SiteConfig struct {
	APIURL any    `json:"apiUrl"` // a string; the CDK app puts a token here
	Model  Public `json:"model"`
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
