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
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/time/rate"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
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

// Options configure how the API is served.
type Options struct {
	// Stage selects the stage when the template defines several.
	Stage string
	// Functions run the Lambda functions of AWS_PROXY integrations, by logical ID.
	Functions map[string]Invoker
	// Throttle enables the stage's rate and burst limits (429 beyond them).
	Throttle bool
	// Now is the clock the throttle reads; nil means time.Now. Tests pass a
	// fixed clock so that they count 429s exactly, however busy the machine.
	Now func() time.Time
}

// API is a RestApi loaded from a template.
type API struct {
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
	// MOCK
	mockStatus string
	responses  []*integrationResponse
	// validation
	validateBody   bool
	models         map[string]*jsonschema.Schema // by content type
	requiredParams []string                      // "header.X", "querystring.Y"
}

type integrationResponse struct {
	status    string
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

func (p paramSource) value(r *incoming) string {
	switch p.location {
	case "":
		return p.static
	case "header":
		return r.http.Header.Get(p.name)
	case "querystring":
		return r.http.URL.Query().Get(p.name)
	case "path":
		return r.pathParams[p.name]
	}
	return ""
}

func parseParamSource(expr string) (paramSource, error) {
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' {
		return paramSource{static: expr[1 : len(expr)-1]}, nil
	}
	for _, loc := range []string{"header", "querystring", "path"} {
		if name, ok := strings.CutPrefix(expr, "method.request."+loc+"."); ok {
			return paramSource{location: loc, name: name}, nil
		}
	}
	return paramSource{}, fmt.Errorf("mapping expression %q is not emulated (only 'static' and method.request.*)", expr)
}

