package apierror

import (
	"encoding/json"
	"testing"
)

func TestJSON(t *testing.T) {
	var e Envelope
	if err := json.Unmarshal(JSON("invalid_input", `a "quoted" <b>`), &e); err != nil || e.Error.Code != "invalid_input" || e.Error.Message != `a "quoted" <b>` {
		t.Errorf("round trip: %+v, %v", e, err)
	}
}

// The gateway's template is the same envelope with template expressions
// where the values go: API Gateway fills them in.
func TestTemplate(t *testing.T) {
	got := Template(`"$context.error.responseType"`, "$context.error.messageString")
	if want := `{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}`; got != want {
		t.Errorf("Template = %s, want %s", got, want)
	}
	filled := Template(`"THROTTLED"`, `"Too Many Requests"`)
	var e Envelope
	if err := json.Unmarshal([]byte(filled), &e); err != nil || e.Error.Code != "THROTTLED" {
		t.Errorf("a filled template is not the envelope: %s (%v)", filled, err)
	}
}
