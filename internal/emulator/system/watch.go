package system

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

// WatchOptions say how Watch keeps a running system up to date with the
// sources under Root.
type WatchOptions struct {
	Root string
	// Synthesizes says whether a change to a file (its path relative to
	// Root, with slashes) changes the templates: the app's sources, its
	// configuration. nil: none does, and a Go file rebuilds the functions.
	Synthesizes func(path string) bool
	// Synth synthesizes again after such a change and returns the templates;
	// nil reports such changes without acting.
	Synth func(ctx context.Context) ([]*cfn.Template, error)
	Log   io.Writer
	// Done, when set, hears of each reload: what changed, how long the
	// reload took, and its error. The benchmarks time saves with it.
	Done func(kind string, paths []string, took time.Duration, err error)
}

// Watch rebuilds and swaps the functions when a Go source changes, and
// synthesizes and reloads the API when its templates' sources change, until
// ctx ends. A site file needs nothing: it is read at each request. The
// running version keeps serving through a failed build or synth.
func (s *System) Watch(ctx context.Context, o WatchOptions) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := addTree(w, o.Root); err != nil {
		return err
	}
	var pending []string
	// Editors save in several steps (write a temporary file, rename it):
	// act once they are done.
	const settle = 150 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			fmt.Fprintf(o.Log, "watch: %v\n", err)
		case ev := <-w.Events:
			if info, err := os.Stat(ev.Name); err == nil && info.IsDir() && ev.Has(fsnotify.Create) {
				addTree(w, ev.Name)
			}
			if rel, err := filepath.Rel(o.Root, ev.Name); err == nil && s.kindOf(o, rel) != "" && !slices.Contains(pending, rel) {
				pending = append(pending, rel)
				timer.Reset(settle)
			}
		case <-timer.C:
			s.apply(ctx, o, pending)
			pending = nil
		}
	}
}

// kindOf says what a change to path (relative to o.Root) needs: "synth",
// "build", "site" or nothing.
func (s *System) kindOf(o WatchOptions, path string) string {
	slashed := filepath.ToSlash(path)
	site, err := filepath.Abs(s.opts.SiteDir)
	if err == nil {
		site, err = filepath.Rel(o.Root, site)
	}
	switch {
	case skipped(slashed):
		return ""
	case o.Synthesizes != nil && o.Synthesizes(slashed):
		return "synth"
	case s.opts.SiteDir != "" && err == nil && strings.HasPrefix(slashed, filepath.ToSlash(site)+"/"):
		return "site"
	case strings.HasSuffix(slashed, ".go") && !strings.HasSuffix(slashed, "_test.go"):
		return "build"
	}
	return ""
}

func skipped(slashed string) bool {
	for _, part := range strings.Split(slashed, "/") {
		if strings.HasPrefix(part, ".") || part == "node_modules" || part == "cdk.out" || part == "bin" || part == "testdata" {
			return true
		}
	}
	return false
}

func (s *System) apply(ctx context.Context, o WatchOptions, paths []string) {
	kinds := map[string][]string{}
	for _, p := range paths {
		k := s.kindOf(o, p)
		kinds[k] = append(kinds[k], p)
	}
	report := func(kind string, paths []string, start time.Time, err error) {
		if o.Done != nil {
			o.Done(kind, paths, time.Since(start), err)
		}
	}
	if site := kinds["site"]; len(site) > 0 {
		fmt.Fprintf(o.Log, "changed %s: served at the next request\n", strings.Join(site, ", "))
	}
	start := time.Now()
	switch {
	case len(kinds["synth"]) > 0 && o.Synth == nil:
		fmt.Fprintf(o.Log, "changed %s: restart make local to synthesize again\n", strings.Join(kinds["synth"], ", "))
	case len(kinds["synth"]) > 0:
		changed := append(kinds["synth"], kinds["build"]...)
		fmt.Fprintf(o.Log, "changed %s: synthesizing…\n", strings.Join(changed, ", "))
		templates, err := o.Synth(ctx)
		if err == nil {
			err = s.Reload(ctx, templates)
		}
		if err != nil {
			fmt.Fprintf(o.Log, "synth or reload failed; still serving the previous version:\n%v\n", err)
		} else {
			fmt.Fprintf(o.Log, "reloaded the API and its functions in %.1fs\n", time.Since(start).Seconds())
		}
		report("synth", changed, start, err)
	case len(kinds["build"]) > 0:
		fmt.Fprintf(o.Log, "changed %s: rebuilding…\n", strings.Join(kinds["build"], ", "))
		ids, err := s.Rebuild(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(o.Log, "build failed; still serving the previous version:\n%v\n", err)
		case len(ids) == 0:
			fmt.Fprintln(o.Log, "no function changed")
		default:
			fmt.Fprintf(o.Log, "reloaded %s in %.1fs\n", strings.Join(ids, ", "), time.Since(start).Seconds())
		}
		report("build", kinds["build"], start, err)
	}
}

// addTree watches dir and the directories below it that matter.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if path != dir && skipped(d.Name()) {
			return filepath.SkipDir
		}
		return w.Add(path)
	})
}