// Load reads the RestApi of a template.
func Load(t *cfn.Template, res *cfn.Resolver, opts Options) (*API, error) {
	apis := t.OfType("AWS::ApiGateway::RestApi")
	if len(apis) != 1 {
		return nil, fmt.Errorf("%s: %d AWS::ApiGateway::RestApi resources, want exactly 1", t.Path, len(apis))
	}
	apiID := apis[0]
	a := &API{responses: map[string]*gatewayResponse{}, functions: opts.Functions, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	a.Name, _ = res.String(t, t.Resources[apiID].Properties["Name"])

	// Resources: each has a parent (another resource, or the root) and a path part.
	parts := map[string][2]any{}
	for _, id := range t.OfType("AWS::ApiGateway::Resource") {
		p := t.Resources[id].Properties
		parts[id] = [2]any{p["ParentId"], p["PathPart"]}
	}
	var pathOf func(ref any, depth int) (string, string, error)
	pathOf = func(ref any, depth int) (string, string, error) {
		if isRoot(ref, apiID) {
			return "/", "", nil
		}
		id := refID(ref)
		p, ok := parts[id]
		if !ok || depth > 64 {
			return "", "", fmt.Errorf("resource reference %v is not a resource of %s", ref, apiID)
		}
		parent, _, err := pathOf(p[0], depth+1)
		if err != nil {
			return "", "", err
		}
		return strings.TrimSuffix(parent, "/") + "/" + fmt.Sprint(p[1]), id, nil
	}
	byPath := map[string]*resource{}
	getResource := func(ref any) (*resource, error) {
		path, id, err := pathOf(ref, 0)
		if err != nil {
			return nil, err
		}
		if r, ok := byPath[path]; ok {
			return r, nil
		}
		r := &resource{path: path, methods: map[string]*method{}, resource: id}
		r.pattern, r.params = pathPattern(path)
		byPath[path] = r
		return r, nil
	}
	for id := range parts {
		if _, err := getResource(map[string]any{"Ref": id}); err != nil {
			return nil, err
		}
	}
	if _, err := getResource(map[string]any{"Fn::GetAtt": []any{apiID, "RootResourceId"}}); err != nil {
		return nil, err
	}

	models := map[string]*jsonschema.Schema{}
	for _, id := range t.OfType("AWS::ApiGateway::Model") {
		schema, err := compileSchema(t.Resources[id].Properties["Schema"])
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", t.Describe(id), err)
		}
		models[id] = schema
	}
	for _, id := range t.OfType("AWS::ApiGateway::Method") {
		p := t.Resources[id].Properties
		r, err := getResource(p["ResourceId"])
		if err != nil {
			return nil, fmt.Errorf("method %s: %w", t.Describe(id), err)
		}
		m, err := loadMethod(t, res, id, models)
		if err != nil {
			return nil, err
		}
		r.methods[m.httpMethod] = m
	}
	for _, r := range byPath {
		a.resources = append(a.resources, r)
	}
	// Literal path parts win over {params}, as in API Gateway.
	slices.SortFunc(a.resources, func(x, y *resource) int {
		if c := len(x.params) - len(y.params); c != 0 {
			return c
		}
		return strings.Compare(x.path, y.path)
	})

	for _, id := range t.OfType("AWS::ApiGateway::GatewayResponse") {
		p := t.Resources[id].Properties
		g := &gatewayResponse{params: map[string]paramSource{}}
		typ, _ := p["ResponseType"].(string)
		if s, ok := p["StatusCode"].(string); ok {
			g.status, _ = strconv.Atoi(s)
		}
		rp, err := res.Resolve(t, p["ResponseParameters"])
		if err != nil {
			return nil, err
		}
		for k, v := range cfn.Map(rp) {
			name, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			if !ok {
				return nil, fmt.Errorf("gateway response %s: parameter %s is not emulated", t.Describe(id), k)
			}
			if g.params[name], err = parseParamSource(fmt.Sprint(v)); err != nil {
				return nil, fmt.Errorf("gateway response %s: %w", t.Describe(id), err)
			}
		}
		if src, ok := cfn.Map(p["ResponseTemplates"])["application/json"].(string); ok {
			if g.template, err = vtl.Parse(src); err != nil {
				return nil, fmt.Errorf("gateway response %s: template: %w", t.Describe(id), err)
			}
		}
		a.responses[typ] = g
	}

	stages := t.OfType("AWS::ApiGateway::Stage")
	var names []string
	for _, id := range stages {
		p := t.Resources[id].Properties
		name, _ := p["StageName"].(string)
		names = append(names, name)
		if opts.Stage != "" && name != opts.Stage {
			continue
		}
		if a.Stage != "" {
			return nil, fmt.Errorf("%s defines stages %v: choose one", t.Path, names)
		}
		a.Stage = name
		for _, s := range asSlice(p["MethodSettings"]) {
			s := cfn.Map(s)
			perSecond, _ := s["ThrottlingRateLimit"].(float64)
			burst, _ := s["ThrottlingBurstLimit"].(float64)
			if opts.Throttle && s["ResourcePath"] == "/*" && s["HttpMethod"] == "*" && perSecond > 0 {
				a.limiter = rate.NewLimiter(rate.Limit(perSecond), int(burst))
			}
		}
	}
	if a.Stage == "" {
		if opts.Stage != "" {
			return nil, fmt.Errorf("%s has no stage %q (it has %v)", t.Path, opts.Stage, names)
		}
		return nil, fmt.Errorf("%s has no AWS::ApiGateway::Stage: the API is not deployed (Deploy: true creates one)", t.Path)
	}
	return a, nil
}

