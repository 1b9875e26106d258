// Package train fits the model that the predict function embeds, from any
// CSV with a header row and a target column: for classification a
// multinomial logistic regression, with stratified k-fold cross-validated
// accuracy; for regression a ridge regression, with cross-validated R² and
// RMSE. A column of numbers is a number feature, any other a category,
// one-hot encoded; a blank is imputed (a number's median, a category's most
// frequent value) in a column that has blanks; every column is then
// standardized. The preparation is fitted on each fold's training rows
// alone, and shipped as model.json's prepare, so the function computes
// exactly what was trained.
//
// Training is deterministic, so the committed model.json can be checked against a
// fresh run: full-batch gradient descent from zero weights (no random start), a
// closed-form ridge solution, folds assigned by position (within each class for
// classification; no shuffle), explicit float64 conversions where a fused
// multiply-add could change the last bit on some CPUs, and stored parameters
// rounded to six significant digits.
package train

import (
	"cmp"
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

// Dataset is a parsed CSV: X by row and feature, as a request reads it (a
// number, a category's index, NaN for a blank), and per row the class
// index (Y, classification) or the target's value (Values, regression).
// Columns are the CSV's column names, in feature order: a feature's name is
// its column's, made a valid API field where it is not.
type Dataset struct {
	Target   string
	Task     model.Task
	Features []model.Feature
	Columns  []string
	Classes  []string // in order of first appearance
	X        [][]float64
	Y        []int
	Values   []float64
}

// ReadCSV reads a CSV with a header row whose column target holds the class
// (classification) or a number (regression), and whose other columns are
// the features: numbers, or anything else as categories; a blank cell is a
// missing value. meta may be nil. Errors name the line and the column and
// say what to do.
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
	d := &Dataset{Target: FieldName(target), Task: task}
	var cols []int
	for j, name := range header {
		if j != t {
			cols = append(cols, j)
			d.Columns = append(d.Columns, name)
		}
	}
	cells := make([][]string, len(cols)) // by feature, then row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err // csv's errors name the line
		}
		for i, j := range cols {
			cell := strings.TrimSpace(rec[j])
			if v, err := strconv.ParseFloat(cell, 64); err == nil && math.IsNaN(v) {
				cell = "" // NaN, nan: a blank, as pandas reads it
			}
			cells[i] = append(cells[i], cell)
		}
		cell := strings.TrimSpace(rec[t])
		if task == model.Regression {
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d, column %q: %q is not a finite number, and a regression's target must be one (or is this a classification? leave out -task regression)", line, target, cell)
			}
			d.Values = append(d.Values, v)
			continue
		}
		if cell == "" {
			return nil, fmt.Errorf("line %d, column %q: missing class; remove the row or give it its class", line, target)
		}
		k := slices.Index(d.Classes, cell)
		if k < 0 {
			k = len(d.Classes)
			d.Classes = append(d.Classes, cell)
		}
		d.Y = append(d.Y, k)
	}
	n := max(len(d.Y), len(d.Values))
	switch {
	case n == 0:
		return nil, errors.New("no rows after the header")
	case task == model.Classification && len(d.Classes) < 2:
		return nil, fmt.Errorf("column %q holds %d class(es) %q; a classifier needs at least 2", target, len(d.Classes), d.Classes)
	case task == model.Regression && (len(d.Values) < 2 || slices.Min(d.Values) == slices.Max(d.Values)):
		return nil, fmt.Errorf("column %q holds one value; a regression needs a target that varies", target)
	}
	d.X = make([][]float64, n)
	for i := range d.X {
		d.X[i] = make([]float64, len(cols))
	}
	names := map[string]string{} // field name -> column, to tell two apart
	for j, col := range d.Columns {
		f, err := column(col, cells[j])
		if err != nil {
			return nil, err
		}
		if other, ok := names[f.Name]; ok || f.Name == d.Target {
			return nil, fmt.Errorf("columns %q and %q are both the API field %q: rename one", col, cmp.Or(other, target), f.Name)
		}
		names[f.Name] = col
		for i, cell := range cells[j] {
			d.X[i][j] = math.NaN()
			switch {
			case cell == "":
			case f.IsCategory():
				d.X[i][j] = float64(slices.IndexFunc(f.Categories, func(c model.Category) bool { return c.Text == cell }))
			default:
				d.X[i][j], _ = strconv.ParseFloat(cell, 64) // column parsed it
			}
		}
		d.Features = append(d.Features, f)
	}
	if err := d.describe(meta); err != nil {
		return nil, err
	}
	return d, nil
}

