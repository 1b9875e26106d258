package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// requestSchema is what a request body is checked against, prepared once at
// init so the hot path does not rebuild it.
type requestSchema struct {
	model *model.Model
	index map[string]int // each feature's place, by name
	list  string         // "sepal_length, sepal_width, ...", for messages
}

func newRequestSchema(m *model.Model) *requestSchema {
	s := &requestSchema{model: m, index: map[string]int{}}
	names := make([]string, len(m.Features))
	for i, f := range m.Features {
		names[i], s.index[f.Name] = f.Name, i
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
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, false, fmt.Errorf("request body is empty; send a JSON object with %s", s.list)
	}
	// The members are read straight from the bytes, in one pass that the
	// JSON library checks as it goes (syntax, duplicate names, UTF-8):
	// decoding into a map of values first was a third of the handler's
	// time. Where it finds fault, the library's full decode says what.
	dec := decoders.Get().(*jsontext.Decoder)
	defer decoders.Put(dec)
	top := s.newRow()
	var list []byte
	count := 0
	err = errNotObject
	if body[0] == '{' {
		err = members(dec, body, func(name, v []byte) {
			count++
			if string(name) == "instances" {
				list = v
			}
			top.member(name, v)
		})
	}
	if err != nil {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, false, s.decodeError(err)
		}
		return nil, false, fmt.Errorf("request body must be a JSON object with %s, or {\"instances\": [...]}; got %s", s.list, model.Describe(doc))
	}
	if list == nil {
		x, err := top.read("")
		if err != nil {
			return nil, false, err
		}
		return [][]float64{x}, false, nil
	}
	if count != 1 {
		return nil, true, errors.New(`a batch request has only the field "instances"; put each row's values inside it`)
	}
	if list[0] != '[' {
		return nil, true, fmt.Errorf("instances: must be an array of 1 to %d rows, got %s", model.MaxBatch, model.Describe(scalar(list)))
	}
	var items [][]byte
	if err := elements(dec, list, func(v []byte) { items = append(items, v) }); err != nil {
		return nil, true, err
	}
	if len(items) == 0 || len(items) > model.MaxBatch {
		return nil, true, fmt.Errorf("instances: must hold 1 to %d rows, got %d", model.MaxBatch, len(items))
	}
	rows = make([][]float64, len(items))
	for i, item := range items {
		prefix := "instances[" + strconv.Itoa(i) + "]"
		if item[0] != '{' {
			return nil, true, fmt.Errorf("%s: must be an object with %s, got %s", prefix, s.list, model.Describe(scalar(item)))
		}
		r := s.newRow()
		if err := members(dec, item, r.member); err != nil {
			return nil, true, err
		}
		if rows[i], err = r.read(prefix + "."); err != nil {
			return nil, true, err
		}
	}
	return rows, true, nil
}

// errNotObject sends a body that is not a JSON object to the full decode,
// which says what it is.
var errNotObject = errors.New("not an object")

// decoders are reused: a decoder's state is most of what reading a body
// allocates.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// members calls fn with each member of obj, a JSON object and all of the
// input: its name, unquoted, and its value's bytes (a slice of obj); it
// fails where obj is not valid JSON.
func members(dec *jsontext.Decoder, obj []byte, fn func(name, v []byte)) error {
	dec.Reset(bytes.NewReader(obj))
	if _, err := dec.ReadToken(); err != nil { // {
		return err
	}
	for dec.PeekKind() != '}' {
		// What the decoder returns lives in its buffer until its next
		// read: the name and the value are taken from obj instead.
		at := dec.InputOffset()
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		raw := bytes.TrimLeft(obj[at:dec.InputOffset()], " \t\r\n,")
		name := raw[1 : len(raw)-1]
		if bytes.IndexByte(raw, '\\') >= 0 {
			name = []byte(scalar(raw).(string))
		}
		start := dec.InputOffset()
		if err := dec.SkipValue(); err != nil {
			return err
		}
		fn(name, bytes.TrimLeft(obj[start:dec.InputOffset()], " \t\r\n:"))
	}
	if _, err := dec.ReadToken(); err != nil { // }
		return err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Errorf("after the object: %v", err)
	}
	return nil
}

// elements calls fn with the bytes of each element of list, a valid JSON
// array.
func elements(dec *jsontext.Decoder, list []byte, fn func(v []byte)) error {
	dec.Reset(bytes.NewReader(list))
	if _, err := dec.ReadToken(); err != nil { // [
		return err
	}
	for dec.PeekKind() != ']' {
		start := dec.InputOffset()
		if err := dec.SkipValue(); err != nil {
			return err
		}
		fn(bytes.TrimLeft(list[start:dec.InputOffset()], " \t\r\n,"))
	}
	return nil
}

// scalar decodes a valid JSON value for Feature.Read and messages: a
// number, string, boolean or null as itself; an array or object only as
// its kind, which is all a message says of it.
func scalar(v []byte) any {
	switch v[0] {
	case '[':
		return []any(nil)
	case '{':
		return map[string]any(nil)
	case 'n':
		return nil
	case 't', 'f':
		return v[0] == 't'
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]) // valid UTF-8 without escapes: the decoder read it
		}
		var s string
		json.Unmarshal(v, &s)
		return s
	}
	f, _ := strconv.ParseFloat(string(v), 64) // beyond float64: ±Inf, which no range holds
	return f
}

// row is one row's members as they are read: each feature's value's bytes
// and the first unknown name in alphabetical order, so that the message
// does not depend on their order.
type row struct {
	s       *requestSchema
	values  [][]byte
	unknown string
}

func (s *requestSchema) newRow() *row {
	return &row{s: s, values: make([][]byte, len(s.model.Features))}
}

func (r *row) member(name, v []byte) {
	if j, ok := r.s.index[string(name)]; ok {
		r.values[j] = v
	} else if r.unknown == "" || string(name) < r.unknown {
		r.unknown = string(name)
	}
}

// read checks the row against the features and reads it.
func (r *row) read(prefix string) ([]float64, error) {
	s := r.s
	if r.unknown != "" {
		return nil, fmt.Errorf("%sunknown field %q; the fields are %s", prefix, model.Bounded(r.unknown), s.list)
	}
	x := make([]float64, len(s.model.Features))
	for j := range s.model.Features {
		f := &s.model.Features[j]
		if r.values[j] == nil {
			return nil, fmt.Errorf("%s%s: missing; the fields are %s", prefix, f.Name, s.list)
		}
		v := scalar(r.values[j])
		if n, ok := v.(float64); ok && math.IsInf(n, 0) {
			// Say what the caller sent, not what it rounded to.
			return nil, fmt.Errorf("%s%s: must be %s, got %s", prefix, f.Name, f.Expects(), model.Bounded(string(r.values[j])))
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
