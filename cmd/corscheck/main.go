// Command corscheck calls an API as a browser page on a given origin would and
// explains what the browser would refuse and how to fix it:
//
//	corscheck -url https://abc.execute-api.eu-west-1.amazonaws.com/prod/predict -origin https://d111.cloudfront.net
//	corscheck -url http://localhost:3000/dev/predict -origin https://evil.example -expect-denied
//	corscheck -url http://localhost:3000/dev/predict -origin http://localhost:8080 -header "Authorization: Bearer $TOKEN"
//
// Exit status: 0 pass, 1 fail, 2 usage, network or TLS error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/corscheck"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("corscheck", flag.ContinueOnError)
	var o corscheck.Options
	fs.StringVar(&o.URL, "url", "", "the endpoint, e.g. https://<id>.execute-api.<region>.amazonaws.com/prod/predict")
	fs.StringVar(&o.Origin, "origin", "", "the page's origin, e.g. https://d111111abcdef8.cloudfront.net")
	fs.StringVar(&o.Method, "method", "POST", "the request's method")
	fs.Func("header", "a header the page sets besides Content-Type, as `Name[: value]` (repeatable)", func(v string) error {
		o.Headers = append(o.Headers, v)
		return nil
	})
	fs.StringVar(&o.Body, "body", defaultBody(), "body of the request; empty for none (default: the served model's example, inside this project)")
	fs.StringVar(&o.ContentType, "content-type", "application/json", "Content-Type of the body (its value decides whether a preflight is needed)")
	fs.StringVar(&o.ErrorBody, "error-body", corscheck.DefaultErrorBody, "invalid body for the error path; empty to skip it")
	fs.BoolVar(&o.Credentials, "credentials", false, `as fetch(url, {credentials: "include"})`)
	fs.BoolVar(&o.ExpectDenied, "expect-denied", false, "pass when a browser on -origin can read nothing: the call and a simple GET of -simple-url are refused")
	fs.BoolVar(&o.ExpectUnauthorized, "expect-unauthorized", false, "pass when the API requires sign-in and a browser on -origin can read its 401 (no token sent)")
	fs.StringVar(&o.SimpleURL, "simple-url", "", "with -expect-denied, a URL to GET without a preflight (default: this project's GET /model beside a URL ending in /predict, else -url)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "per request (default 10s)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Method == "GET" || o.Method == "HEAD" {
		o.Body, o.ErrorBody = "", ""
	}
	if base, ok := strings.CutSuffix(o.URL, "/predict"); ok && o.SimpleURL == "" {
		o.SimpleURL = base + "/model"
	}
	o.Fixes = projectFixes
	rep, err := corscheck.Run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corscheck:", err)
		return 2
	}
	if *asJSON {
		rep.WriteJSON(stdout)
	} else {
		rep.WriteText(stdout)
	}
	if !rep.Pass {
		return 1
	}
	return 0
}

// projectFixes is corscheck's advice in this project's terms: the one
// CorsPolicy in stacks/cors.go, the environments in cdk.json.
var projectFixes = corscheck.Fixes{
	AllowOrigin: "Add it to environments.<env>.allowedOrigins in cdk.json and deploy (under make local, a site moved off :8080 takes the place of dev's http://localhost:8080, which then is no longer allowed).",
	AllowMethod: "Add it to CorsPolicy.Methods in stacks/cors.go.",
	AllowHeader: "Add the header to CorsPolicy.Headers in stacks/cors.go (header names are case-insensitive).",
	MaxAge:      "Set corsMaxAgeSeconds for the environment in cdk.json (at most 7200).",
	Lists:       "Separate the list's items with commas (GET, POST, OPTIONS), as CorsPolicy in stacks/cors.go does",
	Preflights: "Here every resource gets an open OPTIONS from the RestApi's DefaultCorsPreflightOptions (stacks/cors.go, stacks/api.go), " +
		"and `cdk deploy` redeploys the stage whenever CORS changes.",
	ErrorHeaders: "the gateway responses (DEFAULT_4XX, DEFAULT_5XX: CorsPolicy.GatewayResponseHeaders in stacks/cors.go)",
	Token: "Send the signed-in user's ID token: -header 'Authorization: Bearer <token>' " +
		"(make local's: curl -s -X POST http://" + project.SignInAddr + "/local/token | jq -r .id_token).",
}

// defaultBody is a valid request for this project's POST /predict: the
// served model's example row. Outside the project, an empty object, which
// still makes the request a JSON POST that needs a preflight.
func defaultBody() string {
	m, err := project.Served()
	if err != nil {
		return "{}"
	}
	return m.ExampleBody()
}
