package test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// CloudFront's CSP header can only name the region's execute-api hosts (the
// site stack is deployed before the API); the API stack deploys every page
// with a <meta> policy naming its own URL, which the browser enforces as
// well. Every HTML file of every source the deployment copies, its
// deploy-time markers replaced by what they stand for, must name exactly the
// URL of the ApiUrl output, and every page of site/ must be among them.
func TestEveryPageNamesItsAPI(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := site.Files(filepath.Join(root, "site"))
	if err != nil {
		t.Fatal(err)
	}
	var inSite []string
	for _, name := range files {
		if site.IsPage(name) {
			inSite = append(inSite, name)
		}
	}
	if len(inSite) == 0 {
		t.Fatal("site/ has no page")
	}
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		tmpl := d.api.ToJSON()
		out := (*tmpl)["Outputs"].(map[string]any)["ApiUrl"].(map[string]any)["Value"]
		want := `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' ` + render(t, out) + `">`

		deployed := map[string]int{}
		for name, page := range deployedSite(t, c.assembly, d) {
			if !site.IsPage(name) {
				continue
			}
			deployed[name]++
			if !strings.Contains(page, want) {
				t.Errorf("deployed %s has no %s", name, want)
			}
		}
		for _, name := range inSite {
			if deployed[name] != 1 {
				t.Errorf("site/%s deployed %d times, want once", name, deployed[name])
			}
		}
		if len(deployed) != len(inSite) {
			t.Errorf("deployed pages %v, site/ has %v", deployed, inSite)
		}
	})
}

// deployedSite is every file the site deployment copies, by its path in
// the site, its deploy-time markers replaced by what they stand for (a file
// of two sources is listed once per source, under the same name with the
// source's number: name#2).
func deployedSite(t *testing.T, assembly string, d *synthesized) map[string]string {
	t.Helper()
	found := d.api.FindResources(jsii.String("Custom::CDKBucketDeployment"), nil)
	if len(*found) != 1 {
		t.Fatalf("%d site deployments, want 1", len(*found))
	}
	files := map[string]string{}
	for _, r := range *found {
		props := (*r)["Properties"].(map[string]any)
		keys, markers := props["SourceObjectKeys"].([]any), props["SourceMarkers"].([]any)
		for i, key := range keys {
			dir := filepath.Join(assembly, "asset."+strings.TrimSuffix(key.(string), ".zip"))
			err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				text := string(b)
				for marker, value := range markers[i].(map[string]any) {
					text = strings.ReplaceAll(text, marker, render(t, value))
				}
				name := filepath.ToSlash(rel)
				for n := 2; files[name] != ""; n++ {
					name = fmt.Sprintf("%s#%d", filepath.ToSlash(rel), n)
				}
				files[name] = text
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return files
}

// render writes a CloudFormation value as text: strings as they are, a
// Fn::Join joined, anything else (Ref, GetAtt...) as its JSON.
func render(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, render(t, p))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
