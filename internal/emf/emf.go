// Package emf writes CloudWatch Embedded Metric Format lines: the predict
// function's metrics (predictions per class or value, rejections per
// reason, by model version), which CloudWatch Logs extracts from its log,
// and the names the stacks' dashboard reads them by.
package emf

import (
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Writer writes the metrics into a log: CloudWatch Logs turns each into metrics, with no API call
// and nothing to wait for in the request. Every metric is by model version,
// so what a new model predicts shows beside what the old one did.
//
//	{"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":"Predictor/prod",
//	  "Dimensions":[["ModelVersion","Class"]],"Metrics":[{"Name":"Predictions","Unit":"Count"}]}]},
//	 "ModelVersion":"6eb4a01abd4a","Class":"setosa","Predictions":3}
type Writer struct {
	Out       io.Writer
	Namespace string
	Version   string // the model version every metric is by
	Now       func() time.Time
	mu        sync.Mutex // a line is written whole
	buf       []byte
}

// The metrics' names and dimensions, which the dashboard reads.
const (
	Predictions = "Predictions" // by class: how many rows the model gave it
	Prediction  = "Prediction"  // a regression's values
	Rejections  = "Rejections"  // requests answered with an error, by reason
	DimVersion  = "ModelVersion"
	DimClass    = "Class"
	DimReason   = "Reason"
)

// Classes records how many rows of a request each class got.
func (m *Writer) Classes(classes []string, counts []int) {
	for k, n := range counts {
		if n > 0 {
			m.line(Predictions, "Count", DimClass, classes[k], float64(n), nil)
		}
	}
}

// Values records a regression's predictions, one value each (a value that
// is not finite is no metric).
func (m *Writer) Values(vs []float64) {
	finite := vs[:0:0]
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = append(finite, v)
		}
	}
	if len(finite) > 0 {
		m.line(Prediction, "None", "", "", 0, finite)
	}
}

// Rejected records a request answered with an error, by its code.
func (m *Writer) Rejected(code string) { m.line(Rejections, "Count", DimReason, code, 1, nil) }

// line writes one EMF document: the metric by model version, and by dim
// when dim is set, with its value, or its values when there are several (at
// most 100, EMF's limit, which a batch never exceeds). One value is no
// slice: the line allocates nothing.
func (m *Writer) line(metric, unit, dim, value string, one float64, values []float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := append(m.buf[:0], `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, m.Now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b, _ = jsontext.AppendQuote(b, m.Namespace)
	b = append(b, `,"Dimensions":[["`+DimVersion+`"`...)
	if dim != "" {
		b = append(b, `,"`...)
		b = append(b, dim...)
		b = append(b, '"')
	}
	b = append(b, `]],"Metrics":[{"Name":"`...)
	b = append(b, metric...)
	b = append(b, `","Unit":"`...)
	b = append(b, unit...)
	b = append(b, `"}]}]},"`+DimVersion+`":`...)
	b, _ = jsontext.AppendQuote(b, m.Version)
	if dim != "" {
		b = append(b, `,"`...)
		b = append(b, dim...)
		b = append(b, `":`...)
		b, _ = jsontext.AppendQuote(b, value)
	}
	b = append(b, `,"`...)
	b = append(b, metric...)
	b = append(b, `":`...)
	if values == nil {
		b = strconv.AppendFloat(b, one, 'g', -1, 64)
	} else {
		b = append(b, '[')
		for i, v := range values {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	m.Out.Write(b)
	m.buf = b
}
