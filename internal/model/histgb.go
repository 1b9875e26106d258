package model

import "fmt"

// HistGB is kind sklearn-hist-gradient-boosting/1: scikit-learn's
// HistGradientBoostingClassifier and Regressor, computed as scikit-learn
// 1.2 does. Its trees compare in float64 (casting to float32 would break
// them), left where x <= threshold, and send a missing value (NaN) where
// the node learned to (missing_go_to_left). The raw values start at
// Baseline (one per output); tree t adds its leaf, which already holds the
// learning rate, to output t mod len(Baseline); Link makes the outputs.
type HistGB struct {
	Baseline []float64 `json:"baseline"`
	Link     link      `json:"link"`
	Nodes    Columns   `json:"nodes"`
}

type histGB struct {
	*forest
	HistGB
	scaler *Scaler
}

func decodeHistGB(m *Model) (family, error) {
	h := &histGB{scaler: m.Scaler}
	if err := params(m, &h.HistGB); err != nil {
		return nil, err
	}
	if err := h.Link.check(m, len(h.Baseline)); err != nil {
		return nil, err
	}
	var err error
	if h.forest, err = decodeForest(h.Nodes, len(m.Features), 1, true); err != nil {
		return nil, err
	}
	if len(h.roots)%len(h.Baseline) != 0 {
		return nil, fmt.Errorf("%d trees for %d outputs per iteration", len(h.roots), len(h.Baseline))
	}
	h.Nodes = Columns{}
	return h, nil
}

func (h *histGB) predict(x, out []float64) {
	var r row
	defer r.release()
	z := r.prepare(h.scaler, x)
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
