// Package bench measures what users choose this project for: a small binary,
// fast cold starts, little memory, cheap predictions and a local stack that
// keeps up with a browser-driven demo. Each measurement is a row with its
// target; nothing here fails a build, `make bench` just prints the table.
package bench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/rie"
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

func check(ok bool) *bool { return &ok }

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
		t.Add("Model inference", fmt.Sprintf("%.1f ns/op, %d allocs/op", r.nsPerOp, r.allocs), "<= 100 ns/op, 0 allocs", check(r.nsPerOp <= 100 && r.allocs == 0))
	}
	if r, ok := res["HandlerSingle"]; ok {
		t.Add("Handler, one flower (parse, predict, encode, log)", fmt.Sprintf("%.2f µs/op, %d allocs/op", r.nsPerOp/1000, r.allocs), "<= 5 µs/op", check(r.nsPerOp <= 5000))
	}
	if r, ok := res["HandlerBatch100"]; ok {
		t.Add("Handler, batch of 100", fmt.Sprintf("%.0f µs/op (%.2f µs per flower)", r.nsPerOp/1000, r.nsPerOp/1000/100), "", nil)
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

// BootstrapSize builds the function exactly as the stack bundles it and
// reports its size, raw and zipped (Lambda's deployment package).
func BootstrapSize(ctx context.Context, t *Table, root, dir string) error {
	bin := filepath.Join(dir, "arm64", "bootstrap")
	cmd := exec.CommandContext(ctx, "go", append(append(slices.Clone(project.LambdaBuildArgs), "-o", bin), "./functions/predict")...)
	cmd.Dir, cmd.Env = root, append(os.Environ(), project.LambdaEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		return err
	}
	f.Write(raw)
	zw.Close()
	t.Add("bootstrap (linux/arm64), raw / zipped", fmt.Sprintf("%.2f MB / %.2f MB", mb(len(raw)), mb(zipped.Len())), "zipped <= 4 MB", check(zipped.Len() <= 4<<20))
	return nil
}

func mb(n int) float64 { return float64(n) / (1 << 20) }

// predictEvent is an API Gateway proxy event for POST /predict of the
// embedded model's example row.
var predictEvent = func() []byte {
	b, _ := json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/predict", Path: "/predict", HTTPMethod: http.MethodPost,
		Headers:        map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:8080"},
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "bench", RequestID: "bench"},
		Body:           model.Default().ExampleBody(),
	})
	return b
}()

// Function measures cold starts, warm latency and memory under aws-lambda-rie.
func Function(ctx context.Context, t *Table, root, dir string, coldRuns, warmInvokes int) error {
	bootstrap, rieBin := filepath.Join(dir, "host", "bootstrap"), filepath.Join(dir, "aws-lambda-rie")
	for _, b := range []struct{ out, pkg string }{{bootstrap, "./functions/predict"}, {rieBin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"}} {
		cmd := exec.CommandContext(ctx, "go", append(append(slices.Clone(project.LambdaBuildArgs), "-o", b.out), b.pkg)...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	opts := rie.Options{Name: "Predict", RIE: rieBin, Bootstrap: bootstrap, Env: map[string]string{"ALLOWED_ORIGINS": "http://localhost:8080", "LOG_LEVEL": "error"}, Timeout: 5 * time.Second, MemoryMB: 128}

	// RIE starts the function on the first invocation, so the time after the
	// emulator listens is the function's own cold start (exec, Go runtime,
	// model decode) plus one invocation.
	var cold, emulator, function []time.Duration
	for range coldRuns {
		start := time.Now()
		fn, err := rie.Start(ctx, opts)
		if err != nil {
			return err
		}
		listening := time.Now()
		_, err = fn.Invoke(ctx, predictEvent)
		cold = append(cold, time.Since(start))
		emulator, function = append(emulator, listening.Sub(start)), append(function, time.Since(listening))
		fn.Close()
		if err != nil {
			return err
		}
	}
	t.Add(fmt.Sprintf("Cold start under aws-lambda-rie, process start to first answer (median of %d)", coldRuns),
		fmt.Sprintf("%s (emulator up: %s; function start + first invoke: %s)", ms(percentile(cold, 50)), ms(percentile(emulator, 50)), ms(percentile(function, 50))),
		"<= 50 ms", check(percentile(cold, 50) <= 50*time.Millisecond))

	fn, err := rie.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer fn.Close()
	warm := make([]time.Duration, 0, warmInvokes)
	for range warmInvokes {
		start := time.Now()
		if _, err := fn.Invoke(ctx, predictEvent); err != nil {
			return err
		}
		warm = append(warm, time.Since(start))
	}
	t.Add(fmt.Sprintf("Warm invoke through aws-lambda-rie, p50 / p99 of %d", warmInvokes), ms(percentile(warm, 50))+" / "+ms(percentile(warm, 99)), "", nil)
	rss, err := childPeakRSS(fn.PIDs()[0])
	if err != nil {
		return err
	}
	t.Add(fmt.Sprintf("Function peak RSS after %d invocations", warmInvokes+1), fmt.Sprintf("%.1f MB", float64(rss)/1024), "<= 30 MB", check(rss <= 30*1024))
	return nil
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

// Command times a command, median of runs.
func Command(ctx context.Context, t *Table, metric, target string, limit time.Duration, runs int, root string, args ...string) error {
	var times []time.Duration
	for range runs {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = root
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, tail(out))
		}
		times = append(times, time.Since(start))
	}
	label := metric
	if runs > 1 {
		label = fmt.Sprintf("%s (median of %d)", metric, runs)
	}
	var ok *bool
	if limit > 0 {
		ok = check(percentile(times, 50) <= limit)
	}
	t.Add(label, fmt.Sprintf("%.1f s", percentile(times, 50).Seconds()), target, ok)
	return nil
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// Load sends requests from clients goroutines for d and reports throughput,
// latency and errors. Each request must answer want.
func Load(ctx context.Context, t *Table, metric string, d time.Duration, clients int, want int, newReq func() *http.Request, minRate float64) {
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
	rate := float64(len(all)) / d.Seconds()
	target, ok := "0 errors", check(errors == 0)
	if minRate > 0 {
		target, ok = fmt.Sprintf(">= %.0f/s, 0 errors", minRate), check(errors == 0 && rate >= minRate)
	}
	t.Add(fmt.Sprintf("%s (%d clients, %s)", metric, clients, d), fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, %d errors", rate, ms(percentile(all, 50)), ms(percentile(all, 99)), errors), target, ok)
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
