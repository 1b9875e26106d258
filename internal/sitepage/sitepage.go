// Package sitepage writes into the site's page the Content-Security-Policy
// that names the exact API it calls. CloudFront's header policy belongs to
// the site stack, which is deployed before the API exists and can only name
// the region's execute-api hosts; the API stack deploys the page with a
// <meta> policy naming its own URL, and a browser enforces both, so the page
// may connect to that API and nowhere else. make local serves the page the
// same way, with the local API's URL.
package sitepage

import (
	"fmt"
	"html"
	"regexp"
)

// Name is the page the policy goes into: the distribution's root object.
const Name = "index.html"

// head finds where the policy goes: after <meta charset>, which browsers want
// first, or else right after <head>; either way before any script or style.
var (
	charset = regexp.MustCompile(`(?i)<meta\s+charset=[^>]*>`)
	head    = regexp.MustCompile(`(?i)<head(\s[^>]*)?>`)
)

// WithAPI returns page with a policy that lets it connect only to its own
// origin and to apiURL (paths under it included). apiURL may be a CDK token,
// which the deployment replaces with the API's URL.
func WithAPI(page, apiURL string) (string, error) {
	loc := charset.FindStringIndex(page)
	if loc == nil {
		loc = head.FindStringIndex(page)
	}
	if loc == nil {
		return "", fmt.Errorf("%s has no <head>: the page's Content-Security-Policy <meta> goes there", Name)
	}
	meta := fmt.Sprintf("\n  <meta http-equiv=\"Content-Security-Policy\" content=\"connect-src 'self' %s\">", html.EscapeString(apiURL))
	return page[:loc[1]] + meta + page[loc[1]:], nil
}
