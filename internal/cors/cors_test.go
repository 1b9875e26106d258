package cors

import (
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "https://example.com", want: "https://example.com"},
		{in: "HTTPS://Example.COM", want: "https://example.com"},
		{in: "https://example.com:443", want: "https://example.com"},
		{in: "http://localhost:80", want: "http://localhost"},
		{in: "http://localhost:8080", want: "http://localhost:8080"},
		{in: "https://example.com:8443", want: "https://example.com:8443"},
		{in: "http://[::1]:3000", want: "http://[::1]:3000"},
		{in: "http://[::1]", want: "http://[::1]"},
		{in: "*", want: "*"},
		{in: "https://example.com/", err: "no path"},
		{in: "https://example.com/app", err: "no path"},
		{in: "https://example.com?x=1", err: "no path, query"},
		{in: "https://example.com#top", err: "fragment"},
		{in: "https://user@example.com", err: "user info"},
		{in: "ftp://example.com", err: "scheme must be http or https"},
		{in: "example.com", err: "scheme must be http or https"},
		{in: "https://", err: "no host"},
		{in: "https://example.com:0", err: "port"},
		{in: "https://example.com:99999", err: "port"},
		{in: "", err: "scheme"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOrigin(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseOrigin(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMatcher(t *testing.T) {
	m, err := ParseList(" https://d111.cloudfront.net , http://localhost:8080,")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://d111.cloudfront.net", true},
		{"http://localhost:8080", true},
		{"HTTP://LOCALHOST:8080", true}, // RFC 6454: scheme and host compare case-insensitively
		{"https://d111.cloudfront.net:443", true},
		{"http://localhost:8081", false},  // ports differ
		{"https://localhost:8080", false}, // schemes differ
		{"http://127.0.0.1:8080", false},  // same machine, different origin
		{"https://evil.example", false},
		{"https://d111.cloudfront.net.evil.example", false},
		{"https://d111.cloudfront.net/", false},
		{"null", false},
		{"", false},
		{"*", false},
	} {
		if got := m.Allowed(tc.origin); got != tc.want {
			t.Errorf("Allowed(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
}

func TestWildcardNeverAllowsNull(t *testing.T) {
	m, err := NewMatcher([]string{Any})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Allowed("https://anything.example") {
		t.Error("wildcard rejected an origin")
	}
	if m.Allowed("null") {
		t.Error(`wildcard allowed "null"`)
	}
}

func TestSetHeaders(t *testing.T) {
	m, _ := NewMatcher([]string{"http://localhost:8080"})
	h := map[string]string{}
	m.SetHeaders("http://localhost:8080", h)
	if h["Access-Control-Allow-Origin"] != "http://localhost:8080" || h["Vary"] != "Origin" {
		t.Errorf("allowed origin: headers = %v", h)
	}
	h = map[string]string{}
	m.SetHeaders("https://evil.example", h)
	if _, ok := h["Access-Control-Allow-Origin"]; ok || h["Vary"] != "Origin" {
		t.Errorf("other origin: headers = %v, want only Vary", h)
	}
}

func TestNewMatcherNamesTheBadOrigin(t *testing.T) {
	_, err := ParseList("https://ok.example,https://bad.example/path")
	if err == nil || !strings.Contains(err.Error(), `"https://bad.example/path"`) {
		t.Errorf("error = %v, want it to name the bad origin", err)
	}
}

func TestIsLocal(t *testing.T) {
	for o, want := range map[string]bool{
		"http://localhost:8080":     true,
		"http://app.localhost":      true,
		"http://127.0.0.1:3000":     true,
		"http://[::1]:3000":         true,
		"https://d1.cloudfront.net": false,
		"https://localhost.example": false,
		"https://localhost.":        true,
		"https://app.localhost.":    true,
		"https://0.0.0.0":           true,
		"https://[::]":              true,
		"https://127.1.2.3":         true,
		"https://10.0.0.5":          true,
		"https://172.16.0.1":        true,
		"https://192.168.1.2":       true,
		"https://169.254.169.254":   true,
		"https://[fd00::1]":         true,
		"https://[fe80::1]":         true,
		"https://8.8.8.8":           false,
		"https://[2001:db8::1]":     false,
	} {
		if got := IsLocal(o); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", o, got, want)
		}
	}
}
