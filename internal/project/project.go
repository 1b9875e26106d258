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