// column makes the feature of a CSV column from its cells: a number if
// every cell that is not blank is one, else a category of its values
// (sorted). It takes a missing value, imputed, where the column has a blank.
func column(name string, cells []string) (model.Feature, error) {
	f := model.Feature{Name: FieldName(name), Description: name, Type: model.TypeNumber, Missing: model.MissingRefused}
	blank, text := 0, ""
	var values []string
	for _, c := range cells {
		switch v, err := strconv.ParseFloat(c, 64); {
		case c == "":
			blank++
		case err == nil && math.IsInf(v, 0):
			return f, fmt.Errorf("column %q: %q is not a finite number: give the value, or leave the cell blank", name, c)
		case err != nil:
			if text == "" {
				text = c
			}
			values = append(values, c)
		default:
			values = append(values, c)
		}
	}
	if blank == len(cells) {
		return f, fmt.Errorf("column %q is blank in every row: leave it out", name)
	}
	if blank > 0 {
		f.Missing = model.MissingImputed
	}
	if text != "" {
		f.Type, f.Unknown = model.TypeCategory, model.UnknownRefused
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			f.Categories = append(f.Categories, model.Category{Text: v})
		}
		if len(f.Categories) > maxCategories {
			return f, fmt.Errorf("column %q has %d different values (%q is not a number): one-hot encoding takes at most %d; leave it out or group its values",
				name, len(f.Categories), text, maxCategories)
		}
	}
	return f, nil
}

// maxCategories bounds a category column: each value is a column of the
// model, and a column of names or ids is no category.
const maxCategories = 100

