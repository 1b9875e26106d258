// Package corscheck calls an API the way a browser on a given origin would (the
// preflight, the request itself, and a request that fails) and explains in
// plain words what a browser would refuse and how to fix it. It knows no
// particular API: where an API's CORS is configured, a caller says in
// Options.Fixes (cmd/corscheck says it for this project).
package corscheck

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iris-cors/iris-cors-cdk/internal/corsrules"
)

// DefaultErrorBody is deliberately invalid, to provoke a 4xx.
const DefaultErrorBody = `{"corscheck":"a deliberately invalid body"}`

// Options describe the call to check.
type Options struct {
	URL    string
	Origin string
	Method string
	// Headers the page sets besides Content-Type, as "Name: value" or just
	// "Name" (sent with the value "corscheck").
	Headers     []string
	Body        string // sent with ContentType when not empty
	ContentType string // default application/json
	ErrorBody   string // for the error path; empty skips it
	Credentials bool   // fetch(url, {credentials: "include"})
	// ExpectDenied passes when a browser on Origin can read nothing: the call
	// is refused, and so is a simple GET of SimpleURL, which needs no preflight.
	ExpectDenied bool
	// ExpectUnauthorized passes when the API requires sign-in and says so
	// readably: the call, sent without a token, answers a 401 the page can
	// read (what a deploy checks of an API behind Cognito).
	ExpectUnauthorized bool
	// SimpleURL defaults to URL itself.
	SimpleURL string
	Timeout   time.Duration
	// Fixes word the advice in the terms of the API checked; what is left
	// empty gets generic advice (GenericFixes).
	Fixes Fixes
}

// Fixes say how to change, in a particular API, what a finding points at:
// each is a sentence or two of advice.
type Fixes struct {
	AllowOrigin  string // allow another page's origin
	AllowMethod  string // allow another method in the preflight
	AllowHeader  string // allow another request header in the preflight
	MaxAge       string // set the preflight's Access-Control-Max-Age
	Lists        string // where the preflight's header lists are written
	Preflights   string // where OPTIONS methods come from, and redeploying
	ErrorHeaders string // where gateway (error) responses get their CORS headers
	Token        string // how to get a token to send with -header
}

// GenericFixes is the advice for any API.
var GenericFixes = Fixes{
	AllowOrigin:  "Allow the page's origin in the API's CORS configuration and deploy it.",
	AllowMethod:  "Add the method to the preflight's Access-Control-Allow-Methods in the API's CORS configuration.",
	AllowHeader:  "Add the header to the preflight's Access-Control-Allow-Headers in the API's CORS configuration (header names are case-insensitive).",
	MaxAge:       "Send Access-Control-Max-Age as a number of seconds (browsers cap it at 7200 or less).",
	Lists:        "Write the lists as their items separated by commas (GET, POST, OPTIONS)",
	Preflights:   "Give the resource an OPTIONS method that answers the preflight, and redeploy the stage after changing CORS.",
	ErrorHeaders: "the API's error responses (API Gateway: its gateway responses, DEFAULT_4XX and DEFAULT_5XX)",
	Token:        "Send the signed-in user's token: -header 'Authorization: Bearer <token>'.",
}

// fixes are o's advice, generic where it gives none.
func (o Options) fixes() Fixes {
	f, g := o.Fixes, GenericFixes
	return Fixes{
		AllowOrigin: cmp.Or(f.AllowOrigin, g.AllowOrigin), AllowMethod: cmp.Or(f.AllowMethod, g.AllowMethod),
		AllowHeader: cmp.Or(f.AllowHeader, g.AllowHeader), MaxAge: cmp.Or(f.MaxAge, g.MaxAge), Lists: cmp.Or(f.Lists, g.Lists),
		Preflights: cmp.Or(f.Preflights, g.Preflights), ErrorHeaders: cmp.Or(f.ErrorHeaders, g.ErrorHeaders), Token: cmp.Or(f.Token, g.Token),
	}
}

// Step is one request and its judgement.
type Step struct {
	Name     string            `json:"name"`
	Method   string            `json:"method"`
	URL      string            `json:"url,omitempty"`
	Origin   string            `json:"origin,omitempty"` // the Origin header sent, "null" after a cross-origin redirect
	Status   int               `json:"status,omitempty"`
	Skipped  string            `json:"skipped,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"` // the CORS headers that decided it
	Verdict  corsrules.Verdict `json:"verdict"`
	Explain  []string          `json:"explain,omitempty"`
	Location string            `json:"location,omitempty"` // of a redirect
	// Problem is a failure that is not about CORS: the call itself failed.
	Problem string `json:"problem,omitempty"`
}

