package site

import (
	"fmt"
	"html"
	"path"
	"regexp"
	"strings"
)

// Name is the site's main page: the distribution's root object.
const Name = "index.html"

// IsPage reports whether a file of the site is a page, which gets the
// policy: every HTML file, not only the main one, or a second page would
// connect wherever CloudFront's header allows.
func IsPage(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".html" || ext == ".htm"
}

// The policy goes after the first of these the page has: <meta charset>,
// which browsers want first, <head>, <html>, the doctype (HTML lets a page
// leave out <head> and <html>). A <meta> policy covers only what the page
// loads after it, so nothing loaded may come before.
var (
	anchors = []*regexp.Regexp{
		regexp.MustCompile(`(?i)<meta\s+charset=[^>]*>`),
		regexp.MustCompile(`(?i)<head(\s[^>]*)?>`),
		regexp.MustCompile(`(?i)<html(\s[^>]*)?>`),
		regexp.MustCompile(`(?i)<!doctype[^>]*>`),
	}
	loads = regexp.MustCompile(`(?i)<(script|link|style|img|iframe|object|embed)\b`)
)

// WithAPI returns page with a policy that lets it connect only to its own
// origin, to apiURL (paths under it included) and to the others (the
// sign-in's token endpoint). A URL may be a CDK token, which the deployment
// replaces with its value.
func WithAPI(page, apiURL string, others ...string) (string, error) {
	at := 0
	for _, a := range anchors {
		if loc := a.FindStringIndex(page); loc != nil {
			at = loc[1]
			break
		}
	}
	if loc := loads.FindStringIndex(page[:at]); loc != nil {
		return "", fmt.Errorf("the page loads %s before its <meta charset>/<head>, where the Content-Security-Policy <meta> goes: the policy would not cover it", page[loc[0]:loc[1]]+">")
	}
	sources := html.EscapeString(strings.Join(append([]string{apiURL}, others...), " "))
	meta := fmt.Sprintf("\n  <meta http-equiv=\"Content-Security-Policy\" content=\"connect-src 'self' %s\">", sources)
	return page[:at] + meta + page[at:], nil
}
