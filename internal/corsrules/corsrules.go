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

// Fail records a reason a browser refuses.
func (v *Verdict) Fail(code, format string, args ...any) {
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
	Origin      string      // the page's serialized origin, as the browser sends it ("null" once tainted)
	Method      string      // e.g. POST
	Header      http.Header // the headers the page sets; their values decide which are safelisted
	Credentials bool        // fetch(..., {credentials: "include"})
}

// Check is the CORS check of a response (the actual request, or the preflight).
func Check(req Request, h http.Header) Verdict {
	v := Verdict{Allowed: true}
	values := h.Values("Access-Control-Allow-Origin")
	switch {
	case len(values) == 0:
		v.Fail("no_allow_origin", "the response has no Access-Control-Allow-Origin header, so no other origin may read it")
		return v
	case len(values) > 1 || strings.Contains(values[0], ","):
		v.Fail("multiple_allow_origin", "Access-Control-Allow-Origin holds several values (%q); it must be exactly one origin or *", strings.Join(values, ", "))
		return v
	}
	acao := values[0]
	switch {
	case acao == "*" && req.Credentials:
		v.Fail("wildcard_with_credentials", "Access-Control-Allow-Origin is * but the request includes credentials; the server must echo the origin and send Access-Control-Allow-Credentials: true")
		return v
	case acao == "*":
		return v
	case acao != req.Origin:
		v.Fail("origin_mismatch", "Access-Control-Allow-Origin is %q but the page's origin is %q%s", acao, req.Origin, mismatchHint(acao, req.Origin))
		return v
	}
	// Header lines combine with ", ", so two "true" lines read "true, true".
	if acac := combined(h, "Access-Control-Allow-Credentials"); req.Credentials && acac != "true" {
		v.Fail("credentials_not_allowed", "the request includes credentials but Access-Control-Allow-Credentials is %q, not \"true\"", acac)
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

// NormalizeMethod is the method a browser sends for the one a page names
// (Fetch's "normalize a method"): DELETE, GET, HEAD, OPTIONS, POST and PUT
// in any case become upper case; any other stays as it is, so "patch" is
// sent, and compared, as "patch".
func NormalizeMethod(m string) string {
	for _, n := range []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if strings.EqualFold(m, n) {
			return n
		}
	}
	return m
}

// NeedsPreflight reports whether a browser sends a preflight before req.
func NeedsPreflight(req Request) bool {
	return !slices.Contains(safelistedMethods, req.Method) || len(UnsafeHeaders(req)) > 0
}

// UnsafeHeaders lists the request's headers that are not CORS-safelisted, in
// lower case as browsers send them in Access-Control-Request-Headers.
func UnsafeHeaders(req Request) []string {
	var out []string
	for name, values := range req.Header {
		name = strings.ToLower(name)
		if !safelisted(name, strings.Join(values, ", ")) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// safelisted is Fetch's "CORS-safelisted request-header": a few names, each
// with a value no longer than 128 bytes and within what the name allows.
func safelisted(name, value string) bool {
	if len(value) > 128 {
		return false
	}
	switch name {
	case "accept":
		return !strings.ContainsFunc(value, unsafeByte)
	case "accept-language", "content-language":
		return !strings.ContainsFunc(value, func(r rune) bool {
			return !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || strings.ContainsRune(" *,-.;=", r))
		})
	case "range":
		return simpleRange(value)
	case "content-type":
		if strings.ContainsFunc(value, unsafeByte) {
			return false
		}
		essence, _, _ := strings.Cut(value, ";")
		switch strings.ToLower(strings.Trim(essence, " \t")) {
		case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
			return true
		}
	}
	return false
}

// simpleRange is Fetch's "simple range header value": one range of bytes
// with its start, and no white space (bytes=0-4, bytes=5-); no suffix range
// (bytes=-5) and no list.
func simpleRange(value string) bool {
	spec, ok := strings.CutPrefix(value, "bytes=")
	if !ok {
		return false
	}
	start, end, ok := strings.Cut(spec, "-")
	digits := func(s string) bool {
		return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	}
	if !ok || !digits(start) || end != "" && !digits(end) {
		return false
	}
	if end == "" {
		return true
	}
	first, err1 := strconv.ParseUint(start, 10, 64)
	last, err2 := strconv.ParseUint(end, 10, 64)
	return err1 == nil && err2 == nil && first <= last
}

// unsafeByte is Fetch's "CORS-unsafe request-header byte".
func unsafeByte(r rune) bool {
	return r < 0x20 && r != '\t' || r == 0x7f || strings.ContainsRune(`"():<>?@[\]{}`, r)
}

// Preflight judges the answer to the preflight OPTIONS request for req.
func Preflight(req Request, status int, h http.Header) Verdict {
	v := Verdict{Allowed: true}
	if status < 200 || status > 299 {
		v.Fail("preflight_status", "the preflight answered %d; browsers need a 2xx status", status)
	}
	check := Check(req, h)
	v.Findings = append(v.Findings, check.Findings...)
	v.Allowed = v.Allowed && check.Allowed

	// Both lists must parse, whether or not this request needs them.
	methods, errM := parseList(h, "Access-Control-Allow-Methods")
	if errM != nil {
		v.Fail("bad_allow_methods", "Access-Control-Allow-Methods %s; browsers then fail the preflight whatever the method", errM)
	}
	allowed, errH := parseList(h, "Access-Control-Allow-Headers")
	if errH != nil {
		v.Fail("bad_allow_headers", "Access-Control-Allow-Headers %s; browsers then fail the preflight whatever the headers", errH)
	}
	if errM != nil || errH != nil {
		return v
	}
	if !slices.Contains(safelistedMethods, req.Method) && !slices.Contains(methods, req.Method) &&
		(req.Credentials || !slices.Contains(methods, "*")) {
		hint := ""
		switch {
		case slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, req.Method) }):
			hint = " (methods compare case-sensitively)"
		case slices.Contains(methods, "*"):
			hint = " (* does not count when the request includes credentials)"
		}
		v.Fail("method_not_allowed", "method %s is not in Access-Control-Allow-Methods %q%s", req.Method, combined(h, "Access-Control-Allow-Methods"), hint)
	}
	for _, name := range UnsafeHeaders(req) {
		ok := slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) })
		if !ok && slices.Contains(allowed, "*") && !req.Credentials {
			ok = true
			// The Fetch standard keeps Authorization out of the wildcard;
			// Chromium 156, Firefox ESR 153 and WebKitGTK 2.50 all still let
			// it through (the differential tests' get-authorization-wildcard),
			// so this is a warning, not a refusal.
			if name == "authorization" {
				v.warn("authorization_wildcard", "Access-Control-Allow-Headers * does not cover Authorization in the Fetch standard; Chromium, Firefox and WebKit still allow it, but a browser that follows the standard refuses it: list Authorization by name")
			}
		}
		if !ok {
			v.Fail("header_not_allowed", "request header %s is not in Access-Control-Allow-Headers %q", name, combined(h, "Access-Control-Allow-Headers"))
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

// combined is a header's value as Fetch reads it: its lines joined with ", ".
func combined(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// parseList reads Access-Control-Allow-Methods or -Headers as Chromium does:
// comma-separated items, white space around them and empty ones ignored, and
// every item a token (RFC 9110), or the whole header fails.
func parseList(h http.Header, name string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(combined(h, name), ",") {
		item = strings.Trim(item, " \t")
		if item == "" {
			continue
		}
		if i := strings.IndexFunc(item, func(r rune) bool { return !isTokenChar(r) }); i >= 0 {
			return nil, fmt.Errorf("%q is not a comma-separated list: %q holds %q", combined(h, name), item, item[i:i+1])
		}
		out = append(out, item)
	}
	return out, nil
}

func isTokenChar(r rune) bool {
	return r < 0x7f && r > 0x20 && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}
