// Package sitesrv serves a static site locally the way CloudFront does: the
// default root object, and the response headers of the distribution's
// ResponseHeadersPolicy (read from the synthesized template). What it serves
// is any fs.FS, as http.FileServerFS takes one: it knows nothing of what is
// in it (the app decides which files are published, and what its config
// says). No listings.
package sitesrv

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

// DefaultRootObject is served for "/" when the distribution names none.
const DefaultRootObject = "index.html"

// Site is what is served.
type Site struct {
	FS         fs.FS       // the files; one it does not have is a 404
	RootObject string      // served for "/"; DefaultRootObject when empty
	Headers    http.Header // added to every response
}

// FromTemplate reads the headers and default root object of the template's
// CloudFront distribution.
func FromTemplate(t *cfn.Template, res *cfn.Resolver) (http.Header, string, error) {
	h := http.Header{}
	root := DefaultRootObject
	for _, id := range t.OfType("AWS::CloudFront::Distribution") {
		if r, _ := res.String(t, cfn.Dig(t.Resources[id].Properties, "DistributionConfig", "DefaultRootObject")); r != "" {
			root = r
		}
	}
	policies := t.OfType("AWS::CloudFront::ResponseHeadersPolicy")
	if len(policies) != 1 {
		return nil, "", fmt.Errorf("%s: %d CloudFront response headers policies, want 1", t.Path, len(policies))
	}
	raw, err := res.Resolve(t, cfn.Dig(t.Resources[policies[0]].Properties, "ResponseHeadersPolicyConfig"))
	if err != nil {
		return nil, "", err
	}
	sec := cfn.Dig(raw, "SecurityHeadersConfig")
	if v, ok := cfn.Dig(sec, "ContentSecurityPolicy", "ContentSecurityPolicy").(string); ok {
		h.Set("Content-Security-Policy", v)
	}
	if cfn.Dig(sec, "ContentTypeOptions") != nil {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	if v, ok := cfn.Dig(sec, "FrameOptions", "FrameOption").(string); ok {
		h.Set("X-Frame-Options", v)
	}
	if v, ok := cfn.Dig(sec, "ReferrerPolicy", "ReferrerPolicy").(string); ok {
		h.Set("Referrer-Policy", v)
	}
	if hsts := cfn.Dig(sec, "StrictTransportSecurity"); hsts != nil {
		age, _ := cfn.Dig(hsts, "AccessControlMaxAgeSec").(float64)
		v := fmt.Sprintf("max-age=%d", int64(age))
		if cfn.Dig(hsts, "IncludeSubdomains") == true {
			v += "; includeSubDomains"
		}
		if cfn.Dig(hsts, "Preload") == true {
			v += "; preload"
		}
		h.Set("Strict-Transport-Security", v)
	}
	items, _ := cfn.Dig(raw, "CustomHeadersConfig", "Items").([]any)
	for _, it := range items {
		name, _ := cfn.Dig(it, "Header").(string)
		value, _ := cfn.Dig(it, "Value").(string)
		h.Set(name, value)
	}
	return h, root, nil
}

// AddConnectSrc lets the page connect to origin too: locally the API is on
// localhost, not on execute-api.
func AddConnectSrc(csp, origin string) string {
	directives := strings.Split(csp, ";")
	for i, d := range directives {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "connect-src" {
			directives[i] = strings.TrimRight(d, " ") + " " + origin
			return strings.Join(directives, ";")
		}
	}
	return strings.TrimRight(csp, "; ") + "; connect-src " + origin
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, vs := range s.Headers {
		w.Header()[k] = vs
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if strings.Contains(r.URL.Path, "\\") || strings.Contains(r.URL.Path, "\x00") {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = cmp.Or(s.RootObject, DefaultRootObject)
	}
	f, err := s.FS.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r) // directories: no listings
		return
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		raw, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(raw)
	}
	// A local server's files change under it (a save, a reload naming new
	// ports): the browser revalidates each time.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, info.Name(), info.ModTime(), content)
}
