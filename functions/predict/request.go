package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
)

// maxDepth bounds nesting: deeper JSON is never a valid request.
const maxDepth = 16

// requestSchema is what a request body is checked against, prepared once at
// init so the hot path does not rebuild it.
type requestSchema struct {
	features *[model.NumFeatures]model.Feature
	fields   []string // the features' names
	list     string   // "sepal_length, sepal_width, ...", for messages
	known    []string // the strings a request is made of: its field names
}

func newRequestSchema(features *[model.NumFeatures]model.Feature) *requestSchema {
	s := &requestSchema{features: features}
	for _, f := range features {
		s.fields = append(s.fields, f.Name)
	}
	s.list = strings.Join(s.fields, ", ")
	s.known = append([]string{"instances"}, s.fields...)
	return s
}

// parsePredict reads a single flower or {"instances":[...]} strictly: duplicate
// keys, unknown or missing fields, non-numbers and out-of-range values are all
// errors that name the offending field, because a silently ignored typo would
// return a confident prediction for the wrong flower.
func parsePredict(body []byte, schema *requestSchema) (flowers [][model.NumFeatures]float64, batch bool, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false, fmt.Errorf("request body is empty; send a JSON object with %s", schema.list)
	}
	doc, err := decodeStrict(body, schema.known...)
	if err != nil {
		return nil, false, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("request body must be a JSON object with %s, or {\"instances\": [...]}; got %s", schema.list, kind(doc))
	}
	list, isBatch := obj["instances"]
	if !isBatch {
		x, err := parseFlower("", obj, schema)
		if err != nil {
			return nil, false, err
		}
		return [][model.NumFeatures]float64{x}, false, nil
	}
	if len(obj) != 1 {
		return nil, true, errors.New(`a batch request has only the field "instances"; put each flower's measurements inside it`)
	}
	items, ok := list.([]any)
	if !ok {
		return nil, true, fmt.Errorf("instances: must be an array of 1 to %d flowers, got %s", model.MaxBatch, kind(list))
	}
	if len(items) == 0 || len(items) > model.MaxBatch {
		return nil, true, fmt.Errorf("instances: must hold 1 to %d flowers, got %d", model.MaxBatch, len(items))
	}
	flowers = make([][model.NumFeatures]float64, len(items))
	for i, item := range items {
		prefix := "instances[" + strconv.Itoa(i) + "]"
		o, ok := item.(map[string]any)
		if !ok {
			return nil, true, fmt.Errorf("%s: must be an object with %s, got %s", prefix, schema.list, kind(item))
		}
		if flowers[i], err = parseFlower(prefix+".", o, schema); err != nil {
			return nil, true, err
		}
	}
	return flowers, true, nil
}

func parseFlower(prefix string, obj map[string]any, schema *requestSchema) (x [model.NumFeatures]float64, err error) {
	// Of several unknown fields, name the first in alphabetical order, so the
	// message does not depend on map order.
	unknown := ""
	for k := range obj {
		if !slices.Contains(schema.fields, k) && (unknown == "" || k < unknown) {
			unknown = k
		}
	}
	if unknown != "" {
		return x, fmt.Errorf("%sunknown field %q; the fields are %s", prefix, unknown, schema.list)
	}
	for j, f := range schema.features {
		v, ok := obj[f.Name]
		if !ok {
			return x, fmt.Errorf("%s%s: missing; the fields are %s", prefix, f.Name, schema.list)
		}
		n, ok := v.(json.Number)
		if !ok {
			return x, fmt.Errorf("%s%s: must be a number between %g and %g, got %s", prefix, f.Name, f.Min, f.Max, kind(v))
		}
		x[j], err = strconv.ParseFloat(string(n), 64)
		if err != nil || !f.Valid(x[j]) {
			return x, fmt.Errorf("%s%s: must be a number between %g and %g (%s), got %s", prefix, f.Name, f.Min, f.Max, f.Unit, n)
		}
	}
	return x, nil
}