// Report is the outcome of a check.
type Report struct {
	URL    string `json:"url"`
	Origin string `json:"origin"`
	Steps  []Step `json:"steps"`
	Denied bool   `json:"denied"` // a browser would refuse the call: the strictest engine's verdict
	// Engines is the call's verdict in each engine of Engines, by name:
	// "allowed" or "refused". A page must work in all of them.
	Engines      map[string]string `json:"engines"`
	ExpectDenied bool              `json:"expectDenied"`
	// ExpectUnauthorized: the call must answer a readable 401.
	ExpectUnauthorized bool `json:"expectUnauthorized,omitempty"`
	// SimpleURL, with ExpectDenied: a simple GET a foreign page could make,
	// and whether the page could read its answer.
	SimpleURL      string `json:"simpleUrl,omitempty"`
	SimpleReadable bool   `json:"simpleReadable,omitempty"`
	Pass           bool   `json:"pass"`
	// Failure says why a call that should work fails, for scripts:
	// "cors" (the browser refuses an answer), "authentication" (a readable
	// 401: the API wants a token, or refused the one sent) or "request"
	// (any other failure of the request itself).
	Failure string `json:"failure,omitempty"`
}

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
}

// Engine is a browser engine corscheck's rules were checked against.
type Engine struct {
	Name    string // as in Report.Engines
	Version string // of the last check
}

// Engines are the engines the rules were last checked against, on the
// project's table of server behaviours (test/e2e; docs/corscheck.md says
// how to re-run it).
var Engines = []Engine{{"chromium", "Chromium 156"}, {"firefox", "Firefox ESR 153"}, {"webkit", "WebKitGTK 2.50"}}

// engineVerdicts is the call's verdict in each engine. The engines agreed
// with each other on every case of the table at the last check (a redirect
// to another origin that allows "null", reported as a Firefox refusal,
// included), so one verdict holds in all; a split found later is decided
// here, with Denied the strictest engine's.
func engineVerdicts(denied bool) map[string]string {
	verdict := "allowed"
	if denied {
		verdict = "refused"
	}
	out := map[string]string{}
	for _, e := range Engines {
		out[e.Name] = verdict
	}
	return out
}

// maxRedirects is Fetch's limit: the 21st redirect is a network error.
const maxRedirects = 20

// Run performs the check. An error means the check itself could not be done
// (bad options, network, TLS): the caller exits 2.
func Run(ctx context.Context, o Options) (*Report, error) {
	header, err := o.complete()
	if err != nil {
		return nil, err
	}
	c := &checker{o: o, client: &http.Client{
		Timeout: o.Timeout,
		// Each hop is judged before the next, as a browser does.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	req := corsrules.Request{Origin: o.Origin, Method: o.Method, Header: header, Credentials: o.Credentials}
	rep := &Report{URL: o.URL, Origin: o.Origin, ExpectDenied: o.ExpectDenied, ExpectUnauthorized: o.ExpectUnauthorized}

	call, err := c.fetch(ctx, "request", req, o.URL, o.Body)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(call.steps, func(s Step) bool { return s.Name == "preflight" }) {
		rep.Steps = append(rep.Steps, Step{Name: "preflight", Method: http.MethodOptions, Skipped: "a simple request: browsers send no preflight", Verdict: corsrules.Verdict{Allowed: true}})
	}
	rep.Steps = append(rep.Steps, call.steps...)
	rep.Denied, rep.Engines = call.denied, engineVerdicts(call.denied)
	errOK, err := c.errorPath(ctx, rep, req, call.denied)
	if err != nil {
		return nil, err
	}
	if o.ExpectDenied {
		return rep, c.simpleGet(ctx, rep)
	}
	last := call.final()
	rep.Pass = !rep.Denied && last.Problem == "" && errOK
	if o.ExpectUnauthorized {
		rep.Pass = !rep.Denied && last.Status == http.StatusUnauthorized
	}
	switch {
	case rep.Pass:
	case rep.Denied:
		rep.Failure = "cors"
	case o.ExpectUnauthorized && last.Status < 400, last.Problem != "" && last.Status == http.StatusUnauthorized:
		rep.Failure = "authentication" // open where it should not be, or closed where it should not be
	case last.Problem != "":
		rep.Failure = "request"
	default:
		rep.Failure = "cors" // the error path is not readable
	}
	return rep, nil
}

// complete checks o and fills in its defaults; it returns the headers the
// page's request sets.
func (o *Options) complete() (http.Header, error) {
	if o.URL == "" || o.Origin == "" {
		return nil, errors.New("both -url and -origin are required")
	}
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("-url %q must start with http:// or https://", o.URL)
	}
	if o.ExpectDenied && o.ExpectUnauthorized {
		return nil, errors.New("-expect-denied and -expect-unauthorized exclude each other")
	}
	// As the browser sends it: fetch(url, {method: "put"}) sends PUT.
	o.Method = corsrules.NormalizeMethod(cmp.Or(o.Method, http.MethodPost))
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	header := http.Header{}
	for _, h := range o.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			value = "corscheck"
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if name == "" {
			return nil, fmt.Errorf("-header %q: want Name or Name: value", h)
		}
		header.Add(name, value)
	}
	if o.Body != "" {
		o.ContentType = cmp.Or(o.ContentType, "application/json")
		header.Set("Content-Type", o.ContentType)
	}
	return header, nil
}

