// Package train fits the model that the predict function embeds, from any
// CSV with a header row, numeric feature columns and a target column: for
// classification a multinomial logistic regression on standardized
// features, with stratified k-fold cross-validated accuracy; for regression
// a ridge regression on standardized features, with cross-validated R² and
// RMSE.
//
// Training is deterministic, so the committed model.json can be checked against a
// fresh run: full-batch gradient descent from zero weights (no random start), a
// closed-form ridge solution, folds assigned by position (within each class for
// classification; no shuffle), explicit float64 conversions where a fused
// multiply-add could change the last bit on some CPUs, and stored parameters
// rounded to six significant digits.
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

	"gonum.org/v1/gonum/mat"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// Options are the hyper-parameters. The defaults (DefaultOptions) are what the
// committed model was trained with.
type Options struct {
	Folds      int     // cross-validation folds (stratified for classification)
	Iterations int     // gradient-descent steps (classification)
	Rate       float64 // learning rate on standardized features (classification)
	L2         float64 // weight decay, not applied to the bias
}

// DefaultOptions reach ~0.97 cross-validated accuracy on Fisher's data.
var DefaultOptions = Options{Folds: 5, Iterations: 10000, Rate: 0.5, L2: 1e-4}

// Meta describes a dataset beyond its numbers (a JSON file beside the CSV).
// Everything is optional: a feature without a range gets one derived from
// the data, with a margin.
type Meta struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// For a regression: what the target is, and its unit.
	TargetDescription string                 `json:"target_description"`
	TargetUnit        string                 `json:"target_unit"`
	Features          map[string]FeatureMeta `json:"features"`
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

// Dataset is a parsed CSV: X by row and feature, and per row the class
// index (Y, classification) or the target's value (Values, regression).
type Dataset struct {
	Target   string
	Task     model.Task
	Features []model.Feature
	Classes  []string // in order of first appearance
	X        [][]float64
	Y        []int
	Values   []float64
}

