package model

import (
	"math"
	"slices"
	"sync"

	"github.com/go-json-experiment/json"
)

// A family computes one kind of model, exactly as the library that fitted
// it does: its parameters decoded once, then one row at a time.
type family interface {
	// predict writes the outputs of row x (feature order, NaN where a
	// value is missing) into out: one probability per class, or the value.
	predict(x, out []float64)
}

// kind is what Parse knows of a kind: the tasks it does, whether it takes
// missing values, and how to decode its parameters.
type kind struct {
	tasks   []Task
	missing bool
	decode  func(m *Model) (family, error)
}

// kinds are the kinds this version serves. A kind's name carries the version
// of its parameters' layout: a new layout is a new name, so a model.json
// from a newer exporter is refused, by name, rather than misread.
var kinds = map[string]kind{
	KindLogistic: {tasks: []Task{Classification}, decode: decodeLogistic},
	KindLinear:   {tasks: []Task{Regression}, decode: decodeLinear},
	KindTrees:    {tasks: []Task{Classification, Regression}, decode: decodeTrees},
	KindHistGB:   {tasks: []Task{Classification, Regression}, missing: true, decode: decodeHistGB},
	KindXGBoost:  {tasks: []Task{Classification, Regression}, missing: true, decode: decodeXGBoost},
}

// The kinds' names.
const (
	KindLogistic = "logistic/1"
	KindLinear   = "linear/1"
	KindTrees    = "sklearn-trees/1"
	KindHistGB   = "sklearn-hist-gradient-boosting/1"
	KindXGBoost  = "xgboost/1"
)

func kindNames() []string {
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// params decodes a model's parameters into p, refusing unknown keys.
func params(m *Model, p any) error {
	return json.Unmarshal(m.Params, p, json.RejectUnknownMembers(true))
}

// stackRow is the widest row a family prepares on the stack; a wider one
// takes its buffer from a pool. The buffer is zeroed at every call, so it
// is kept small: 256 values cost a logistic regression 35% of its time.
const stackRow = 64

// wideRows are the buffers of rows wider than stackRow.
var wideRows = sync.Pool{New: func() any { return new([]float64) }}

// row is a row as the estimator sees it (prepare), and where it is kept.
type row struct {
	buf  [stackRow]float64
	wide *[]float64
}

// prepare returns x through the model's preparation, into r, with room for
// extra more values after it. Call release when done with it.
func (r *row) prepare(p *program, x []float64, extra int) []float64 {
	if p.width(len(x))+extra > stackRow {
		r.wide = wideRows.Get().(*[]float64)
		*r.wide = p.apply(x, (*r.wide)[:0])
		return *r.wide
	}
	return p.apply(x, r.buf[:0])
}

func (r *row) release() {
	if r.wide != nil {
		wideRows.Put(r.wide)
	}
}

// The explicit float64 conversions in the families stop the compiler from
// fusing a multiply and an add (arm64, where Lambda runs, has the
// instruction): the libraries round the product first.

// softmax turns logits into probabilities in place, as scikit-learn's
// softmax does: shift by the largest, exponentiate, divide by the sum (in
// order). The shift keeps exp from overflowing.
func softmax(p []float64) {
	top := math.Inf(-1)
	for _, l := range p {
		top = max(top, l)
	}
	var sum float64
	for k := range p {
		p[k] = math.Exp(p[k] - top)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// sigmoid is scipy's expit.
func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// twoClasses writes a binary classifier's probabilities from the positive
// class's, as scikit-learn does: [1 - p, p].
func twoClasses(out []float64, p float64) {
	out[1] = p
	out[0] = 1 - p
}
