package bench

import (
	"archive/zip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/rie"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// Side is one way to serve the model, measured under the same emulator.
type Side struct {
	Name      string
	Bootstrap string            // the executable aws-lambda-rie starts
	Env       map[string]string // besides functionEnv's
	Package   []string          // what a deployment of it carries: files and directories
}

// Result is what Measure found for one side.
type Result struct {
	PackageBytes, PackageZipped int64
	Cold, ColdFunction          time.Duration // under the emulator: its start to the first answer; it listening to the first answer
	Own                         StartTimes    // without the emulator
	WarmP50, WarmP99            time.Duration
	PeakRSSKB                   int
	Classes                     []string // of the comparison rows
	Rate                        float64  // predictions per second through the local stack
}

var (
	//go:embed python/handler.py
	pythonHandler []byte
	//go:embed python/fit.py
	pythonFit []byte
)

// Comparison is a model both sides serve: what fit.py fits.
type Comparison struct {
	Name string // for the table
	Fit  string // fit.py's argument
}

// Comparisons are the models make bench serves side by side: the
// logistic regression the project started with, and a random forest, the
// family data scientists deploy most.
var Comparisons = []Comparison{
	{"StandardScaler + LogisticRegression on Iris (4 features)", "logistic"},
	{"RandomForestClassifier, 100 trees, on breast cancer (30 features)", "forest"},
}

// Sides prepares both sides of c in dir: py (an interpreter with
// scikit-learn) fits the model; the Go function is built with the exported
// model.json in place of the embedded one, the Python function loads the
// model itself. It returns the rows both must answer alike. With py empty,
// only the Go side, with the embedded model and no rows.
func Sides(ctx context.Context, root, dir, py string, c Comparison) ([]Side, *model.Model, [][]float64, error) {
	served := filepath.Join(root, project.ModelFile)
	if py != "" {
		for name, content := range map[string][]byte{"handler.py": pythonHandler, "fit.py": pythonFit} {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
				return nil, nil, nil, err
			}
		}
		// -B: no scripts/__pycache__ left in the checkout by the import.
		if out, err := exec.CommandContext(ctx, py, "-B", filepath.Join(dir, "fit.py"), root, dir, c.Fit).CombinedOutput(); err != nil {
			return nil, nil, nil, fmt.Errorf("fit the model: %v\n%s", err, out)
		}
		served = filepath.Join(dir, "model.json")
	}
	m, err := model.Load(served)
	if err != nil {
		return nil, nil, nil, err
	}
	goBin, deployed, err := BuildGo(ctx, root, dir, served)
	if err != nil {
		return nil, nil, nil, err
	}
	sides := []Side{{Name: "Go", Bootstrap: goBin, Package: []string{deployed}}}
	if py == "" {
		return sides, m, nil, nil
	}
	var rows [][]float64
	raw, err := os.ReadFile(filepath.Join(dir, "rows.json"))
	if err == nil {
		err = json.Unmarshal(raw, &rows)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fit.py's rows: %w", err)
	}
	// The bootstrap Lambda runs for a custom runtime: here it starts the
	// handler with the interpreter that has scikit-learn.
	bootstrap := filepath.Join(dir, "python", "bootstrap")
	os.MkdirAll(filepath.Dir(bootstrap), 0o755)
	script := fmt.Sprintf("#!/bin/sh\nexec %s %s\n", py, filepath.Join(dir, "handler.py"))
	if err := os.WriteFile(bootstrap, []byte(script), 0o755); err != nil {
		return nil, nil, nil, err
	}
	deps, err := exec.CommandContext(ctx, py, "-c", "import os, sklearn, numpy, scipy, joblib\nfor m in (sklearn, numpy, scipy, joblib): print(os.path.dirname(m.__file__))").Output()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("locate scikit-learn's packages: %v", err)
	}
	pkg := append(strings.Fields(string(deps)), filepath.Join(dir, "handler.py"))
	return append(sides, Side{
		Name: "Python + scikit-learn", Bootstrap: bootstrap, Package: pkg,
		Env: map[string]string{"MODEL_JOBLIB": filepath.Join(dir, "model.joblib"), "MODEL_JSON": filepath.Join(dir, "model.json")},
	}), m, rows, nil
}

