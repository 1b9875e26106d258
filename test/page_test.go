package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/config"
)

// CloudFront's CSP header can only name the region's execute-api hosts (the
// site stack is deployed before the API); the API stack deploys the page with
// a <meta> policy naming its own URL, which the browser enforces as well. The
// page in the cloud assembly, its deploy-time markers replaced by what they
// stand for, must name exactly the URL of the ApiUrl output.
func TestThePageNamesItsAPI(t *testing.T) {
	eachEnv(t, func(t *testing.T, c *caller, e config.Environment, d *synthesized) {
		tmpl := d.api.ToJSON()
		out := (*tmpl)["Outputs"].(map[string]any)["ApiUrl"].(map[string]any)["Value"]
		apiURL := render(t, out)

		found := d.api.FindResources(jsii.String("Custom::CDKBucketDeployment"), nil)
		if len(*found) != 1 {
			t.Fatalf("%d site deployments, want 1", len(*found))
		}
		var pages []string
		for _, r := range *found {
			props := (*r)["Properties"].(map[string]any)
			keys, markers := props["SourceObjectKeys"].([]any), props["SourceMarkers"].([]any)
			for i, key := range keys {
				b, err := os.ReadFile(filepath.Join(c.assembly, "asset."+strings.TrimSuffix(key.(string), ".zip"), "index.html"))
				if err != nil {
					continue // another source: the site's files, config.json
				}
				page := string(b)
				for marker, value := range markers[i].(map[string]any) {
					page = strings.ReplaceAll(page, marker, render(t, value))
				}
				pages = append(pages, page)
			}
		}
		want := `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' ` + apiURL + `">`
		if len(pages) != 1 || !strings.Contains(pages[0], want) {
			t.Errorf("deployed pages %d, want one with %s", len(pages), want)
		}
	})
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
