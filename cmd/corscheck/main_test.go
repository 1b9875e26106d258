package main

import (
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
)

// corscheck against the local stack: what `make local` serves passes for the
// dev origin and refuses others, with the exit codes CI relies on.
func TestAgainstTheLocalStack(t *testing.T) {
	s := localtest.Start(t, localtest.Options{})
	url, dev := s.APIURL+"predict", localtest.DevOrigin(t)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"the dev origin passes", []string{"-url", url, "-origin", dev}, 0},
		{"a foreign origin is refused, as expected", []string{"-url", url, "-origin", "https://evil.example", "-expect-denied"}, 0},
		{"a foreign origin fails without -expect-denied", []string{"-url", url, "-origin", "https://evil.example", "-json"}, 1},
		{"GET /model from the dev origin", []string{"-url", s.APIURL + "model", "-origin", dev, "-method", "GET"}, 0},
		{"usage error", []string{"-origin", dev}, 2},
		{"unknown flag", []string{"-nope"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}
