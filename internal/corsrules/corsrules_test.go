package corsrules

import (
	"net/http"
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
	post := Request{Origin: page, Method: "POST", Headers: []string{"Content-Type"}, ContentType: "application/json"}
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
		{"POST needs no listing", Request{Origin: page, Method: "POST", Headers: []string{"content-type"}, ContentType: "text/plain"}, 200, hdr("Access-Control-Allow-Origin", "*"), true, "no_max_age"},
		{"wildcard methods without credentials", Request{Origin: page, Method: "DELETE"}, 204, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "*", "Access-Control-Max-Age", "60"), true, ""},
		{"header missing", Request{Origin: page, Method: "POST", Headers: []string{"Content-Type", "X-Api-Key"}, ContentType: "application/json"}, 204, ok(), false, "header_not_allowed"},
		{"header list with spaces and other case", Request{Origin: page, Method: "POST", Headers: []string{"x-api-key", "content-type"}, ContentType: "application/json"}, 204, ok("Access-Control-Allow-Headers", " X-Api-Key ,  CONTENT-TYPE "), true, ""},
		{"wildcard headers never cover Authorization", Request{Origin: page, Method: "GET", Headers: []string{"Authorization"}}, 204, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*", "Access-Control-Max-Age", "5"), false, "header_not_allowed"},
		{"no max age", post, 204, hdr("Access-Control-Allow-Origin", page, "Vary", "Origin", "Access-Control-Allow-Methods", "POST", "Access-Control-Allow-Headers", "content-type"), true, "no_max_age"},
		{"max age beyond the browser cap", post, 204, ok("Access-Control-Max-Age", "86400"), true, "long_max_age"},
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
		{Request{Method: "POST", Headers: []string{"Content-Type"}, ContentType: "text/plain;charset=UTF-8"}, false},
		{Request{Method: "POST", Headers: []string{"Content-Type"}, ContentType: "application/json"}, true},
		{Request{Method: "GET", Headers: []string{"X-Trace"}}, true},
		{Request{Method: "PUT"}, true},
	} {
		if got := NeedsPreflight(tc.req); got != tc.want {
			t.Errorf("NeedsPreflight(%+v) = %v, want %v", tc.req, got, tc.want)
		}
	}
}
