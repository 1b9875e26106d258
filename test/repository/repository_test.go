// Package repository checks what the repository tracks.
package repository

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// large are the tracked files allowed over maxSize, each for its reason.
var large = []string{
	// The largest parity fixture: a 100-tree forest of 54,392 nodes, the
	// size data scientists deploy, which the model tests compare with
	// scikit-learn's own predictions.
	"internal/model/testdata/parity/forest-diabetes.model.json",
}

const maxSize = 1 << 20

// Executable formats by their first bytes: ELF, Mach-O (both byte orders, 32
// and 64 bits, universal), PE.
var executables = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	[]byte("MZ"),
}

// A binary built at the root (go build ./cmd/x writes ./x) is easy to commit
// by accident: no tracked file is an executable binary, and none is over
// 1 MB unless it is listed above.
func TestNoBinariesOrLargeFiles(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout (git ls-files: %v): nothing tracked to check", err)
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("git ls-files lists %d files", len(files))
	}
	for _, name := range files {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree, not yet committed
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		info, _ := f.Stat()
		f.Close()
		for _, magic := range executables {
			if n >= len(magic) && bytes.HasPrefix(head, magic) {
				t.Errorf("%s is an executable binary: git rm --cached it, and ignore it in .gitignore", name)
			}
		}
		if info != nil && info.Size() > maxSize && !slices.Contains(large, name) {
			t.Errorf("%s is %.1f MB: over 1 MB, and not in test/repository's list of large files", name, float64(info.Size())/(1<<20))
		}
	}
}

// The emulator (internal/emulator/...) is a library that runs any template:
// it imports nothing of this app, its tests included (no model, site page,
// stacks, function or project helper); cmd/local hands in what is the app's
// through options (internal/local). It could move to a module of its own.
func TestTheEmulatorKnowsNothingOfTheApp(t *testing.T) {
	const module = "github.com/iris-cors/iris-cors-cdk/"
	var emulator int
	out := goList(t, "-deps", "-test", "-f", "{{.ImportPath}}", "./internal/emulator/...")
	for _, pkg := range out {
		rel, ours := strings.CutPrefix(pkg, module)
		switch {
		case !ours:
		case strings.HasPrefix(rel, "internal/emulator/") || strings.HasPrefix(rel, "internal/emulator."):
			emulator++
		default:
			t.Errorf("the emulator depends on %s, a package of the app", rel)
		}
	}
	if emulator < 6 {
		t.Fatalf("go list found %d emulator packages: %s", emulator, out)
	}
}

// The emulator, corscheck and the commands read as steps, each a function of
// at most 60 lines (aws-lambda-go's longest is about that): a longer one is
// several steps waiting for names.
func TestFunctionsAreSteps(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	const most = 60
	for _, dir := range []string{"internal/emulator", "internal/corscheck", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range file.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > most {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s: %s is %d lines, over %d: split it into named steps", rel, fn.Name.Name, n, most)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// corscheck (internal/corscheck) knows no particular API: it imports only
// the CORS rules and origins (internal/corsrules, internal/cors), and names
// none of this project's files, config keys or addresses; cmd/corscheck
// hands those in (its Fixes, the simple GET's URL).
func TestCorscheckKnowsNothingOfTheApp(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range goList(t, "-deps", "-test", "-f", "{{.ImportPath}}", "./internal/corscheck") {
		rel, ours := strings.CutPrefix(strings.TrimSuffix(strings.TrimSuffix(pkg, ".test"), "_test"), "github.com/iris-cors/iris-cors-cdk/")
		if ours && !slices.Contains([]string{"internal/corscheck", "internal/corsrules", "internal/cors"}, rel) {
			t.Errorf("corscheck depends on %s, a package of the app", rel)
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "internal", "corscheck", "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, app := range []string{"stacks/", "cdk.json", "CorsPolicy", "allowedOrigins", ":8088", "/predict", "/model"} {
			if strings.Contains(string(src), app) {
				t.Errorf("%s names %q, which is this project's: cmd/corscheck hands it in", filepath.Base(f), app)
			}
		}
	}
}

// make test vets for macOS only the packages that can differ there: those
// with files of their own per OS, or that call syscall (or x/sys). Every
// other package compiles the same on every OS once those do. A package
// that starts to differ must join the Makefile's DARWIN_VET.
func TestDarwinVetCoversWhatDiffersByOS(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(makefile), "\n") {
		if rest, ok := strings.CutPrefix(line, "DARWIN_VET := "); ok {
			patterns = strings.Fields(rest)
		}
	}
	if len(patterns) == 0 {
		t.Fatal("the Makefile has no DARWIN_VET")
	}
	vetted := goList(t, patterns...)
	for _, line := range goList(t, "-f", `{{.ImportPath}}|{{len .IgnoredGoFiles}}|{{join .Imports ","}},{{join .TestImports ","}},{{join .XTestImports ","}}`, "./...") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) < 3 {
			t.Fatalf("go list: %q", line)
		}
		imports := strings.Split(parts[2], ",")
		differs := parts[1] != "0" || slices.Contains(imports, "syscall") || slices.ContainsFunc(imports, func(i string) bool { return strings.HasPrefix(i, "golang.org/x/sys") })
		if differs && !slices.Contains(vetted, parts[0]) {
			t.Errorf("%s has code of its own per OS (or calls syscall) and is not in the Makefile's DARWIN_VET", parts[0])
		}
	}
}

// The emulator serves a site it knows nothing of: which files are published
// and what config.json says are the app's (internal/site), handed in as an
// fs.FS.
func TestTheEmulatorKnowsNoSite(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(root, "internal", "emulator"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, app := range []string{"config.json", ".test.js", "sitepage", "internal/site"} {
			if strings.Contains(string(src), app) {
				t.Errorf("%s names %q: the site's content is the app's (internal/site)", p, app)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goList runs go list with args at the module root: its output's fields.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}
