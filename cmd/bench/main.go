// Command bench measures the predictor and the local stack, side by side with
// the usual alternative (a Python function with scikit-learn serving the same
// pipeline under the same emulator), and prints Markdown tables
// (docs/performance.md holds the last run). `make bench` runs it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/bench"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/stack"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/sklearn"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "length of each load run")
	clients := flag.Int("clients", 32, "concurrent clients in the load runs")
	cold := flag.Int("cold", 10, "cold starts to measure")
	warm := flag.Int("warm", 1000, "warm invocations to measure")
	synth := flag.Int("synth", 3, "cdk synth runs (0 to skip)")
	makeTest := flag.Bool("make-test", true, "also time `make test`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *duration, *clients, *cold, *warm, *synth, *makeTest); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, duration time.Duration, clients, cold, warm, synth int, makeTest bool) error {
	root, err := project.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "iris-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t := bench.NewTable(os.Stderr)

	fmt.Fprintln(os.Stderr, "Go benchmarks…")
	if err := bench.GoBenchmarks(ctx, t, root); err != nil {
		return err
	}

	// Go and Python + scikit-learn, the same model, the same emulator.
	py := sklearn.Python()
	if py == "" {
		fmt.Fprintln(os.Stderr, "bench: "+sklearn.Hint+" to measure the Python side too; measuring Go alone")
	}
	rieBin := filepath.Join(dir, "aws-lambda-rie")
	build := exec.CommandContext(ctx, "go", "build", "-o", rieBin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build aws-lambda-rie: %v\n%s", err, out)
	}
	// The local stack serves what make local serves: the dev stage as
	// synthesized now.
	if out, err := exec.CommandContext(ctx, "make", "--no-print-directory", "local-synth").CombinedOutput(); err != nil {
		return fmt.Errorf("make local-synth: %v\n%s", err, out)
	}
	dev, err := cfn.LoadAssembly(filepath.Join(root, "cdk.out"), "dev")
	if err != nil {
		return err
	}
	load := fmt.Sprintf("%d clients, %s", clients, duration)
	var tables []string
	for i, c := range bench.Comparisons {
		fmt.Fprintf(os.Stderr, "side by side: %s…\n", c.Name)
		cdir := filepath.Join(dir, c.Fit)
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			return err
		}
		sides, m, rows, err := bench.Sides(ctx, root, cdir, py, c)
		if err != nil {
			return err
		}
		var results []*bench.Result
		for _, side := range sides {
			fmt.Fprintf(os.Stderr, "  %s…\n", side.Name)
			r, err := side.Measure(ctx, rieBin, m, cold, warm, rows)
			if err != nil {
				return err
			}
			s, err := stack.Start(ctx, stack.Options{
				Templates: dev.Templates, Region: dev.Region, ModuleRoot: root, APIAddr: "127.0.0.1:0", Concurrency: 2,
				Functions: map[string]string{"Predict": side.Bootstrap}, FunctionEnv: side.Env,
			})
			if err != nil {
				return err
			}
			r.Rate = bench.Load(ctx, t, fmt.Sprintf("Local stack: POST /predict through aws-lambda-rie, %s, %s", side.Name, m.Family), duration, clients, http.StatusOK, predictRequest(s.APIURL, m), 0)
			if side.Name == "Go" && i == 0 {
				bench.Load(ctx, t, "Local stack: preflight OPTIONS /predict", duration, clients, http.StatusNoContent, func() *http.Request {
					r, _ := http.NewRequest(http.MethodOptions, s.APIURL+"predict", nil)
					r.Header.Set("Origin", devOrigin)
					r.Header.Set("Access-Control-Request-Method", "POST")
					r.Header.Set("Access-Control-Request-Headers", "content-type")
					return r
				}, 1000)
			}
			s.Close()
			results = append(results, r)
		}
		goSide := results[0]
		if i == 0 {
			t.Add("The Go function's own cold start, exec to first answer, no emulator", fmt.Sprintf("%.2f ms (init %.2f ms, first request %.2f ms)", msf(goSide.Own.Total()), msf(goSide.Own.Init), msf(goSide.Own.FirstRequest)), "<= 15 ms", bench.Met(goSide.Own.Total() <= 15*time.Millisecond))
			t.Add("The Go function's cold start under aws-lambda-rie, emulator start to first answer", fmt.Sprintf("%.2f ms", msf(goSide.Cold)), "<= 50 ms", bench.Met(goSide.Cold <= 50*time.Millisecond))
			t.Add("The Go function's peak RSS", fmt.Sprintf("%.1f MB", float64(goSide.PeakRSSKB)/1024), "<= 10 MB", bench.Met(goSide.PeakRSSKB <= 10*1024))
			t.Add("Go bootstrap (linux/arm64), zipped", fmt.Sprintf("%.2f MB", float64(goSide.PackageZipped)/(1<<20)), "<= 4 MB", bench.Met(goSide.PackageZipped <= 4<<20))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Served: %s (%s), version %s (%s)\n\n", c.Name, m.Kind, m.Version, m.Source.Tool)
		bench.Compare(&b, sides, results, cold, warm, load)
		tables = append(tables, b.String())
	}
	fmt.Fprintln(os.Stderr, "the largest model's cold start…")
	if err := bench.LargestModelStart(ctx, t, root, filepath.Join(dir, "largest"), cold); err != nil {
		return err
	}

	if synth > 0 {
		fmt.Fprintln(os.Stderr, "cdk synth…")
		full, err := bench.Command(ctx, t, "make synth: every environment, `go run`, template validation", "", 0, synth, root, "make", "synth")
		if err != nil {
			return err
		}
		local, err := bench.Command(ctx, t, "make local-synth: the dev stage, prebuilt app, no template validation", "", 0, synth, root, "make", "local-synth")
		if err != nil {
			return err
		}
		t.Add("make local's synth / make synth", fmt.Sprintf("%.2f×", local.Seconds()/full.Seconds()), "<= 0.6×", bench.Met(local <= full*6/10))
	}
	fmt.Fprintln(os.Stderr, "make local as a loop…")
	if err := localLoop(ctx, t, root, dev); err != nil {
		return err
	}
	if makeTest {
		fmt.Fprintln(os.Stderr, "make test…")
		if _, err := bench.Command(ctx, t, "make test (warm caches)", "< 5 min", 5*time.Minute, 1, root, "make", "test"); err != nil {
			return err
		}
	}
	fmt.Printf("Machine: %d cores, %s, %s/%s, %s\n\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, table := range tables {
		fmt.Println(table)
	}
	t.Markdown(os.Stdout)
	return nil
}

