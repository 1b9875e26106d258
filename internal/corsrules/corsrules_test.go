package corsrules

import (
	"net/http"
	"strings"
	"testing"
)

const page = "https://site.example"

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestCheck(t *testing.T) {
	simple := Request{Origin: page, Method: "GET"}
	withCreds := Request{Origin: page, Method: "GET", Credentials: true}
	for _, tc := range []struct {
		name    string
		req     Request
		h       http.Header
		allowed bool
		code    string // a finding expected
	}{
		{"exact origin with Vary", simple, hdr("Access-Control-Allow-Origin", page, "Vary", "Origin"), true, ""},
		{"wildcard without credentials", simple, hdr("Access-Control-Allow-Origin", "*"), true, ""},
		{"wildcard with credentials", withCreds, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "true"), false, "wildcard_with_credentials"},
		{"no header", simple, hdr(), false, "no_allow_origin"},
		{"another origin", simple, hdr("Access-Control-Allow-Origin", "https://other.example"), false, "origin_mismatch"},
		{"trailing slash", simple, hdr("Access-Control-Allow-Origin", page+"/"), false, "origin_mismatch"},
		{"case differences", simple, hdr("Access-Control-Allow-Origin", "https://Site.example"), false, "origin_mismatch"},
		{"default port written out", simple, hdr("Access-Control-Allow-Origin", page+":443"), false, "origin_mismatch"},
		{"port differs", Request{Origin: "http://localhost:8080", Method: "GET"}, hdr("Access-Control-Allow-Origin", "http://localhost:3000"), false, "origin_mismatch"},
		{"scheme differs", simple, hdr("Access-Control-Allow-Origin", "http://site.example"), false, "origin_mismatch"},
		{"null origin page against a real origin", Request{Origin: "null", Method: "GET"}, hdr("Access-Control-Allow-Origin", page), false, "origin_mismatch"},
		{"null echoed for a null origin (allowed, and dangerous)", Request{Origin: "null", Method: "GET"}, hdr("Access-Control-Allow-Origin", "null", "Vary", "Origin"), true, ""},
		{"two header lines", simple, hdr("Access-Control-Allow-Origin", page, "Access-Control-Allow-Origin", page), false, "multiple_allow_origin"},
		{"a list in one header", simple, hdr("Access-Control-Allow-Origin", page+", https://other.example"), false, "multiple_allow_origin"},
		{"echoed without Vary: allowed, with a warning", simple, hdr("Access-Control-Allow-Origin", page), true, "no_vary_origin"},
		{"Vary among other names", simple, hdr("Access-Control-Allow-Origin", page, "Vary", "Accept-Encoding, origin"), true, ""},
		{"credentials allowed", withCreds, hdr("Access-Control-Allow-Origin", page, "Access-Control-Allow-Credentials", "true", "Vary", "Origin"), true, ""},
		{"credentials not allowed", withCreds, hdr("Access-Control-Allow-Origin", page, "Vary", "Origin"), false, "credentials_not_allowed"},
		{"credentials flag sent twice reads true, true", withCreds, hdr("Access-Control-Allow-Origin", page, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Credentials", "true", "Vary", "Origin"), false, "credentials_not_allowed"},
		{"credentials flag twice is ignored without credentials", simple, hdr("Access-Control-Allow-Origin", page, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Credentials", "true", "Vary", "Origin"), true, ""},
		{"credentials flag must be exactly true", withCreds, hdr("Access-Control-Allow-Origin", page, "Access-Control-Allow-Credentials", "True", "Vary", "Origin"), false, "credentials_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.req, tc.h)
			if v.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v (%+v)", v.Allowed, tc.allowed, v.Findings)
			}
			if tc.code != "" && !v.Has(tc.code) {
				t.Errorf("findings %+v lack %s", v.Findings, tc.code)
			}
			if tc.code == "" && len(v.Findings) > 0 {
				t.Errorf("unexpected findings %+v", v.Findings)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	post := Request{Origin: page, Method: "POST", Header: hdr("Content-Type", "application/json")}
	// ok is this project's answer, with some headers replaced.
	ok := func(replace ...string) http.Header {
		h := hdr("Access-Control-Allow-Origin", page, "Vary", "Origin", "Access-Control-Allow-Methods", "GET,POST,OPTIONS",
			"Access-Control-Allow-Headers", "Content-Type", "Access-Control-Max-Age", "600")
		for i := 0; i < len(replace); i += 2 {
			h.Set(replace[i], replace[i+1])
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		req     Request
		status  int
		h       http.Header
		allowed bool
		code    string
	}{
		{"what this project answers", post, 204, ok(), true, ""},
		{"403 from a missing OPTIONS method", post, 403, hdr("Access-Control-Allow-Origin", page), false, "preflight_status"},
		{"method missing", Request{Origin: page, Method: "PUT"}, 204, ok(), false, "method_not_allowed"},
		{"methods compare case-sensitively", Request{Origin: page, Method: "PATCH"}, 204, ok("Access-Control-Allow-Methods", "patch"), false, "method_not_allowed"},
		{"POST needs no listing", Request{Origin: page, Method: "POST", Header: hdr("content-type", "text/plain")}, 200, hdr("Access-Control-Allow-Origin", "*"), true, "no_max_age"},
		{"wildcard methods without credentials", Request{Origin: page, Method: "DELETE"}, 204, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "*", "Access-Control-Max-Age", "60"), true, ""},
		{"header missing", Request{Origin: page, Method: "POST", Header: hdr("Content-Type", "application/json", "X-Api-Key", "v")}, 204, ok(), false, "header_not_allowed"},
		{"header list with spaces and other case", Request{Origin: page, Method: "POST", Header: hdr("x-api-key", "v", "content-type", "application/json")}, 204, ok("Access-Control-Allow-Headers", " X-Api-Key ,  CONTENT-TYPE "), true, ""},
		{"wildcard headers cover Authorization in Chromium only: a warning", Request{Origin: page, Method: "GET", Header: hdr("Authorization", "v")}, 204, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*", "Access-Control-Max-Age", "5"), true, "authorization_wildcard"},
		{"no max age", post, 204, hdr("Access-Control-Allow-Origin", page, "Vary", "Origin", "Access-Control-Allow-Methods", "POST", "Access-Control-Allow-Headers", "content-type"), true, "no_max_age"},
		{"max age beyond the browser cap", post, 204, ok("Access-Control-Max-Age", "86400"), true, "long_max_age"},
		{"methods listed with spaces fail the parse, even for POST", post, 204, ok("Access-Control-Allow-Methods", "GET POST"), false, "bad_allow_methods"},
		{"headers listed with spaces fail the parse", post, 204, ok("Access-Control-Allow-Headers", "Content-Type X-Trace"), false, "bad_allow_headers"},
		{"empty list items are ignored", Request{Origin: page, Method: "DELETE"}, 204, ok("Access-Control-Allow-Methods", "GET,,DELETE,"), true, ""},
		{"list header lines combine", Request{Origin: page, Method: "PUT"}, 204, func() http.Header {
			h := ok()
			h.Del("Access-Control-Allow-Methods")
			h.Add("Access-Control-Allow-Methods", "GET")
			h.Add("Access-Control-Allow-Methods", "PUT")
			return h
		}(), true, ""},
		{"wildcard methods do not count with credentials", Request{Origin: page, Method: "DELETE", Credentials: true}, 204, ok("Access-Control-Allow-Methods", "*", "Access-Control-Allow-Credentials", "true"), false, "method_not_allowed"},
		{"origin not echoed", post, 204, hdr("Access-Control-Allow-Origin", "https://d111.cloudfront.net", "Access-Control-Allow-Methods", "POST", "Access-Control-Allow-Headers", "Content-Type"), false, "origin_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Preflight(tc.req, tc.status, tc.h)
			if v.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v (%+v)", v.Allowed, tc.allowed, v.Findings)
			}
			if tc.code != "" && !v.Has(tc.code) {
				t.Errorf("findings %+v lack %s", v.Findings, tc.code)
			}
		})
	}
}

func TestNeedsPreflight(t *testing.T) {
	for _, tc := range []struct {
		req  Request
		want bool
	}{
		{Request{Method: "GET"}, false},
		{Request{Method: "POST", Header: hdr("Content-Type", "text/plain;charset=UTF-8")}, false},
		{Request{Method: "POST", Header: hdr("Content-Type", "application/json")}, true},
		{Request{Method: "GET", Header: hdr("X-Trace", "v")}, true},
		{Request{Method: "PUT"}, true},
	} {
		if got := NeedsPreflight(tc.req); got != tc.want {
			t.Errorf("NeedsPreflight(%+v) = %v, want %v", tc.req, got, tc.want)
		}
	}
}

// A request is simple only when each header is safelisted by name and value
// (Fetch's "CORS-safelisted request-header").
func TestSafelistedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"Content-Type", "text/plain", true},
		{"Content-Type", "Text/Plain; charset=UTF-8", true},
		{"Content-Type", "multipart/form-data; boundary=abc", true},
		{"Content-Type", "application/x-www-form-urlencoded", true},
		{"Content-Type", "application/json", false},
		{"Content-Type", "text/plain; x=(y)", false},
		{"Content-Type", `text/plain; x="y"`, false},
		{"Content-Type", "text/plain; x=" + strings.Repeat("a", 120), false},
		{"Accept", "application/json", true},
		{"Accept", "a{b}", false},
		{"Accept-Language", "en-GB, fr;q=0.5", true},
		{"Content-Language", "en(gb)", false},
		{"X-Trace", "1", false},
		{"Authorization", "Bearer x", false},
	} {
		req := Request{Method: "POST", Header: hdr(tc.name, tc.value)}
		if got := !NeedsPreflight(req); got != tc.want {
			t.Errorf("%s: %q safelisted = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

// What a browser sends for the method a page names: Fetch upper-cases six
// methods in any case and leaves the rest as they are.
func TestNormalizeMethod(t *testing.T) {
	for in, want := range map[string]string{"put": "PUT", "Delete": "DELETE", "get": "GET", "options": "OPTIONS", "patch": "patch", "PATCH": "PATCH", "purge": "purge"} {
		if got := NormalizeMethod(in); got != want {
			t.Errorf("NormalizeMethod(%q) = %q, want %q", in, got, want)
		}
	}
}

// A Range header of one simple range of bytes is CORS-safelisted: a GET
// with it needs no preflight; a suffix range, a list or white space does.
func TestASimpleRangeIsSafelisted(t *testing.T) {
	for value, simple := range map[string]bool{
		"bytes=0-4": true, "bytes=5-": true, "bytes=7-7": true,
		"bytes=-5": false, "bytes=0-4,6-7": false, "bytes = 0-4": false, "bytes=4-0": false, "items=0-4": false, "bytes=a-4": false, "bytes=0-4 ": false,
	} {
		req := Request{Origin: "https://page.example", Method: "GET", Header: http.Header{"Range": {value}}}
		if NeedsPreflight(req) == simple {
			t.Errorf("Range: %s: preflight %v, want %v", value, !simple, simple)
		}
	}
}
