// Events: what the integrations see of a request, the Lambda proxy event
// and the mapping templates' $input, $context.

package apigw

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/vtl"
)

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
			Authorizer:       authorizerContext(in.claims),
		},
	}
}

// authorizerContext is requestContext.authorizer of a request a user pool
// authorizer let through: {"claims": {...}}.
func authorizerContext(claims map[string]any) map[string]any {
	if claims == nil {
		return nil
	}
	return map[string]any{"claims": claims}
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
