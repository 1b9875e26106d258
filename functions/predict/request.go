package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// requestSchema is what a request body is checked against, prepared once at
// init so the hot path does not rebuild it.
type requestSchema struct {
	model *model.Model
	known map[string]bool // the features' names
	list  string          // "sepal_length, sepal_width, ...", for messages
}

func newRequestSchema(m *model.Model) *requestSchema {
	s := &requestSchema{model: m, known: map[string]bool{}}
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
		return nil, false, fmt.Errorf("request body must be a JSON object with %s, or {\"instances\": [...]}; got %s", s.list, model.Describe(doc))
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
		return nil, true, fmt.Errorf("instances: must be an array of 1 to %d rows, got %s", model.MaxBatch, model.Describe(list))
	}
	if len(items) == 0 || len(items) > model.MaxBatch {
		return nil, true, fmt.Errorf("instances: must hold 1 to %d rows, got %d", model.MaxBatch, len(items))
	}
	rows = make([][]float64, len(items))
	for i, item := range items {
		prefix := "instances[" + strconv.Itoa(i) + "]"
		o, ok := item.(map[string]any)
		if !ok {
			return nil, true, fmt.Errorf("%s: must be an object with %s, got %s", prefix, s.list, model.Describe(item))
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
		return nil, fmt.Errorf("%sunknown field %q; the fields are %s", prefix, model.Bounded(unknown), s.list)
	}
	x := make([]float64, len(s.model.Features))
	for j := range s.model.Features {
		f := &s.model.Features[j]
		v, ok := obj[f.Name]
		if !ok {
			return nil, fmt.Errorf("%s%s: missing; the fields are %s", prefix, f.Name, s.list)
		}
		var err error
		if x[j], err = f.Read(v); err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, f.Name, err)
		}
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
		return fmt.Errorf("%s: duplicate field; each field may appear once", model.Bounded(path(syn.JSONPointer)))
	case errors.As(err, &syn):
		return fmt.Errorf("request body is not valid JSON: %v at byte %d", syn.Err, syn.ByteOffset)
	case errors.As(err, &sem) && sem.JSONKind == '0':
		where := path(sem.JSONPointer)
		for _, f := range s.model.Features {
			if where == f.Name || strings.HasSuffix(where, "."+f.Name) {
				return fmt.Errorf("%s: must be %s, got %s", model.Bounded(where), f.Expects(), model.Bounded(string(sem.JSONValue)))
			}
		}
		return fmt.Errorf("%s: number %s is out of range", model.Bounded(where), model.Bounded(string(sem.JSONValue)))
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
