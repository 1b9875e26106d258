package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/rie"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/python"
)

// Options are one make bench.
type Options struct {
	Duration   time.Duration // of each load run
	Clients    int           // concurrent clients in the load runs
	Cold, Warm int           // cold starts and warm invocations to measure
	Synth      int           // cdk synth runs (0 skips them)
	MakeTest   bool          // also time make test
	Out, Log   io.Writer     // the tables; progress
}

// session is one run: its options, where it works and what it found.
type session struct {
	Options
	root, dir string
	origin    string // the dev origin, which the requests come from
	rie       string // aws-lambda-rie, built once
	dev       *cfn.Assembly
	t         *Table
	tables    []string // the side-by-side comparisons
}

// Run measures everything and prints the tables to o.Out.
func Run(ctx context.Context, o Options) error {
	b := &session{Options: o, t: NewTable(o.Log)}
	var err error
	if b.root, err = project.Root(); err != nil {
		return err
	}
	if b.dir, err = os.MkdirTemp("", "iris-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"Go benchmarks", func(ctx context.Context) error { return GoBenchmarks(ctx, b.t, b.root) }},
		{"the local system", b.prepare},
		{"side by side", b.sideBySide},
		{"the largest model's cold start", func(ctx context.Context) error {
			return LargestModelStart(ctx, b.t, b.root, filepath.Join(b.dir, "largest"), b.origin, b.Cold)
		}},
		{"cdk synth", b.synth},
		{"make local as a loop", b.localLoop},
		{"make test", b.makeTest},
	} {
		fmt.Fprintf(o.Log, "%s…\n", step.name)
		if err := step.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	b.print()
	return nil
}

// prepare builds aws-lambda-rie and synthesizes what make local serves:
// the dev stage as the app makes it now.
func (b *session) prepare(ctx context.Context) error {
	b.rie = filepath.Join(b.dir, "aws-lambda-rie")
	if err := rie.Build(ctx, b.rie); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "local-synth")
	cmd.Dir = b.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make local-synth: %v\n%s", err, out)
	}
	var err error
	if b.dev, err = cfn.LoadAssembly(filepath.Join(b.root, "cdk.out"), "dev"); err != nil {
		return err
	}
	b.origin, err = local.DevOrigin(b.dev.Templates, b.dev.Region)
	return err
}

// sideBySide serves each comparison's model from Go and from Python +
// scikit-learn (where there is a Python with it), under the same emulator.
func (b *session) sideBySide(ctx context.Context) error {
	py := python.With("sklearn", "joblib")
	if py == "" {
		fmt.Fprintln(b.Log, "bench: "+python.ScikitLearnHint+" to measure the Python side too; measuring Go alone")
	}
	for i, c := range Comparisons {
		fmt.Fprintf(b.Log, "  %s…\n", c.Name)
		if err := b.compare(ctx, py, c, i == 0); err != nil {
			return err
		}
	}
	return nil
}

// compare measures both sides of c; the first comparison also gives the Go
// function's own rows and the preflight's rate.
func (b *session) compare(ctx context.Context, py string, c Comparison, first bool) error {
	dir := filepath.Join(b.dir, c.Fit)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sides, m, rows, err := Sides(ctx, b.root, dir, py, c)
	if err != nil {
		return err
	}
	var results []*Result
	for _, side := range sides {
		r, err := side.Measure(ctx, b.rie, b.origin, m, b.Cold, b.Warm, rows)
		if err != nil {
			return err
		}
		if r.Rate, err = b.throughLocalSystem(ctx, side, m, first && side.Name == "Go"); err != nil {
			return err
		}
		results = append(results, r)
	}
	if first {
		b.goRows(results[0])
	}
	var w strings.Builder
	fmt.Fprintf(&w, "Served: %s (%s), version %s (%s)\n\n", c.Name, m.Kind, m.Version, m.Source.Tool)
	Compare(&w, sides, results, b.Cold, b.Warm, fmt.Sprintf("%d clients, %s", b.Clients, b.Duration))
	b.tables = append(b.tables, w.String())
	return nil
}

