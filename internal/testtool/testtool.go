// Package testtool is how a test treats a tool the machine lacks (a
// browser, moto's server, cfn-lint, scikit-learn): a newcomer's make test
// skips it, saying how to get it; CI, which must run everything, sets the
// tool's *_REQUIRED variable to 1 (.ci/run) and fails instead.
package testtool

import (
	"os"
	"testing"
)

// Missing ends t for want of a tool: a failure where the environment
// variable required is 1, else a skip; msg says how to get the tool.
func Missing(t testing.TB, required, msg string) {
	t.Helper()
	if os.Getenv(required) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
