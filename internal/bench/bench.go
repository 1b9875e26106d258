// Package bench measures what users choose this project for: a small binary,
// fast cold starts, little memory, cheap predictions and a local stack that
// keeps up with a browser-driven demo. Each measurement is a row with its
// target; nothing here fails a build, `make bench` just prints the table.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Row is one measurement.
type Row struct {
	Metric string
	Value  string
	Target string
	Met    string // "yes", "no" or "" (no target)
}

// Table collects rows as they are measured.
type Table struct {
	Rows []Row
	log  io.Writer
}

// NewTable prints progress to log.
func NewTable(log io.Writer) *Table { return &Table{log: log} }

// Add records a row; ok is nil when the metric has no target.
func (t *Table) Add(metric, value, target string, ok *bool) {
	met := ""
	if ok != nil {
		met = map[bool]string{true: "yes", false: "no"}[*ok]
	}
	t.Rows = append(t.Rows, Row{metric, value, target, met})
	fmt.Fprintf(t.log, "  %s: %s\n", metric, value)
}

// Markdown renders the table.
func (t *Table) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| Metric | Value | Target | Met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range t.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Metric, r.Value, r.Target, r.Met)
	}
}

// Met is a row's verdict on its target.
func Met(ok bool) *bool { return &ok }

// GoBenchmarks runs the predictor's Go benchmarks and reports them.
func GoBenchmarks(ctx context.Context, t *Table, root string) error {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "./functions/predict/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	res := parseBenchmarks(string(out))
	if r, ok := res["Predict"]; ok {
		t.Add("Model inference", fmt.Sprintf("%.1f ns/op, %d allocs/op", r.nsPerOp, r.allocs), "<= 100 ns/op, 0 allocs", Met(r.nsPerOp <= 100 && r.allocs == 0))
	}
	if r, ok := res["HandlerSingle"]; ok {
		t.Add("Handler, one row (decode, validate, predict, encode, log)", fmt.Sprintf("%.2f µs/op, %d allocs/op", r.nsPerOp/1000, r.allocs), "<= 5 µs/op", Met(r.nsPerOp <= 5000))
	}
	if r, ok := res["HandlerBatch100"]; ok {
		t.Add("Handler, batch of 100", fmt.Sprintf("%.0f µs/op (%.2f µs per row)", r.nsPerOp/1000, r.nsPerOp/1000/100), "", nil)
	}
	return nil
}

type benchResult struct {
	nsPerOp float64
	allocs  int
}

var benchLine = regexp.MustCompile(`^Benchmark(\w+)-\d+\s+\d+\s+([\d.]+) ns/op(?:\s+\d+ B/op\s+(\d+) allocs/op)?`)

func parseBenchmarks(out string) map[string]benchResult {
	res := map[string]benchResult{}
	for _, line := range strings.Split(out, "\n") {
		if m := benchLine.FindStringSubmatch(line); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			allocs, _ := strconv.Atoi(m[3])
			res[m[1]] = benchResult{ns, allocs}
		}
	}
	return res
}

// childPeakRSS is VmHWM (kB) of the function process, the emulator's child.
func childPeakRSS(parent int) (int, error) {
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		status, err := os.Open(filepath.Join(filepath.Dir(e), "status"))
		if err != nil {
			continue
		}
		defer status.Close()
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			}
		}
	}
	return 0, fmt.Errorf("no child process of aws-lambda-rie (pid %d) found", parent)
}

// Command times a command, median of runs, and returns the median.
func Command(ctx context.Context, t *Table, metric, target string, limit time.Duration, runs int, root string, args ...string) (time.Duration, error) {
	var times []time.Duration
	for range runs {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = root
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, tail(out))
		}
		times = append(times, time.Since(start))
	}
	label := metric
	if runs > 1 {
		label = fmt.Sprintf("%s (median of %d)", metric, runs)
	}
	var ok *bool
	if limit > 0 {
		ok = Met(percentile(times, 50) <= limit)
	}
	median := percentile(times, 50)
	t.Add(label, fmt.Sprintf("%.1f s", median.Seconds()), target, ok)
	return median, nil
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// Load sends requests from clients goroutines for d and reports throughput,
// latency and errors. Each request must answer want.
func Load(ctx context.Context, t *Table, metric string, d time.Duration, clients int, want int, newReq func() *http.Request, minRate float64) (rate float64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			failed := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				start := time.Now()
				resp, err := client.Do(newReq())
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != want {
					failed++
					continue
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			all, errors = append(all, lat...), errors+failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	rate = float64(len(all)) / d.Seconds()
	target, ok := "0 errors", Met(errors == 0)
	if minRate > 0 {
		target, ok = fmt.Sprintf(">= %.0f/s, 0 errors", minRate), Met(errors == 0 && rate >= minRate)
	}
	t.Add(fmt.Sprintf("%s (%d clients, %s)", metric, clients, d), fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, %d errors", rate, ms(percentile(all, 50)), ms(percentile(all, 99)), errors), target, ok)
	return rate
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
