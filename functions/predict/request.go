package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// echoLimit bounds how much of what the caller sent a message repeats: enough
// to recognise a typo, not enough to reflect a payload into logs and pages.
const echoLimit = 40

// bounded shortens s to echoLimit characters.
func bounded(s string) string {
	if utf8.RuneCountInString(s) <= echoLimit {
		return s
	}
	r := []rune(s)
	return string(r[:echoLimit]) + "…"
}

// requestSchema is what a request body is checked against, prepared once at
// init so the hot path does not rebuild it.
type requestSchema struct {
	model *model.Model
	known map[string]bool // the features' names
	list  string          // "sepal_length, sepal_width, ...", for messages
	// orNull ends a feature's range in messages where the model takes
	// missing values.
	orNull string
}

func newRequestSchema(m *model.Model) *requestSchema {
	s := &requestSchema{model: m, known: map[string]bool{}}
	if m.AcceptsMissing() {
		s.orNull = ", or null for a missing value"
	}
	names := make([]string, len(m.Features))
	for i, f := range m.Features {
		names[i], s.known[f.Name] = f.Name, true
	}
	s.list = strings.Join(names, ", ")
	return s
}

// parse reads one row or {"instances":[...]} strictly. The JSON library
// rejects what is not JSON, duplicate names and invalid UTF-8; this adds
// the contract: unknown or missing fields, non-numbers and out-of-range
// values are errors that name the field, because a silently ignored typo
// would return a confident prediction for the wrong input.
func (s *requestSchema) parse(body []byte) (rows [][]float64, batch bool, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false, fmt.Errorf("request body is empty; send a JSON object with %s", s.list)
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, false, s.decodeError(err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("request body must be a JSON object with %s, or {\"instances\": [...]}; got %s", s.list, kind(doc))
	}
	list, isBatch := obj["instances"]
	if !isBatch {
		x, err := s.parseRow("", obj)
		if err != nil {
			return nil, false, err
		}
		return [][]float64{x}, false, nil
	}
	if len(obj) != 1 {
		return nil, true, errors.New(`a batch request has only the field "instances"; put each row's values inside it`)
	}
	items, ok := list.([]any)
	if !ok {
		return nil, true, fmt.Errorf("instances: must be an array of 1 to %d rows, got %s", model.MaxBatch, kind(list))
	}
	if len(items) == 0 || len(items) > model.MaxBatch {
		return nil, true, fmt.Errorf("instances: must hold 1 to %d rows, got %d", model.MaxBatch, len(items))
	}
	rows = make([][]float64, len(items))
	for i, item := range items {
		prefix := "instances[" + strconv.Itoa(i) + "]"
		o, ok := item.(map[string]any)
		if !ok {
			return nil, true, fmt.Errorf("%s: must be an object with %s, got %s", prefix, s.list, kind(item))
		}
		if rows[i], err = s.parseRow(prefix+".", o); err != nil {
			return nil, true, err
		}
	}
	return rows, true, nil
}

func (s *requestSchema) parseRow(prefix string, obj map[string]any) ([]float64, error) {
	// Of several unknown fields, name the first in alphabetical order, so the
	// message does not depend on map order.
	unknown := ""
	for k := range obj {
		if !s.known[k] && (unknown == "" || k < unknown) {
			unknown = k
		}
	}
	if unknown != "" {
		return nil, fmt.Errorf("%sunknown field %q; the fields are %s", prefix, bounded(unknown), s.list)
	}
	x := make([]float64, len(s.model.Features))
	for j, f := range s.model.Features {
		v, ok := obj[f.Name]
		if !ok {
			return nil, fmt.Errorf("%s%s: missing; the fields are %s", prefix, f.Name, s.list)
		}
		if v == nil && s.model.AcceptsMissing() {
			x[j] = math.NaN() // a missing value, which the model routes as it learned
			continue
		}
		n, ok := v.(float64)
		if !ok && v == nil && !s.model.AcceptsMissing() {
			return nil, fmt.Errorf("%s%s: must be a number %s, got null: this model takes no missing values", prefix, f.Name, f.Range())
		}
		if !ok {
			return nil, fmt.Errorf("%s%s: must be a number %s%s, got %s", prefix, f.Name, f.Range(), s.orNull, kind(v))
		}
		if !f.Valid(n) {
			return nil, fmt.Errorf("%s%s: must be a number %s%s, got %s", prefix, f.Name, f.Range(), s.orNull, strconv.FormatFloat(n, 'g', -1, 64))
		}
		x[j] = n
	}
	return x, nil
}

// decodeError explains the JSON library's error where the caller can find
// it: the field path for a duplicate name or a number too large for any
// float, the byte offset for broken syntax.
func (s *requestSchema) decodeError(err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return fmt.Errorf("%s: duplicate field; each field may appear once", bounded(path(syn.JSONPointer)))
	case errors.As(err, &syn):
		return fmt.Errorf("request body is not valid JSON: %v at byte %d", syn.Err, syn.ByteOffset)
	case errors.As(err, &sem) && sem.JSONKind == '0':
		where := path(sem.JSONPointer)
		for _, f := range s.model.Features {
			if where == f.Name || strings.HasSuffix(where, "."+f.Name) {
				return fmt.Errorf("%s: must be a number %s, got %s", bounded(where), f.Range(), bounded(string(sem.JSONValue)))
			}
		}
		return fmt.Errorf("%s: number %s is out of range", bounded(where), bounded(string(sem.JSONValue)))
	}
	return fmt.Errorf("request body is not valid JSON: %v", err)
}

// path turns a JSON pointer such as /instances/2/petal_width into the
// notation of the other messages: instances[2].petal_width.
func path(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// kind names a decoded JSON value's type for messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		return "an array"
	}
	return "an object"
}