func loadMethod(t *cfn.Template, res *cfn.Resolver, id string, models map[string]*jsonschema.Schema) (*method, error) {
	p := t.Resources[id].Properties
	m := &method{httpMethod: fmt.Sprint(p["HttpMethod"]), models: map[string]*jsonschema.Schema{}}
	m.name = fmt.Sprintf("%s %s", m.httpMethod, t.Describe(id))
	integ := cfn.Map(p["Integration"])
	m.integration, _ = integ["Type"].(string)
	switch m.integration {
	case "AWS_PROXY":
		m.function = integratedFunction(integ)
	case "MOCK":
		m.mockStatus = "200"
		if tmpl, ok := cfn.Map(integ["RequestTemplates"])["application/json"].(string); ok {
			if s := mockStatusPattern.FindStringSubmatch(tmpl); s != nil {
				m.mockStatus = s[1]
			}
		}
		for _, ir := range asSlice(integ["IntegrationResponses"]) {
			ir := cfn.Map(ir)
			r := &integrationResponse{params: map[string]paramSource{}}
			r.status, _ = ir["StatusCode"].(string)
			if sel, ok := ir["SelectionPattern"].(string); ok && sel != "" {
				re, err := regexp.Compile(`^(?:` + sel + `)$`)
				if err != nil {
					return nil, fmt.Errorf("method %s: SelectionPattern: %w", m.name, err)
				}
				r.selection = re
			}
			params, err := res.Resolve(t, ir["ResponseParameters"])
			if err != nil {
				return nil, fmt.Errorf("method %s: %w", m.name, err)
			}
			for k, v := range cfn.Map(params) {
				name, ok := strings.CutPrefix(k, "method.response.header.")
				if !ok {
					return nil, fmt.Errorf("method %s: response parameter %s is not emulated", m.name, k)
				}
				if r.params[name], err = parseParamSource(fmt.Sprint(v)); err != nil {
					return nil, fmt.Errorf("method %s: %w", m.name, err)
				}
			}
			if src, ok := cfn.Map(ir["ResponseTemplates"])["application/json"].(string); ok {
				if r.template, err = vtl.Parse(src); err != nil {
					return nil, fmt.Errorf("method %s: response template: %w", m.name, err)
				}
			}
			m.responses = append(m.responses, r)
		}
	}
	if v := refID(p["RequestValidatorId"]); v != "" {
		vp := t.Resources[v].Properties
		m.validateBody = vp["ValidateRequestBody"] == true
		if vp["ValidateRequestParameters"] == true {
			for k, required := range cfn.Map(p["RequestParameters"]) {
				if required == true {
					m.requiredParams = append(m.requiredParams, strings.TrimPrefix(k, "method.request."))
				}
			}
			slices.Sort(m.requiredParams)
		}
	}
	for ct, ref := range cfn.Map(p["RequestModels"]) {
		if s, ok := models[refID(ref)]; ok {
			m.models[ct] = s
		}
	}
	return m, nil
}

// integratedFunction is the logical ID of the Lambda function in an
// integration URI: arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations,
// the ARN being {"Fn::GetAtt": [<function>, "Arn"]}.
func integratedFunction(integration map[string]any) string {
	uri := jsonText(integration["Uri"])
	if i := strings.Index(uri, `"Fn::GetAtt":["`); i >= 0 {
		return strings.SplitN(uri[i+len(`"Fn::GetAtt":["`):], `"`, 2)[0]
	}
	return ""
}

// Functions lists the Lambda functions the template's methods integrate with.
func Functions(t *cfn.Template) []string {
	var ids []string
	for _, id := range t.OfType("AWS::ApiGateway::Method") {
		integ := cfn.Map(t.Resources[id].Properties["Integration"])
		if fn := integratedFunction(integ); integ["Type"] == "AWS_PROXY" && fn != "" && !slices.Contains(ids, fn) {
			ids = append(ids, fn)
		}
	}
	slices.Sort(ids)
	return ids
}

func compileSchema(schema any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // API Gateway models are draft 4
	if err := c.AddResource("model.json", schema); err != nil {
		return nil, err
	}
	return c.Compile("model.json")
}

// mockStatusPattern finds the status in a MOCK request template such as CDK's
// "{ statusCode: 200 }".
var mockStatusPattern = regexp.MustCompile(`statusCode"?\s*:\s*(\d{3})`)

var pathParam = regexp.MustCompile(`\{([^}+]+)(\+?)\}`)