// errorPath sends the invalid body, where there is one to send and the
// request itself got through, and reports whether its error is readable.
func (c *checker) errorPath(ctx context.Context, rep *Report, req corsrules.Request, denied bool) (bool, error) {
	step := Step{Name: "error path", Method: c.o.Method}
	switch {
	case c.o.ErrorBody == "" || c.o.Body == "":
		step.Skipped = "no request body to make invalid"
	case denied:
		step.Skipped = "the request itself is refused"
	default:
		bad, err := c.fetch(ctx, "error path", req, c.o.URL, c.o.ErrorBody)
		if err != nil {
			return false, err
		}
		if last := bad.final(); last.Status < 400 {
			step.Skipped = fmt.Sprintf("the API accepted the invalid body (%d); no error to check", last.Status)
			break
		}
		// Only the error's own answers: its preflight is the one above.
		for _, s := range bad.steps {
			if s.Name == "error path" {
				rep.Steps = append(rep.Steps, s)
			}
		}
		return !bad.denied, nil
	}
	rep.Steps = append(rep.Steps, step)
	return true, nil
}

// simpleGet is -expect-denied's second half: a GET needs no preflight, so
// only its answer's headers keep another origin from reading it.
func (c *checker) simpleGet(ctx context.Context, rep *Report) error {
	rep.SimpleURL = cmp.Or(c.o.SimpleURL, c.o.URL)
	simple := corsrules.Request{Origin: c.o.Origin, Method: http.MethodGet, Credentials: c.o.Credentials}
	get, err := c.fetch(ctx, "simple GET", simple, rep.SimpleURL, "")
	if err != nil {
		return err
	}
	// A readable error (dev's gateway responses echo any origin: an
	// "Unauthorized" or "Missing Authentication Token") shows the page
	// nothing of the API's.
	if last := get.final(); !get.denied && last.Status >= 400 {
		get.steps[len(get.steps)-1].Explain = append(last.Explain, fmt.Sprintf("A page there can read this %d error, not the API's data: gateway errors outside production echo the page's Origin (docs/security.md).", last.Status))
	}
	rep.Steps = append(rep.Steps, get.steps...)
	rep.SimpleReadable = !get.denied && get.final().Status < 400
	rep.Pass = rep.Denied && !rep.SimpleReadable
	return nil
}

type checker struct {
	o      Options
	client *http.Client
}

// call is one fetch() as the browser runs it: its preflights and requests,
// one per hop of a redirect chain.
type call struct {
	steps  []Step
	denied bool
}

func (c *call) final() Step { return c.steps[len(c.steps)-1] }

