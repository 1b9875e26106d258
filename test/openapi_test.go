package test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/localtest"
)

// Behind sign-in, make local serves /openapi.json without a token, as the
// deployed API does (docs/api.md's type generator has none), and the
// document declares the local issuer, whose discovery a page can read.
func TestTheDocumentIsOpenBehindSignIn(t *testing.T) {
	s := localtest.Start(t, localtest.Options{SignIn: true})
	resp, err := http.Get(s.APIURL + "openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Components struct {
			SecuritySchemes map[string]struct {
				Type             string `json:"type"`
				OpenIDConnectURL string `json:"openIdConnectUrl"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json without a token: %d, %v", resp.StatusCode, err)
	}
	discovery := doc.Components.SecuritySchemes["signIn"].OpenIDConnectURL
	if want := s.Issuer().URL + "/.well-known/openid-configuration"; discovery != want {
		t.Fatalf("the document's sign-in is discovered at %q, want the local issuer's %q", discovery, want)
	}
	req, _ := http.NewRequest("GET", discovery, nil)
	req.Header.Set("Origin", localtest.DevOrigin(t))
	d, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	d.Body.Close()
	if d.StatusCode != 200 || d.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("discovery: %d, Access-Control-Allow-Origin %q", d.StatusCode, d.Header.Get("Access-Control-Allow-Origin"))
	}
	if predict, _ := http.Post(s.APIURL+"predict", "application/json", nil); predict.StatusCode != 401 {
		t.Errorf("POST /predict without a token: %d, want 401", predict.StatusCode)
	}
}