// pathPattern turns /items/{id} and /files/{proxy+} into regular expressions.
func pathPattern(path string) (*regexp.Regexp, []string) {
	var params []string
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range pathParam.FindAllStringSubmatchIndex(path, -1) {
		b.WriteString(regexp.QuoteMeta(path[last:m[0]]))
		params = append(params, path[m[2]:m[3]])
		if m[5] > m[4] { // greedy {name+}
			b.WriteString("(.+)")
		} else {
			b.WriteString("([^/]+)")
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(path[last:]) + "$")
	return regexp.MustCompile(b.String()), params
}

// Paths lists the API's resources and methods, for start-up messages.
func (a *API) Paths() []string {
	var out []string
	for _, r := range a.resources {
		var ms []string
		for m := range r.methods {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		if len(ms) > 0 {
			out = append(out, fmt.Sprintf("%s %s", strings.Join(ms, ","), r.path))
		}
	}
	slices.Sort(out)
	return out
}

// incoming is one request being served.
type incoming struct {
	http       *http.Request
	id         string
	body       []byte
	resource   *resource
	pathParams map[string]string
}

// gatewayError is an answer API Gateway itself gives.
type gatewayError struct {
	typ     string
	status  int
	message string
}

var (
	errMissingToken = &gatewayError{"MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"}
	errThrottled    = &gatewayError{"THROTTLED", 429, "Too Many Requests"}
	errTooLarge     = &gatewayError{"REQUEST_TOO_LARGE", 413, "Request Too Long"}
	errBadBody      = &gatewayError{"BAD_REQUEST_BODY", 400, "Invalid request body"}
	errInternal     = &gatewayError{"DEFAULT_5XX", 502, "Internal server error"}
	errTimedOut     = &gatewayError{"INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"}
)

// maxPayload is API Gateway's request size limit.
const maxPayload = 10 << 20

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := &incoming{http: r, id: requestID()}
	w.Header().Set("X-Amzn-Requestid", in.id)
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+a.Stage)
	if !ok || (rest != "" && rest[0] != '/') {
		a.fail(w, in, errMissingToken)
		return
	}
	if rest == "" {
		rest = "/"
	}
	for _, res := range a.resources {
		if m := res.pattern.FindStringSubmatch(rest); m != nil {
			in.resource, in.pathParams = res, map[string]string{}
			for i, p := range res.params {
				in.pathParams[p] = m[i+1]
			}
			break
		}
	}
	if in.resource == nil {
		a.fail(w, in, errMissingToken)
		return
	}
	m := in.resource.methods[r.Method]
	if m == nil {
		m = in.resource.methods["ANY"]
	}
	if m == nil {
		a.fail(w, in, errMissingToken)
		return
	}
	if a.limiter != nil && !a.limiter.AllowN(a.now(), 1) {
		a.fail(w, in, errThrottled)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		a.fail(w, in, errTooLarge)
		return
	}
	in.body = body
	if ge := m.validate(in); ge != nil {
		a.fail(w, in, ge)
		return
	}
	switch m.integration {
	case "MOCK":
		a.mock(w, in, m)
	case "AWS_PROXY":
		a.proxy(w, in, m)
	default:
		a.fail(w, in, &gatewayError{"DEFAULT_5XX", 502, fmt.Sprintf("local emulator: %s integrations are not emulated (method %s)", m.integration, m.name)})
	}
}

func (m *method) validate(in *incoming) *gatewayError {
	for _, p := range m.requiredParams {
		loc, name, _ := strings.Cut(p, ".")
		if (paramSource{location: loc, name: name}).value(in) == "" {
			return &gatewayError{"BAD_REQUEST_PARAMETERS", 400, fmt.Sprintf("Missing required request parameters: [%s]", name)}
		}
	}
	if !m.validateBody || len(m.models) == 0 {
		return nil
	}
	ct := in.http.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	schema := m.models[strings.TrimSpace(strings.ToLower(ct))]
	if schema == nil {
		schema = m.models["$default"]
	}
	if schema == nil {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(in.body))
	if err != nil || schema.Validate(doc) != nil {
		return errBadBody
	}
	return nil
}

