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
	for _, e := range envs {
		for stack, tmpl := range map[string]template{"Site": deployed[e.Name].site, "Api": deployed[e.Name].api} {
			t.Run(e.Name+"/"+stack, func(t *testing.T) {
				golden := filepath.Join("testdata", e.Name+"-"+stack+".template.json")
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
}
