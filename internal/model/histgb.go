package model

import (
	"fmt"
	"slices"
)

// HistGB is kind sklearn-hist-gradient-boosting/1: scikit-learn's
// HistGradientBoostingClassifier and Regressor, computed as scikit-learn
// 1.2 does. Its trees compare in float64 (casting to float32 would break
// them), left where x <= threshold, and send a missing value (NaN) where
// the node learned to (missing_go_to_left). The raw values start at
// Baseline (one per output); tree t adds its leaf, which already holds the
// learning rate, to output t mod len(Baseline); Link makes the outputs.
type HistGB struct {
	Baseline    []float64    `json:"baseline"`
	Link        link         `json:"link"`
	Nodes       Columns      `json:"nodes"`
	Categorical *Categorical `json:"categorical,omitempty"`
}

// Categorical is a HistGradientBoosting's native categorical splits
// (categorical_features): a split sends a category (a column's value, an
// integer 0..255) left where its bit is set in the split's bitset; a
// missing value, a negative one, or one the model never saw (its bit
// unset in the column's known bitset) goes where missing values go.
type Categorical struct {
	Splits  []byte  `json:"splits"`  // int32 per node: its bitset, -1 for a numeric split or a leaf
	Bitsets []byte  `json:"bitsets"` // 8 uint32 per bitset
	Columns []int32 `json:"columns"` // the categorical columns
	Known   []byte  `json:"known"`   // 8 uint32 per categorical column: its categories
}

type histGB struct {
	*forest
	HistGB
	prep   *program
	splits []categorySplit
}

func decodeHistGB(m *Model) (family, error) {
	h := &histGB{prep: m.prep}
	if err := params(m, &h.HistGB); err != nil {
		return nil, err
	}
	if err := h.Link.check(m, len(h.Baseline)); err != nil {
		return nil, err
	}
	var err error
	if h.forest, err = decodeForest(h.Nodes, m.width(), 1, true); err != nil {
		return nil, err
	}
	if len(h.roots)%len(h.Baseline) != 0 {
		return nil, fmt.Errorf("%d trees for %d outputs per iteration", len(h.roots), len(h.Baseline))
	}
	if c := h.Categorical; c != nil {
		if h.splits, err = h.decodeCategorical(c, m.width()); err != nil {
			return nil, fmt.Errorf("categorical: %w", err)
		}
	}
	h.Nodes, h.Categorical = Columns{}, nil
	return h, nil
}

// bitsets reads 8 little-endian uint32 per bitset.
func bitsets(b []byte) []string {
	out := make([]string, len(b)/32)
	for i := range out {
		out[i] = string(b[32*i : 32*i+32])
	}
	return out
}

func (h *histGB) decodeCategorical(c *Categorical, width int) ([]categorySplit, error) {
	if len(c.Bitsets)%32 != 0 || len(c.Known) != 32*len(c.Columns) {
		return nil, fmt.Errorf("bitsets of %d bytes, known of %d for %d columns: want 32 bytes each", len(c.Bitsets), len(c.Known), len(c.Columns))
	}
	left, known := bitsets(c.Bitsets), bitsets(c.Known)
	return h.categorical(width, c.Splits, len(left), func(nd *node, set int) (categorySplit, error) {
		k := slices.Index(c.Columns, nd.feature)
		if k < 0 {
			return categorySplit{}, fmt.Errorf("column %d is not among the categorical columns %v", nd.feature, c.Columns)
		}
		return categorySplit{column: nd.feature, set: left[set], member: 0, other: 1, known: known[k]}, nil
	})
}

func (h *histGB) predict(x, out []float64) {
	var r row
	defer r.release()
	z := appendSides(r.prepare(h.prep, x, len(h.splits)), h.splits)
	copy(out, h.Baseline)
	k := 0 // the output tree i adds to, i mod len(Baseline) without a division
	for _, leaf := range h.reached(z) {
		out[k] += h.values[leaf]
		if k++; k == len(h.Baseline) {
			k = 0
		}
	}
	h.Link.apply(out)
}
