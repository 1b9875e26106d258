package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
	"github.com/iris-cors/iris-cors-cdk/internal/local"
)

// localLoop times what a developer waits for in make local: the start with
// nothing to synthesize, and a save of the function's source until the new
// build serves. It also checks that Ctrl-C ends make local with status 0.
func (b *session) localLoop(ctx context.Context) error {
	if err := b.makeLocalStarts(ctx); err != nil {
		return err
	}
	s, err := local.Start(ctx, local.Config{Root: b.root, Templates: b.dev.Templates, Region: b.dev.Region, APIAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer s.Close()
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	reloaded := make(chan error, 8)
	go s.Watch(watchCtx, system.WatchOptions{Root: b.root, Synthesizes: local.Synthesizes, Done: func(_ string, _ []string, _ time.Duration, err error) { reloaded <- err }})
	return b.saves(reloaded)
}

// makeLocalStarts starts make local three times with nothing to synthesize.
func (b *session) makeLocalStarts(ctx context.Context) error {
	var starts []time.Duration
	var statuses []int
	for range 3 {
		ready, status, err := startMakeLocal(ctx, b.root)
		if err != nil {
			return err
		}
		starts = append(starts, ready)
		statuses = append(statuses, status)
	}
	b.t.Add("make local stopped with Ctrl-C: exit status of each run", fmt.Sprint(statuses), "0", Met(slices.Max(statuses) == 0 && slices.Min(statuses) == 0))
	slices.Sort(starts)
	b.t.Add("make local ready, nothing changed since the last synth (median of 3)", fmt.Sprintf("%.2f s", starts[1].Seconds()), "<= 3 s", Met(starts[1] <= 3*time.Second))
	return nil
}

// saves times five saves of a file the benchmark adds to the function
// (and removes): each version differs in a string the binary keeps.
func (b *session) saves(reloaded <-chan error) error {
	marker := filepath.Join(b.root, "functions", "predict", "zz_bench_reload.go")
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
	b.t.Add("make local: save of the function's source to the new build serving (median of 5)", fmt.Sprintf("%.2f s", saves[2].Seconds()), "<= 2 s", Met(saves[2] <= 2*time.Second))
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