// decodeStrict decodes one JSON value into maps, slices, json.Number, strings,
// bools and nil. It rejects what encoding/json accepts silently (duplicate keys,
// where the last one wins) and is a small recursive-descent parser rather than
// json.Decoder.Token because it is the hot path: a third of the cost.
//
// Strings equal to one of known come back as that string, without an
// allocation: the field names of a request are almost always these.
func decodeStrict(body []byte, known ...string) (any, error) {
	d := &decoder{data: body, known: known}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.skipSpace(); d.pos < len(d.data) {
		return nil, d.errorf("unexpected data after the first value")
	}
	return v, nil
}

type decoder struct {
	data  []byte
	pos   int
	known []string
}

func (d *decoder) errorf(format string, args ...any) error {
	if d.pos >= len(d.data) {
		return errors.New("request body is not valid JSON: it ends too early")
	}
	return fmt.Errorf("request body is not valid JSON: "+format+" at byte %d", append(args, d.pos)...)
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume skips space and then c, reporting whether c was there.
func (d *decoder) consume(c byte) bool {
	if d.skipSpace(); d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("request body is nested more than %d levels deep", maxDepth)
	}
	if d.skipSpace(); d.pos >= len(d.data) {
		return nil, d.errorf("")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		d.pos++
		obj := make(map[string]any, 4)
		if d.consume('}') {
			return obj, nil
		}
		for {
			if d.skipSpace(); d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return nil, d.errorf("expected a field name in double quotes")
			}
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			if _, dup := obj[key]; dup {
				return nil, fmt.Errorf("duplicate field %q: each field may appear once", key)
			}
			if !d.consume(':') {
				return nil, d.errorf("expected ':' after field %q", key)
			}
			if obj[key], err = d.value(depth + 1); err != nil {
				return nil, err
			}
			if d.consume('}') {
				return obj, nil
			}
			if !d.consume(',') {
				return nil, d.errorf("expected ',' or '}'")
			}
		}
	case c == '[':
		d.pos++
		arr := []any{}
		if d.consume(']') {
			return arr, nil
		}
		for {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if d.consume(']') {
				return arr, nil
			}
			if !d.consume(',') {
				return nil, d.errorf("expected ',' or ']'")
			}
		}
	case c == '"':
		return d.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	for _, lit := range [...]struct {
		text  string
		value any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if bytes.HasPrefix(d.data[d.pos:], []byte(lit.text)) {
			d.pos += len(lit.text)
			return lit.value, nil
		}
	}
	return nil, d.errorf("unexpected character %q", d.data[d.pos])
}

// str reads a string starting at its opening quote. Strings without escapes,
// the usual case, are sliced directly; others go through encoding/json, which
// knows JSON's escapes (they differ from Go's).
func (d *decoder) str() (string, error) {
	start, escaped := d.pos, false
	for d.pos++; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; {
		case c == '\\':
			escaped = true
			d.pos++
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c == '"':
			d.pos++
			raw := d.data[start:d.pos]
			if !escaped && utf8.Valid(raw) {
				body := raw[1 : len(raw)-1]
				for _, k := range d.known {
					if string(body) == k { // compared without converting
						return k, nil
					}
				}
				return string(body), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || !utf8.Valid(raw) {
				d.pos = start
				return "", d.errorf("invalid string")
			}
			return s, nil
		}
	}
	return "", d.errorf("")
}

// number reads a JSON number (RFC 8259 grammar) without converting it, so the
// caller can report the text it received.
func (d *decoder) number() (json.Number, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	intStart := d.pos
	if n := digits(); n == 0 || (n > 1 && d.data[intStart] == '0') {
		return "", d.errorf("malformed number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return "", d.errorf("malformed number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return "", d.errorf("malformed number")
		}
	}
	return json.Number(d.data[start:d.pos]), nil
}

// kind names a decoded JSON value's type for error messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "the number " + string(v)
	case []any:
		return "an array"
	}
	return "an object"
}