// fetch follows Fetch's CORS algorithm for one call of fetch(): a preflight
// where one is needed, the CORS check of every response, redirects included,
// and after a redirect to another origin an Origin of "null".
func (c *checker) fetch(ctx context.Context, name string, req corsrules.Request, url, body string) (*call, error) {
	out := &call{}
	method := req.Method
	for hop := 0; ; hop++ {
		if corsrules.NeedsPreflight(req) {
			pre := Step{Name: "preflight", Method: http.MethodOptions, URL: url, Origin: req.Origin}
			resp, text, err := c.send(ctx, http.MethodOptions, url, "", req)
			if err != nil {
				return nil, err
			}
			pre.record(resp)
			pre.Verdict = corsrules.Preflight(req, resp.StatusCode, resp.Header)
			if pre.Location != "" {
				pre.Verdict.Fail("preflight_redirect", "the preflight was redirected (%d to %s); browsers never follow a preflight's redirect", resp.StatusCode, pre.Location)
			}
			pre.explain(c.o, resp.StatusCode, text)
			out.steps = append(out.steps, pre)
			if !pre.Verdict.Allowed {
				out.denied = true
				return out, nil
			}
		}
		step := Step{Name: name, Method: method, URL: url, Origin: req.Origin}
		resp, text, err := c.send(ctx, method, url, body, req)
		if err != nil {
			return nil, err
		}
		step.record(resp)
		step.Verdict = corsrules.Check(req, resp.Header)
		// The error path's 4xx is the point of it, not a problem; nor is
		// the 401 asked for.
		expected := c.o.ExpectUnauthorized && resp.StatusCode == http.StatusUnauthorized
		if name == "request" && step.Location == "" && resp.StatusCode >= 400 && !expected {
			step.Problem = fmt.Sprintf("the request itself failed with %d: %s", resp.StatusCode, strings.TrimSpace(text))
		}
		var next string
		if step.Location != "" && step.Verdict.Allowed {
			next, err = c.redirect(&step, &req, &method, &body, hop)
			if err != nil {
				return nil, err
			}
		}
		step.explain(c.o, resp.StatusCode, text)
		out.steps = append(out.steps, step)
		if !step.Verdict.Allowed {
			out.denied = true
			return out, nil
		}
		if next == "" {
			return out, nil
		}
		url = next
	}
}

// redirect applies Fetch's rules to a redirect the browser may follow and
// returns the next URL: a limit of 20, no credentials in the URL, a "null"
// origin after a hop to another origin, and POST turned into GET where
// browsers do so. A refusal is recorded in the step's verdict.
func (c *checker) redirect(step *Step, req *corsrules.Request, method, body *string, hop int) (string, error) {
	if hop == maxRedirects {
		step.Verdict.Fail("too_many_redirects", "this is redirect number %d; browsers give up after %d", hop+1, maxRedirects)
		return "", nil
	}
	from, err := neturl.Parse(step.URL)
	if err != nil {
		return "", err
	}
	to, err := from.Parse(step.Location)
	if err != nil || (to.Scheme != "http" && to.Scheme != "https") {
		step.Verdict.Fail("bad_redirect", "the redirect's Location %q is not an http(s) URL", step.Location)
		return "", nil
	}
	if to.User != nil && req.Origin != origin(to) {
		step.Verdict.Fail("redirect_credentials", "the redirect's Location %q holds a user name or password, which browsers refuse for a cross-origin request", step.Location)
		return "", nil
	}
	if origin(to) != origin(from) && req.Origin != origin(from) {
		req.Origin = "null"
	}
	if status := step.Status; status == http.StatusSeeOther && *method != http.MethodHead || (status == 301 || status == 302) && *method == http.MethodPost {
		*method, *body = http.MethodGet, ""
		req.Method = http.MethodGet
		req.Header = req.Header.Clone()
		for _, h := range []string{"Content-Type", "Content-Encoding", "Content-Language", "Content-Location"} {
			req.Header.Del(h)
		}
	}
	return to.String(), nil
}

// origin is a URL's serialized origin, as browsers send it.
func origin(u *neturl.URL) string {
	return u.Scheme + "://" + u.Host
}

