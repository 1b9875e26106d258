package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

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
			if got := run(tc.args, io.Discard); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}

// Behind sign-in (dev with "auth": "cognito", make local's issuer): with a
// token in the Authorization header the call passes; without one, or with
// one the API refuses, the check fails as authentication, not CORS, since
// the page can read the authorizer's 401. A deploy checks exactly that 401
// (-expect-unauthorized); a foreign origin still reads nothing but it.
func TestAgainstTheSignedInLocalStack(t *testing.T) {
	s := localtest.Start(t, localtest.Options{SignIn: true})
	issuer := s.Issuer()
	client := issuer.Clients()[0].ID
	good, err := issuer.Token(client, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := issuer.Token(client, -time.Minute)
	url, dev := s.APIURL+"predict", localtest.DevOrigin(t)
	for _, tc := range []struct {
		name    string
		args    []string
		want    int
		failure string
	}{
		{"with a token", []string{"-origin", dev, "-header", "Authorization: Bearer " + good}, 0, ""},
		{"without a token", []string{"-origin", dev}, 1, "authentication"},
		{"with an expired token", []string{"-origin", dev, "-header", "Authorization: Bearer " + expired}, 1, "authentication"},
		{"signed out, as a deploy checks it", []string{"-origin", dev, "-expect-unauthorized"}, 0, ""},
		{"a foreign origin reads nothing but the 401", []string{"-origin", "https://evil.example", "-expect-denied"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if got := run(append([]string{"-url", url, "-json"}, tc.args...), &out); got != tc.want {
				t.Errorf("exit %d, want %d:\n%s", got, tc.want, out.String())
			}
			var rep struct{ Failure string }
			if err := json.Unmarshal([]byte(out.String()), &rep); err != nil || rep.Failure != tc.failure {
				t.Errorf("failure %q (%v), want %q:\n%s", rep.Failure, err, tc.failure, out.String())
			}
		})
	}
}
