package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/iris-cors/iris-cors-cdk/internal/apierror"
	"github.com/iris-cors/iris-cors-cdk/internal/cors"
	"github.com/iris-cors/iris-cors-cdk/internal/emf"
	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/openapi"
)

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
	model   *model.Model
	origins *cors.Matcher
	log     *slog.Logger
	metrics *emf.Writer
	// The GET /model and GET /openapi.json bodies, rendered once at init.
	modelDoc, openapiDoc []byte
	schema               *requestSchema
	maxBody              int // follows from the batch limit and the model's features
}

// newHandler serves m; issuer is the user pool's when the API requires
// sign-in (SIGN_IN_ISSUER), for /openapi.json.
func newHandler(m *model.Model, origins *cors.Matcher, log *slog.Logger, met *emf.Writer, issuer string) (*handler, error) {
	doc, err := json.Marshal(m.Public())
	if err != nil {
		return nil, fmt.Errorf("GET /model: %w", err)
	}
	api, err := openapi.Document(m, issuer)
	if err != nil {
		return nil, fmt.Errorf("GET /openapi.json: %w", err)
	}
	// The model's version is in every request's log line: the handler
	// renders it once.
	log = log.With(slog.String("model_version", m.Version))
	return &handler{model: m, origins: origins, log: log, metrics: met, modelDoc: doc, openapiDoc: api, schema: newRequestSchema(m), maxBody: m.MaxBodyBytes()}, nil
}

// Handle serves one API Gateway proxy request. It never returns a Go error:
// every failure is an HTTP answer the caller can read, with CORS headers for an
// allowed origin so the browser shows it instead of a CORS error.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := time.Now()
	resp := events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		// Room for the CORS headers too: growing the map was 5% of a
		// request.
		Headers: make(map[string]string, 8),
	}
	resp.Headers["Content-Type"] = "application/json; charset=utf-8"
	resp.Headers["Cache-Control"] = "no-store"
	resp.Headers["X-Content-Type-Options"] = "nosniff"
	origin := header(req, "Origin")
	h.origins.SetHeaders(origin, resp.Headers)

	body, n, err := h.route(req)
	if err != nil {
		var e *apiError
		if !errors.As(err, &e) {
			e = badInput(err)
		}
		h.metrics.Rejected(e.code)
		resp.StatusCode = e.status
		if e.allow != "" {
			resp.Headers["Allow"] = e.allow
		}
		body = apierror.JSON(e.code, e.message)
	}
	resp.Body = string(body)

	attrs := []slog.Attr{
		slog.String("request_id", requestID(ctx)),
		slog.String("api_request_id", req.RequestContext.RequestID),
		slog.String("method", model.Bounded(req.HTTPMethod)),
		slog.String("path", model.Bounded(req.Path)),
		slog.Int("status", resp.StatusCode),
		slog.Int("rows", n),
		slog.Int("body_bytes", len(req.Body)),
		slog.String("origin", model.Bounded(origin)),
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
// and returns the response body and how many rows it predicted.
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
	case "/model", "/openapi.json":
		if req.HTTPMethod != http.MethodGet {
			return nil, 0, methodNotAllowed(req.HTTPMethod, resource, "GET, OPTIONS")
		}
		if resource == "/model" {
			return h.modelDoc, 0, nil
		}
		return h.openapiDoc, 0, nil
	}
	return nil, 0, &apiError{status: http.StatusNotFound, code: "not_found",
		message: fmt.Sprintf("no such resource %q; try POST /predict, GET /model or GET /openapi.json", model.Bounded(resource))}
}

func methodNotAllowed(method, resource, allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: allow,
		message: fmt.Sprintf("%s is not allowed on %s; use %s", model.Bounded(method), resource, strings.TrimSuffix(allow, ", OPTIONS"))}
}

