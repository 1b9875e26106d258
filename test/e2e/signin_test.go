package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
)

// dev with "auth": "cognito", on the laptop: signed out, the page shows
// the button, and the API's 401 is readable (CORS on the authorizer's
// answer: a fetch gets a status, not a TypeError) and worded as the
// sign-in's; after the local sign-in (the authorization code flow with
// PKCE, through the page's strict CSP) the token reaches the API and the
// prediction shows.
func signingInGetsAPrediction(t *testing.T, browser context.Context) {
	e := &browserEnv{local: localtest.Start(t, localtest.Options{SiteAddr: "localhost:0", AllowSite: true, SignIn: true}), browser: browser}
	if e.local.SignInURL == "" {
		t.Fatal("no local sign-in: the templates have no user pool")
	}
	p := open(t, e, e.local.SiteURL)
	p.do(chromedp.WaitVisible(`body[data-ready="true"]`), chromedp.WaitVisible(`#sign-in`))
	if got := p.text(`#account-state`); got != "Not signed in" {
		t.Errorf("signed out, the page says %q", got)
	}
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`fetch(`+jsString(e.local.APIURL+"predict")+`, {method: "POST", headers: {"Content-Type": "application/json"}, body: `+
		jsString(served(t).ExampleBody())+`}).then(r => String(r.status), e => "threw " + e.name)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if raw != "401" {
		t.Errorf("a fetch without a token: %s, want a readable 401 (CORS on the authorizer's answer)", raw)
	}
	p.predictExample()
	if kind, text := p.diagnosis(); kind != "auth" || !strings.Contains(text, "401") || !strings.Contains(text, "not a CORS error") {
		t.Errorf("signed out, a prediction: %s %q; want the sign-in's 401, said to be no CORS error", kind, text)
	}

	p.do(chromedp.Click(`#sign-in`), chromedp.WaitVisible(`#sign-out`))
	if got := p.text(`#account-state`); !strings.Contains(got, "dev@example.com") {
		t.Errorf("after the sign-in the page says %q", got)
	}
	if url := p.eval(`location.href`); strings.Contains(url, "code=") {
		t.Errorf("the code stays in the address bar: %s", url)
	}
	if left := p.eval(`String(sessionStorage.length)`); left != "0" {
		t.Errorf("%s items left in sessionStorage after the exchange (the PKCE verifier must go)", left)
	}
	label := p.predictExample()
	p.do(chromedp.WaitVisible(`#result-body`))
	checkPredicted(t, served(t), p.text(`#predicted`), label, p.eval(`String(document.querySelectorAll("#bars li").length)`))
	// The two 401s asked for above are logged as failed loads; nothing else.
	for _, e := range p.consoleErrors() {
		if !strings.Contains(e, "status of 401") {
			t.Errorf("console error (a CSP violation would be one): %q", e)
		}
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}
