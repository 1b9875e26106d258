// Package sitesrv serves a static site locally the way CloudFront does: the
// default root object, the response headers of the distribution's
// ResponseHeadersPolicy (read from the synthesized template), a config.json
// it is handed, and the files an app rewrites at deploy time rewritten by
// the function it is handed. It serves only regular files inside the site's
// directory: no listings, no dotfiles, nothing through a symlink that
// leaves it.
package sitesrv

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
)

// DefaultRootObject is served for "/" when the distribution names none.
const DefaultRootObject = "index.html"

// Site is what is served.
type Site struct {
	Dir        string      // the site's files
	RootObject string      // served for "/"; DefaultRootObject when empty
	Headers    http.Header // added to every response
	Config     []byte      // served as /config.json
	// Rewrites says which files (by URL path, e.g. /index.html) Rewrite
	// serves rewritten, as the app's deployment writes them; nil serves
	// every file as it is on disk.
	Rewrites func(name string) bool
	Rewrite  func(content []byte) ([]byte, error)
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

// hidden reports whether name (inside Dir, which os.Root has checked)
// resolves, through symlinks, to a dotfile, a file in a dot directory or a
// test: a link such as x.txt -> .env must not serve what the URL rules out.
func (s *Site) hidden(name string) bool {
	dir, err := filepath.EvalSymlinks(s.Dir)
	if err != nil {
		return true
	}
	real, err := filepath.EvalSymlinks(filepath.Join(s.Dir, filepath.FromSlash(name)))
	if err != nil {
		return true
	}
	rel, err := filepath.Rel(dir, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return true
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return strings.HasSuffix(rel, ".test.js")
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
	name, ok := s.name(r.URL.Path)
	switch {
	case !ok:
		http.NotFound(w, r)
	case name == "/config.json" && s.Config != nil:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(s.Config)
	default:
		s.serveFile(w, r, name)
	}
}

// name is the file a URL path asks for, the root object for "/"; not ok
// for a path no file of the site may have (a backslash, a NUL, a dotfile,
// a test).
func (s *Site) name(urlPath string) (string, bool) {
	if strings.Contains(urlPath, "\\") || strings.Contains(urlPath, "\x00") {
		return "", false
	}
	name := path.Clean("/" + urlPath)
	if name == "/" {
		name = "/" + cmp.Or(s.RootObject, DefaultRootObject)
	}
	return name, !strings.Contains(name, "/.") && !strings.HasSuffix(name, ".test.js")
}

// serveFile serves a regular file inside Dir, opened through os.Root so
// that no path and no symlink leads out of it, rewritten if Rewrites says
// so.
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	root, err := os.OpenRoot(s.Dir)
	if err != nil {
		http.Error(w, "the site directory cannot be opened", http.StatusInternalServerError)
		return
	}
	defer root.Close()
	f, err := root.Open(strings.TrimPrefix(name, "/"))
	if err != nil || s.hidden(name) {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r) // directories: no listings
		return
	}
	if s.Rewrites == nil || !s.Rewrites(name) {
		http.ServeContent(w, r, info.Name(), info.ModTime(), f)
		return
	}
	raw, err := io.ReadAll(f)
	if err == nil {
		raw, err = s.Rewrite(raw)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, info.Name(), info.ModTime(), bytes.NewReader(raw))
}