// ReadCSV reads a CSV with a header row whose column target holds the class
// (classification) or a number (regression), and whose other columns are
// numbers. meta may be nil. Errors name the line and the column.
func ReadCSV(r io.Reader, target string, task model.Task, meta *Meta) (*Dataset, error) {
	if task != model.Classification && task != model.Regression {
		return nil, fmt.Errorf("task %q: want %s or %s", task, model.Classification, model.Regression)
	}
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	t := slices.Index(header, target)
	if t < 0 {
		return nil, fmt.Errorf("no column %q for the target; the columns are %s", target, strings.Join(header, ", "))
	}
	if len(header) < 2 {
		return nil, fmt.Errorf("only the target column %q; the features are the other columns", target)
	}
	d := &Dataset{Target: target, Task: task}
	var cols []int
	for j, name := range header {
		if j != t {
			cols = append(cols, j)
			d.Features = append(d.Features, model.Feature{Name: name, Description: name})
		}
	}
	number := func(line int, col, cell string) (float64, error) {
		cell = strings.TrimSpace(cell)
		if cell == "" {
			return 0, fmt.Errorf("line %d, column %q: missing value", line, col)
		}
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("line %d, column %q: %q is not a finite number", line, col, cell)
		}
		return v, nil
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
			if x[i], err = number(line, header[j], rec[j]); err != nil {
				return nil, err
			}
		}
		d.X = append(d.X, x)
		if task == model.Regression {
			v, err := number(line, target, rec[t])
			if err != nil {
				return nil, err
			}
			d.Values = append(d.Values, v)
			continue
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
		d.Y = append(d.Y, k)
	}
	switch {
	case task == model.Classification && len(d.Classes) < 2:
		return nil, fmt.Errorf("column %q holds %d class(es) %q; a classifier needs at least 2", target, len(d.Classes), d.Classes)
	case task == model.Regression && (len(d.Values) < 2 || slices.Min(d.Values) == slices.Max(d.Values)):
		return nil, fmt.Errorf("column %q holds one value; a regression needs a target that varies", target)
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
		// Rounding to six digits must not cut off a row of the data.
		span := hi - lo
		if span == 0 {
			span = max(math.Abs(hi), 1)
		}
		if f.Min = round6(lo - span/2); !(f.Min < lo) {
			f.Min = lo - span/2
		}
		if f.Max = round6(hi + span/2); !(f.Max >= hi) {
			f.Max = hi + span/2
		}
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

// fitted is a model while it is trained: the standardization of its rows
// and its parameters, before they are rounded into a model.Model.
type fitted struct {
	scaler   model.Scaler
	logistic *model.Logistic // classification
	linear   *model.Linear   // regression
}

// standardize measures the rows' mean and population standard deviation.
func standardize(d *Dataset, rows []int) (model.Scaler, [][]float64) {
	nf := len(d.Features)
	s := model.Scaler{Mean: make([]float64, nf), Scale: make([]float64, nf)}
	n := float64(len(rows))
	for j := range s.Mean {
		var sum float64
		for _, i := range rows {
			sum += d.X[i][j]
		}
		s.Mean[j] = sum / n
		var ss float64
		for _, i := range rows {
			dev := d.X[i][j] - s.Mean[j]
			ss += float64(dev * dev)
		}
		s.Scale[j] = math.Sqrt(ss / n)
		if s.Scale[j] == 0 {
			s.Scale[j] = 1
		}
	}
	z := make([][]float64, len(rows))
	for r, i := range rows {
		z[r] = make([]float64, nf)
		for j := range z[r] {
			z[r][j] = (d.X[i][j] - s.Mean[j]) / s.Scale[j]
		}
	}
	return s, z
}

// fitLogistic runs gradient descent on the cross-entropy.
func fitLogistic(d *Dataset, rows []int, o Options) *fitted {
	nf, nc := len(d.Features), len(d.Classes)
	s, z := standardize(d, rows)
	l := &model.Logistic{Weights: make([][]float64, nc), Bias: make([]float64, nc)}
	for k := range l.Weights {
		l.Weights[k] = make([]float64, nf)
	}
	n := float64(len(rows))
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
			l.Probabilities(z[r], p)
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
			l.Bias[k] -= float64(o.Rate * gb[k] / n)
			for j := range gw[k] {
				g := gw[k][j]/n + float64(o.L2*l.Weights[k][j])
				l.Weights[k][j] -= float64(o.Rate * g)
			}
		}
	}
	for k := range l.Weights {
		l.Bias[k] = round6(l.Bias[k])
		for j := range l.Weights[k] {
			l.Weights[k][j] = round6(l.Weights[k][j])
		}
	}
	return &fitted{scaler: rounded(s), logistic: l}
}

// fitRidge solves the ridge regression on standardized features in closed
// form: (ZᵀZ/n + L2·I) w = Zᵀ(y - ȳ)/n, the bias ȳ.
func fitRidge(d *Dataset, rows []int, o Options) *fitted {
	nf := len(d.Features)
	s, z := standardize(d, rows)
	n := float64(len(rows))
	var mean float64
	for _, i := range rows {
		mean += d.Values[i]
	}
	mean /= n
	a, b := mat.NewSymDense(nf, nil), mat.NewVecDense(nf, nil)
	for r, i := range rows {
		for j := range nf {
			b.SetVec(j, b.AtVec(j)+float64(z[r][j]*(d.Values[i]-mean))/n)
			for k := j; k < nf; k++ {
				a.SetSym(j, k, a.At(j, k)+float64(z[r][j]*z[r][k])/n)
			}
		}
	}
	for j := range nf {
		a.SetSym(j, j, a.At(j, j)+o.L2)
	}
	var chol mat.Cholesky
	w := mat.NewVecDense(nf, nil)
	if !chol.Factorize(a) || chol.SolveVecTo(w, b) != nil {
		// With L2 > 0 the matrix is positive definite; without, a
		// constant or repeated column makes it singular.
		panic(fmt.Sprintf("ridge: the normal equations are singular (L2 = %g)", o.L2))
	}
	l := &model.Linear{Weights: make([]float64, nf), Bias: round6(mean)}
	for j := range l.Weights {
		l.Weights[j] = round6(w.AtVec(j))
	}
	return &fitted{scaler: rounded(s), linear: l}
}

