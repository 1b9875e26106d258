// Package apierror is the body of every error the API returns, whether the
// function or API Gateway itself answers: {"error":{"code","message"}}. One
// shape, defined here, so a client parses one thing.
package apierror

import (
	"encoding/json"
	"strings"
)

// Envelope is an error response body.
type Envelope struct {
	Error Detail `json:"error"`
}

// Detail says what went wrong: a stable code and a sentence for a person.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// JSON renders an error body.
func JSON(code, message string) []byte {
	b, _ := json.Marshal(Envelope{Detail{code, message}}) // strings always marshal
	return b
}

// Template renders the envelope as an API Gateway mapping template, for
// gateway responses: code and message are template expressions that
// produce JSON values, e.g. "\"$context.error.responseType\"" and
// "$context.error.messageString".
func Template(code, message string) string {
	const c, m = "\x00code", "\x00message" // cannot occur in JSON output
	b := string(JSON(c, m))
	q := func(s string) string { v, _ := json.Marshal(s); return string(v) }
	return strings.NewReplacer(q(c), code, q(m), message).Replace(b)
}
