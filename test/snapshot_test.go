package test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// The golden templates are what a pull request's reviewer reads: any change to
// the synthesized infrastructure shows up as a diff of test/testdata.
func TestSnapshots(t *testing.T) {
	// What a pull request's reviewer reads is synthesized without
	// credentials; with them only the account differs, which the other
	// tests assert.
	c := withoutCredentials
	snapshots := map[string]assertions.Template{"ci-GitHubOidc": c.ciTemplate}
	for _, e := range c.envs {
		d := c.deployed[e.Name]
		snapshots[e.Name+"-Site"], snapshots[e.Name+"-Api"] = d.site, d.api
		snapshots[*d.account.StackName()] = d.accountTemplate
	}
	// dev with sign-in: what "auth": "cognito" adds, and what the browser
	// test serves.
	_, signIn := signedInDev(t)
	snapshots["signin-dev-Site"], snapshots["signin-dev-Api"] = signIn.site, signIn.api
	for name, tmpl := range snapshots {
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join("testdata", name+".template.json")
			got := normalized(tmpl)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./test -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the synthesized template; if the change is intended, run `go test ./test -update` and commit the diff", golden)
			}
		})
	}
	// A golden file that no environment produces (one renamed or removed in
	// cdk.json) would show a reviewer infrastructure that does not exist.
	files, err := filepath.Glob(filepath.Join("testdata", "*.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := snapshots[strings.TrimSuffix(filepath.Base(f), ".template.json")]; ok {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("%s: no environment in cdk.json synthesizes it; delete it (`go test ./test -update` does)", f)
	}
}
