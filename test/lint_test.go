package test

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/testtool"
)

// cfn-lint checks every template the tests synthesize (each environment
// with and without an account, the customized one with domains, the ci and
// account Stages) against CloudFormation's own schemas and rules: zero
// errors and zero warnings, but for those .cfnlintrc.yaml ignores with its
// reason. Without cfn-lint the test skips saying how to get it.
func TestTemplatesPassCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		msg := "cfn-lint not found (pip install cfn-lint); the synthesized templates were not linted"
		testtool.Missing(t, "CFN_LINT_REQUIRED", msg)
	}
	customizedProd(t) // synthesized on first use
	signedInDev(t)
	var templates []string
	for _, c := range callers {
		filepath.WalkDir(filepath.Dir(c.assembly), func(path string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".template.json") {
				templates = append(templates, path)
			}
			return err
		})
	}
	if len(templates) < 12 {
		t.Fatalf("found %d synthesized templates", len(templates))
	}
	cmd := exec.Command(lint, append([]string{"--"}, templates...)...)
	cmd.Dir = ".." // the module root, where .cfnlintrc.yaml is
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cfn-lint over %d templates: %v\n%s", len(templates), err, out)
	}
}
