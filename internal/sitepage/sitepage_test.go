package sitepage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

func TestWithAPI(t *testing.T) {
	const meta = `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' https://abc.execute-api.eu-west-1.amazonaws.com/dev/">`
	for _, tc := range []struct{ name, page, after, before string }{
		{"after charset", "<!doctype html><html><head>\n<meta charset=\"utf-8\">\n<script src=app.js></script>", "<meta charset", "<script"},
		{"after head", "<html><HEAD lang=en><link rel=stylesheet href=s.css>", "<HEAD", "<link"},
		{"no head", "<!doctype html><title>t</title><script src=a.js></script>", "<!doctype html>", "<title"},
		{"nothing", "<p>hi<img src=x.png>", "", "<p>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WithAPI(tc.page, "https://abc.execute-api.eu-west-1.amazonaws.com/dev/")
			if err != nil {
				t.Fatal(err)
			}
			// A <meta> policy covers only what the page loads after it;
			// the charset comes first of all.
			if h, i, j := strings.Index(got, tc.after), strings.Index(got, meta), strings.Index(got, tc.before); i < 0 || i < h || j < i {
				t.Errorf("the policy is not between %s and %s:\n%s", tc.after, tc.before, got)
			}
		})
	}
	if _, err := WithAPI("<script src=a.js></script><head><meta charset=utf-8>", "https://x/"); err == nil || !strings.Contains(err.Error(), "<script> before") {
		t.Errorf("a script before the policy's place: error %v", err)
	}
	// The sign-in's token endpoint joins the API.
	if got, _ := WithAPI("<head>", "https://api.example/dev/", "https://signin.example/oauth2/token"); !strings.Contains(got, `content="connect-src 'self' https://api.example/dev/ https://signin.example/oauth2/token"`) {
		t.Errorf("another source: %s", got)
	}
	// The URL is an attribute value: it cannot end the attribute or the tag.
	got, _ := WithAPI("<head>", `https://x/"><script>`)
	if strings.Contains(got, `"><script>`) {
		t.Errorf("the URL escaped its attribute: %s", got)
	}
}

func TestConfigNamesTheAPIAndTheModel(t *testing.T) {
	m, err := project.Served()
	if err != nil {
		t.Fatal(err)
	}
	var got model.SiteConfig
	if err := json.Unmarshal(Config("http://localhost:3000/dev/", m, nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.APIURL != "http://localhost:3000/dev/" || got.Model.Version != m.Version || len(got.Model.Features) != len(m.Features) || got.Model.Target != m.Target || got.Model.Task != m.Task {
		t.Errorf("config.json = %+v, want the API URL and the served model", got)
	}
}
