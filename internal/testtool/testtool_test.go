package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A missing tool skips the test, unless its variable requires the tool.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTTOOL_CHILD") == "1" {
		Missing(t, "TESTTOOL_REQUIRED", "get the tool")
		return
	}
	for required, want := range map[string]string{"": "--- SKIP", "1": "--- FAIL"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTTOOL_CHILD=1", "TESTTOOL_REQUIRED="+required)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "get the tool") {
			t.Errorf("TESTTOOL_REQUIRED=%q: want %s with the message:\n%s", required, want, out)
		}
	}
}
