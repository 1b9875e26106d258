// Command bench measures the predictor and the local stack and prints one
// Markdown table (docs/performance.md holds the last run). `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/bench"
	"github.com/iris-cors/iris-cors-cdk/internal/localstack/localtest"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
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
	fmt.Fprintln(os.Stderr, "bootstrap size…")
	if err := bench.BootstrapSize(ctx, t, root, dir); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "the function under aws-lambda-rie…")
	if err := bench.Function(ctx, t, root, dir, cold, warm); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "the local stack under load…")
	s, stopStack, err := localtest.StartShared(localtest.Options{})
	if err != nil {
		return err
	}
	preflight := func() *http.Request {
		r, _ := http.NewRequest(http.MethodOptions, s.APIURL+"predict", nil)
		r.Header.Set("Origin", localtest.DevOrigin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		return r
	}
	predict := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, s.APIURL+"predict", strings.NewReader(model.Default().ExampleBody()))
		r.Header.Set("Origin", localtest.DevOrigin)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	bench.Load(ctx, t, "Local stack: preflight OPTIONS /predict", duration, clients, http.StatusNoContent, preflight, 1000)
	bench.Load(ctx, t, "Local stack: POST /predict through aws-lambda-rie", duration, clients, http.StatusOK, predict, 0)
	stopStack()

	if synth > 0 {
		fmt.Fprintln(os.Stderr, "cdk synth…")
		if err := bench.Command(ctx, t, "cdk synth of every environment", "", 0, synth, root, "cdk", "synth", "**", "--quiet"); err != nil {
			return err
		}
	}
	if makeTest {
		fmt.Fprintln(os.Stderr, "make test…")
		if err := bench.Command(ctx, t, "make test (warm caches)", "< 5 min", 5*time.Minute, 1, root, "make", "test"); err != nil {
			return err
		}
	}
	fmt.Printf("Machine: %d cores, %s, %s/%s, %s\n\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	t.Markdown(os.Stdout)
	return nil
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
