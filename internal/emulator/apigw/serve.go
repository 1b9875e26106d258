// Serving: one request through the stage, the resource tree, throttling,
// validation and the integration, or a gateway response.

package apigw

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// incoming is one request being served.
type incoming struct {
	http       *http.Request
	id         string
	body       []byte
	resource   *resource
	pathParams map[string]string
	claims     map[string]any // of a token a user pool authorizer took
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
	errUnauthorized = &gatewayError{"UNAUTHORIZED", 401, "Unauthorized"}
	errNoAPIKey     = &gatewayError{"INVALID_API_KEY", 403, "Forbidden"}
	errTooLarge     = &gatewayError{"REQUEST_TOO_LARGE", 413, "Request Too Long"}
	errBadBody      = &gatewayError{"BAD_REQUEST_BODY", 400, "Invalid request body"}
	errInternal     = &gatewayError{"DEFAULT_5XX", 502, "Internal server error"}
	errTimedOut     = &gatewayError{"INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"}
)

// maxPayload is API Gateway's request size limit.
const maxPayload = 10 << 20

// maxInvokePayload is Lambda's limit on a synchronous invocation's event.
// A body between it and maxPayload passes the gateway and its validator
// (JSON may be all white space) but not the invoke: API Gateway answers 413
// "Request Too Long" (seen on AWS: koki-develop/lgtm-generator#10) and the
// function never runs, so no metric of the function moves.
const maxInvokePayload = 6 << 20

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
	if ge := m.authorize(in); ge != nil {
		a.fail(w, in, ge)
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

// authorize refuses what API Gateway would: a method whose credentials the
// emulator cannot check, or a token its verifier refuses. A good token's
// claims go to the function, as API Gateway's user pool authorizer passes
// them: each a string.
func (m *method) authorize(in *incoming) *gatewayError {
	if m.denied != nil {
		return m.denied
	}
	if m.tokens == nil {
		return nil
	}
	token := in.http.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = t
	}
	claims, err := m.tokens.Verify(token, m.clients, m.scopes)
	if err != nil {
		return errUnauthorized
	}
	in.claims = map[string]any{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			in.claims[k] = s
		} else {
			b, _ := json.Marshal(v)
			in.claims[k] = string(b)
		}
	}
	return nil
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
	status := chosen.status
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
	if len(event) > maxInvokePayload {
		a.fail(w, in, errTooLarge)
		return
	}
	out, err := fn.Invoke(in.http.Context(), event)
	if timedOut(err) {
		a.fail(w, in, errTimedOut)
		return
	}
	var resp events.APIGatewayProxyResponse
	if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode < 200 || resp.StatusCode > 599 {
		// API Gateway answers a failed function, or a malformed proxy
		// response (no HTTP status, or an informational 1xx, which is no
		// final answer: 101 would hang the client, 103 pass as a 200),
		// with a bare 502.
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
