package localstack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/localstack"
	"github.com/iris-cors/iris-cors-cdk/internal/localstack/localtest"
)

// The local stack with the real function under aws-lambda-rie, checked over
// real HTTP the way a browser's requests would arrive.
func TestLocalStack(t *testing.T) {
	s := localtest.Start(t, localtest.Options{SiteAddr: "127.0.0.1:0"})
	type check struct {
		name, method, path, origin, body string
		status                           int
		acao                             string // "" means: must be absent
		code                             string // error code in the envelope
	}
	setosa := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	for _, c := range []check{
		{name: "preflight from the dev origin", method: "OPTIONS", path: "predict", origin: localtest.DevOrigin, status: 204, acao: localtest.DevOrigin},
		{name: "preflight from another origin", method: "OPTIONS", path: "predict", origin: "https://evil.example", status: 204, acao: "https://distribution830fac52-domainname.local.invalid"},
		{name: "prediction", method: "POST", path: "predict", origin: localtest.DevOrigin, body: setosa, status: 200, acao: localtest.DevOrigin},
		{name: "prediction for another origin", method: "POST", path: "predict", origin: "https://evil.example", body: setosa, status: 200},
		{name: "range error from the function", method: "POST", path: "predict", origin: localtest.DevOrigin, body: strings.Replace(setosa, "0.2", "-1", 1), status: 400, acao: localtest.DevOrigin, code: "invalid_input"},
		{name: "body rejected by the gateway's model", method: "POST", path: "predict", origin: localtest.DevOrigin, body: `{"petal":1}`, status: 400, acao: localtest.DevOrigin, code: "invalid_input"},
		{name: "unknown path", method: "GET", path: "nope", origin: localtest.DevOrigin, status: 403, acao: localtest.DevOrigin, code: "MISSING_AUTHENTICATION_TOKEN"},
		{name: "model", method: "GET", path: "model", origin: localtest.DevOrigin, status: 200, acao: localtest.DevOrigin},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.APIURL+c.path, strings.NewReader(c.body))
			req.Header.Set("Origin", c.origin)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != c.acao {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, c.acao)
			}
			if c.code != "" {
				var e struct {
					Error struct{ Code, Message string }
				}
				if json.Unmarshal(body, &e) != nil || e.Error.Code != c.code {
					t.Errorf("body %s, want error code %s", body, c.code)
				}
			}
			if c.status == 200 && c.path == "predict" && !strings.Contains(string(body), `"species":"setosa"`) {
				t.Errorf("body %s, want setosa", body)
			}
		})
	}

	t.Run("site with the CloudFront headers and a config.json for the local API", func(t *testing.T) {
		resp, err := http.Get(s.SiteURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, strings.TrimSuffix(strings.TrimSuffix(s.APIURL, "dev/"), "/")) || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("status %d, CSP %q", resp.StatusCode, csp)
		}
		resp, err = http.Get(s.SiteURL + "config.json")
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct{ APIURL string }
		json.NewDecoder(resp.Body).Decode(&cfg)
		resp.Body.Close()
		if cfg.APIURL != s.APIURL {
			t.Errorf("config.json apiUrl = %q, want %q", cfg.APIURL, s.APIURL)
		}
	})
}

func TestCloseStopsEverything(t *testing.T) {
	s := localtest.Start(t, localtest.Options{})
	if out, _ := exec.Command("pgrep", "-f", s.WorkDir).Output(); len(out) == 0 {
		t.Fatal("no process runs from the stack's work directory; the check below would prove nothing")
	}
	s.Close()
	if out, _ := exec.Command("pgrep", "-f", s.WorkDir).Output(); len(out) > 0 {
		t.Errorf("aws-lambda-rie still running after Close: pids %s", out)
	}
	if _, err := http.Get(s.APIURL + "model"); err == nil {
		t.Error("API still answering after Close")
	}
}

func TestBusyPortIsAClearError(t *testing.T) {
	s := localtest.Start(t, localtest.Options{})
	addr := strings.TrimSuffix(strings.TrimPrefix(s.APIURL, "http://"), "/dev/")
	_, err := localstack.Start(context.Background(), localstack.Options{APIAddr: addr})
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("error = %v, want a clear 'already in use'", err)
	}
}
