package model

import "fmt"

// Logistic is kind logistic/1: a logistic regression, multinomial or
// binary, as cmd/train fits it and as scikit-learn's LogisticRegression
// computes predict_proba (on standardized features when a scaler comes
// first).
type Logistic struct {
	// Weights has a row per class (softmax over the logits), or for a
	// binary model one row, the second class's (p = expit, the first class
	// 1 - p, as scikit-learn computes it).
	Weights [][]float64 `json:"weights"`
	Bias    []float64   `json:"bias"`
}

type logistic struct {
	Logistic
	prep *program
}

func decodeLogistic(m *Model) (family, error) {
	var l logistic
	if err := params(m, &l.Logistic); err != nil {
		return nil, err
	}
	rows := len(l.Weights)
	if rows != len(m.Classes) && !(rows == 1 && len(m.Classes) == 2) {
		return nil, fmt.Errorf("%d weight rows for %d classes: want one per class, or one for a binary model", rows, len(m.Classes))
	}
	if len(l.Bias) != rows {
		return nil, fmt.Errorf("%d weight rows but %d biases", rows, len(l.Bias))
	}
	for k, w := range l.Weights {
		if len(w) != m.width() {
			return nil, fmt.Errorf("weight row %d has %d weights for %d features", k, len(w), m.width())
		}
	}
	l.prep = m.prep
	return &l, nil
}

func (l *logistic) predict(x, out []float64) {
	var r row
	l.Probabilities(r.prepare(l.prep, x, 0), out)
	r.release()
}

// Probabilities writes the class probabilities of a row z, already through
// the scaler, into p. Training calls it on its standardized rows.
func (l *Logistic) Probabilities(z, p []float64) {
	if len(l.Weights) == 1 {
		twoClasses(p, sigmoid(dot(l.Bias[0], l.Weights[0], z)))
		return
	}
	for k, w := range l.Weights {
		p[k] = dot(l.Bias[k], w, z)
	}
	softmax(p)
}

// dot is b + w·z, summed in feature order.
func dot(b float64, w, z []float64) float64 {
	s := b
	for j, wj := range w {
		s += float64(wj * z[j])
	}
	return s
}
