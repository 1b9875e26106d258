package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/cors"
)

// maxBody bounds the decoded request body. A full batch of 100 flowers is about
// 10 KiB, so 64 KiB leaves room for whitespace and nothing for abuse.
const maxBody = 64 << 10

// apiError is a failure the caller can fix; it becomes the error envelope
// {"error":{"code","message"}} with its status.
type apiError struct {
	status  int
	code    string
	message string
	allow   string // the Allow header of a 405
}

func (e *apiError) Error() string { return e.message }

func badInput(err error) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_input", message: err.Error()}
}

type handler struct {
	model    *model.Model
	origins  *cors.Matcher
	log      *slog.Logger
	modelDoc []byte // the GET /model body, rendered once at init
	schema   *requestSchema
}

func newHandler(m *model.Model, origins *cors.Matcher, log *slog.Logger) *handler {
	doc, err := json.Marshal(struct {
		Name     string                           `json:"name"`
		Version  string                           `json:"version"`
		Features [model.NumFeatures]model.Feature `json:"features"`
		Classes  [model.NumClasses]string         `json:"classes"`
		Metrics  model.Metrics                    `json:"metrics"`
	}{m.Name, m.Version, m.Features, m.Classes, m.Metrics})
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	return &handler{model: m, origins: origins, log: log, modelDoc: doc, schema: newRequestSchema(&m.Features)}
}

// Handle serves one API Gateway proxy request. It never returns a Go error:
// every failure is an HTTP answer the caller can read, with CORS headers for an
// allowed origin so the browser shows it instead of a CORS error.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := time.Now()
	resp := events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"Content-Type":           "application/json; charset=utf-8",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
	}
	origin := header(req, "Origin")
	h.origins.SetHeaders(origin, resp.Headers)

	body, n, err := h.route(req)
	if err != nil {
		e, ok := err.(*apiError)
		if !ok {
			e = badInput(err)
		}
		resp.StatusCode = e.status
		if e.allow != "" {
			resp.Headers["Allow"] = e.allow
		}
		body = appendError(nil, e)
	}
	resp.Body = string(body)

	attrs := []slog.Attr{
		slog.String("request_id", requestID(ctx)),
		slog.String("api_request_id", req.RequestContext.RequestID),
		slog.String("method", req.HTTPMethod),
		slog.String("path", req.Path),
		slog.Int("status", resp.StatusCode),
		slog.Int("flowers", n),
		slog.Int("body_bytes", len(req.Body)),
		slog.String("origin", origin),
		slog.Bool("origin_allowed", resp.Headers["Access-Control-Allow-Origin"] != ""),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	return resp, nil
}

// route dispatches on the API Gateway resource (the path outside API Gateway)
// and returns the response body and how many flowers it predicted.
func (h *handler) route(req events.APIGatewayProxyRequest) ([]byte, int, error) {
	resource := req.Resource
	if resource == "" {
		resource = req.Path
	}
	switch resource {
	case "/predict":
		if req.HTTPMethod != http.MethodPost {
			return nil, 0, methodNotAllowed(req.HTTPMethod, resource, "POST, OPTIONS")
		}
		return h.predict(req)
	case "/model":
		if req.HTTPMethod != http.MethodGet {
			return nil, 0, methodNotAllowed(req.HTTPMethod, resource, "GET, OPTIONS")
		}
		return h.modelDoc, 0, nil
	}
	return nil, 0, &apiError{status: http.StatusNotFound, code: "not_found",
		message: fmt.Sprintf("no such resource %q; try POST /predict or GET /model", resource)}
}

func methodNotAllowed(method, resource, allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: allow,
		message: fmt.Sprintf("%s is not allowed on %s; use %s", method, resource, strings.TrimSuffix(allow, ", OPTIONS"))}
}

func (h *handler) predict(req events.APIGatewayProxyRequest) ([]byte, int, error) {
	if err := checkContentType(header(req, "Content-Type")); err != nil {
		return nil, 0, err
	}
	body, err := decodeBody(req)
	if err != nil {
		return nil, 0, err
	}
	flowers, batch, err := parsePredict(body, h.schema)
	if err != nil {
		return nil, 0, badInput(err)
	}
	out := make([]byte, 0, 160*len(flowers)+64)
	if batch {
		out = append(out, `{"predictions":[`...)
		for i, x := range flowers {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '{')
			out = append(h.appendPrediction(out, x), '}')
		}
		out = append(out, "],"...)
	} else {
		out = append(out, '{')
		out = append(h.appendPrediction(out, flowers[0]), ',')
	}
	out = append(out, `"model_version":`...)
	out = strconv.AppendQuote(out, h.model.Version)
	return append(out, '}'), len(flowers), nil
}

// appendPrediction writes the fields "species" and "probabilities" by hand: it
// is the hot path, and encoding/json would allocate a map per flower.
func (h *handler) appendPrediction(out []byte, x [model.NumFeatures]float64) []byte {
	p, best := h.model.Predict(x)
	out = append(out, `"species":`...)
	out = strconv.AppendQuote(out, h.model.Classes[best])
	out = append(out, `,"probabilities":{`...)
	for k, c := range h.model.Classes {
		if k > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendQuote(out, c)
		out = append(out, ':')
		out = strconv.AppendFloat(out, p[k], 'g', -1, 64)
	}
	return append(out, '}')
}

func appendError(out []byte, e *apiError) []byte {
	out = append(out, `{"error":{"code":`...)
	out = strconv.AppendQuote(out, e.code)
	out = append(out, `,"message":`...)
	msg, _ := json.Marshal(e.message) // JSON string escaping, not Go's
	out = append(out, msg...)
	return append(out, "}}"...)
}

func checkContentType(ct string) error {
	if ct == "application/json" {
		return nil
	}
	unsupported := func(format string, arg string) error {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", message: fmt.Sprintf(format, arg)}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported("Content-Type must be application/json, got %q", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported("the body must be UTF-8 JSON, got charset %q", cs)
	}
	return nil
}

var errTooLarge = &apiError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
	message: fmt.Sprintf("request body is larger than %d bytes; send at most %d flowers per request", maxBody, model.MaxBatch)}

func decodeBody(req events.APIGatewayProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		if len(req.Body) > maxBody {
			return nil, errTooLarge
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > maxBody+2 {
		return nil, errTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_body",
			message: "request body is marked base64-encoded but is not valid base64"}
	}
	if len(b) > maxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// header finds a request header case-insensitively: API Gateway passes header
// names as the client sent them.
func header(req events.APIGatewayProxyRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