func (c *checker) send(ctx context.Context, method, url, body string, req corsrules.Request) (*http.Response, string, error) {
	r, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("-url %q: %w", url, err)
	}
	r.Header.Set("Origin", req.Origin)
	if method == http.MethodOptions {
		r.Header.Set("Access-Control-Request-Method", req.Method)
		if names := corsrules.UnsafeHeaders(req); len(names) > 0 {
			r.Header.Set("Access-Control-Request-Headers", strings.Join(names, ","))
		}
	} else {
		for k, vs := range req.Header {
			r.Header[k] = vs
		}
		if body == "" {
			r.Header.Del("Content-Type")
		}
	}
	resp, err := c.client.Do(r)
	if err != nil {
		return nil, "", explainNetwork(url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp, string(b), nil
}

func explainNetwork(url string, err error) error {
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var unknownAuth x509.UnknownAuthorityError
	switch {
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS: the certificate of %s is not valid for this host name (%v); browsers refuse it too: check the URL", url, hostErr)
	case errors.As(err, &unknownAuth), errors.As(err, &certErr):
		return fmt.Errorf("TLS: the certificate of %s is not trusted (%v); browsers refuse it too", url, err)
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return fmt.Errorf("no answer from %s in time: is the API running and the URL right? (%v)", url, err)
	}
	return fmt.Errorf("cannot reach %s: %v", url, err)
}

func (s *Step) record(resp *http.Response) {
	s.Status = resp.StatusCode
	s.Headers = map[string]string{}
	for _, h := range corsHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			s.Headers[h] = strings.Join(v, ", ")
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		s.Location = resp.Header.Get("Location")
	}
}

// explain turns findings into the likely fix, in this project's terms.
func (s *Step) explain(o Options, status int, body string) {
	if s.Location != "" && s.Name != "preflight" && s.Verdict.Allowed {
		s.Explain = append(s.Explain, fmt.Sprintf("The server redirected (%d to %s); the browser follows, judging each answer on the way. Calling the final URL saves the round trip.", status, s.Location))
	}
	if s.Origin == "null" && s.Origin != o.Origin {
		s.Explain = append(s.Explain, "After a redirect to another origin the browser sends Origin: null, so only Access-Control-Allow-Origin: null or * lets the page read this; call the final URL instead.")
	}
	if s.Name == "preflight" && s.Location != "" {
		// Nothing else about this answer matters.
		s.Explain = append(s.Explain, fmt.Sprintf("The preflight was redirected (%d to %s), and browsers never follow a preflight's redirect: call the final URL (check the stage name and a trailing slash).", status, s.Location))
		return
	}
	if slices.ContainsFunc(s.Verdict.Findings, func(f corsrules.Finding) bool { return f.Code == "preflight_status" }) {
		// The browser stops at the status: the headers are beside the point.
		s.Explain = append(s.Explain, preflightStatus(status, body, o.fixes()))
		return
	}
	for _, f := range s.Verdict.Findings {
		if e := s.fix(f, o, status); e != "" && !slices.Contains(s.Explain, e) {
			s.Explain = append(s.Explain, e)
		}
	}
	if s.Name == "request" && status == http.StatusUnauthorized && s.Verdict.Allowed && !o.ExpectUnauthorized {
		s.Explain = append(s.Explain, authentication(o))
	}
}

// fix is a finding's likely fix, in the terms o.Fixes gives; "" for none.
func (s *Step) fix(f corsrules.Finding, o Options, status int) string {
	fixes := o.fixes()
	switch f.Code {
	case "bad_redirect", "redirect_credentials", "too_many_redirects":
		return "Call the final URL: browsers refuse this redirect (check the stage name and a trailing slash)."
	case "bad_allow_methods", "bad_allow_headers":
		return fixes.Lists + ": browsers fail the whole preflight when one item is not a single token."
	case "no_allow_origin":
		switch {
		case s.Name == "preflight":
			return fmt.Sprintf("%s is not an allowed origin. %s", o.Origin, fixes.AllowOrigin)
		case status == http.StatusUnauthorized:
			return "The API wants a token and says so with 401, but without Access-Control-Allow-Origin, so the page sees a CORS error instead of \"sign in\". Give the authorizer's answers CORS headers: API Gateway's UNAUTHORIZED is a DEFAULT_4XX gateway response, which " + fixes.ErrorHeaders + " must cover; a Lambda authorizer's own errors need them too."
		case s.Name == "request":
			return "The preflight passed but the response itself has no Access-Control-Allow-Origin: the function must echo the allowed origins on every response (the same list as the preflight's)."
		default:
			return fmt.Sprintf("The preflight is fine, but this %d response lacks Access-Control-Allow-Origin, so the browser shows a CORS error instead of the real error. Add CORS headers to %s and to the function's error responses.", status, fixes.ErrorHeaders)
		}
	case "origin_mismatch":
		return fmt.Sprintf("The API allows %s, not %s (API Gateway answers its first allowed origin to any origin it does not allow). To allow this page: %s", s.Headers["Access-Control-Allow-Origin"], o.Origin, fixes.AllowOrigin)
	case "multiple_allow_origin":
		return "Only one origin may be sent: echo the request's Origin when it is allowed, instead of listing them all."
	case "method_not_allowed":
		return fmt.Sprintf("%s is not allowed. %s", o.Method, fixes.AllowMethod)
	case "header_not_allowed":
		return fixes.AllowHeader
	case "wildcard_with_credentials":
		return "Either call fetch without credentials: 'include' (this API needs none), or echo the origin and send Access-Control-Allow-Credentials: true."
	case "credentials_not_allowed":
		return "This API allows no credentials; call fetch without credentials: 'include'."
	case "no_vary_origin":
		return "Add Vary: Origin to responses that echo the origin, so caches keep each origin's answer apart."
	case "authorization_wildcard":
		return "Name Authorization in Access-Control-Allow-Headers instead of relying on *."
	case "no_max_age", "long_max_age", "bad_max_age":
		return fixes.MaxAge
	}
	return ""
}