func (h *handler) predict(req events.APIGatewayProxyRequest) ([]byte, int, error) {
	if err := checkContentType(header(req, "Content-Type")); err != nil {
		return nil, 0, err
	}
	body, err := h.decodeBody(req)
	if err != nil {
		return nil, 0, err
	}
	rows, batch, err := h.schema.parse(body)
	if err != nil {
		return nil, 0, badInput(err)
	}
	w := writers.Get().(*writer)
	defer writers.Put(w)
	w.reset(len(h.model.Classes))
	h.encode(w, rows, batch, make([]float64, h.model.Outputs()))
	if h.model.Task == model.Regression {
		h.metrics.Values(w.values)
	} else {
		h.metrics.Classes(h.model.Classes, w.counts)
	}
	return bytes.Clone(w.buf.Bytes()), len(rows), nil
}

// writer is a reusable encoder: a response is a few hundred bytes, and a new
// encoder and buffer per request were a third of the handler's allocations.
// The encoder skips duplicate-name checks: the names come from the model,
// which model.Parse checked.
type writer struct {
	buf bytes.Buffer
	enc *jsontext.Encoder
	// What the rows got, for the metrics: rows per class, or a
	// regression's values.
	counts []int
	values []float64
}

func (w *writer) reset(classes int) {
	w.buf.Reset()
	w.enc.Reset(&w.buf, jsontext.AllowDuplicateNames(true))
	w.counts = slices.Grow(w.counts[:0], classes)[:classes]
	clear(w.counts)
	w.values = w.values[:0]
}

var writers = sync.Pool{New: func() any { w := &writer{}; w.enc = jsontext.NewEncoder(&w.buf); return w }}

// encode writes {"<target>":..., "probabilities":{...}, "model_version":...}
// for one row of a classifier ({"<target>": 151.3, ...} of a regression),
// or {"predictions":[...], "model_version":...} for a batch. The prediction
// goes under the model's target name ("species" for Iris).
func (h *handler) encode(w *writer, rows [][]float64, batch bool, p []float64) {
	write := func(toks ...jsontext.Token) {
		for _, t := range toks {
			w.enc.WriteToken(t) // into a bytes.Buffer, from valid tokens: cannot fail
		}
	}
	prediction := func(x []float64) {
		best := h.model.Predict(x, p)
		if h.model.Task == model.Regression {
			w.values = append(w.values, p[0])
			write(jsontext.String(h.model.Target), jsontext.Float(p[0]))
			return
		}
		w.counts[best]++
		write(jsontext.String(h.model.Target), jsontext.String(h.model.Classes[best]), jsontext.String("probabilities"), jsontext.BeginObject)
		for k, c := range h.model.Classes {
			write(jsontext.String(c), jsontext.Float(p[k]))
		}
		write(jsontext.EndObject)
	}
	write(jsontext.BeginObject)
	if batch {
		write(jsontext.String("predictions"), jsontext.BeginArray)
		for _, x := range rows {
			write(jsontext.BeginObject)
			prediction(x)
			write(jsontext.EndObject)
		}
		write(jsontext.EndArray)
	} else {
		prediction(rows[0])
	}
	write(jsontext.String("model_version"), jsontext.String(h.model.Version), jsontext.EndObject)
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
		return unsupported("Content-Type must be application/json, got %q", model.Bounded(ct))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported("the body must be UTF-8 JSON, got charset %q", model.Bounded(cs))
	}
	return nil
}

func (h *handler) tooLarge() error {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
		message: fmt.Sprintf("request body is larger than %d bytes; send at most %d rows per request", h.maxBody, model.MaxBatch)}
}

func (h *handler) decodeBody(req events.APIGatewayProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		if len(req.Body) > h.maxBody {
			return nil, h.tooLarge()
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > h.maxBody+2 {
		return nil, h.tooLarge()
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_body",
			message: "request body is marked base64-encoded but is not valid base64"}
	}
	if len(b) > h.maxBody {
		return nil, h.tooLarge()
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
