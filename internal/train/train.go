// Package train fits the model that the predict function embeds, from any
// CSV with a header row, numeric feature columns and a class column: a
// multinomial logistic regression on standardized features, with stratified
// k-fold cross-validated metrics.
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
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
)

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

// Meta describes a dataset beyond its numbers (a JSON file beside the CSV).
// Everything is optional: a feature without a range gets one derived from
// the data, with a margin.
type Meta struct {
	Name        string                 `json:"name"`
	Title       string                 `json:"title"`
	Description string                 `json:"description"`
	Features    map[string]FeatureMeta `json:"features"`
}

// FeatureMeta describes one column.
type FeatureMeta struct {
	Description string   `json:"description"`
	Unit        string   `json:"unit"`
	Min         *float64 `json:"min_exclusive"`
	Max         *float64 `json:"max"`
}

// ReadMeta reads a meta file, refusing unknown keys (a typo would silently
// lose a unit or a range).
func ReadMeta(r io.Reader) (*Meta, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Meta
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Dataset is a parsed CSV: X by row and feature, Y the class index of each row.
type Dataset struct {
	Target   string
	Features []model.Feature
	Classes  []string // in order of first appearance
	X        [][]float64
	Y        []int
}

// ReadCSV reads a CSV with a header row whose column target holds the class
// and whose other columns are numbers. meta may be nil. Errors name the line
// and the column.
func ReadCSV(r io.Reader, target string, meta *Meta) (*Dataset, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	t := slices.Index(header, target)
	if t < 0 {
		return nil, fmt.Errorf("no column %q for the class; the columns are %s", target, strings.Join(header, ", "))
	}
	if len(header) < 2 {
		return nil, fmt.Errorf("only the class column %q; the features are the other columns", target)
	}
	d := &Dataset{Target: target}
	var cols []int
	for j, name := range header {
		if j != t {
			cols = append(cols, j)
			d.Features = append(d.Features, model.Feature{Name: name, Description: name})
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err // csv's errors name the line
		}
		x := make([]float64, len(cols))
		for i, j := range cols {
			cell := strings.TrimSpace(rec[j])
			if cell == "" {
				return nil, fmt.Errorf("line %d, column %q: missing value", line, header[j])
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d, column %q: %q is not a finite number", line, header[j], cell)
			}
			x[i] = v
		}
		class := strings.TrimSpace(rec[t])
		if class == "" {
			return nil, fmt.Errorf("line %d, column %q: missing class", line, target)
		}
		k := slices.Index(d.Classes, class)
		if k < 0 {
			k = len(d.Classes)
			d.Classes = append(d.Classes, class)
		}
		d.X, d.Y = append(d.X, x), append(d.Y, k)
	}
	if len(d.Classes) < 2 {
		return nil, fmt.Errorf("column %q holds %d class(es) %q; a classifier needs at least 2", target, len(d.Classes), d.Classes)
	}
	if err := d.describe(meta); err != nil {
		return nil, err
	}
	return d, nil
}

// describe gives each feature its description, unit and valid range, from
// meta where it says, and checks every value against the range.
func (d *Dataset) describe(meta *Meta) error {
	if meta == nil {
		meta = &Meta{}
	}
	for name := range meta.Features {
		if !slices.ContainsFunc(d.Features, func(f model.Feature) bool { return f.Name == name }) {
			return fmt.Errorf("meta: features.%s: no such column", name)
		}
	}
	for j := range d.Features {
		f := &d.Features[j]
		fm := meta.Features[f.Name]
		if fm.Description != "" {
			f.Description = fm.Description
		}
		f.Unit = fm.Unit
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range d.X {
			lo, hi = min(lo, x[j]), max(hi, x[j])
		}
		// Without a declared range, accept the data's with half its span
		// again on each side: room for new rows, not for typos of 1000x.
		span := hi - lo
		if span == 0 {
			span = max(math.Abs(hi), 1)
		}
		f.Min, f.Max = round6(lo-span/2), round6(hi+span/2)
		if fm.Min != nil {
			f.Min = *fm.Min
		}
		if fm.Max != nil {
			f.Max = *fm.Max
		}
		for i, x := range d.X {
			if !f.Valid(x[j]) {
				return fmt.Errorf("line %d, column %q: %g is outside the range the meta file gives (%s)", i+2, f.Name, x[j], f.Range())
			}
		}
	}
	return nil
}

// Fit trains on the rows of d selected by rows and returns a model with
// parameters only (no metrics, no version).
func Fit(d *Dataset, rows []int, o Options) *model.Model {
	nf, nc := len(d.Features), len(d.Classes)
	m := &model.Model{Classes: d.Classes, Features: d.Features, Target: d.Target,
		Mean: make([]float64, nf), Scale: make([]float64, nf), Bias: make([]float64, nc), Weights: make([][]float64, nc)}
	for k := range m.Weights {
		m.Weights[k] = make([]float64, nf)
	}
	n := float64(len(rows))
	for j := range m.Mean {
		var sum float64
		for _, i := range rows {
			sum += d.X[i][j]
		}
		m.Mean[j] = sum / n
		var ss float64
		for _, i := range rows {
			dev := d.X[i][j] - m.Mean[j]
			ss += float64(dev * dev)
		}
		m.Scale[j] = math.Sqrt(ss / n)
		if m.Scale[j] == 0 {
			m.Scale[j] = 1
		}
	}
	z := make([][]float64, len(rows))
	for r, i := range rows {
		z[r] = make([]float64, nf)
		for j := range z[r] {
			z[r][j] = (d.X[i][j] - m.Mean[j]) / m.Scale[j]
		}
	}
	gw := make([][]float64, nc)
	for k := range gw {
		gw[k] = make([]float64, nf)
	}
	gb, p := make([]float64, nc), make([]float64, nc)
	for range o.Iterations {
		for k := range gw {
			clear(gw[k])
		}
		clear(gb)
		for r, i := range rows {
			m.PredictStandardized(z[r], p)
			for k := range p {
				g := p[k] // the gradient of the cross-entropy in logit k
				if k == d.Y[i] {
					g--
				}
				gb[k] += g
				for j := range z[r] {
					gw[k][j] += float64(g * z[r][j])
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

// CrossValidate runs stratified k-fold cross-validation: the i-th row of each
// class goes to fold i mod k. It returns the accuracy and the confusion matrix
// ([actual][predicted]) over all held-out predictions.
func CrossValidate(d *Dataset, o Options) (float64, [][]int) {
	nc := len(d.Classes)
	fold := make([]int, len(d.Y))
	perClass := make([]int, nc)
	for i, y := range d.Y {
		fold[i] = perClass[y] % o.Folds
		perClass[y]++
	}
	confusion := make([][]int, nc)
	for k := range confusion {
		confusion[k] = make([]int, nc)
	}
	correct := 0
	p := make([]float64, nc)
	for f := range o.Folds {
		var trainRows []int
		for i := range d.Y {
			if fold[i] != f {
				trainRows = append(trainRows, i)
			}
		}
		m := Fit(d, trainRows, o)
		for i, y := range d.Y {
			if fold[i] != f {
				continue
			}
			got := m.Predict(d.X[i], p)
			confusion[y][got]++
			if got == y {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(d.Y)), confusion
}

// Train fits the final model on all rows, attaches the cross-validated
// metrics and the examples, names it after meta and stamps the version.
func Train(d *Dataset, meta *Meta, src model.Source, o Options) (*model.Model, error) {
	if o.Folds < 2 {
		return nil, fmt.Errorf("folds = %d, want at least 2", o.Folds)
	}
	for k, c := range d.Classes {
		if n := count(d.Y, k); n < o.Folds {
			return nil, fmt.Errorf("class %q has %d row(s); %d-fold cross-validation needs at least %d per class", c, n, o.Folds, o.Folds)
		}
	}
	acc, confusion := CrossValidate(d, o)
	all := make([]int, len(d.Y))
	for i := range all {
		all[i] = i
	}
	m := Fit(d, all, o)
	if meta == nil {
		meta = &Meta{}
	}
	m.Name, m.Title, m.Description = meta.Name, meta.Title, meta.Description
	if m.Name == "" {
		m.Name = d.Target + "-softmax"
	}
	if m.Title == "" {
		m.Title = strings.ToUpper(d.Target[:1]) + d.Target[1:] + " predictor"
	}
	m.Source = src
	m.Algorithm = fmt.Sprintf("multinomial logistic regression on standardized features; gradient descent, %d iterations, rate %g, L2 %g", o.Iterations, o.Rate, o.L2)
	correct := 0
	p := make([]float64, len(d.Classes))
	for i, y := range d.Y {
		if m.Predict(d.X[i], p) == y {
			correct++
		}
	}
	m.Metrics = model.Metrics{
		CVFolds:          o.Folds,
		CVAccuracy:       round6(acc),
		TrainingAccuracy: round6(float64(correct) / float64(len(d.Y))),
		TrainingSamples:  len(d.Y),
		Confusion:        confusion,
	}
	m.Examples = examples(d, m)
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

// examples picks, per class, the real row nearest the class's mean (in
// standardized units) that the model puts in that class: a typical case
// for the site's presets, which the model is sure to get right.
func examples(d *Dataset, m *model.Model) map[string][]float64 {
	out := map[string][]float64{}
	p := make([]float64, len(d.Classes))
	for k, c := range d.Classes {
		center, n := make([]float64, len(d.Features)), float64(count(d.Y, k))
		for i, y := range d.Y {
			if y == k {
				for j, v := range d.X[i] {
					center[j] += v / n
				}
			}
		}
		best, bestDist := -1, math.Inf(1)
		for i, y := range d.Y {
			if y != k || m.Predict(d.X[i], p) != k {
				continue
			}
			var dist float64
			for j, v := range d.X[i] {
				z := (v - center[j]) / m.Scale[j]
				dist += z * z
			}
			if dist < bestDist {
				best, bestDist = i, dist
			}
		}
		if best >= 0 {
			out[c] = d.X[best]
		}
	}
	return out
}

func count(ys []int, k int) int {
	n := 0
	for _, y := range ys {
		if y == k {
			n++
		}
	}
	return n
}

// Encode renders the model as the committed model.json.
func Encode(m *model.Model) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// FromFiles reads data (and meta, when not empty) and trains; paths are
// recorded in the model's source as given, so pass them relative to the
// module root.
func FromFiles(data, target, meta string, o Options) (*model.Model, *Dataset, error) {
	var mt *Meta
	if meta != "" {
		f, err := os.Open(meta)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if mt, err = ReadMeta(f); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", meta, err)
		}
	}
	f, err := os.Open(data)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	d, err := ReadCSV(f, target, mt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", data, err)
	}
	m, err := Train(d, mt, model.Source{Tool: "cmd/train", Data: data, Meta: meta, Folds: o.Folds, Target: target}, o)
	return m, d, err
}

func round6(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return v
}
