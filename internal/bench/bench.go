// Package bench measures what users choose this project for: a small binary,
// fast cold starts, little memory, cheap predictions and a local stack that
// keeps up with a browser-driven demo. Each measurement is a row with its
// target; nothing here fails a build, `make bench` just prints the table.
package bench

import (
	"bufio"
	"bytes"
	"cmp"
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

	"github.com/iris-cors/iris-cors-cdk/internal/model"
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

// GoBenchmarks runs the predictor's and the model families' Go benchmarks
// (three times; the median of each is reported) and adds their rows.
func GoBenchmarks(ctx context.Context, t *Table, root string) error {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "3", "./functions/predict/", "./internal/model/")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	res := parseBenchmarks(string(out))
	perRow := func(metric, name string, limit float64) {
		if r, ok := res[name]; ok {
			t.Add(metric, fmt.Sprintf("%.2f µs/op, %d allocs/op", r.nsPerOp/1000, r.allocs), fmt.Sprintf("<= %g µs/op, 0 allocs", limit/1000), Met(r.nsPerOp <= limit && r.allocs == 0))
		}
	}
	if r, ok := res["Predict/logistic-iris"]; ok {
		t.Add("Model inference, logistic regression (Iris)", fmt.Sprintf("%.1f ns/op, %d allocs/op", r.nsPerOp, r.allocs), "<= 100 ns/op, 0 allocs", Met(r.nsPerOp <= 100 && r.allocs == 0))
	}
	perRow("Inference per row, random forest: 100 trees, 30 features (breast cancer's rows in turn)", "Predict/forest-cancer", 5000)
	perRow("Inference per row, histogram gradient boosting: 300 trees, 30 features", "Predict/hgb-cancer", 5000)
	perRow("Inference per row, XGBoost: 50 trees, 30 features", "Predict/xgb-cancer", 5000)
	if r, ok := res["Predict/titanic-forest"]; ok {
		if bare, ok := res["Predict/titanic-forest-bare"]; ok {
			t.Add("Inference per row, a Titanic-like pipeline: one-hot encoders, imputers, a scaler, then 100 trees",
				fmt.Sprintf("%.2f µs/op, %d allocs/op; the same trees on prepared rows %.2f µs/op", r.nsPerOp/1000, r.allocs, bare.nsPerOp/1000),
				"within 1 µs of the trees alone, 0 allocs", Met(r.nsPerOp-bare.nsPerOp <= 1000 && r.allocs == 0))
		}
	}
	if r, ok := res["Parse"]; ok {
		info, err := os.Stat(filepath.Join(root, LargestFixture))
		if err != nil {
			return err
		}
		t.Add(fmt.Sprintf("Decoding the largest fixture at init (a random-forest regression, 100 trees, %.1f MB of model.json)", float64(info.Size())/(1<<20)),
			fmt.Sprintf("%.2f ms", r.nsPerOp/1e6), "<= 10 ms", Met(r.nsPerOp <= 10e6))
	}
	if r, ok := res["HandlerSingle"]; ok {
		t.Add("Handler, one row (decode, validate, predict, encode, log)", fmt.Sprintf("%.2f µs/op, %d allocs/op", r.nsPerOp/1000, r.allocs), "<= 5 µs/op", Met(r.nsPerOp <= 5000))
	}
	if r, ok := res["HandlerPipeline"]; ok {
		t.Add("Handler, one row of the Titanic-like pipeline (text categories, blanks)", fmt.Sprintf("%.2f µs/op, %d allocs/op", r.nsPerOp/1000, r.allocs), "<= 5 µs/op", Met(r.nsPerOp <= 5000))
	}
	if r, ok := res["HandlerBatch100"]; ok {
		t.Add("Handler, batch of 100", fmt.Sprintf("%.0f µs/op (%.2f µs per row)", r.nsPerOp/1000, r.nsPerOp/1000/100), "", nil)
	}
	return nil
}

// LargestFixture is the biggest model of the parity fixtures, the one
// whose decoding and cold start make bench measures.
const LargestFixture = "internal/model/testdata/parity/forest-diabetes.model.json"

// LargestModelStart builds the function serving LargestFixture and times
// its own start, exec to first answer without the emulator (median of
// runs).
func LargestModelStart(ctx context.Context, t *Table, root, dir, origin string, runs int) error {
	path := filepath.Join(root, LargestFixture)
	m, err := model.Load(path)
	if err != nil {
		return err
	}
	bin, _, err := BuildGo(ctx, root, dir, path)
	if err != nil {
		return err
	}
	env := functionEnv(origin)
	var starts []time.Duration
	for range runs {
		s, err := MeasureStart(ctx, bin, env, proxyEvent(m.ExampleBody()))
		if err != nil {
			return err
		}
		starts = append(starts, s.Total())
	}
	cold := percentile(starts, 50)
	t.Add(fmt.Sprintf("The Go function's own cold start serving the largest fixture, exec to first answer (median of %d)", runs),
		ms(cold), "<= 20 ms", Met(cold <= 20*time.Millisecond))
	return nil
}

type benchResult struct {
	nsPerOp float64
	allocs  int
}

var benchLine = regexp.MustCompile(`^Benchmark([\w/.-]+?)-\d+\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?(?:\s+\d+ B/op\s+(\d+) allocs/op)?`)

// parseBenchmarks reads go test -bench output: per benchmark, the median of
// its runs.
func parseBenchmarks(out string) map[string]benchResult {
	runs := map[string][]benchResult{}
	for _, line := range strings.Split(out, "\n") {
		if m := benchLine.FindStringSubmatch(line); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			allocs, _ := strconv.Atoi(m[3])
			runs[m[1]] = append(runs[m[1]], benchResult{ns, allocs})
		}
	}
	res := map[string]benchResult{}
	for name, rs := range runs {
		slices.SortFunc(rs, func(a, b benchResult) int { return cmp.Compare(a.nsPerOp, b.nsPerOp) })
		res[name] = rs[len(rs)/2]
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
