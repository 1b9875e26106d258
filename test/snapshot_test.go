package test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The golden templates are what a pull request's reviewer reads: any change to
// the synthesized infrastructure shows up as a diff of test/testdata.
func TestSnapshots(t *testing.T) {
	snapshots := map[string]template{"ci-GitHubOidc": ciTemplate}
	for _, e := range envs {
		snapshots[e.Name+"-Site"], snapshots[e.Name+"-Api"] = deployed[e.Name].site, deployed[e.Name].api
	}
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
}