func (a *API) mock(w http.ResponseWriter, in *incoming, m *method) {
	var chosen *integrationResponse
	for _, r := range m.responses {
		if r.selection != nil && r.selection.MatchString(m.mockStatus) {
			chosen = r
			break
		}
		if r.selection == nil && chosen == nil {
			chosen = r
		}
	}
	if chosen == nil {
		a.fail(w, in, &gatewayError{"DEFAULT_5XX", 500, "Internal server error"})
		return
	}
	status, _ := strconv.Atoi(chosen.status)
	for name, src := range chosen.params {
		if v := src.value(in); v != "" {
			w.Header().Set(name, v)
		}
	}
	var body string
	if chosen.template != nil {
		out, err := chosen.template.Execute(a.vtlRequest(in, nil))
		if err != nil {
			a.fail(w, in, &gatewayError{"DEFAULT_5XX", 500, fmt.Sprintf("Execution failed: template of %s: %v", m.name, err)})
			return
		}
		body = out.Body
		for k, v := range out.Headers {
			w.Header().Set(k, v)
		}
		if out.Status != 0 {
			status = out.Status
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (a *API) proxy(w http.ResponseWriter, in *incoming, m *method) {
	fn := a.functions[m.function]
	if fn == nil {
		a.fail(w, in, &gatewayError{"DEFAULT_5XX", 502, fmt.Sprintf("local emulator: no local binary for Lambda function %s (method %s); give one with -function %s=./path/to/package", m.function, m.name, m.function)})
		return
	}
	event, err := json.Marshal(a.proxyEvent(in))
	if err != nil {
		a.fail(w, in, errInternal)
		return
	}
	out, err := fn.Invoke(in.http.Context(), event)
	if timedOut(err) {
		a.fail(w, in, errTimedOut)
		return
	}
	var resp events.APIGatewayProxyResponse
	if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode == 0 {
		// API Gateway answers a failed or malformed function with a bare 502.
		a.fail(w, in, errInternal)
		return
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			a.fail(w, in, errInternal)
			return
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

func (a *API) proxyEvent(in *incoming) events.APIGatewayProxyRequest {
	r := in.http
	headers, multi := map[string]string{}, map[string][]string{}
	for k, vs := range r.Header {
		headers[k], multi[k] = vs[len(vs)-1], vs
	}
	if r.Host != "" {
		headers["Host"], multi["Host"] = r.Host, []string{r.Host}
	}
	var query map[string]string
	var multiQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string(q)
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
		}
	}
	var pathParams map[string]string
	if len(in.pathParams) > 0 {
		pathParams = in.pathParams
	}
	body, b64 := string(in.body), false
	if !utf8.Valid(in.body) { // binary bodies reach the function base64-encoded
		body, b64 = base64.StdEncoding.EncodeToString(in.body), true
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	return events.APIGatewayProxyRequest{
		Resource:                        in.resource.path,
		Path:                            strings.TrimPrefix(r.URL.Path, "/"+a.Stage),
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  pathParams,
		Body:                            body,
		IsBase64Encoded:                 b64,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        cfn.AccountID,
			ResourceID:       in.resource.resource,
			Stage:            a.Stage,
			RequestID:        in.id,
			ResourcePath:     in.resource.path,
			HTTPMethod:       r.Method,
			APIID:            "local",
			Path:             r.URL.Path,
			Protocol:         r.Proto,
			DomainName:       r.Host,
			RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			Identity:         events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
		},
	}
}

func (a *API) vtlRequest(in *incoming, ge *gatewayError) vtl.Request {
	header := map[string]string{}
	for k, vs := range in.http.Header {
		header[k] = vs[len(vs)-1]
	}
	query := map[string]string{}
	for k, vs := range in.http.URL.Query() {
		query[k] = vs[len(vs)-1]
	}
	ctx := map[string]any{"requestId": in.id, "stage": a.Stage, "httpMethod": in.http.Method}
	if ge != nil {
		quoted, _ := json.Marshal(ge.message)
		ctx["error"] = map[string]any{"message": ge.message, "messageString": string(quoted), "responseType": ge.typ}
	}
	return vtl.Request{Header: header, Query: query, Path: in.pathParams, Context: ctx}
}

// fail answers with a gateway response: the template's response for the
// type, else its DEFAULT_4XX/DEFAULT_5XX, else API Gateway's built-in one.
func (a *API) fail(w http.ResponseWriter, in *incoming, ge *gatewayError) {
	g := a.responses[ge.typ]
	if g == nil {
		g = a.responses[fmt.Sprintf("DEFAULT_%dXX", ge.status/100)]
	}
	status := ge.status
	body := fmt.Sprintf(`{"message":%s}`, mustJSON(ge.message))
	if g != nil {
		if g.status != 0 {
			status = g.status
		}
		for name, src := range g.params {
			if v := src.value(in); v != "" {
				w.Header().Set(name, v)
			}
		}
		if g.template != nil {
			if out, err := g.template.Execute(a.vtlRequest(in, ge)); err == nil {
				body = out.Body
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func isRoot(ref any, apiID string) bool {
	return jsonText(ref) == jsonText(map[string]any{"Fn::GetAtt": []any{apiID, "RootResourceId"}})
}

func refID(ref any) string {
	if id, ok := cfn.Map(ref)["Ref"].(string); ok {
		return id
	}
	return ""
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
