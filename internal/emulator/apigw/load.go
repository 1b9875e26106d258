// Loading: the RestApi of a template into resources, methods, models,
// gateway responses and the stage, refusing what cannot be emulated.

package apigw

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/time/rate"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/vtl"
)

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

// Load reads the RestApi of a template (Options.RestApi picks one where
// the template has several) with its resources, methods, models, gateway
// responses and stage.
func Load(t *cfn.Template, res *cfn.Resolver, opts Options) (*API, error) {
	apiID, err := chooseAPI(t, opts.RestApi)
	if err != nil {
		return nil, err
	}
	a := &API{responses: map[string]*gatewayResponse{}, functions: opts.Functions, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	a.Name, _ = res.String(t, t.Resources[apiID].Properties["Name"])
	l := &loader{t: t, res: res, apiID: apiID, a: a, tokens: opts.Tokens}
	for _, step := range []func() error{l.resources, l.models, l.methods, l.gatewayResponses, func() error { return l.stage(opts) }} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// chooseAPI is the logical ID of the RestApi to serve.
func chooseAPI(t *cfn.Template, apiID string) (string, error) {
	apis := t.OfType("AWS::ApiGateway::RestApi")
	switch {
	case len(apis) == 0:
		return "", fmt.Errorf("%s has no AWS::ApiGateway::RestApi", t.Path)
	case apiID == "" && len(apis) > 1:
		return "", fmt.Errorf("%s defines %d RestApis (%s): choose one (cmd/local: -rest-api ID)", t.Path, len(apis), strings.Join(apis, ", "))
	case apiID == "":
		return apis[0], nil
	case !slices.Contains(apis, apiID):
		return "", fmt.Errorf("%s has no RestApi %q (it has %s)", t.Path, apiID, strings.Join(apis, ", "))
	}
	return apiID, nil
}

// loader reads one RestApi's parts into a.
type loader struct {
	t      *cfn.Template
	res    *cfn.Resolver
	apiID  string
	a      *API
	parts  map[string][2]any // resource ID -> its parent reference and path part
	byPath map[string]*resource
	schema map[string]*jsonschema.Schema // by model ID
	tokens Verifier
}

// ofAPI lists the resources of a type that belong to the chosen API: a
// template may hold another.
func (l *loader) ofAPI(typ string) []string {
	var ids []string
	for _, id := range l.t.OfType(typ) {
		if refID(l.t.Resources[id].Properties["RestApiId"]) == l.apiID {
			ids = append(ids, id)
		}
	}
	return ids
}

// resources builds the resource tree: each resource has a parent (another
// resource, or the root) and a path part.
func (l *loader) resources() error {
	l.parts, l.byPath = map[string][2]any{}, map[string]*resource{}
	for _, id := range l.ofAPI("AWS::ApiGateway::Resource") {
		p := l.t.Resources[id].Properties
		l.parts[id] = [2]any{p["ParentId"], p["PathPart"]}
	}
	for id := range l.parts {
		if _, err := l.resource(map[string]any{"Ref": id}); err != nil {
			return err
		}
	}
	if _, err := l.resource(map[string]any{"Fn::GetAtt": []any{l.apiID, "RootResourceId"}}); err != nil {
		return err
	}
	for _, r := range l.byPath {
		l.a.resources = append(l.a.resources, r)
	}
	// Literal path parts win over {params}, as in API Gateway.
	slices.SortFunc(l.a.resources, func(x, y *resource) int {
		if c := len(x.params) - len(y.params); c != 0 {
			return c
		}
		return strings.Compare(x.path, y.path)
	})
	return nil
}

// resource is the resource a reference names, made on first use.
func (l *loader) resource(ref any) (*resource, error) {
	path, id, err := l.pathOf(ref, 0)
	if err != nil {
		return nil, err
	}
	if r, ok := l.byPath[path]; ok {
		return r, nil
	}
	r := &resource{path: path, methods: map[string]*method{}, resource: id}
	r.pattern, r.params = pathPattern(path)
	l.byPath[path] = r
	return r, nil
}

// pathOf is the path of the resource a reference names, and its ID.
func (l *loader) pathOf(ref any, depth int) (string, string, error) {
	if isRoot(ref, l.apiID) {
		return "/", "", nil
	}
	id := refID(ref)
	p, ok := l.parts[id]
	if !ok || depth > 64 {
		return "", "", fmt.Errorf("resource reference %v is not a resource of %s", ref, l.apiID)
	}
	parent, _, err := l.pathOf(p[0], depth+1)
	if err != nil {
		return "", "", err
	}
	return strings.TrimSuffix(parent, "/") + "/" + fmt.Sprint(p[1]), id, nil
}

// models compiles the API's JSON Schema models.
func (l *loader) models() error {
	l.schema = map[string]*jsonschema.Schema{}
	for _, id := range l.ofAPI("AWS::ApiGateway::Model") {
		schema, err := compileSchema(l.t.Resources[id].Properties["Schema"])
		if err != nil {
			return fmt.Errorf("model %s: %w", l.t.Describe(id), err)
		}
		l.schema[id] = schema
	}
	return nil
}

// methods puts each method on its resource, noting those it refuses.
func (l *loader) methods() error {
	for _, id := range l.ofAPI("AWS::ApiGateway::Method") {
		r, err := l.resource(l.t.Resources[id].Properties["ResourceId"])
		if err != nil {
			return fmt.Errorf("method %s: %w", l.t.Describe(id), err)
		}
		m, err := l.method(id)
		if err != nil {
			return err
		}
		if m.denied != nil {
			l.a.Refused = append(l.a.Refused, fmt.Sprintf("%s requires %s, which the emulator does not check: it answers %d %s, as API Gateway does to a request without them",
				m.name, m.requires, m.denied.status, m.denied.message))
		}
		r.methods[m.httpMethod] = m
	}
	return nil
}

// gatewayResponses reads API Gateway's own answers: status, headers, body.
func (l *loader) gatewayResponses() error {
	for _, id := range l.ofAPI("AWS::ApiGateway::GatewayResponse") {
		p := l.t.Resources[id].Properties
		g := &gatewayResponse{}
		var err error
		if s, ok := p["StatusCode"]; ok {
			if g.status, err = statusCode(s); err != nil {
				return fmt.Errorf("gateway response %s: StatusCode: %w", l.t.Describe(id), err)
			}
		}
		if g.params, err = l.headerSources(p["ResponseParameters"], "gatewayresponse.header."); err != nil {
			return fmt.Errorf("gateway response %s: %w", l.t.Describe(id), err)
		}
		if g.template, err = responseTemplate(p["ResponseTemplates"]); err != nil {
			return fmt.Errorf("gateway response %s: template: %w", l.t.Describe(id), err)
		}
		typ, _ := p["ResponseType"].(string)
		l.a.responses[typ] = g
	}
	return nil
}

// headerSources reads response parameters (prefix + header name -> a
// mapping expression) into where each header's value comes from.
func (l *loader) headerSources(params any, prefix string) (map[string]paramSource, error) {
	resolved, err := l.res.Resolve(l.t, params)
	if err != nil {
		return nil, err
	}
	out := map[string]paramSource{}
	for k, v := range cfn.Map(resolved) {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return nil, fmt.Errorf("parameter %s is not emulated", k)
		}
		if out[name], err = parseParamSource(fmt.Sprint(v)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// responseTemplate parses the application/json template of a response, nil
// when there is none.
func responseTemplate(templates any) (*vtl.Template, error) {
	if src, ok := cfn.Map(templates)["application/json"].(string); ok {
		return vtl.Parse(src)
	}
	return nil, nil
}

// stage picks the stage to serve and its throttling.
func (l *loader) stage(opts Options) error {
	var names []string
	for _, id := range l.ofAPI("AWS::ApiGateway::Stage") {
		p := l.t.Resources[id].Properties
		name, _ := p["StageName"].(string)
		names = append(names, name)
		if opts.Stage != "" && name != opts.Stage {
			continue
		}
		if l.a.Stage != "" {
			return fmt.Errorf("%s defines stages %v: choose one", l.t.Path, names)
		}
		l.a.Stage = name
		for _, s := range asSlice(p["MethodSettings"]) {
			s := cfn.Map(s)
			perSecond, _ := s["ThrottlingRateLimit"].(float64)
			burst, _ := s["ThrottlingBurstLimit"].(float64)
			if opts.Throttle && s["ResourcePath"] == "/*" && s["HttpMethod"] == "*" && perSecond > 0 {
				l.a.limiter = rate.NewLimiter(rate.Limit(perSecond), int(burst))
			}
		}
	}
	switch {
	case l.a.Stage != "":
		return nil
	case opts.Stage != "":
		return fmt.Errorf("%s has no stage %q (it has %v)", l.t.Path, opts.Stage, names)
	}
	return fmt.Errorf("%s has no AWS::ApiGateway::Stage: the API is not deployed (Deploy: true creates one)", l.t.Path)
}

// method reads one method: its authorization, integration, validation.
func (l *loader) method(id string) (*method, error) {
	p := l.t.Resources[id].Properties
	m := &method{httpMethod: fmt.Sprint(p["HttpMethod"]), models: map[string]*jsonschema.Schema{}}
	m.name = fmt.Sprintf("%s %s", m.httpMethod, l.t.Describe(id))
	authorizer, err := m.authorization(l.t, l.res, p)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", m.name, err)
	}
	if m.denied == errUnauthorized && l.tokens != nil {
		if err := l.checkTokens(m, authorizer, p); err != nil {
			return nil, fmt.Errorf("method %s: %w", m.name, err)
		}
	}
	integ := cfn.Map(p["Integration"])
	m.integration, _ = integ["Type"].(string)
	switch m.integration {
	case "AWS_PROXY":
		m.function = integratedFunction(l.t, integ)
	case "MOCK":
		if err := l.mock(m, integ); err != nil {
			return nil, fmt.Errorf("method %s: %w", m.name, err)
		}
	}
	l.validation(m, p)
	return m, nil
}

// mock reads a MOCK integration: the status its request template picks
// (CDK's "{ statusCode: 200 }") and its integration responses.
func (l *loader) mock(m *method, integ map[string]any) error {
	m.mockStatus = "200"
	if tmpl, ok := cfn.Map(integ["RequestTemplates"])["application/json"].(string); ok {
		if s := mockStatusPattern.FindStringSubmatch(tmpl); s != nil {
			if _, err := statusCode(s[1]); err != nil {
				return fmt.Errorf("MOCK request template: %w", err)
			}
			m.mockStatus = s[1]
		}
	}
	for _, ir := range asSlice(integ["IntegrationResponses"]) {
		ir := cfn.Map(ir)
		r := &integrationResponse{}
		var err error
		if r.status, err = statusCode(ir["StatusCode"]); err != nil {
			return fmt.Errorf("integration response StatusCode: %w", err)
		}
		if sel, ok := ir["SelectionPattern"].(string); ok && sel != "" {
			if r.selection, err = regexp.Compile(`^(?:` + sel + `)$`); err != nil {
				return fmt.Errorf("SelectionPattern: %w", err)
			}
		}
		if r.params, err = l.headerSources(ir["ResponseParameters"], "method.response.header."); err != nil {
			return err
		}
		if r.template, err = responseTemplate(ir["ResponseTemplates"]); err != nil {
			return fmt.Errorf("response template: %w", err)
		}
		m.responses = append(m.responses, r)
	}
	return nil
}

// validation reads what the method's request validator checks: the body
// against its model, the required parameters.
func (l *loader) validation(m *method, p map[string]any) {
	if v := refID(p["RequestValidatorId"]); v != "" {
		vp := l.t.Resources[v].Properties
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
		if s, ok := l.schema[refID(ref)]; ok {
			m.models[ct] = s
		}
	}
}

// authorization reads what the method requires of a caller. What the
// emulator cannot check it refuses, as API Gateway refuses a request
// without credentials: never silently less strict. The properties are
// resolved whatever their form (a condition, a string for a boolean), and
// a value the emulator cannot decide (one that depends on a deploy-time
// parameter) is an error, so the API does not start rather than start
// open.
func (m *method) authorization(t *cfn.Template, res *cfn.Resolver, p map[string]any) (authorizer string, err error) {
	decide := func(key string) (any, error) {
		v, err := res.Decide(t, p[key])
		if err != nil {
			return nil, fmt.Errorf("%s cannot be decided locally: %w; give it a literal value", key, err)
		}
		return v, nil
	}
	auth, err := decide("AuthorizationType")
	if err != nil {
		return "", err
	}
	authorizerID, err := decide("AuthorizerId")
	if err != nil {
		return "", err
	}
	apiKey, err := decide("ApiKeyRequired")
	if err != nil {
		return "", err
	}
	kind, ok := auth.(string)
	if auth != nil && !ok {
		return "", fmt.Errorf("AuthorizationType %v is not a string", auth)
	}
	switch kind {
	case "", "NONE":
		if authorizerID != nil && authorizerID != "" {
			return "", fmt.Errorf("an AuthorizerId with AuthorizationType %q: API Gateway takes an authorizer only with CUSTOM or COGNITO_USER_POOLS", kind)
		}
	case "AWS_IAM":
		m.denied, m.requires = errMissingToken, "IAM (SigV4) authorization"
	case "CUSTOM", "COGNITO_USER_POOLS":
		m.denied, m.requires = errUnauthorized, "a "+kind+" authorizer"
	default:
		return "", fmt.Errorf("AuthorizationType %q is not known", kind)
	}
	// CloudFormation takes a boolean or its string.
	required := false
	switch v := apiKey.(type) {
	case nil:
	case bool:
		required = v
	case string:
		if required, err = strconv.ParseBool(v); err != nil || (v != "true" && v != "false" && v != "True" && v != "False") {
			return "", fmt.Errorf("ApiKeyRequired %q is not true or false", v)
		}
	default:
		return "", fmt.Errorf("ApiKeyRequired %v is not true or false", apiKey)
	}
	m.apiKey = required
	if m.denied == nil && required {
		m.denied, m.requires = errNoAPIKey, "an API key"
	}
	return refID(p["AuthorizerId"]), nil
}

// checkTokens has a method behind a Cognito user pool authorizer check
// tokens locally: for the app clients of the authorizer's pools, an ID
// token, or an access token where the method names OAuth scopes
// (AuthorizationScopes). An API key the method also requires is still
// refused.
func (l *loader) checkTokens(m *method, authorizer string, p map[string]any) error {
	a := l.t.Resources[authorizer]
	if a.Type != "AWS::ApiGateway::Authorizer" || a.Properties["Type"] != "COGNITO_USER_POOLS" {
		return nil // a Lambda authorizer: refused, as before
	}
	pools := map[string]bool{}
	for _, p := range cfn.Refers(a.Properties["ProviderARNs"]) {
		pools[p] = true
	}
	for _, id := range l.t.OfType("AWS::Cognito::UserPoolClient") {
		if pools[refID(l.t.Resources[id].Properties["UserPoolId"])] {
			client, err := l.res.String(l.t, map[string]any{"Ref": id})
			if err != nil {
				return err
			}
			m.clients = append(m.clients, client)
		}
	}
	if len(m.clients) == 0 {
		return fmt.Errorf("its user pool authorizer %s has no app client in the template: no token could be for it", l.t.Describe(authorizer))
	}
	scopes, err := l.res.Decide(l.t, p["AuthorizationScopes"])
	if err != nil {
		return fmt.Errorf("AuthorizationScopes cannot be decided locally: %w", err)
	}
	list, _ := scopes.([]any)
	for _, s := range list {
		m.scopes = append(m.scopes, fmt.Sprint(s))
	}
	m.denied, m.requires, m.tokens = nil, "", l.tokens
	if m.apiKey {
		m.denied, m.requires = errNoAPIKey, "an API key"
	}
	return nil
}

// statusCode reads an HTTP status of a template: a string (or number) of
// three digits from 100 to 599, as API Gateway requires.
func statusCode(v any) (int, error) {
	s := fmt.Sprint(v)
	n, err := strconv.Atoi(s)
	if err != nil || len(s) != 3 || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code", s)
	}
	return n, nil
}

// integratedFunction is the logical ID of the Lambda function an AWS_PROXY
// integration invokes: the function its URI refers to
// (arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations,
// the ARN being {"Fn::GetAtt": [<function>, "Arn"]}), "" for none.
func integratedFunction(t *cfn.Template, integration map[string]any) string {
	return lambdaFunction(t, integration["Uri"], 0)
}

// lambdaFunction is the function v refers to: itself, or the function of
// an alias or a version it names (an alias names its version, which names
// the function), "" for none.
func lambdaFunction(t *cfn.Template, v any, depth int) string {
	for _, id := range cfn.Refers(v) {
		switch r := t.Resources[id]; r.Type {
		case "AWS::Lambda::Function":
			return id
		case "AWS::Lambda::Alias", "AWS::Lambda::Version":
			if depth < 4 {
				if fn := lambdaFunction(t, r.Properties["FunctionName"], depth+1); fn != "" {
					return fn
				}
			}
		}
	}
	return ""
}

// Functions lists the Lambda functions the template's methods integrate with.
func Functions(t *cfn.Template) []string {
	var ids []string
	for _, id := range t.OfType("AWS::ApiGateway::Method") {
		integ := cfn.Map(t.Resources[id].Properties["Integration"])
		if fn := integratedFunction(t, integ); integ["Type"] == "AWS_PROXY" && fn != "" && !slices.Contains(ids, fn) {
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
