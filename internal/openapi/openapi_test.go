package openapi

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
)

// models are the served model, a regression, and a model that takes
// missing values (null).
func models(t *testing.T) map[string]*model.Model {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*model.Model{}
	for name, path := range map[string]string{
		"served":       filepath.Join(root, project.ModelFile),
		"regression":   filepath.Join(root, "internal", "model", "testdata", "parity", "hgb-diabetes.model.json"),
		"with missing": filepath.Join(root, "internal", "model", "testdata", "parity", "hgb-cancer-missing.model.json"),
	} {
		m, err := model.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = m
	}
	return out
}

// Generated types are only as stable as the document: the same model gives
// the same bytes, call after call and in another process (a map's order
// is random in each), so a client regenerated from it shows no diff.
func TestTheDocumentIsTheSameEveryTime(t *testing.T) {
	for name, m := range models(t) {
		first, err := Document(m, "")
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			again, err := Document(m, "")
			if err != nil || !bytes.Equal(again, first) {
				t.Fatalf("%s: the document changed between two calls", name)
			}
		}
	}
}

// The document is valid OpenAPI 3.0 as a maintained validator reads it:
// its schemas, references and responses.
func TestTheDocumentValidates(t *testing.T) {
	for name, m := range models(t) {
		raw, err := Document(m, "")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if doc.Paths.Find("/predict") == nil || doc.Components.Schemas["PredictRequest"] == nil {
			t.Errorf("%s: no /predict or PredictRequest", name)
		}
	}
}

// Behind sign-in every operation but the document's own declares the
// scheme (OpenID Connect, discovered at the issuer) and its 401; the
// document stays open, so a type generator reads it without a token.
func TestSignInIsDeclared(t *testing.T) {
	const issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
	raw, err := Document(models(t)["served"], issuer)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	scheme := doc.Components.SecuritySchemes["signIn"]
	if scheme == nil || scheme.Value.Type != "openIdConnect" || scheme.Value.OpenIdConnectUrl != issuer+"/.well-known/openid-configuration" {
		t.Fatalf("security scheme %+v", scheme)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			open := path == "/openapi.json"
			if op.Security == nil || (len(*op.Security) == 0) != open {
				t.Errorf("%s %s: security %v, want open=%v", method, path, op.Security, open)
			}
			if (op.Responses.Status(401) == nil) == !open {
				t.Errorf("%s %s: a 401 response: %v, want %v", method, path, op.Responses.Status(401) != nil, !open)
			}
		}
	}
	if plain, _ := Document(models(t)["served"], ""); bytes.Contains(plain, []byte("securitySchemes")) {
		t.Error("without sign-in the document declares a security scheme")
	}
}

// The document passes the linters OpenAPI's tools are held to: Redocly's
// and Spectral's recommended rules (but the contact and license, which are
// the deploying team's: testdata/*.yaml says why), open and behind sign-in.
func TestTheLintersPass(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "node_modules", ".bin")
	for name, issuer := range map[string]string{"open": "", "signed in": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"} {
		raw, err := Document(models(t)["served"], issuer)
		if err != nil {
			t.Fatal(err)
		}
		doc := filepath.Join(t.TempDir(), "openapi.json")
		if err := os.WriteFile(doc, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, lint := range [][]string{
			{filepath.Join(bin, "redocly"), "lint", "--config", filepath.Join("testdata", "redocly.yaml"), "--format", "stylish", doc},
			{filepath.Join(bin, "spectral"), "lint", "--ruleset", filepath.Join("testdata", "spectral.yaml"), "--fail-severity", "warn", doc},
		} {
			cmd := exec.Command(lint[0], lint[1:]...)
			// Redocly asks to send telemetry; the project sends none.
			cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s, %s: %v (make installs the linters from package.json)\n%s", name, filepath.Base(lint[0]), err, out)
			}
		}
	}
}
