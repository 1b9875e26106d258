// Package workflows lints the GitHub Actions workflows with actionlint, so a
// broken workflow fails here rather than on GitHub after the merge.
package workflows

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

func workflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../.github/workflows/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows found (%v)", err)
	}
	return files
}

func TestActionlint(t *testing.T) {
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFiles(workflows(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problems:\n%s", len(errs), out.String())
	}
}

// Every action is pinned by commit, so a moved tag cannot change what runs.
var uses = regexp.MustCompile(`uses:\s*([^\s#]+)`)
var pinned = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)

func TestActionsArePinnedBySHA(t *testing.T) {
	for _, f := range workflows(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			if strings.HasPrefix(ref, "./") {
				continue // a workflow of this repository
			}
			if !pinned.MatchString(ref) {
				t.Errorf("%s: %s is not pinned to a commit SHA", filepath.Base(f), ref)
			}
		}
	}
}
