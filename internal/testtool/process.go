package testtool

import (
	"os/exec"
	"syscall"
	"testing"
)

// StartGroup starts cmd as the leader of a process group of its own and
// kills the whole group when the test ends: a browser, or xvfb-run with
// its X server, leaves children behind that its own exit does not stop.
func StartGroup(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return nil
}
