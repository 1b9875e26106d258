// Package corscheck calls an API the way a browser on a given origin would (the
// preflight, the request itself, and a request that fails) and explains in
// plain words what a browser would refuse and how to fix it in this project.
package corscheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/corsrules"
)

// DefaultBody is a valid request for this project's POST /predict.
const DefaultBody = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`

// DefaultErrorBody is deliberately invalid, to provoke a 4xx.
const DefaultErrorBody = `{"corscheck":"a deliberately invalid body"}`

// Options describe the call to check.
type Options struct {
	URL          string
	Origin       string
	Method       string
	Headers      []string // extra request header names the page sets
	Body         string   // sent as application/json when not empty
	ErrorBody    string   // for the error path; empty skips it
	ExpectDenied bool     // pass when a browser would refuse the call
	Timeout      time.Duration
}

// Step is one request and its judgement.
type Step struct {
	Name     string            `json:"name"`
	Method   string            `json:"method"`
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
	URL          string `json:"url"`
	Origin       string `json:"origin"`
	Steps        []Step `json:"steps"`
	Denied       bool   `json:"denied"` // a browser would refuse the call
	ExpectDenied bool   `json:"expectDenied"`
	Pass         bool   `json:"pass"`
}

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
}

// Run performs the check. An error means the check itself could not be done
// (bad options, network, TLS): the caller exits 2.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.URL == "" || o.Origin == "" {
		return nil, errors.New("both -url and -origin are required")
	}
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("-url %q must start with http:// or https://", o.URL)
	}
	if o.Method == "" {
		o.Method = http.MethodPost
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	client := &http.Client{
		Timeout: o.Timeout,
		// Redirects are reported, not followed: a browser fails a preflight
		// that redirects, and a silent follow would hide the real URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req := corsrules.Request{Origin: o.Origin, Method: o.Method, Headers: o.Headers}
	if o.Body != "" {
		req.Headers = append(req.Headers, "Content-Type")
		req.ContentType = "application/json"
	}
	rep := &Report{URL: o.URL, Origin: o.Origin, ExpectDenied: o.ExpectDenied}

	pre := Step{Name: "preflight", Method: http.MethodOptions}
	if corsrules.NeedsPreflight(req) {
		resp, body, err := send(ctx, client, o, http.MethodOptions, "", req)
		if err != nil {
			return nil, err
		}
		pre.record(resp)
		pre.Verdict = corsrules.Preflight(req, resp.StatusCode, resp.Header)
		pre.explain(o, resp.StatusCode, body)
		rep.Denied = !pre.Verdict.Allowed
	} else {
		pre.Skipped = "a simple request: browsers send no preflight"
		pre.Verdict.Allowed = true
	}
	rep.Steps = append(rep.Steps, pre)

	actual := Step{Name: "request", Method: o.Method}
	resp, body, err := send(ctx, client, o, o.Method, o.Body, req)
	if err != nil {
		return nil, err
	}
	actual.record(resp)
	actual.Verdict = corsrules.Check(req, resp.Header)
	actual.explain(o, resp.StatusCode, body)
	if resp.StatusCode >= 400 {
		actual.Problem = fmt.Sprintf("the request itself failed with %d: %s", resp.StatusCode, strings.TrimSpace(body))
	}
	rep.Denied = rep.Denied || !actual.Verdict.Allowed
	rep.Steps = append(rep.Steps, actual)

	errStep := Step{Name: "error path", Method: o.Method}
	switch {
	case o.ErrorBody == "" || o.Body == "":
		errStep.Skipped = "no request body to make invalid"
	default:
		resp, body, err := send(ctx, client, o, o.Method, o.ErrorBody, req)
		if err != nil {
			return nil, err
		}
		errStep.record(resp)
		if resp.StatusCode < 400 {
			errStep.Skipped = fmt.Sprintf("the API accepted the invalid body (%d); no error to check", resp.StatusCode)
			break
		}
		errStep.Verdict = corsrules.Check(req, resp.Header)
		errStep.explain(o, resp.StatusCode, body)
	}
	rep.Steps = append(rep.Steps, errStep)

	if o.ExpectDenied {
		rep.Pass = rep.Denied
	} else {
		rep.Pass = !rep.Denied && actual.Problem == "" && (errStep.Skipped != "" || errStep.Verdict.Allowed)
	}
	return rep, nil
}

func send(ctx context.Context, client *http.Client, o Options, method, body string, req corsrules.Request) (*http.Response, string, error) {
	r, err := http.NewRequestWithContext(ctx, method, o.URL, strings.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("-url %q: %w", o.URL, err)
	}
	r.Header.Set("Origin", o.Origin)
	if method == http.MethodOptions {
		r.Header.Set("Access-Control-Request-Method", req.Method)
		var names []string
		for _, h := range req.Headers {
			names = append(names, strings.ToLower(h))
		}
		slices.Sort(names)
		if len(names) > 0 {
			r.Header.Set("Access-Control-Request-Headers", strings.Join(slices.Compact(names), ","))
		}
	} else {
		for _, h := range o.Headers {
			r.Header.Set(h, "corscheck")
		}
		if body != "" {
			r.Header.Set("Content-Type", req.ContentType)
		}
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, "", explainNetwork(o.URL, err)
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
	if s.Location != "" {
		s.Explain = append(s.Explain, fmt.Sprintf("The server redirected (%d to %s). Browsers do not follow redirects for preflights and refuse a CORS response without the headers; call the final URL (check the stage name and a trailing slash).", status, s.Location))
	}
	for _, f := range s.Verdict.Findings {
		var e string
		switch f.Code {
		case "preflight_status":
			if status == http.StatusForbidden && strings.Contains(body, "Missing Authentication Token") {
				e = "OPTIONS answers 403 Missing Authentication Token: the resource has no OPTIONS method, or the stage was not redeployed after CORS was added. Here every resource gets OPTIONS from the RestApi's DefaultCorsPreflightOptions (stacks/cors.go), and `cdk deploy` redeploys the stage whenever CORS changes."
			} else {
				e = fmt.Sprintf("The preflight must answer 2xx, it answered %d. Here API Gateway answers OPTIONS itself (a MOCK integration, 204); if a function handles OPTIONS, it must answer 2xx with the CORS headers.", status)
			}
		case "no_allow_origin":
			switch s.Name {
			case "preflight":
				e = fmt.Sprintf("%s is not an allowed origin. Add it to environments.<env>.allowedOrigins in cdk.json and deploy.", o.Origin)
			case "request":
				e = "The preflight passed but the response itself has no Access-Control-Allow-Origin: the function must echo allowed origins on every response (its ALLOWED_ORIGINS comes from the same CorsPolicy as the preflight)."
			default:
				e = fmt.Sprintf("The preflight is fine, but this %d response lacks Access-Control-Allow-Origin, so the browser shows a CORS error instead of the real error. Add CORS headers to the gateway responses (DEFAULT_4XX, DEFAULT_5XX: CorsPolicy.GatewayResponseHeaders) and to the function's error responses.", status)
			}
		case "origin_mismatch":
			e = fmt.Sprintf("The API allows %s, not %s (API Gateway answers its first allowed origin to any origin it does not allow). To allow this page, add its origin to environments.<env>.allowedOrigins in cdk.json and deploy.", s.Headers["Access-Control-Allow-Origin"], o.Origin)
		case "multiple_allow_origin":
			e = "Only one origin may be sent: echo the request's Origin when it is allowed, instead of listing them all."
		case "method_not_allowed":
			e = fmt.Sprintf("Add %s to CorsPolicy.Methods in stacks/cors.go.", o.Method)
		case "header_not_allowed":
			e = "Add the header to CorsPolicy.Headers in stacks/cors.go (header names are case-insensitive)."
		case "wildcard_with_credentials":
			e = "Either call fetch without credentials: 'include' (this API needs none), or echo the origin and send Access-Control-Allow-Credentials: true."
		case "credentials_not_allowed":
			e = "This API allows no credentials; call fetch without credentials: 'include'."
		case "no_vary_origin":
			e = "Add Vary: Origin to responses that echo the origin, so caches keep each origin's answer apart."
		case "no_max_age", "long_max_age", "bad_max_age":
			e = "Set corsMaxAgeSeconds for the environment in cdk.json (at most 7200)."
		}
		if e != "" && !slices.Contains(s.Explain, e) {
			s.Explain = append(s.Explain, e)
		}
	}
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "corscheck %s as a page on %s\n\n", r.URL, r.Origin)
	for _, s := range r.Steps {
		label := "PASS"
		switch {
		case s.Skipped != "":
			label = "SKIP"
		case !s.Verdict.Allowed || s.Problem != "":
			label = "FAIL"
		}
		if s.Skipped != "" {
			fmt.Fprintf(w, "%-4s  %-10s %s\n", label, s.Name, s.Skipped)
			continue
		}
		fmt.Fprintf(w, "%-4s  %-10s %s -> %d\n", label, s.Name, s.Method, s.Status)
		for _, h := range corsHeaders {
			if v, ok := s.Headers[h]; ok {
				fmt.Fprintf(w, "      %s: %s\n", h, v)
			} else if h == "Access-Control-Allow-Origin" {
				fmt.Fprintf(w, "      %s: (absent)\n", h)
			}
		}
		for _, f := range s.Verdict.Findings {
			kind := "note"
			if f.Fatal {
				kind = "blocked"
			}
			fmt.Fprintf(w, "      %s: %s\n", kind, f.Detail)
		}
		if s.Problem != "" {
			fmt.Fprintf(w, "      problem: %s\n", s.Problem)
		}
		for _, e := range s.Explain {
			fmt.Fprintf(w, "      fix: %s\n", e)
		}
	}
	fmt.Fprintln(w)
	switch {
	case r.ExpectDenied && r.Denied:
		fmt.Fprintf(w, "PASS: a browser on %s is refused, as expected.\n", r.Origin)
	case r.ExpectDenied:
		fmt.Fprintf(w, "FAIL: a browser on %s can call this API, but it should be refused.\n", r.Origin)
	case r.Pass:
		fmt.Fprintf(w, "PASS: a browser on %s can call this API and read its answers, errors included.\n", r.Origin)
	case r.Denied:
		fmt.Fprintf(w, "FAIL: a browser on %s is refused; see the fixes above.\n", r.Origin)
	case r.Steps[1].Problem != "":
		fmt.Fprintf(w, "FAIL: CORS is fine, but the request itself fails.\n")
	default:
		fmt.Fprintf(w, "FAIL: the call works, but its errors reach the page as CORS errors; see the fixes above.\n")
	}
}

// WriteJSON prints the report for machines.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
