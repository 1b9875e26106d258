//go:build !linux

package rie

import "syscall"

// processAttrs puts the emulator in a process group of its own, which stop
// signals as a whole. macOS has no parent-death signal: a crash of this
// process (not Ctrl-C, which the commands turn into Close) can leave the
// emulators running until their port is needed again.
func processAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
