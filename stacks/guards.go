package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/cors"
)

// productionOriginGuard fails synth when a production environment would let
// browsers on http://, a local or private address (cors.IsLocal) or any
// origin (*, or the request's Origin echoed back) call its API. It inspects
// the synthesized preflights and gateway responses, not the config, so an
// origin added by any code path (another RestApi, hand-written CORS options)
// is caught too. The function's ALLOWED_ORIGINS comes from the same CorsPolicy
// as the preflights (a test checks they agree); CDK fills it in lazily, out of
// an aspect's reach.
type productionOriginGuard struct {
	env string
}

var (
	originInText = regexp.MustCompile(`https?://(\[[0-9a-fA-F:.]*\])?[^'",\s\\)\]|]*`) // an IPv6 literal keeps its brackets
	wildcard     = regexp.MustCompile(`(^|[",'\s])\*($|[",'\s])`)
)

func (g *productionOriginGuard) Visit(node constructs.IConstruct) {
	switch n := node.(type) {
	case awsapigateway.CfnMethod:
		if n.HttpMethod() != nil && *n.HttpMethod() == "OPTIONS" {
			g.check(n, "the OPTIONS preflight", n.Integration())
		}
	case awsapigateway.CfnGatewayResponse:
		g.check(n, "gateway response "+*n.ResponseType(), n.ResponseParameters())
	}
}

// check fails synth when property (where, of node) allows an origin
// production must not, or cannot be read: a guard that skipped what it
// cannot read would pass what it was written to stop.
func (g *productionOriginGuard) check(node constructs.IConstruct, where string, property any) {
	value, err := resolve(node, property)
	if err != nil {
		awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
			"environment %s: %s cannot be read to check its origins (%v); the production guard fails closed", g.env, where, err)))
		return
	}
	if value == nil {
		return
	}
	text, err := json.Marshal(value)
	if err != nil {
		awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
			"environment %s: %s cannot be read to check its origins (%v); the production guard fails closed", g.env, where, err)))
		return
	}
	var bad []string
	// A header echoed from the request's Origin allows any origin.
	if strings.Contains(string(text), echoOrigin) {
		awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
			"environment %s: %s sets Access-Control-Allow-Origin from the request's Origin (%s), which allows any origin; production names its origins statically (CorsPolicy.GatewayResponseHeaders)",
			g.env, where, echoOrigin)))
	}
	for _, o := range originInText.FindAllString(string(text), -1) {
		if strings.HasPrefix(o, "http://") || cors.IsLocal(o) {
			bad = append(bad, o)
		}
	}
	if wildcard.Match(text) {
		bad = append(bad, "*")
	}
	slices.Sort(bad)
	for _, o := range slices.Compact(bad) {
		awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
			"environment %s: origin %q is allowed by %s, but production allows only https:// origins that are not localhost or a local or private address, and never *; remove it from environments.%s.allowedOrigins in cdk.json",
			g.env, o, where, g.env)))
	}
}

// resolve turns an L1 property into plain JSON values with tokens resolved
// (nil for an unset one). jsii cannot pass Go property structs back to
// Stack.Resolve, so they go through encoding/json first (tokens survive as
// "${Token[...]}" strings).
func resolve(scope constructs.IConstruct, v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil || plain == nil {
		return nil, err
	}
	return awscdk.Stack_Of(scope).Resolve(plain), nil
}

// preflightGuard fails synth when a RestApi resource has methods but no OPTIONS
// method: a browser's preflight to it would get 403 and the call would fail as
// a CORS error.
type preflightGuard struct{}

func (*preflightGuard) Visit(node constructs.IConstruct) {
	res, ok := node.(awsapigateway.IResource)
	if !ok {
		return
	}
	var methods []string
	for _, child := range *res.Node().Children() {
		if m, ok := child.(awsapigateway.Method); ok {
			methods = append(methods, *m.HttpMethod())
		}
	}
	if len(methods) > 0 && !slices.Contains(methods, "OPTIONS") {
		awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
			"resource %s has methods %v but no OPTIONS method, so browsers' preflights fail; give the RestApi DefaultCorsPreflightOptions or call AddCorsPreflight",
			*res.Path(), methods)))
	}
}
