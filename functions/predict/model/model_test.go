package model

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

func TestKnownFlowers(t *testing.T) {
	m := Default()
	for _, tc := range []struct {
		name string
		x    [NumFeatures]float64
		want string
	}{
		{"typical setosa", [4]float64{5.1, 3.5, 1.4, 0.2}, "setosa"},
		{"typical versicolor", [4]float64{6.0, 2.8, 4.5, 1.3}, "versicolor"},
		{"typical virginica", [4]float64{6.7, 3.0, 5.8, 2.2}, "virginica"},
		{"far outside the data still answers", [4]float64{30, 30, 30, 30}, "virginica"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, best := m.Predict(tc.x)
			if got := m.Classes[best]; got != tc.want {
				t.Errorf("species = %s, want %s (p = %v)", got, tc.want, p)
			}
			sum := 0.0
			for _, v := range p {
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Errorf("probability %v outside [0, 1]", v)
				}
				sum += v
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("probabilities sum to %v, want 1", sum)
			}
		})
	}
}

// Every training row: the model reproduces the recorded training accuracy, and
// only rows near the versicolor/virginica boundary are misclassified.
func TestTrainingRows(t *testing.T) {
	m := Default()
	f, err := os.Open("../../../data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, r := range rows[1:] {
		var x [NumFeatures]float64
		for j := range x {
			x[j], _ = strconv.ParseFloat(r[j], 64)
		}
		p, best := m.Predict(x)
		if m.Classes[best] == r[4] {
			correct++
			continue
		}
		if r[4] == "setosa" || m.Classes[best] == "setosa" {
			t.Errorf("row %d (%v): predicted %s, want %s; setosa is linearly separable", i+2, x, m.Classes[best], r[4])
		}
		if p[best] > 0.95 {
			t.Errorf("row %d: wrong with confidence %.3f; mistakes should be near the boundary", i+2, p[best])
		}
	}
	if got := float64(correct) / float64(len(rows)-1); got != m.Metrics.TrainingAccuracy {
		t.Errorf("training accuracy = %v, model.json records %v", got, m.Metrics.TrainingAccuracy)
	}
}

func TestParseRejectsBrokenModels(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"not JSON", "{"},
		{"zero scale", `{"version":"x","scale":[1,0,1,1]}`},
		{"no version", `{"scale":[1,1,1,1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); err == nil {
				t.Error("Parse succeeded, want an error")
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	m := Default()
	x := [NumFeatures]float64{5.9, 3.0, 5.1, 1.8}
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(x)
	}
}
