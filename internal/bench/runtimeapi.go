package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// StartTimes splits a function's cold start without the emulator: the
// bootstrap runs against a minimal Lambda runtime API of our own, which
// notes when the process asks for its first event (its init is done:
// exec, language runtime, imports or package init, model load) and when
// it answers it (the first request).
type StartTimes struct {
	Init, FirstRequest time.Duration
}

// Total is exec to first answer: the function's own part of a cold start.
func (s StartTimes) Total() time.Duration { return s.Init + s.FirstRequest }

// MeasureStart runs bootstrap once with env (besides what Lambda sets)
// and answers its first request with event.
func MeasureStart(ctx context.Context, bootstrap string, env map[string]string, event []byte) (StartTimes, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return StartTimes{}, err
	}
	var (
		mu                sync.Mutex
		next, answered    time.Time
		failure           string
		done              = make(chan struct{})
		served, finishing sync.Once
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		first := false
		served.Do(func() { first = true })
		if !first { // the function waits for its next event: the measurement is over
			<-r.Context().Done()
			return
		}
		mu.Lock()
		next = time.Now()
		mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "bench-1")
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		w.Write(event)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		answered = time.Now()
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		finishing.Do(func() { close(done) })
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) { // init or invocation errors
		b, _ := io.ReadAll(io.LimitReader(r.Body, 2000))
		mu.Lock()
		failure = fmt.Sprintf("%s: %s", r.URL.Path, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		finishing.Do(func() { close(done) })
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	cmd := exec.CommandContext(ctx, bootstrap)
	cmd.Env = lambdaEnv(env, "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &output
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return StartTimes{}, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute): // bounds a function that never answers
		return StartTimes{}, fmt.Errorf("%s did not answer its first event within a minute; stderr: %s", bootstrap, output.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if failure != "" {
		return StartTimes{}, fmt.Errorf("%s reported an error: %s", bootstrap, failure)
	}
	return StartTimes{Init: next.Sub(start), FirstRequest: answered.Sub(next)}, nil
}

// lambdaEnv is what Lambda sets for a function, with env and extra on top.
func lambdaEnv(env map[string]string, extra ...string) []string {
	out := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_REGION=local", "TZ=:UTC"}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return append(out, extra...)
}
