// Package project locates the project on disk: the CDK app, the local stack and
// the tests all need the module root (functions/, site/, test/testdata) while
// running from different directories.
package project

import (
	"errors"
	"os"
	"path/filepath"
)

// Root finds the directory holding go.mod, from the working directory up:
// `cdk synth` runs the app at the root, `go test` in each package's directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it; run from inside the project")
		}
		dir = parent
	}
}

// LambdaBuildArgs are the `go build` arguments of a function's bootstrap: a
// small static binary, the same on every machine with the same Go version (no
// paths, no VCS stamp), so asset hashes are stable. The stacks bundle with them
// and the benchmarks measure what they produce.
var LambdaBuildArgs = []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// LambdaEnv is the build environment for provided.al2023 on arm64.
var LambdaEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}
