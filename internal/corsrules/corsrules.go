// Package corsrules decides, as a browser would, whether a cross-origin
// response may be read: the CORS check and the CORS-preflight checks of the
// Fetch standard (fetch.spec.whatwg.org, "CORS check" and "CORS-preflight
// fetch"), plus the advice browsers do not enforce but caches need (Vary).
// It judges header values only; it makes no requests.
package corsrules

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/cors"
)

// Finding is one reason a browser would refuse (Fatal) or a risk it would not
// notice (a warning).
type Finding struct {
	Code   string `json:"code"`
	Fatal  bool   `json:"fatal"`
	Detail string `json:"detail"`
}

// Verdict is the judgement of one response.
type Verdict struct {
	Allowed  bool      `json:"allowed"`
	Findings []Finding `json:"findings,omitempty"`
}

func (v *Verdict) fail(code, format string, args ...any) {
	v.Allowed = false
	v.Findings = append(v.Findings, Finding{Code: code, Fatal: true, Detail: fmt.Sprintf(format, args...)})
}

func (v *Verdict) warn(code, format string, args ...any) {
	v.Findings = append(v.Findings, Finding{Code: code, Detail: fmt.Sprintf(format, args...)})
}

// Has reports whether the verdict holds a finding with the code.
func (v Verdict) Has(code string) bool {
	return slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.Code == code })
}

// Request is what the page asks for.
type Request struct {
	Origin      string   // the page's serialized origin, as the browser sends it
	Method      string   // e.g. POST
	Headers     []string // names of headers the page sets (e.g. content-type)
	ContentType string   // the Content-Type value, which decides whether it is safelisted
	Credentials bool     // fetch(..., {credentials: "include"})
}

// Check is the CORS check of a response (the actual request, or the preflight).
func Check(req Request, h http.Header) Verdict {
	v := Verdict{Allowed: true}
	values := h.Values("Access-Control-Allow-Origin")
	switch {
	case len(values) == 0:
		v.fail("no_allow_origin", "the response has no Access-Control-Allow-Origin header, so no other origin may read it")
		return v
	case len(values) > 1 || strings.Contains(values[0], ","):
		v.fail("multiple_allow_origin", "Access-Control-Allow-Origin holds several values (%q); it must be exactly one origin or *", strings.Join(values, ", "))
		return v
	}
	acao := values[0]
	switch {
	case acao == "*" && req.Credentials:
		v.fail("wildcard_with_credentials", "Access-Control-Allow-Origin is * but the request includes credentials; the server must echo the origin and send Access-Control-Allow-Credentials: true")
		return v
	case acao == "*":
		return v
	case acao != req.Origin:
		v.fail("origin_mismatch", "Access-Control-Allow-Origin is %q but the page's origin is %q%s", acao, req.Origin, mismatchHint(acao, req.Origin))
		return v
	}
	if req.Credentials && h.Get("Access-Control-Allow-Credentials") != "true" {
		v.fail("credentials_not_allowed", "the request includes credentials but Access-Control-Allow-Credentials is %q, not \"true\"", h.Get("Access-Control-Allow-Credentials"))
	}
	if !varies(h, "Origin") {
		v.warn("no_vary_origin", "the response echoes the origin but lacks Vary: Origin, so a shared cache may serve it to another origin, which the browser then refuses")
	}
	return v
}

// mismatchHint explains the near misses browsers reject byte for byte.
func mismatchHint(acao, origin string) string {
	switch {
	case origin == "null":
		return " (the page has an opaque origin: a sandboxed frame or a file: page; serve it over http(s))"
	case strings.TrimSuffix(acao, "/") == origin:
		return " (an origin has no trailing slash)"
	case strings.EqualFold(acao, origin):
		return " (browsers compare byte for byte; send the origin lower-case as the browser does)"
	}
	a, errA := cors.ParseOrigin(acao)
	o, errO := cors.ParseOrigin(origin)
	if errA == nil && errO == nil && a == o {
		return " (the same origin written differently, e.g. with its default port; browsers compare the exact text)"
	}
	if errA == nil && errO == nil && strings.Split(a, "://")[1] == strings.Split(o, "://")[1] {
		return " (the schemes differ: http and https are different origins)"
	}
	return ""
}

func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
				return true
			}
		}
	}
	return false
}

// safelistedMethods need no Access-Control-Allow-Methods entry.
var safelistedMethods = []string{"GET", "HEAD", "POST"}

// NeedsPreflight reports whether a browser sends a preflight before req.
func NeedsPreflight(req Request) bool {
	return !slices.Contains(safelistedMethods, req.Method) || len(unsafeHeaders(req)) > 0
}

// unsafeHeaders lists the request's headers that are not CORS-safelisted, in
// lower case as browsers send them in Access-Control-Request-Headers.
func unsafeHeaders(req Request) []string {
	var out []string
	for _, h := range req.Headers {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "accept", "accept-language", "content-language":
			continue
		case "content-type":
			mt := strings.ToLower(strings.TrimSpace(strings.Split(req.ContentType, ";")[0]))
			if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain" {
				continue
			}
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// Preflight judges the answer to the preflight OPTIONS request for req.
func Preflight(req Request, status int, h http.Header) Verdict {
	v := Verdict{Allowed: true}
	if status < 200 || status > 299 {
		v.fail("preflight_status", "the preflight answered %d; browsers need a 2xx status", status)
	}
	check := Check(req, h)
	v.Findings = append(v.Findings, check.Findings...)
	v.Allowed = v.Allowed && check.Allowed

	methods := splitList(h.Get("Access-Control-Allow-Methods"))
	if !slices.Contains(safelistedMethods, req.Method) && !slices.Contains(methods, req.Method) &&
		(req.Credentials || !slices.Contains(methods, "*")) {
		hint := ""
		if slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, req.Method) }) {
			hint = " (methods compare case-sensitively)"
		}
		v.fail("method_not_allowed", "method %s is not in Access-Control-Allow-Methods %q%s", req.Method, h.Get("Access-Control-Allow-Methods"), hint)
	}
	allowed := splitList(h.Get("Access-Control-Allow-Headers"))
	for _, name := range unsafeHeaders(req) {
		ok := slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) })
		if !ok && slices.Contains(allowed, "*") && !req.Credentials && name != "authorization" {
			ok = true
		}
		if !ok {
			v.fail("header_not_allowed", "request header %s is not in Access-Control-Allow-Headers %q", name, h.Get("Access-Control-Allow-Headers"))
		}
	}
	switch age := h.Get("Access-Control-Max-Age"); {
	case age == "":
		v.warn("no_max_age", "no Access-Control-Max-Age: browsers cache the preflight for 5 s only, so most calls pay an extra round trip")
	default:
		if n, err := strconv.Atoi(age); err != nil || n < 0 {
			v.warn("bad_max_age", "Access-Control-Max-Age %q is not a number of seconds; browsers ignore it", age)
		} else if n > 7200 {
			v.warn("long_max_age", "Access-Control-Max-Age %d is above Chromium's cap of 7200 s; it is cut to 7200", n)
		}
	}
	return v
}

// splitList parses a comma-separated header value, trimming spaces.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
