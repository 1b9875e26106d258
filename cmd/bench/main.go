// Command bench measures the predictor and the local system, side by side
// with the usual alternative (a Python function with scikit-learn serving
// the same pipeline under the same emulator), and prints Markdown tables
// (docs/performance.md holds the last run). `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/bench"
)

func main() {
	o := bench.Options{Out: os.Stdout, Log: os.Stderr}
	flag.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each load run")
	flag.IntVar(&o.Clients, "clients", 32, "concurrent clients in the load runs")
	flag.IntVar(&o.Cold, "cold", 10, "cold starts to measure")
	flag.IntVar(&o.Warm, "warm", 1000, "warm invocations to measure")
	flag.IntVar(&o.Synth, "synth", 3, "cdk synth runs (0 to skip)")
	flag.BoolVar(&o.MakeTest, "make-test", true, "also time `make test`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := bench.Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