func rounded(s model.Scaler) model.Scaler {
	for j := range s.Mean {
		s.Mean[j], s.Scale[j] = round6(s.Mean[j]), round6(s.Scale[j])
	}
	return s
}

// fit trains on the rows of d selected by rows.
func fit(d *Dataset, rows []int, o Options) *fitted {
	if d.Task == model.Regression {
		return fitRidge(d, rows, o)
	}
	return fitLogistic(d, rows, o)
}

// predict is the fitted model's prediction for a raw row: a class index,
// or the value.
func (f *fitted) predict(x []float64, p []float64) (int, float64) {
	z := make([]float64, len(x))
	for j, v := range x {
		z[j] = (v - f.scaler.Mean[j]) / f.scaler.Scale[j]
	}
	if f.linear != nil {
		return 0, f.linear.Value(z)
	}
	f.logistic.Probabilities(z, p)
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return best, 0
}

// folds assigns each row a fold: the i-th row of each class (of all rows,
// for a regression) goes to fold i mod k.
func folds(d *Dataset, k int) []int {
	fold := make([]int, len(d.X))
	seen := map[int]int{}
	for i := range fold {
		group := 0
		if d.Task == model.Classification {
			group = d.Y[i]
		}
		fold[i] = seen[group] % k
		seen[group]++
	}
	return fold
}

// crossValidate fits a model per fold and predicts its held-out rows. It
// returns each row's held-out prediction: class indexes, or values.
func crossValidate(d *Dataset, o Options) ([]int, []float64) {
	fold := folds(d, o.Folds)
	classes, values := make([]int, len(d.X)), make([]float64, len(d.X))
	p := make([]float64, len(d.Classes))
	for f := range o.Folds {
		var trainRows []int
		for i := range d.X {
			if fold[i] != f {
				trainRows = append(trainRows, i)
			}
		}
		m := fit(d, trainRows, o)
		for i := range d.X {
			if fold[i] == f {
				classes[i], values[i] = m.predict(d.X[i], p)
			}
		}
	}
	return classes, values
}

// Train fits the final model on all rows, attaches the cross-validated
// metrics and the examples, names it after meta and stamps the version.
func Train(d *Dataset, meta *Meta, src model.Source, o Options) (*model.Model, error) {
	if o.Folds < 2 {
		return nil, fmt.Errorf("folds = %d, want at least 2", o.Folds)
	}
	if d.Task == model.Regression && len(d.X) < o.Folds {
		return nil, fmt.Errorf("%d row(s); %d-fold cross-validation needs at least %d", len(d.X), o.Folds, o.Folds)
	}
	for k, c := range d.Classes {
		if n := count(d.Y, k); n < o.Folds {
			return nil, fmt.Errorf("class %q has %d row(s); %d-fold cross-validation needs at least %d per class", c, n, o.Folds, o.Folds)
		}
	}
	if meta == nil {
		meta = &Meta{}
	}
	all := make([]int, len(d.X))
	for i := range all {
		all[i] = i
	}
	f := fit(d, all, o)
	m := &model.Model{
		Name: meta.Name, Title: meta.Title, Description: meta.Description, Version: "unstamped",
		Task: d.Task, Source: src, Target: d.Target, Features: d.Features, Classes: d.Classes,
		Scaler: &f.scaler,
	}
	if m.Title == "" {
		m.Title = strings.ToUpper(d.Target[:1]) + d.Target[1:] + " predictor"
	}
	var params any
	cvClasses, cvValues := crossValidate(d, o)
	if d.Task == model.Classification {
		m.Kind, m.Family, params = model.KindLogistic, "multinomial logistic regression", f.logistic
		m.Algorithm = fmt.Sprintf("multinomial logistic regression on standardized features; gradient descent, %d iterations, rate %g, L2 %g", o.Iterations, o.Rate, o.L2)
		m.Metrics = classificationMetrics(d, f, cvClasses, o.Folds)
		if m.Name == "" {
			m.Name = d.Target + "-softmax"
		}
	} else {
		m.Kind, m.Family, params = model.KindLinear, "ridge regression", f.linear
		m.Algorithm = fmt.Sprintf("ridge regression on standardized features, closed form, L2 %g", o.L2)
		m.TargetDescription, m.TargetUnit = meta.TargetDescription, meta.TargetUnit
		m.Metrics = regressionMetrics(d, f, cvValues, o.Folds)
		if m.Name == "" {
			m.Name = d.Target + "-ridge"
		}
	}
	var err error
	if m.Params, err = json.Marshal(params); err != nil {
		return nil, err
	}
	m.Examples = examples(d, f)
	if err := m.Compile(); err != nil {
		return nil, fmt.Errorf("the trained model: %w", err)
	}
	// The version is a hash of everything else, so any change to data, options
	// or code that changes the model changes the version callers see.
	m.Version = ""
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	m.Version = hex.EncodeToString(sum[:6])
	return m, nil
}