// localLoop times what a developer waits for in make local: the start with
// nothing to synthesize, and a save of the function's source until the new
// build serves. It also checks that Ctrl-C ends make local with status 0.
func localLoop(ctx context.Context, t *bench.Table, root string, dev *cfn.Assembly) error {
	var starts []time.Duration
	var statuses []int
	for range 3 {
		ready, status, err := startMakeLocal(ctx, root)
		if err != nil {
			return err
		}
		starts = append(starts, ready)
		statuses = append(statuses, status)
	}
	t.Add("make local stopped with Ctrl-C: exit status of each run", fmt.Sprint(statuses), "0", bench.Met(slices.Max(statuses) == 0 && slices.Min(statuses) == 0))
	slices.Sort(starts)
	t.Add("make local ready, nothing changed since the last synth (median of 3)", fmt.Sprintf("%.2f s", starts[1].Seconds()), "<= 3 s", bench.Met(starts[1] <= 3*time.Second))

	s, err := stack.Start(ctx, stack.Options{
		Templates: dev.Templates, Region: dev.Region, ModuleRoot: root, APIAddr: "127.0.0.1:0",
		Functions: map[string]string{"Predict": "./functions/predict"},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	reloaded := make(chan error, 8)
	go s.Watch(watchCtx, stack.WatchOptions{Root: root, Done: func(_ string, _ []string, _ time.Duration, err error) { reloaded <- err }})
	// A file the benchmark adds to the function, changes and removes: each
	// version differs in a string the binary keeps.
	marker := filepath.Join(root, "functions", "predict", "zz_bench_reload.go")
	defer os.Remove(marker)
	save := func(i int) error {
		src := fmt.Sprintf("package main\n\n// Written by make bench to time a reload, and removed after it; delete it if it stays.\n\nimport \"os\"\n\nvar benchReload = os.Getenv(\"BENCH_RELOAD_%d_%d\")\n", os.Getpid(), i)
		return os.WriteFile(marker, []byte(src), 0o644)
	}
	// The watcher may not be listening yet: save until it reacts once.
	for i := 0; ; i++ {
		if err := save(-1 - i); err != nil {
			return err
		}
		if err := waitReload(reloaded, time.Second); err == nil {
			break
		} else if !errors.Is(err, errNoReload) {
			return err
		} else if i == 60 {
			return errors.New("make local's watcher never reacted to a save")
		}
	}
	var saves []time.Duration
	for i := range 5 {
		start := time.Now()
		if err := save(i); err != nil {
			return err
		}
		if err := waitReload(reloaded, 2*time.Minute); err != nil {
			return err
		}
		saves = append(saves, time.Since(start))
	}
	slices.Sort(saves)
	t.Add("make local: save of the function's source to the new build serving (median of 5)", fmt.Sprintf("%.2f s", saves[2].Seconds()), "<= 2 s", bench.Met(saves[2] <= 2*time.Second))
	return nil
}

var errNoReload = errors.New("no reload")

func waitReload(reloaded <-chan error, limit time.Duration) error {
	select {
	case err := <-reloaded:
		return err
	case <-time.After(limit):
		return errNoReload
	}
}

// startMakeLocal runs make local in a terminal of its own (script(1) gives
// it one) until it is ready, then types Ctrl-C, and returns how long it took
// to be ready and make's exit status.
func startMakeLocal(ctx context.Context, root string) (time.Duration, int, error) {
	cmd := exec.CommandContext(ctx, "script", "-qefc", "make --no-print-directory local", "/dev/null")
	cmd.Dir = root
	keys, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var ready time.Duration
	sc := bufio.NewScanner(out)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "Ready in") {
			ready = time.Since(start)
			break
		}
	}
	io.WriteString(keys, "\x03") // Ctrl-C, as typed
	go io.Copy(io.Discard, out)
	err = cmd.Wait()
	if ready == 0 {
		return 0, 0, fmt.Errorf("make local never got ready: %v\n%s", err, strings.Join(seen, "\n"))
	}
	return ready, cmd.ProcessState.ExitCode(), nil
}

// devOrigin is the origin cdk.json allows the dev environment besides its site.
const devOrigin = "http://localhost:8080"

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func predictRequest(apiURL string, m *model.Model) func() *http.Request {
	body := m.ExampleBody()
	return func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, apiURL+"predict", strings.NewReader(body))
		r.Header.Set("Origin", devOrigin)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
