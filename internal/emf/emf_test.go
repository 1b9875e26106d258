package emf

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// document is one Embedded Metric Format document as CloudWatch Logs reads it.
type document struct {
	AWS struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name, Unit string
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// parseEMF checks a log line against EMF's rules (the _aws block with a
// timestamp, namespace, dimension sets and metric definitions; each
// dimension a string member, each metric a number or up to 100 numbers)
// and returns its members.
func parseEMF(t *testing.T, line string) map[string]any {
	t.Helper()
	var doc document
	var members map[string]any
	if err := json.Unmarshal([]byte(line), &doc); err != nil || json.Unmarshal([]byte(line), &members) != nil {
		t.Fatalf("not JSON: %q (%v)", line, err)
	}
	a := doc.AWS
	if a.Timestamp == nil || *a.Timestamp < 1e12 || len(a.CloudWatchMetrics) != 1 {
		t.Fatalf("no _aws block with a millisecond Timestamp and one CloudWatchMetrics: %s", line)
	}
	d := a.CloudWatchMetrics[0]
	if d.Namespace == "" || len(d.Dimensions) == 0 || len(d.Metrics) == 0 {
		t.Fatalf("a directive without namespace, dimensions or metrics: %s", line)
	}
	for _, set := range d.Dimensions {
		for _, dim := range set {
			if _, ok := members[dim].(string); !ok {
				t.Errorf("dimension %s is no string member: %s", dim, line)
			}
		}
	}
	for _, m := range d.Metrics {
		switch v := members[m.Name].(type) {
		case float64:
		case []any:
			if len(v) == 0 || len(v) > 100 {
				t.Errorf("metric %s has %d values: %s", m.Name, len(v), line)
			}
		default:
			t.Errorf("metric %s is no number: %s", m.Name, line)
		}
		if m.Unit == "" {
			t.Errorf("metric %s has no unit", m.Name)
		}
	}
	return members
}

// Every line the writer makes is EMF that CloudWatch Logs accepts: the
// directive names the namespace, the dimension sets and the metrics, whose
// members the line carries; names and values that need escaping get it.
func TestLinesAreEMF(t *testing.T) {
	var out bytes.Buffer
	w := &Writer{Out: &out, Namespace: "Predictor/dev", Version: `v"1`, Now: func() time.Time { return time.UnixMilli(1_700_000_000_123) }}
	w.Classes([]string{"setosa", "vir\nginica"}, []int{2, 1})
	w.Values([]float64{1.5, math.NaN(), 2})
	w.Rejected("invalid_input")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out.String())
	}
	want := []map[string]any{
		{DimVersion: `v"1`, DimClass: "setosa", Predictions: 2.0},
		{DimVersion: `v"1`, DimClass: "vir\nginica", Predictions: 1.0},
		{DimVersion: `v"1`, Prediction: []any{1.5, 2.0}},
		{DimVersion: `v"1`, DimReason: "invalid_input", Rejections: 1.0},
	}
	for i, line := range lines {
		members := parseEMF(t, line)
		for k, v := range want[i] {
			if b, _ := json.Marshal(members[k]); string(b) != mustJSON(v) {
				t.Errorf("line %d: %s = %s, want %s", i, k, b, mustJSON(v))
			}
		}
		if members["_aws"].(map[string]any)["Timestamp"] != 1700000000123.0 {
			t.Errorf("line %d: timestamp %v", i, members["_aws"])
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
