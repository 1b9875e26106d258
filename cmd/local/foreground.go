package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// foreground moves this process into a process group of its own and makes
// it the terminal's foreground group, so that Ctrl-C reaches it and not the
// make that started it: make would report an interrupted target and exit
// non-zero, where stopping make local is the normal end. It returns how to
// give the terminal back; without a terminal it does nothing.
func foreground() (restore func()) {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return func() {}
	}
	fd := int(tty.Fd())
	previous, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || syscall.Setpgid(0, 0) != nil {
		tty.Close()
		return func() {}
	}
	// A background group may not set the foreground one without this.
	signal.Ignore(syscall.SIGTTOU)
	if unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, syscall.Getpgrp()) != nil {
		tty.Close()
		return func() {}
	}
	return func() {
		unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, previous)
		tty.Close()
	}
}
