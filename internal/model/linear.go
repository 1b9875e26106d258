package model

import "fmt"

// Linear is kind linear/1: a linear regression (cmd/train's ridge,
// scikit-learn's LinearRegression, Ridge, Lasso), bias + w·z on the row
// through the scaler.
type Linear struct {
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
}

type linear struct {
	Linear
	prep *program
}

func decodeLinear(m *Model) (family, error) {
	var l linear
	if err := params(m, &l.Linear); err != nil {
		return nil, err
	}
	if len(l.Weights) != m.width() {
		return nil, fmt.Errorf("%d weights for %d features", len(l.Weights), m.width())
	}
	l.prep = m.prep
	return &l, nil
}

func (l *linear) predict(x, out []float64) {
	var r row
	out[0] = l.Value(r.prepare(l.prep, x, 0))
	r.release()
}

// Value is the prediction for a row z, already through the scaler.
func (l *Linear) Value(z []float64) float64 { return dot(l.Bias, l.Weights, z) }