func classificationMetrics(d *Dataset, f *fitted, cv []int, folds int) model.Metrics {
	nc := len(d.Classes)
	confusion := make([][]int, nc)
	for k := range confusion {
		confusion[k] = make([]int, nc)
	}
	cvCorrect, correct := 0, 0
	p := make([]float64, nc)
	for i, y := range d.Y {
		confusion[y][cv[i]]++
		if cv[i] == y {
			cvCorrect++
		}
		if got, _ := f.predict(d.X[i], p); got == y {
			correct++
		}
	}
	n := float64(len(d.Y))
	return model.Metrics{
		CVFolds: folds, CVAccuracy: round6(float64(cvCorrect) / n), TrainingAccuracy: round6(float64(correct) / n),
		TrainingSamples: len(d.Y), Confusion: confusion,
	}
}

func regressionMetrics(d *Dataset, f *fitted, cv []float64, folds int) model.Metrics {
	var mean float64
	for _, y := range d.Values {
		mean += y
	}
	mean /= float64(len(d.Values))
	var total, cvErr, trainErr float64
	for i, y := range d.Values {
		_, got := f.predict(d.X[i], nil)
		total += (y - mean) * (y - mean)
		cvErr += (y - cv[i]) * (y - cv[i])
		trainErr += (y - got) * (y - got)
	}
	n := float64(len(d.Values))
	return model.Metrics{
		CVFolds: folds, CVR2: round6(1 - cvErr/total), CVRMSE: round6(math.Sqrt(cvErr / n)),
		TrainingR2: round6(1 - trainErr/total), TrainingRMSE: round6(math.Sqrt(trainErr / n)),
		TrainingSamples: len(d.Values),
	}
}

// examples picks typical real rows for the site's presets. For a
// classifier, per class, the row nearest the class's mean (in standardized
// units) that the model puts in that class, which the model is sure to get
// right. For a regression, the rows nearest the 10th, 50th and 90th
// percentile of the target: low, median and high.
func examples(d *Dataset, f *fitted) []model.Example {
	var out []model.Example
	if d.Task == model.Regression {
		sorted := slices.Sorted(slices.Values(d.Values))
		for _, q := range []struct {
			label string
			at    float64
		}{{"low", 0.1}, {"median", 0.5}, {"high", 0.9}} {
			target := percentile(sorted, q.at)
			best := 0
			for i, y := range d.Values {
				if math.Abs(y-target) < math.Abs(d.Values[best]-target) {
					best = i
				}
			}
			out = append(out, model.Example{Label: q.label, Values: d.X[best]})
		}
		return out
	}
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
			if got, _ := f.predict(d.X[i], p); y != k || got != k {
				continue
			}
			var dist float64
			for j, v := range d.X[i] {
				z := (v - center[j]) / f.scaler.Scale[j]
				dist += z * z
			}
			if dist < bestDist {
				best, bestDist = i, dist
			}
		}
		if best >= 0 {
			out = append(out, model.Example{Label: c, Values: d.X[best]})
		}
	}
	return out
}

// percentile interpolates linearly between the sorted values, as numpy's
// default does.
func percentile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
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
func FromFiles(data, target, meta string, task model.Task, o Options) (*model.Model, *Dataset, error) {
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
	d, err := ReadCSV(f, target, task, mt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", data, err)
	}
	m, err := Train(d, mt, model.Source{Tool: "cmd/train", Data: data, Meta: meta, Folds: o.Folds, Target: target, Task: task}, o)
	return m, d, err
}

func round6(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return v
}
