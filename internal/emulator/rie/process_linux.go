package rie

import "syscall"

// processAttrs puts the emulator in a process group of its own, which stop
// signals as a whole, and has Linux kill it when this process dies, however
// it dies.
func processAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