// preflightStatus explains a preflight that did not answer 2xx.
func preflightStatus(status int, body string, fixes Fixes) string {
	switch {
	case status == http.StatusUnauthorized:
		return "The preflight answered 401: OPTIONS requires a token, but a browser never sends one (nor any credentials) on a preflight, so every call fails as CORS. OPTIONS must stay open (API Gateway: AuthorizationType NONE) whatever the API's default authorizer. " + fixes.Preflights
	case status == http.StatusForbidden && strings.Contains(body, "Missing Authentication Token"):
		return "OPTIONS answers 403 Missing Authentication Token: the resource has no OPTIONS method, or the stage was not redeployed after CORS was added. " + fixes.Preflights
	}
	return fmt.Sprintf("The preflight must answer 2xx, it answered %d. Here API Gateway answers OPTIONS itself (a MOCK integration, 204); if a function handles OPTIONS, it must answer 2xx with the CORS headers.", status)
}

// authentication explains a readable 401: no CORS problem, a sign-in one.
func authentication(o Options) string {
	sent := slices.ContainsFunc(o.Headers, func(h string) bool {
		name, _, _ := strings.Cut(h, ":")
		return strings.EqualFold(strings.TrimSpace(name), "Authorization")
	})
	if sent {
		return "Authentication, not CORS: the page can read this 401, and the API refused the token sent (expired, for another app client or user pool, or not an ID token). Sign in again for a fresh one."
	}
	return "Authentication, not CORS: the page can read this 401, and the API wants a token. " + o.fixes().Token
}

// WriteText prints the report for a person. What a server sent (headers,
// a body, a Location) is printed escaped (safe) and never at the start of a
// line, so it can neither drive the terminal nor, in a GitHub Actions log,
// become a workflow command (a line starting with "::").
func (r *Report) WriteText(out io.Writer) {
	w := &escaping{w: out}
	fmt.Fprintf(w, "corscheck %s as a page on %s\n\n", safe(r.URL), safe(r.Origin))
	for _, s := range r.Steps {
		r.writeStep(w, s)
	}
	fmt.Fprintln(w)
	r.writeEngines(w)
	r.writeVerdict(w)
}

// writeEngines writes what each engine does with the call.
func (r *Report) writeEngines(w io.Writer) {
	var each []string
	for _, e := range Engines {
		each = append(each, e.Version+": "+r.Engines[e.Name])
	}
	fmt.Fprintf(w, "engines  %s\n", strings.Join(each, ", "))
}