// throughLocalSystem loads the local system serving side: the predictions
// per second it answers, and with preflight, the preflight's too.
func (b *session) throughLocalSystem(ctx context.Context, side Side, m *model.Model, preflight bool) (float64, error) {
	s, err := local.Start(ctx, local.Config{Root: b.root, Templates: b.dev.Templates, Region: b.dev.Region, APIAddr: "127.0.0.1:0",
		Functions: map[string]string{project.FunctionID: side.Bootstrap}, FunctionEnv: side.Env})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	rate := Load(ctx, b.t, fmt.Sprintf("Local stack: POST /predict through aws-lambda-rie, %s, %s", side.Name, m.Family), b.Duration, b.Clients, http.StatusOK, b.predict(s.APIURL, m), 0)
	if preflight {
		Load(ctx, b.t, "Local stack: preflight OPTIONS /predict", b.Duration, b.Clients, http.StatusNoContent, func() *http.Request {
			r, _ := http.NewRequest(http.MethodOptions, s.APIURL+"predict", nil)
			r.Header.Set("Origin", b.origin)
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "content-type")
			return r
		}, 1000)
	}
	return rate, nil
}

// predict makes the page's request: the model's example from the dev origin.
func (b *session) predict(apiURL string, m *model.Model) func() *http.Request {
	body := m.ExampleBody()
	return func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, apiURL+"predict", strings.NewReader(body))
		r.Header.Set("Origin", b.origin)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

// goRows are the Go function's own rows, with their targets.
func (b *session) goRows(r *Result) {
	b.t.Add("The Go function's own cold start, exec to first answer, no emulator", fmt.Sprintf("%.2f ms (init %.2f ms, first request %.2f ms)", msf(r.Own.Total()), msf(r.Own.Init), msf(r.Own.FirstRequest)), "<= 15 ms", Met(r.Own.Total() <= 15*time.Millisecond))
	b.t.Add("The Go function's cold start under aws-lambda-rie, emulator start to first answer", fmt.Sprintf("%.2f ms", msf(r.Cold)), "<= 50 ms", Met(r.Cold <= 50*time.Millisecond))
	b.t.Add("The Go function's peak RSS", fmt.Sprintf("%.1f MB", float64(r.PeakRSSKB)/1024), "<= 10 MB", Met(r.PeakRSSKB <= 10*1024))
	b.t.Add("Go bootstrap (linux/arm64), zipped", fmt.Sprintf("%.2f MB", float64(r.PackageZipped)/(1<<20)), "<= 4 MB", Met(r.PackageZipped <= 4<<20))
}

// synth times make synth and make local's synth.
func (b *session) synth(ctx context.Context) error {
	if b.Synth == 0 {
		return nil
	}
	full, err := Command(ctx, b.t, "make synth: every environment, `go run`, template validation", "", 0, b.Synth, b.root, "make", "synth")
	if err != nil {
		return err
	}
	local, err := Command(ctx, b.t, "make local-synth: the dev stage, prebuilt app, no template validation", "", 0, b.Synth, b.root, "make", "local-synth")
	if err != nil {
		return err
	}
	b.t.Add("make local's synth / make synth", fmt.Sprintf("%.2f×", local.Seconds()/full.Seconds()), "<= 0.6×", Met(local <= full*6/10))
	return nil
}

func (b *session) makeTest(ctx context.Context) error {
	if !b.MakeTest {
		return nil
	}
	_, err := Command(ctx, b.t, "make test (warm caches)", "< 5 min", 5*time.Minute, 1, b.root, "make", "test")
	return err
}

// print writes the machine, the comparisons and the table.
func (b *session) print() {
	fmt.Fprintf(b.Out, "Machine: %d cores, %s, %s/%s, %s\n\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, table := range b.tables {
		fmt.Fprintln(b.Out, table)
	}
	b.t.Markdown(b.Out)
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuModel reads Linux's /proc/cpuinfo; elsewhere the CPU is unknown.
func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
