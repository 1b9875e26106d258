package model

import (
	"fmt"
	"math"
	"slices"
)

// XGBoost is kind xgboost/1: an XGBoost gbtree booster (XGBClassifier,
// XGBRegressor) as XGBoost 1.7 computes it, in float32: the row cast to
// float32, left where x < split_condition, a missing value (NaN) to the
// node's default child; each output's margin starts at the base score (as
// a margin) and adds its trees' leaves in float32, tree by tree.
// Thresholds and leaf values are float32 values, stored as float64.
type XGBoost struct {
	// Objective is binary:logistic, multi:softprob, multi:softmax or
	// reg:squarederror.
	Objective string  `json:"objective"`
	BaseScore float64 `json:"base_score"`
	// Groups is the output each tree adds to (XGBoost's tree_info).
	Groups []int32  `json:"groups"`
	Nodes  Columns  `json:"nodes"`
	Sets   *CatSets `json:"categorical,omitempty"`
}

// CatSets are an XGBoost's categorical splits (enable_categorical): a node
// sends a category in its set right, any other (and a negative one) left,
// a missing one to its default child, as XGBoost 1.7's Decision does. The
// categories are the codes of pandas' Categorical in training.
type CatSets struct {
	Splits []byte    `json:"splits"` // int32 per node: its set, -1 for a numeric split or a leaf
	Sets   [][]int32 `json:"sets"`
}

type xgboost struct {
	*forest
	XGBoost
	prep   *program
	base   float32 // the base score as a margin
	groups int
	sparse bool // a zero is a missing value (Prepare.Sparse)
	splits []categorySplit
}

// xgbObjectives are the objectives served, with the task and how many
// margins per row each has (0: one per class).
var xgbObjectives = map[string]struct {
	task    Task
	margins int
}{
	"binary:logistic":  {Classification, 1},
	"multi:softprob":   {Classification, 0},
	"multi:softmax":    {Classification, 0},
	"reg:squarederror": {Regression, 1},
}

func decodeXGBoost(m *Model) (family, error) {
	x := &xgboost{prep: m.prep, sparse: m.prep != nil && m.prep.sparse}
	if err := params(m, &x.XGBoost); err != nil {
		return nil, err
	}
	obj, ok := xgbObjectives[x.Objective]
	if !ok || obj.task != m.Task {
		return nil, fmt.Errorf("objective %q for a %s: served are binary:logistic, multi:softprob and multi:softmax (classification) and reg:squarederror", x.Objective, m.Task)
	}
	x.groups = obj.margins
	if x.groups == 0 {
		x.groups = len(m.Classes)
	}
	if x.Objective == "binary:logistic" && len(m.Classes) != 2 {
		return nil, fmt.Errorf("binary:logistic with %d classes", len(m.Classes))
	}
	base := float32(x.BaseScore)
	if float64(base) != x.BaseScore {
		return nil, fmt.Errorf("base_score %v is not a float32", x.BaseScore)
	}
	x.base = base
	if x.Objective == "binary:logistic" {
		// XGBoost's ProbToMargin for the logistic objectives.
		x.base = -float32(math.Log(float64(1/base - 1)))
	}
	var err error
	if x.forest, err = decodeForest(x.Nodes, m.width(), 1, true); err != nil {
		return nil, err
	}
	x.Nodes = Columns{}
	if len(x.Groups) != len(x.roots) || slices.ContainsFunc(x.Groups, func(g int32) bool { return g < 0 || int(g) >= x.groups }) {
		return nil, fmt.Errorf("groups: %d for %d trees, each in [0, %d)", len(x.Groups), len(x.roots), x.groups)
	}
	for i := range x.nodes {
		nd := &x.nodes[i]
		if nd.child[0] == int32(i) { // a leaf
			continue
		}
		if float64(float32(nd.threshold)) != nd.threshold || float64(float32(x.values[i])) != x.values[i] {
			return nil, fmt.Errorf("node %d: threshold %v or value %v is not a float32", i, nd.threshold, x.values[i])
		}
		// XGBoost goes left where x < threshold. The row and the
		// threshold are float32 values, so that is x <= the float32 just
		// below the threshold: one walk (forest.leaves) serves every kind.
		nd.threshold = float64(math.Nextafter32(float32(nd.threshold), float32(math.Inf(-1))))
	}
	if c := x.Sets; c != nil {
		if x.splits, err = x.decodeSets(c, m.width()); err != nil {
			return nil, fmt.Errorf("categorical: %w", err)
		}
		x.Sets = nil
	}
	return x, nil
}

func (x *xgboost) decodeSets(c *CatSets, width int) ([]categorySplit, error) {
	sets := make([]string, len(c.Sets))
	for k, cats := range c.Sets {
		var words []uint32
		for _, v := range cats {
			if v < 0 || v >= 1<<20 {
				return nil, fmt.Errorf("set %d: category %d", k, v)
			}
			for int(v)/32 >= len(words) {
				words = append(words, 0)
			}
			words[v/32] |= 1 << (v % 32)
		}
		sets[k] = bits(words)
	}
	return x.categorical(width, c.Splits, len(sets), func(nd *node, set int) (categorySplit, error) {
		return categorySplit{column: nd.feature, set: sets[set], member: 1, other: 0}, nil
	})
}

func (x *xgboost) predict(in, out []float64) {
	var r row
	defer r.release()
	z := r.prepare(x.prep, in, len(x.splits))
	for j, v := range z {
		if v == 0 && x.sparse {
			// Trained on a sparse matrix, XGBoost read a zero as an
			// absent entry: a missing value.
			v = math.NaN()
		}
		z[j] = float64(float32(v)) // NaN stays NaN
	}
	z = appendSides(z, x.splits)
	var marginBuf [16]float32
	margins := marginBuf[:0]
	if x.groups > len(marginBuf) {
		margins = make([]float32, 0, x.groups) // many classes: one allocation per row
	}
	margins = margins[:x.groups]
	for g := range margins {
		margins[g] = x.base
	}
	for i, leaf := range x.reached(z) {
		margins[x.Groups[i]] += float32(x.values[leaf])
	}
	switch x.Objective {
	case "reg:squarederror":
		out[0] = float64(margins[0])
	case "binary:logistic":
		// XGBoost's float32 sigmoid; the scikit-learn wrapper's 1 - p is
		// float32 too.
		p := float32(1 / (1 + math.Exp(-float64(margins[0]))))
		out[1], out[0] = float64(p), float64(1-p)
	case "multi:softprob":
		// XGBoost's softmax: float32 exponentials summed in float64.
		top := slices.Max(margins)
		var sum float64
		for g, v := range margins {
			margins[g] = float32(math.Exp(float64(v - top)))
			sum += float64(margins[g])
		}
		for g, v := range margins {
			out[g] = float64(v / float32(sum))
		}
	case "multi:softmax":
		// XGBClassifier.predict_proba: scipy's softmax of the float32
		// margins, in float32.
		top := slices.Max(margins)
		var sum float32
		for g, v := range margins {
			margins[g] = float32(math.Exp(float64(v - top)))
			sum += margins[g]
		}
		for g, v := range margins {
			out[g] = float64(v / sum)
		}
	}
}
