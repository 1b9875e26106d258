// Package apigw serves an API Gateway REST API from its CloudFormation
// template, the way API Gateway would: stage prefix, resource tree, methods,
// MOCK integrations with their mapping templates (the CORS preflights),
// AWS_PROXY integrations to Lambda functions, request validators with JSON
// Schema models, gateway responses and stage throttling.
//
// What it cannot do faithfully it refuses when the API is loaded (an unknown
// VTL construct, a response parameter it cannot map), naming the method, or
// answers 502 saying why (an integration type or function it cannot run).
package apigw

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/time/rate"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/vtl"
)

// Invoker runs a Lambda function: a JSON event in, the function's JSON answer out.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// An Invoker reports that the function ran out of time with an error that
// has a Timeout method returning true (as net.Error does), so the gateway
// answers 504 instead of 502 without knowing the runner's types.
func timedOut(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Verifier checks a user pool token as API Gateway does and returns its
// claims; clients are the app clients of the authorizer's pools, scopes the
// method's OAuth scopes (none: an ID token; some: an access token with one
// of them).
type Verifier interface {
	Verify(token string, clients, scopes []string) (map[string]any, error)
}

// Options configure how the API is served.
type Options struct {
	// RestApi is the logical ID of the API to serve, for a template that
	// defines several.
	RestApi string
	// Stage selects the stage when the template defines several.
	Stage string
	// Functions run the Lambda functions of AWS_PROXY integrations, by logical ID.
	Functions map[string]Invoker
	// Throttle enables the stage's rate and burst limits (429 beyond them).
	Throttle bool
	// Tokens, when set, checks the tokens of methods behind a Cognito user
	// pool authorizer, standing in for every user pool of the template (a
	// local issuer, package oidc); without it such methods refuse every
	// request, as without a token.
	Tokens Verifier
	// Now is the clock the throttle reads; nil means time.Now. Tests pass a
	// fixed clock so that they count 429s exactly, however busy the machine.
	Now func() time.Time
}

// API is a RestApi loaded from a template.
type API struct {
	// Refused lists, for the start-up message, the methods that require
	// credentials the emulator cannot check, and what they answer instead.
	Refused   []string
	Name      string
	Stage     string
	resources []*resource // sorted by path
	responses map[string]*gatewayResponse
	functions map[string]Invoker
	limiter   *rate.Limiter // API Gateway's stage throttling is a token bucket
	now       func() time.Time
}

type resource struct {
	path     string
	pattern  *regexp.Regexp // matches the path, capturing {params}
	params   []string
	methods  map[string]*method
	resource string // logical ID
}

type method struct {
	name        string // for messages: construct path and HTTP method
	httpMethod  string
	integration string // MOCK, AWS_PROXY, ...
	function    string // logical ID of the Lambda function, for AWS_PROXY
	// denied is API Gateway's answer to a request without the credentials
	// the method requires (an authorizer, IAM, an API key), which the
	// emulator cannot check: it refuses every request, as without them.
	denied   *gatewayError
	requires string // what denied stands for, in words
	// A Cognito authorizer checked locally: the token's verifier and the
	// app clients it must be for.
	tokens  Verifier
	clients []string
	scopes  []string // the method's AuthorizationScopes
	apiKey  bool     // it requires an API key too
	// MOCK
	mockStatus string
	responses  []*integrationResponse
	// validation
	validateBody   bool
	models         map[string]*jsonschema.Schema // by content type
	requiredParams []string                      // "header.X", "querystring.Y"
}

type integrationResponse struct {
	status    int
	selection *regexp.Regexp
	params    map[string]paramSource // method response header -> source
	template  *vtl.Template
}

type gatewayResponse struct {
	status   int
	params   map[string]paramSource
	template *vtl.Template
}

// paramSource is where a mapped header value comes from: a 'static' value or
// method.request.{header,querystring,path}.Name.
type paramSource struct {
	static   string
	location string
	name     string
}
