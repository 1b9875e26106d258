// Package train fits the Iris model that the predict function embeds.
//
// Training is deterministic, so the committed model.json can be checked against a
// fresh run: full-batch gradient descent from zero weights (no random start), folds
// assigned by position within each class (no shuffle), explicit float64 conversions
// where a fused multiply-add could change the last bit on some CPUs, and stored
// parameters rounded to six significant digits.
package train

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
)

// Features is what the model takes, in CSV column order. The API accepts
// measurements in (0, 30] cm: wide enough for any real iris, narrow enough to
// reject typos such as millimetres or 1e308.
var Features = [model.NumFeatures]model.Feature{
	{Name: "sepal_length", Description: "Sepal length", Unit: "cm", Min: 0, Max: 30},
	{Name: "sepal_width", Description: "Sepal width", Unit: "cm", Min: 0, Max: 30},
	{Name: "petal_length", Description: "Petal length", Unit: "cm", Min: 0, Max: 30},
	{Name: "petal_width", Description: "Petal width", Unit: "cm", Min: 0, Max: 30},
}

// Options are the hyper-parameters. The defaults (DefaultOptions) are what the
// committed model was trained with.
type Options struct {
	Folds      int     // stratified cross-validation folds
	Iterations int     // gradient-descent steps
	Rate       float64 // learning rate on standardized features
	L2         float64 // weight decay, not applied to the bias
}

// DefaultOptions reach ~0.97 cross-validated accuracy on Fisher's data.
var DefaultOptions = Options{Folds: 5, Iterations: 10000, Rate: 0.5, L2: 1e-4}

// Sample is one labelled flower.
type Sample struct {
	X     [model.NumFeatures]float64
	Class int
}

// Dataset is the parsed CSV.
type Dataset struct {
	Classes [model.NumClasses]string
	Samples []Sample
}

// ReadCSV reads "sepal_length,sepal_width,petal_length,petal_width,species" rows.
// Classes are numbered in order of first appearance.
func ReadCSV(r io.Reader) (*Dataset, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = model.NumFeatures + 1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	for j, f := range Features {
		if header[j] != f.Name {
			return nil, fmt.Errorf("header column %d is %q, want %q", j+1, header[j], f.Name)
		}
	}
	d := &Dataset{}
	seen := 0
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var s Sample
		for j := range s.X {
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil || !Features[j].Valid(v) {
				return nil, fmt.Errorf("line %d: %s %q is not a measurement in (0, %g]", line, Features[j].Name, rec[j], Features[j].Max)
			}
			s.X[j] = v
		}
		s.Class = -1
		for k := 0; k < seen; k++ {
			if d.Classes[k] == rec[model.NumFeatures] {
				s.Class = k
			}
		}
		if s.Class < 0 {
			if seen == model.NumClasses {
				return nil, fmt.Errorf("line %d: more than %d species (%q)", line, model.NumClasses, rec[model.NumFeatures])
			}
			d.Classes[seen] = rec[model.NumFeatures]
			s.Class = seen
			seen++
		}
		d.Samples = append(d.Samples, s)
	}
	if seen != model.NumClasses {
		return nil, fmt.Errorf("found %d species, want %d", seen, model.NumClasses)
	}
	return d, nil
}

// Fit trains on samples and returns a model with parameters only (no metrics, no version).
func Fit(classes [model.NumClasses]string, samples []Sample, o Options) *model.Model {
	m := &model.Model{Classes: classes, Features: Features}
	n := float64(len(samples))
	for j := range m.Mean {
		var sum float64
		for _, s := range samples {
			sum += s.X[j]
		}
		m.Mean[j] = sum / n
		var ss float64
		for _, s := range samples {
			d := s.X[j] - m.Mean[j]
			ss += float64(d * d)
		}
		m.Scale[j] = math.Sqrt(ss / n)
		if m.Scale[j] == 0 {
			m.Scale[j] = 1
		}
	}
	z := make([][model.NumFeatures]float64, len(samples))
	for i, s := range samples {
		for j := range s.X {
			z[i][j] = (s.X[j] - m.Mean[j]) / m.Scale[j]
		}
	}
	for range o.Iterations {
		var gw [model.NumClasses][model.NumFeatures]float64
		var gb [model.NumClasses]float64
		for i, s := range samples {
			p, _ := m.PredictStandardized(z[i])
			for k := range p {
				d := p[k]
				if k == s.Class {
					d--
				}
				gb[k] += d
				for j := range z[i] {
					gw[k][j] += float64(d * z[i][j])
				}
			}
		}
		for k := range gw {
			m.Bias[k] -= float64(o.Rate * gb[k] / n)
			for j := range gw[k] {
				g := gw[k][j]/n + float64(o.L2*m.Weights[k][j])
				m.Weights[k][j] -= float64(o.Rate * g)
			}
		}
	}
	for j := range m.Mean {
		m.Mean[j], m.Scale[j] = round6(m.Mean[j]), round6(m.Scale[j])
	}
	for k := range m.Weights {
		m.Bias[k] = round6(m.Bias[k])
		for j := range m.Weights[k] {
			m.Weights[k][j] = round6(m.Weights[k][j])
		}
	}
	return m
}

// CrossValidate runs stratified k-fold cross-validation: the i-th sample of each
// class goes to fold i mod k. It returns the accuracy and the confusion matrix
// ([actual][predicted]) over all held-out predictions.
func CrossValidate(d *Dataset, o Options) (float64, [model.NumClasses][model.NumClasses]int) {
	fold := make([]int, len(d.Samples))
	var perClass [model.NumClasses]int
	for i, s := range d.Samples {
		fold[i] = perClass[s.Class] % o.Folds
		perClass[s.Class]++
	}
	var confusion [model.NumClasses][model.NumClasses]int
	correct := 0
	for f := range o.Folds {
		var trainSet, testSet []Sample
		for i, s := range d.Samples {
			if fold[i] == f {
				testSet = append(testSet, s)
			} else {
				trainSet = append(trainSet, s)
			}
		}
		m := Fit(d.Classes, trainSet, o)
		for _, s := range testSet {
			_, got := m.Predict(s.X)
			confusion[s.Class][got]++
			if got == s.Class {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(d.Samples)), confusion
}

// Train fits the final model on all samples, attaches the cross-validated
// metrics and stamps the version.
func Train(d *Dataset, o Options) (*model.Model, error) {
	if o.Folds < 2 || o.Folds > len(d.Samples) {
		return nil, fmt.Errorf("folds = %d, want 2..%d", o.Folds, len(d.Samples))
	}
	acc, confusion := CrossValidate(d, o)
	m := Fit(d.Classes, d.Samples, o)
	m.Name = "iris-softmax"
	m.Algorithm = fmt.Sprintf("multinomial logistic regression on standardized features; gradient descent, %d iterations, rate %g, L2 %g", o.Iterations, o.Rate, o.L2)
	correct := 0
	for _, s := range d.Samples {
		if _, got := m.Predict(s.X); got == s.Class {
			correct++
		}
	}
	m.Metrics = model.Metrics{
		CVFolds:          o.Folds,
		CVAccuracy:       round6(acc),
		TrainingAccuracy: round6(float64(correct) / float64(len(d.Samples))),
		TrainingSamples:  len(d.Samples),
		Confusion:        confusion,
	}
	// The version is a hash of everything else, so any change to data, options
	// or code that changes the model changes the version callers see.
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	m.Version = hex.EncodeToString(sum[:6])
	return m, nil
}

// Encode renders the model as the committed model.json.
func Encode(m *model.Model) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func round6(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return v
}
