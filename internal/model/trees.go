package model

import "fmt"

// Trees is kind sklearn-trees/1: scikit-learn's DecisionTree, RandomForest
// and ExtraTrees (classifier or regressor) and GradientBoosting, computed as
// scikit-learn 1.2 does. Its trees compare the row cast to float32 (they
// validate X to float32 first, after the scaler's float64 arithmetic) with
// float64 thresholds, left where x <= threshold; comparing in float64 sends
// a row one float step from a threshold the wrong way.
type Trees struct {
	// Combine is "mean" for a forest (one tree: a DecisionTree): each
	// tree's leaf values added in tree order, then divided by the number
	// of trees. A classifier's leaves hold the leaf's class distribution,
	// normalized as predict_proba normalizes it, so the mean is the
	// probabilities. "boost" is gradient boosting: the raw values start at
	// Init (one per output), tree t adds LearningRate × its leaf to output
	// t mod len(Init), and Link makes the outputs.
	Combine      string    `json:"combine"`
	LearningRate float64   `json:"learning_rate,omitzero"`
	Init         []float64 `json:"init,omitempty"`
	Link         link      `json:"link,omitempty"`
	Nodes        Columns   `json:"nodes"`
}

type trees struct {
	*forest
	Trees
	prep *program
}

func decodeTrees(m *Model) (family, error) {
	t := &trees{prep: m.prep}
	if err := params(m, &t.Trees); err != nil {
		return nil, err
	}
	width := 1
	switch t.Combine {
	case "mean":
		if m.Task == Classification {
			width = len(m.Classes)
		}
		if t.Link != "" || t.Init != nil || t.LearningRate != 0 {
			return nil, fmt.Errorf(`combine "mean" takes no link, init or learning_rate`)
		}
	case "boost":
		if err := t.Link.check(m, len(t.Init)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf(`combine %q: want "mean" or "boost"`, t.Combine)
	}
	var err error
	if t.forest, err = decodeForest(t.Nodes, m.width(), width, false); err != nil {
		return nil, err
	}
	if t.Combine == "boost" && len(t.roots)%len(t.Init) != 0 {
		return nil, fmt.Errorf("%d trees for %d outputs per stage", len(t.roots), len(t.Init))
	}
	t.Nodes = Columns{} // decoded; the bytes are not needed again
	return t, nil
}

func (t *trees) predict(x, out []float64) {
	var r row
	defer r.release()
	z := r.prepare(t.prep, x, 0)
	for j, v := range z {
		z[j] = float64(float32(v))
	}
	if t.Combine == "boost" {
		copy(out, t.Init)
		k := 0 // the output tree i adds to, i mod len(Init) without a division
		for _, leaf := range t.reached(z) {
			out[k] += float64(t.LearningRate * t.values[leaf])
			if k++; k == len(t.Init) {
				k = 0
			}
		}
		t.Link.apply(out)
		return
	}
	clear(out)
	w := t.width
	for _, leaf := range t.reached(z) {
		for k, v := range t.values[int(leaf)*w:][:w] {
			out[k] += v
		}
	}
	n := float64(len(t.roots))
	for k := range out {
		out[k] /= n
	}
}
