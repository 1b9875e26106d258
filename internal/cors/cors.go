// Package cors decides which browser origins may read the API's responses.
//
// It is the one place origins are parsed and compared: the CDK config validates
// allowed origins with ParseOrigin, the predict function and the local API
// emulator answer with Matcher. Origins follow RFC 6454: scheme, host and port,
// compared after lower-casing scheme and host and dropping a default port, which
// is how browsers serialize the Origin header they send.
package cors

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Any is the wildcard origin. It never comes with credentials in this project.
const Any = "*"

// ParseOrigin checks that s is a serialized origin (scheme://host[:port], nothing
// else) or Any, and returns its canonical form.
func ParseOrigin(s string) (string, error) {
	if s == Any {
		return Any, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("scheme must be http or https, like https://example.com")
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("no host: write it as scheme://host[:port]")
	case u.User != nil:
		return "", errors.New("an origin has no user info")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(s, "#"):
		return "", errors.New("an origin has no path, query or fragment (not even a trailing slash)")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", errors.New("no host")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q is not a number in 1..65535", port)
		}
	}
	return serialize(strings.ToLower(u.Scheme), strings.ToLower(host), port), nil
}

func serialize(scheme, host, port string) string {
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// IsLocal reports whether an origin points at a machine of its own network
// rather than a public site: localhost (with or without its trailing dot),
// *.localhost, and loopback, unspecified (0.0.0.0, [::]), private and
// link-local IP literals. A production API must never trust a page there: a
// developer's machine, or anything a victim's network can put on it.
func IsLocal(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

// Matcher answers whether a request's Origin is allowed.
type Matcher struct {
	any     bool
	allowed map[string]bool
}

// NewMatcher builds a matcher from configured origins; an invalid one is an
// error naming it.
func NewMatcher(origins []string) (*Matcher, error) {
	m := &Matcher{allowed: make(map[string]bool, len(origins))}
	for _, o := range origins {
		c, err := ParseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w", o, err)
		}
		if c == Any {
			m.any = true
		}
		m.allowed[c] = true
	}
	return m, nil
}

// ParseList reads a comma-separated list such as the ALLOWED_ORIGINS variable.
// Blank entries are ignored, so an empty list allows no origin.
func ParseList(list string) (*Matcher, error) {
	var origins []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	return NewMatcher(origins)
}

// Allowed reports whether the Origin header value may read responses. The
// opaque origin "null" (sandboxed frames, file: pages) is never allowed, not
// even by the wildcard, because any page can make itself "null".
func (m *Matcher) Allowed(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	if m.allowed[origin] { // the usual case: the browser sent the canonical form
		return origin != Any
	}
	c, err := ParseOrigin(origin)
	if err != nil || c == Any {
		return false
	}
	return m.any || m.allowed[c]
}

// SetHeaders adds the CORS response headers for a request from origin. An
// allowed origin is echoed exactly as the browser sent it (browsers compare
// byte for byte); others get no Access-Control-Allow-Origin, so the browser
// withholds the response. Vary: Origin is always set because the answer
// depends on the Origin header, and caches must not serve one origin's answer
// to another.
func (m *Matcher) SetHeaders(origin string, h map[string]string) {
	h["Vary"] = "Origin"
	if m.Allowed(origin) {
		h["Access-Control-Allow-Origin"] = origin
	}
}
