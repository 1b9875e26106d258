// Package model is the Iris species classifier the predict function serves: a
// multinomial logistic regression over four standardized flower measurements.
//
// The parameters live in model.json, written by `go run ./cmd/train` and embedded
// at build time, so the binary carries its model and needs no I/O at start-up.
// Prediction works on fixed-size arrays and does not allocate.
package model

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

// NumFeatures and NumClasses fix the shape of the Iris problem; arrays of these
// sizes keep prediction free of allocations.
const (
	NumFeatures = 4
	NumClasses  = 3
)

// MaxBatch is the most flowers one request may carry; the API Gateway model
// and the function both enforce it.
const MaxBatch = 100

// Feature describes one input: its JSON name, unit and the range the API accepts.
// Min is exclusive (no flower part measures 0 cm), Max inclusive.
type Feature struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Unit        string  `json:"unit"`
	Min         float64 `json:"min_exclusive"`
	Max         float64 `json:"max"`
}

// Valid reports whether v is a measurement the model may be asked about.
func (f Feature) Valid(v float64) bool {
	return v > f.Min && v <= f.Max // false for NaN too
}

// Metrics records how well the model did when it was trained.
type Metrics struct {
	CVFolds          int                         `json:"cv_folds"`
	CVAccuracy       float64                     `json:"cv_accuracy"`
	TrainingAccuracy float64                     `json:"training_accuracy"`
	TrainingSamples  int                         `json:"training_samples"`
	Confusion        [NumClasses][NumClasses]int `json:"cv_confusion_matrix"` // [actual][predicted]
}

// Model is the trained classifier as stored in model.json.
type Model struct {
	Name      string                           `json:"name"`
	Version   string                           `json:"version"`
	Algorithm string                           `json:"algorithm"`
	Features  [NumFeatures]Feature             `json:"features"`
	Classes   [NumClasses]string               `json:"classes"`
	Mean      [NumFeatures]float64             `json:"mean"`
	Scale     [NumFeatures]float64             `json:"scale"`
	Weights   [NumClasses][NumFeatures]float64 `json:"weights"`
	Bias      [NumClasses]float64              `json:"bias"`
	Metrics   Metrics                          `json:"metrics"`
}

//go:embed model.json
var embedded []byte

// Default is the embedded model. It panics if model.json is corrupt, which a
// test rules out before any binary is built.
func Default() *Model {
	m, err := Parse(embedded)
	if err != nil {
		panic(err)
	}
	return m
}

// Parse decodes and checks a model document.
func Parse(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	for i, s := range m.Scale {
		if !(s > 0) {
			return nil, fmt.Errorf("model: scale of %s is %v, want > 0", m.Features[i].Name, s)
		}
	}
	if m.Version == "" {
		return nil, fmt.Errorf("model: no version")
	}
	return &m, nil
}

// Predict returns the class probabilities for one flower and the index of the
// most likely class.
func (m *Model) Predict(x [NumFeatures]float64) (p [NumClasses]float64, best int) {
	var z [NumFeatures]float64
	for j := range x {
		z[j] = (x[j] - m.Mean[j]) / m.Scale[j]
	}
	m.softmax(&z, &p)
	return p, argmax(&p)
}

// PredictStandardized is Predict for features already standardized, as
// training has them.
func (m *Model) PredictStandardized(z [NumFeatures]float64) (p [NumClasses]float64, best int) {
	m.softmax(&z, &p)
	return p, argmax(&p)
}

func argmax(p *[NumClasses]float64) int {
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return best
}

// softmax writes the class probabilities of standardized features into p.
// Pointers keep the arrays from being copied on the hot path. The explicit
// float64 conversions stop the compiler from fusing multiply-adds on CPUs that
// have them, so training gives the same bits on every machine.
func (m *Model) softmax(z *[NumFeatures]float64, p *[NumClasses]float64) {
	maxLogit := math.Inf(-1)
	for k := range p {
		s := m.Bias[k]
		for j := range z {
			s += float64(m.Weights[k][j] * z[j])
		}
		p[k] = s
		maxLogit = max(maxLogit, s)
	}
	// Softmax shifted by the largest logit so exp never overflows.
	var sum float64
	for k := range p {
		p[k] = math.Exp(p[k] - maxLogit)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}
