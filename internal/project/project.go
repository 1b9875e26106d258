// Package project locates the project on disk (the CDK app, the local stack
// and the tests all need the module root while running from different
// directories) and builds its functions' bootstraps, one way for all.
package project

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"os"
	"os/exec"
	"path/filepath"
)

// The predict function: its construct ID (CDK's logical ID starts with it)
// and its package, relative to the module root.
const (
	FunctionID      = "Predict"
	FunctionPackage = "./functions/predict"
)

// SignInAddr is where make local's issuer stands in for Cognito, when the
// environment signs in.
const SignInAddr = "localhost:8088"

// ModelFile is the model.json the predict function embeds and serves,
// relative to the module root: the app, make local, the tools and the tests
// read the served model from it.
const ModelFile = "functions/predict/model.json"

// Served is the model the predict function serves, read from ModelFile.
func Served() (*model.Model, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return model.Load(filepath.Join(root, ModelFile))
}

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

// buildArgs are the `go build` arguments of a function's bootstrap: a small
// static binary, the same on every machine with the same Go version (no
// paths, no VCS stamp), so asset hashes are stable.
var buildArgs = []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// lambdaEnv is the build environment for provided.al2023 on arm64.
var lambdaEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// Build is one build of a function's bootstrap. The stack's bundling, make
// local's emulator and the benchmarks all build through it, so what runs
// locally is built as what deploys, but for this machine.
type Build struct {
	Root    string // the module root, where go build runs
	Package string // the function's package, e.g. ./functions/predict
	Out     string // the bootstrap's path
	Host    bool   // for this machine instead of Lambda's linux/arm64
	// Model is a model.json to embed in ModelFile's place (go:embed honours
	// go build -overlay: the same code, another model), or "".
	Model string
}

// overlay writes the go build -overlay file that puts Model in ModelFile's
// place, beside Out.
func (b Build) overlay() (string, error) {
	model, err := filepath.Abs(b.Model)
	if err != nil {
		return "", err
	}
	doc, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(b.Root, ModelFile): model}})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(b.Out), 0o755); err != nil {
		return "", err
	}
	path := b.Out + ".overlay.json"
	return path, os.WriteFile(path, doc, 0o644)
}

// Run builds. A compile error comes back with the compiler's file:line
// messages.
func (b Build) Run(ctx context.Context) error {
	args := append([]string{}, buildArgs...)
	if b.Model != "" {
		overlay, err := b.overlay()
		if err != nil {
			return err
		}
		defer os.Remove(overlay)
		args = append(args, "-overlay", overlay)
	}
	args = append(args, "-o", b.Out, b.Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.Root
	cmd.Env = append(os.Environ(), lambdaEnv...)
	if b.Host {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", b.Package, err, bytes.TrimSpace(out))
	}
	return nil
}