// FieldName is a CSV column's name as an API field: letters, digits and _
// (od280/od315_of_diluted_wines becomes od280_od315_of_diluted_wines).
func FieldName(column string) string {
	var b strings.Builder
	under := false
	for _, r := range column {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	name := strings.TrimRight(b.String(), "_")
	switch name {
	case "":
		return "feature"
	case "instances":
		return "instances_"
	}
	return name
}

// describe gives each feature its description, unit and valid range, from
// meta where it says (by column or field name), and checks every value
// against the range.
func (d *Dataset) describe(meta *Meta) error {
	if meta == nil {
		meta = &Meta{}
	}
	for name := range meta.Features {
		if !slices.Contains(d.Columns, name) && !slices.ContainsFunc(d.Features, func(f model.Feature) bool { return f.Name == name }) {
			return fmt.Errorf("meta: features.%s: no such column", name)
		}
	}
	for j := range d.Features {
		f := &d.Features[j]
		fm, ok := meta.Features[d.Columns[j]]
		if !ok {
			fm = meta.Features[f.Name]
		}
		if fm.Description != "" {
			f.Description = fm.Description
		}
		if f.IsCategory() {
			if fm.Unit != "" || fm.Min != nil || fm.Max != nil {
				return fmt.Errorf("meta: features.%s: a category (%q is not a number) has no unit or range", d.Columns[j], f.Categories[0].Text)
			}
			continue
		}
		f.Unit = fm.Unit
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range d.X {
			if !math.IsNaN(x[j]) {
				lo, hi = min(lo, x[j]), max(hi, x[j])
			}
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
			if !math.IsNaN(x[j]) && !f.Valid(x[j]) {
				return fmt.Errorf("line %d, column %q: %g is outside the range the meta file gives (%s)", i+2, d.Columns[j], x[j], f.Range())
			}
		}
	}
	return nil
}

// fitted is a model while it is trained: its preparation and its
// parameters, before they are rounded into a model.Model.
type fitted struct {
	prepare  *model.Prepare
	apply    func(x, dst []float64) []float64
	logistic *model.Logistic // classification
	linear   *model.Linear   // regression
}

// prepare fits the preparation on the rows of d selected by rows: a blank
// imputed (a number's median, a category's most frequent value) where the
// feature takes one, a category one-hot encoded, then every column
// standardized (the population standard deviation; 1 where it is 0). It
// returns the preparation, its means and scales rounded to six digits as
// stored, and the rows' columns through the unrounded one, which training
// fits on.
func prepare(d *Dataset, rows []int) (*fitted, [][]float64, error) {
	p := &model.Prepare{}
	for j, f := range d.Features {
		present := make([]float64, 0, len(rows))
		for _, i := range rows {
			if v := d.X[i][j]; !math.IsNaN(v) {
				present = append(present, v)
			}
		}
		imputed := f.Missing == model.MissingImputed
		if !f.IsCategory() {
			c := model.Column{Feature: f.Name}
			if imputed {
				c.Impute = ptr(median(present))
			}
			p.Columns = append(p.Columns, c)
			continue
		}
		common := mostFrequent(present, len(f.Categories))
		for k := range f.Categories {
			c := model.Column{Feature: f.Name, OneHot: ptr(k)}
			if imputed {
				c.Missing = ptr(map[bool]float64{true: 1, false: 0}[k == common])
			}
			p.Columns = append(p.Columns, c)
		}
	}
	apply, err := model.Preparer(d.Features, p)
	if err != nil {
		return nil, nil, err
	}
	z := make([][]float64, len(rows))
	for r, i := range rows {
		z[r] = apply(d.X[i], nil)
	}
	n := float64(len(rows))
	for c := range p.Columns {
		var sum float64
		for r := range z {
			sum += z[r][c]
		}
		mean := sum / n
		var ss float64
		for r := range z {
			dev := z[r][c] - mean
			ss += float64(dev * dev)
		}
		scale := math.Sqrt(ss / n)
		if scale == 0 {
			scale = 1
		}
		for r := range z {
			z[r][c] = (z[r][c] - mean) / scale
		}
		p.Columns[c].Ops = []model.Op{{SubDiv: &[2]float64{round6(mean), round6(scale)}}}
	}
	if apply, err = model.Preparer(d.Features, p); err != nil {
		return nil, nil, err
	}
	return &fitted{prepare: p, apply: apply}, z, nil
}

func ptr[T any](v T) *T { return &v }

// preparation says what prepare does beyond standardizing, for the model's
// algorithm: "" for numbers without blanks.
func (d *Dataset) preparation() string {
	var steps []string
	if slices.ContainsFunc(d.Features, func(f model.Feature) bool { return f.IsCategory() }) {
		steps = append(steps, "categories one-hot encoded")
	}
	if slices.ContainsFunc(d.Features, func(f model.Feature) bool { return f.Missing == model.MissingImputed }) {
		steps = append(steps, "blanks imputed (median, most frequent)")
	}
	if len(steps) == 0 {
		return ""
	}
	return " (" + strings.Join(steps, ", ") + ")"
}

// median is numpy's: the middle value, or the mean of the middle two; 0 for
// none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// mostFrequent is the category index most of codes hold, the first of
// equals.
func mostFrequent(codes []float64, n int) int {
	counts := make([]int, n)
	for _, c := range codes {
		counts[int(c)]++
	}
	best := 0
	for k, c := range counts {
		if c > counts[best] {
			best = k
		}
	}
	return best
}

// fitLogistic runs gradient descent on the cross-entropy.
func fitLogistic(d *Dataset, rows []int, o Options) (*fitted, error) {
	f, z, err := prepare(d, rows)
	if err != nil {
		return nil, err
	}
	nf, nc := len(f.prepare.Columns), len(d.Classes)
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
	f.logistic = l
	return f, nil
}

// fitRidge solves the ridge regression on standardized features in closed
// form: (ZᵀZ/n + L2·I) w = Zᵀ(y - ȳ)/n, the bias ȳ.
func fitRidge(d *Dataset, rows []int, o Options) (*fitted, error) {
	f, z, err := prepare(d, rows)
	if err != nil {
		return nil, err
	}
	nf := len(f.prepare.Columns)
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
	f.linear = l
	return f, nil
}

// fit trains on the rows of d selected by rows.
func fit(d *Dataset, rows []int, o Options) (*fitted, error) {
	if d.Task == model.Regression {
		return fitRidge(d, rows, o)
	}
	return fitLogistic(d, rows, o)
}

// predict is the fitted model's prediction for a raw row: a class index,
// or the value.
func (f *fitted) predict(x []float64, p []float64) (int, float64) {
	z := f.apply(x, nil)
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
func crossValidate(d *Dataset, o Options) ([]int, []float64, error) {
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
		m, err := fit(d, trainRows, o)
		if err != nil {
			return nil, nil, err
		}
		for i := range d.X {
			if fold[i] == f {
				classes[i], values[i] = m.predict(d.X[i], p)
			}
		}
	}
	return classes, values, nil
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
	f, err := fit(d, all, o)
	if err != nil {
		return nil, err
	}
	m := &model.Model{
		Name: meta.Name, Title: meta.Title, Description: meta.Description, Version: "unstamped",
		Task: d.Task, Source: src, Target: d.Target, Features: d.Features, Classes: d.Classes,
		Prepare: f.prepare,
	}
	if m.Title == "" {
		m.Title = strings.ToUpper(d.Target[:1]) + d.Target[1:] + " predictor"
	}
	var params any
	cvClasses, cvValues, err := crossValidate(d, o)
	if err != nil {
		return nil, err
	}
	if d.Task == model.Classification {
		m.Kind, m.Family, params = model.KindLogistic, "multinomial logistic regression", f.logistic
		m.Algorithm = fmt.Sprintf("multinomial logistic regression on standardized features%s; gradient descent, %d iterations, rate %g, L2 %g", d.preparation(), o.Iterations, o.Rate, o.L2)
		m.Metrics = classificationMetrics(d, f, cvClasses, o.Folds)
		if m.Name == "" {
			m.Name = d.Target + "-softmax"
		}
	} else {
		m.Kind, m.Family, params = model.KindLinear, "ridge regression", f.linear
		m.Algorithm = fmt.Sprintf("ridge regression on standardized features%s, closed form, L2 %g", d.preparation(), o.L2)
		m.TargetDescription, m.TargetUnit = meta.TargetDescription, meta.TargetUnit
		m.Metrics = regressionMetrics(d, f, cvValues, o.Folds)
		if m.Name == "" {
			m.Name = d.Target + "-ridge"
		}
	}
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

// examples picks typical real rows without blanks for the site's presets.
// For a classifier, per class, the row nearest the class's mean (in the
// model's standardized columns) that the model puts in that class, which
// the model is sure to get right. For a regression, the rows nearest the
// 10th, 50th and 90th percentile of the target: low, median and high.
func examples(d *Dataset, f *fitted) []model.Example {
	complete := func(i int) bool { return !slices.ContainsFunc(d.X[i], math.IsNaN) }
	values := func(i int) []any {
		out := make([]any, len(d.Features))
		for j := range d.Features {
			out[j] = d.Features[j].Value(d.X[i][j])
		}
		return out
	}
	var out []model.Example
	if d.Task == model.Regression {
		sorted := slices.Sorted(slices.Values(d.Values))
		for _, q := range []struct {
			label string
			at    float64
		}{{"low", 0.1}, {"median", 0.5}, {"high", 0.9}} {
			target := percentile(sorted, q.at)
			best := -1
			for i, y := range d.Values {
				if complete(i) && (best < 0 || math.Abs(y-target) < math.Abs(d.Values[best]-target)) {
					best = i
				}
			}
			if best >= 0 {
				out = append(out, model.Example{Label: q.label, Values: values(best)})
			}
		}
		return out
	}
	p := make([]float64, len(d.Classes))
	z := make([][]float64, len(d.X))
	for i := range z {
		z[i] = f.apply(d.X[i], nil)
	}
	for k, c := range d.Classes {
		center, n := make([]float64, len(z[0])), float64(count(d.Y, k))
		for i, y := range d.Y {
			if y == k {
				for j, v := range z[i] {
					center[j] += v / n
				}
			}
		}
		best, bestDist := -1, math.Inf(1)
		for i, y := range d.Y {
			if got, _ := f.predict(d.X[i], p); y != k || got != k || !complete(i) {
				continue
			}
			var dist float64
			for j, v := range z[i] {
				dist += (v - center[j]) * (v - center[j])
			}
			if dist < bestDist {
				best, bestDist = i, dist
			}
		}
		if best >= 0 {
			out = append(out, model.Example{Label: c, Values: values(best)})
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
