package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

var (
	link    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	nonSlug = regexp.MustCompile(`[^\p{L}\p{N}_\- ]`)
)

// anchors are a Markdown file's heading anchors, as GitHub makes them.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(doc, -1) {
		out[strings.ReplaceAll(nonSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(m[1])), ""), " ", "-")] = true
	}
	return out
}

// The README is the front door and docs/ the reference: every relative link
// of theirs (the React example's README's too) leads to a file of the
// repository, and a link to a heading to one that exists.
func TestEveryLinkLeadsSomewhere(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"), filepath.Join(root, "examples", "react", "README.md"))
	links := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			path, fragment, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			content, err := os.ReadFile(dest)
			if info, statErr := os.Stat(dest); statErr != nil || (err != nil && !info.IsDir()) {
				t.Errorf("%s: %s leads to no file", rel, target)
				continue
			}
			if fragment != "" && strings.HasSuffix(dest, ".md") && !anchors(string(content))[fragment] {
				t.Errorf("%s: %s: %s has no heading #%s", rel, target, filepath.Base(dest), fragment)
			}
		}
	}
	if links < 30 {
		t.Fatalf("%d relative links found: the pattern no longer finds them", links)
	}
}

// A README that fits on a screen or three: what the project is, the two
// commands, the picture, what each part does, links. Reference lives in
// docs/.
func TestTheREADMEIsAFrontDoor(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 15<<10 {
		t.Errorf("README.md is %.1f KB: over 15 KB, move reference into docs/", float64(info.Size())/1024)
	}
}
