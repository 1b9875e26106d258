package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"
)

// Every HTML page the site has, at any depth and in either spelling, is
// deployed with the policy; what stays in the repository (tests) is not.
func TestSitePagesAreEveryPage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := "<!doctype html><meta charset=utf-8><title>x</title>"
	write("index.html", page)
	write("help/about.htm", page)
	write("Guide.HTML", page)
	write("app.js", "")
	write("test/fixture.html", page)
	write("page.test.js", "")

	pages, err := SitePages(dir, "https://api.example/dev/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pages {
		names = append(names, p.Name)
		if !strings.Contains(p.Content, `content="connect-src 'self' https://api.example/dev/"`) {
			t.Errorf("%s: no policy naming the API in %q", p.Name, p.Content)
		}
	}
	if got, want := strings.Join(names, " "), "Guide.HTML help/about.htm index.html"; got != want {
		t.Errorf("pages %q, want %q", got, want)
	}
}

// A page whose policy would come too late fails synth naming the page.
func TestSitePagesNameAPageWithoutAPlace(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><meta charset=utf-8>"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.html"), []byte("<script src=early.js></script><meta charset=utf-8>"), 0o644)
	_, err := SitePages(dir, "https://api.example/dev/")
	if err == nil || !strings.Contains(err.Error(), "broken.html") {
		t.Fatalf("error %v, want one naming broken.html", err)
	}
}

// The production origin guard fails synth on a property it cannot read,
// instead of skipping it (it did): what it cannot read it cannot clear.
func TestTheProductionGuardFailsClosed(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Guarded"), nil)
	api := awsapigateway.NewCfnRestApi(stack, jsii.String("Api"), &awsapigateway.CfnRestApiProps{Name: jsii.String("api")})
	response := awsapigateway.NewCfnGatewayResponse(stack, jsii.String("Cors4XX"), &awsapigateway.CfnGatewayResponseProps{
		ResponseType: jsii.String("DEFAULT_4XX"), RestApiId: api.Ref(),
	})
	guard := &productionOriginGuard{env: "prod"}
	guard.check(response, "gateway response DEFAULT_4XX", func() {}) // no JSON
	guard.check(response, "gateway response DEFAULT_4XX", map[string]string{"gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example'"})
	annotations := assertions.Annotations_FromStack(stack)
	errors := annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("fails closed")))
	if len(*errors) != 1 {
		t.Errorf("%d errors saying the guard fails closed, want 1 (for the property it cannot read only)", len(*errors))
	}
}