// writeStep writes a step: its verdict, what it saw, what to fix.
func (r *Report) writeStep(w io.Writer, s Step) {
	label := "PASS"
	switch {
	case s.Skipped != "":
		fmt.Fprintf(w, "%-4s  %-10s %s\n", "SKIP", s.Name, safe(s.Skipped))
		return
	case r.ExpectDenied && !s.Verdict.Allowed:
		// Refused, as -expect-denied wants: no failure, nothing to fix.
		label = "DENY"
	case !s.Verdict.Allowed || s.Problem != "":
		label = "FAIL"
	}
	fmt.Fprintf(w, "%-4s  %-10s %s -> %d\n", label, s.Name, safe(s.Method), s.Status)
	if s.URL != r.URL {
		fmt.Fprintf(w, "      at %s\n", safe(s.URL))
	}
	if s.Origin != r.Origin {
		fmt.Fprintf(w, "      with Origin: %s\n", safe(s.Origin))
	}
	if s.Location != "" {
		fmt.Fprintf(w, "      Location: %s\n", safe(s.Location))
	}
	for _, h := range corsHeaders {
		if v, ok := s.Headers[h]; ok {
			fmt.Fprintf(w, "      %s: %s\n", h, safe(v))
		} else if h == "Access-Control-Allow-Origin" {
			fmt.Fprintf(w, "      %s: (absent)\n", h)
		}
	}
	for _, f := range s.Verdict.Findings {
		kind := "note"
		if f.Fatal {
			kind = "blocked"
		}
		fmt.Fprintf(w, "      %s: %s\n", kind, safe(f.Detail))
	}
	// A body keeps its lines, each behind the margin.
	for i, line := range strings.Split(s.Problem, "\n") {
		if i == 0 && line != "" {
			fmt.Fprintf(w, "      problem: %s\n", safe(line))
		} else if i > 0 {
			fmt.Fprintf(w, "      | %s\n", safe(line))
		}
	}
	if label == "DENY" {
		return
	}
	for _, e := range s.Explain {
		fmt.Fprintf(w, "      fix: %s\n", safe(e))
	}
}

// writeVerdict writes the last line: pass or fail, and why in a phrase.
func (r *Report) writeVerdict(w io.Writer) {
	switch {
	case r.ExpectDenied && r.Pass:
		fmt.Fprintf(w, "PASS: a browser on %s is refused, as expected, and cannot read a simple GET of %s either.\n", safe(r.Origin), safe(r.SimpleURL))
	case r.ExpectDenied && r.Denied:
		fmt.Fprintf(w, "FAIL: the call is refused, but a page on %s can read a simple GET of %s, which needs no preflight: the API answers it with CORS headers for any origin.\n", safe(r.Origin), safe(r.SimpleURL))
	case r.ExpectDenied:
		fmt.Fprintf(w, "FAIL: a browser on %s can call this API, but it should be refused.\n", safe(r.Origin))
	case r.ExpectUnauthorized && r.Pass:
		fmt.Fprintf(w, "PASS: the API requires sign-in, and a browser on %s can read its 401: the page can say \"sign in\", not a CORS error.\n", safe(r.Origin))
	case r.ExpectUnauthorized && r.Failure == "authentication":
		fmt.Fprintf(w, "FAIL: the call answered %d without a token, not 401: the API should require sign-in.\n", r.request().Status)
	case r.Pass:
		fmt.Fprintf(w, "PASS: a browser on %s can call this API and read its answers, errors included.\n", safe(r.Origin))
	case r.Denied:
		fmt.Fprintf(w, "FAIL: a browser on %s is refused; see the fixes above.\n", safe(r.Origin))
	case r.Failure == "authentication":
		fmt.Fprintf(w, "FAIL: authentication, not CORS: a browser on %s may call this API and read its answer, a 401; see the fix above.\n", safe(r.Origin))
	case r.Failure == "request":
		fmt.Fprintf(w, "FAIL: CORS is fine, but the request itself fails.\n")
	default:
		fmt.Fprintf(w, "FAIL: the call works, but its errors reach the page as CORS errors; see the fixes above.\n")
	}
}

// request is the call's last answer: the last step named "request".
func (r *Report) request() Step {
	var last Step
	for _, s := range r.Steps {
		if s.Name == "request" {
			last = s
		}
	}
	return last
}

// safe escapes what could drive a terminal or hide text: control
// characters, DEL and C1 codes, Unicode line separators and bidirectional
// overrides, as \xNN or \uNNNN; and the "##[" of GitHub Actions' older
// workflow commands, which the runner finds anywhere in a line.
func safe(s string) string {
	s = strings.ReplaceAll(s, "##[", `##\x5b`)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escaping is the report's writer: a line that would begin with "::" (a
// GitHub Actions workflow command; the runner trims leading white space
// first) gets a margin. WriteText's own lines never do; this holds even if
// one ever did.
type escaping struct {
	w    io.Writer
	line bool // in the middle of a line
}

func (e *escaping) Write(p []byte) (int, error) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !e.line && bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("::")) {
			if _, err := e.w.Write([]byte("| ")); err != nil {
				return 0, err
			}
		}
		if _, err := e.w.Write(line); err != nil {
			return 0, err
		}
		e.line = line[len(line)-1] != '\n'
	}
	return len(p), nil
}

// WriteJSON prints the report for machines.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
