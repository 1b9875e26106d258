package main

import (
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/stack/stacktest"
)

// corscheck against the local stack: what `make local` serves passes for the
// dev origin and refuses others, with the exit codes CI relies on.
func TestAgainstTheLocalStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	url := s.APIURL + "predict"
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"the dev origin passes", []string{"-url", url, "-origin", stacktest.DevOrigin}, 0},
		{"a foreign origin is refused, as expected", []string{"-url", url, "-origin", "https://evil.example", "-expect-denied"}, 0},
		{"a foreign origin fails without -expect-denied", []string{"-url", url, "-origin", "https://evil.example", "-json"}, 1},
		{"GET /model from the dev origin", []string{"-url", s.APIURL + "model", "-origin", stacktest.DevOrigin, "-method", "GET"}, 0},
		{"usage error", []string{"-origin", stacktest.DevOrigin}, 2},
		{"unknown flag", []string{"-nope"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}
