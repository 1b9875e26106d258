// Command predict is the Lambda function behind POST /predict, GET /model
// and GET /openapi.json: it serves the model in model.json, embedded at build
// time so it needs no I/O at start-up (Iris by default; see docs/your-own-model.md). It is built as the `bootstrap` of a provided.al2023
// function:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bootstrap ./functions/predict
//
// Environment: ALLOWED_ORIGINS (comma-separated origins whose browsers may read
// the responses), LOG_LEVEL (debug, info, warn, error; default info) and
// METRICS_NAMESPACE (of the CloudWatch metrics its log lines carry; default
// Predictor).
//
// Benchmarks (go test -bench . -benchmem ./functions/predict/..., 2 cores,
// 2026-12-02, Iris): one row through Handle (read with
// go-json-experiment/json's decoder, validate, predict, encode, CORS, log
// line) 4.7-5.4 µs/op, 15 allocs, where decoding into a map first took
// 5.1-5.6 µs, 20 allocs, on the same machine in the same minute; a batch of
// 100 rows ~220 µs/op. docs/performance.md has the rest.
package main

import (
	"cmp"
	_ "embed"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/iris-cors/iris-cors-cdk/internal/cors"
	"github.com/iris-cors/iris-cors-cdk/internal/emf"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// served is the model the function answers with (project.ModelFile).
//
//go:embed model.json
var served []byte

func main() {
	// The live heap is a few hundred kB, so the default GOGC=100 lets garbage
	// dominate the footprint: measured with make bench, 25 takes the peak RSS
	// after 1,000 invocations from 12.4 to 9.8 MB at the same warm latency
	// (0.62 ms p50). GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	var level slog.Level
	levelErr := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL")))
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	if levelErr != nil && os.Getenv("LOG_LEVEL") != "" {
		log.Warn("LOG_LEVEL not understood, logging at info", "LOG_LEVEL", os.Getenv("LOG_LEVEL"))
	}
	// A bad origin list is a deployment mistake: fail the init loudly rather than
	// serve responses every browser would refuse.
	origins, err := cors.ParseList(os.Getenv("ALLOWED_ORIGINS"))
	if err != nil {
		log.Error("ALLOWED_ORIGINS is invalid", "error", err)
		os.Exit(1)
	}
	// A broken model.json is a build mistake (a test parses it first):
	// fail the init loudly.
	m, err := model.Parse(served)
	if err != nil {
		log.Error("model.json is invalid", "error", err)
		os.Exit(1)
	}
	met := &emf.Writer{Out: os.Stdout, Namespace: cmp.Or(os.Getenv("METRICS_NAMESPACE"), "Predictor"), Version: m.Version, Now: time.Now}
	h, err := newHandler(m, origins, log, met, os.Getenv("SIGN_IN_ISSUER"))
	if err != nil {
		log.Error("the handler", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
