package rie

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// The port check tells the process that holds a listening socket from one
// that does not.
func TestListensOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := listensOn(os.Getpid(), port); !ok || err != nil {
		t.Errorf("this process listens on %d: %v, %v", port, ok, err)
	}
	other := exec.Command("sleep", "5")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	if ok, err := listensOn(other.Process.Pid, port); ok || err != nil {
		t.Errorf("another process does not listen on %d: %v, %v", port, ok, err)
	}
}