// BuildGo builds the predict function serving the model.json at path in
// dir: for this machine, to run, and as the stack bundles it (linux/arm64),
// to weigh. go:embed honours -overlay: the same code, another model.
func BuildGo(ctx context.Context, root, dir, path string) (host, lambda string, err error) {
	host, lambda = filepath.Join(dir, "go", "bootstrap"), filepath.Join(dir, "go-arm64", "bootstrap")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	model := ""
	if path != filepath.Join(root, project.ModelFile) {
		model = path
	}
	for _, b := range []project.Build{
		{Root: root, Package: project.FunctionPackage, Out: host, Host: true, Model: model},
		{Root: root, Package: project.FunctionPackage, Out: lambda, Model: model},
	} {
		if err := b.Run(ctx); err != nil {
			return "", "", err
		}
	}
	return host, lambda, nil
}

// Measure runs one side: package size, cold starts with and without the
// emulator, warm invocations, peak memory, and the classes of rows.
func (s Side) Measure(ctx context.Context, rieBin, origin string, m *model.Model, coldRuns, warmInvokes int, rows [][]float64) (*Result, error) {
	r := &Result{}
	var err error
	if r.PackageBytes, r.PackageZipped, err = packageSize(s.Package); err != nil {
		return nil, err
	}
	env := functionEnv(origin)
	maps.Copy(env, s.Env)
	event := proxyEvent(m.ExampleBody())
	opts := rie.Options{Name: project.FunctionID, RIE: rieBin, Bootstrap: s.Bootstrap, Env: env, Timeout: 30 * time.Second, MemoryMB: 128}

	// aws-lambda-rie starts the function on the first invocation, so the
	// time after the emulator listens is the function's start and first
	// answer plus the emulator's own work around them; MeasureStart takes
	// the emulator out.
	var cold, function, init, first []time.Duration
	for range coldRuns {
		start := time.Now()
		fn, err := rie.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		listening := time.Now()
		_, err = fn.Invoke(ctx, event)
		cold, function = append(cold, time.Since(start)), append(function, time.Since(listening))
		fn.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		own, err := MeasureStart(ctx, s.Bootstrap, env, event)
		if err != nil {
			return nil, err
		}
		init, first = append(init, own.Init), append(first, own.FirstRequest)
	}
	r.Cold, r.ColdFunction = percentile(cold, 50), percentile(function, 50)
	r.Own = StartTimes{Init: percentile(init, 50), FirstRequest: percentile(first, 50)}

	fn, err := rie.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer fn.Close()
	warm := make([]time.Duration, 0, warmInvokes)
	for range warmInvokes {
		start := time.Now()
		if _, err := fn.Invoke(ctx, event); err != nil {
			return nil, err
		}
		warm = append(warm, time.Since(start))
	}
	r.WarmP50, r.WarmP99 = percentile(warm, 50), percentile(warm, 99)
	if r.Classes, err = classes(ctx, fn, m, rows); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if r.PeakRSSKB, err = childPeakRSS(fn.PIDs()[0]); err != nil {
		return nil, err
	}
	return r, nil
}

// functionEnv is the environment the function runs with here: it allows
// origin, and logs only errors (a log line per request would be measured).
func functionEnv(origin string) map[string]string {
	return map[string]string{"ALLOWED_ORIGINS": origin, "LOG_LEVEL": "error"}
}

// classes predicts rows in one batch request and returns the class of each.
func classes(ctx context.Context, fn *rie.Pool, m *model.Model, rows [][]float64) ([]string, error) {
	var b strings.Builder
	b.WriteString(`{"instances":[`)
	for i, x := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.Body(x))
	}
	b.WriteString("]}")
	out, err := fn.Invoke(ctx, proxyEvent(b.String()))
	if err != nil {
		return nil, err
	}
	var resp events.APIGatewayProxyResponse
	var body struct{ Predictions []map[string]any }
	if err := json.Unmarshal(out, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &body) != nil || len(body.Predictions) != len(rows) {
		return nil, fmt.Errorf("batch of %d rows: unexpected answer %.200s", len(rows), out)
	}
	var got []string
	for _, p := range body.Predictions {
		got = append(got, fmt.Sprint(p[m.Target]))
	}
	return got, nil
}

// proxyEvent is an API Gateway proxy event for POST /predict with body.
func proxyEvent(body string) []byte {
	b, _ := json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/predict", Path: "/predict", HTTPMethod: "POST",
		Headers:        map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:8080"},
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "bench", RequestID: "bench"},
		Body:           body,
	})
	return b
}

// packageSize adds up paths as they lie on disk, and zipped with deflate as
// a deployment package would be.
func packageSize(paths []string) (raw, zipped int64, err error) {
	counter := &countingWriter{}
	zw := zip.NewWriter(counter)
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			raw += info.Size()
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			w, err := zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate})
			if err != nil {
				return err
			}
			_, err = io.Copy(w, f)
			return err
		})
		if err != nil {
			return 0, 0, err
		}
	}
	err = zw.Close()
	return raw, counter.n, err
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Compare renders the sides' results as one Markdown table with the ratio
// of the second side to the first.
func Compare(w io.Writer, sides []Side, results []*Result, coldRuns, warmInvokes int, load string) {
	fmt.Fprintf(w, "| Metric | %s |", sides[0].Name)
	if len(sides) > 1 {
		fmt.Fprintf(w, " %s | %s / %s |", sides[1].Name, short(sides[1].Name), sides[0].Name)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.Repeat("|---", len(sides)*2)+"|")
	row := func(metric string, value func(*Result) float64, format func(float64) string) {
		fmt.Fprintf(w, "| %s | %s |", metric, format(value(results[0])))
		if len(results) > 1 {
			a, b := value(results[0]), value(results[1])
			fmt.Fprintf(w, " %s | %s |", format(b), ratio(b, a))
		}
		fmt.Fprintln(w)
	}
	msf := func(d float64) string { return fmt.Sprintf("%.2f ms", d) }
	mbf := func(v float64) string { return fmt.Sprintf("%.1f MB", v) }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	row("Deployment package on disk (Go: the linux/arm64 bootstrap; Python: scikit-learn, NumPy, SciPy, joblib, handler)", func(r *Result) float64 { return float64(r.PackageBytes) / (1 << 20) }, mbf)
	row("Deployment package zipped", func(r *Result) float64 { return float64(r.PackageZipped) / (1 << 20) }, mbf)
	row(fmt.Sprintf("Cold start under aws-lambda-rie, emulator start to first answer (median of %d)", coldRuns), func(r *Result) float64 { return ms(r.Cold) }, msf)
	row("… of which after the emulator listens (function start, first answer, emulator's work)", func(r *Result) float64 { return ms(r.ColdFunction) }, msf)
	row(fmt.Sprintf("The function's own start, exec to first answer, no emulator (median of %d)", coldRuns), func(r *Result) float64 { return ms(r.Own.Total()) }, msf)
	row("… init: exec, runtime, imports, model load", func(r *Result) float64 { return ms(r.Own.Init) }, msf)
	row("… first request", func(r *Result) float64 { return ms(r.Own.FirstRequest) }, msf)
	row(fmt.Sprintf("Warm invoke through aws-lambda-rie, p50 of %d", warmInvokes), func(r *Result) float64 { return ms(r.WarmP50) }, msf)
	row(fmt.Sprintf("Warm invoke through aws-lambda-rie, p99 of %d", warmInvokes), func(r *Result) float64 { return ms(r.WarmP99) }, msf)
	row("Function peak RSS", func(r *Result) float64 { return float64(r.PeakRSSKB) / 1024 }, mbf)
	row("Predictions per second through the local stack ("+load+")", func(r *Result) float64 { return r.Rate }, func(v float64) string { return fmt.Sprintf("%.0f/s", v) })
	if len(results) > 1 {
		same := 0
		for i, c := range results[0].Classes {
			if i < len(results[1].Classes) && results[1].Classes[i] == c {
				same++
			}
		}
		fmt.Fprintf(w, "| Same class for the same %d rows | %d of %d | | |\n", len(results[0].Classes), same, len(results[0].Classes))
	}
}

func short(name string) string { return strings.Fields(name)[0] }

func ratio(b, a float64) string {
	switch r := b / a; {
	case a == 0:
		return ""
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	default:
		return fmt.Sprintf("%.2g×", r)
	}
}
