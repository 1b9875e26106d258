package model

import (
	"slices"

	"github.com/go-json-experiment/json"
)

// Schema is the part of JSON Schema that describes the API's bodies, in
// OpenAPI 3.0's dialect (nullable, a boolean exclusiveMinimum). The API
// Gateway model (draft 4) is rendered from the same value by the stacks,
// so the gateway and the OpenAPI document cannot disagree.
type Schema struct {
	Type             string             `json:"type,omitempty"`
	Nullable         bool               `json:"nullable,omitzero"` // draft 4: type [Type, "null"]
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description,omitempty"`
	Enum             []any              `json:"enum,omitempty"`
	Minimum          *float64           `json:"minimum,omitempty"`
	ExclusiveMinimum bool               `json:"exclusiveMinimum,omitzero"`
	Maximum          *float64           `json:"maximum,omitempty"`
	Properties       map[string]*Schema `json:"properties,omitempty"`
	Required         []string           `json:"required,omitempty"`
	// Closed refuses members the properties do not name
	// (additionalProperties: false).
	Closed   bool      `json:"-"`
	Items    *Schema   `json:"items,omitempty"`
	MinItems *int      `json:"minItems,omitempty"`
	MaxItems *int      `json:"maxItems,omitempty"`
	AnyOf    []*Schema `json:"anyOf,omitempty"`
	Ref      string    `json:"$ref,omitempty"` // OpenAPI: a schema of the document's components
}

// MarshalJSON writes Closed as additionalProperties: false, and the
// properties in sorted order: a method called by the encoder gets none of
// the caller's options, so without it every document holding a schema (the
// gateway's model, /openapi.json) came out in a new order each time, and
// types generated from it churned.
func (s *Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	if !s.Closed {
		return json.Marshal((*plain)(s), json.Deterministic(true))
	}
	return json.Marshal(struct {
		*plain
		AdditionalProperties bool `json:"additionalProperties"`
	}{(*plain)(s), false}, json.Deterministic(true))
}

// RequestSchema is the POST /predict body: one row of the features, or
// {"instances": [1..MaxBatch rows]}: a number, a category's string (or
// number), null where the feature takes a missing value. Exact, it also
// requires every feature, refuses other members and gives each number's
// range and each category's values where unknown ones are refused: what a
// client must send (the OpenAPI document). Without, it checks types and the batch's size
// only (the API Gateway model): the function's messages name an unknown,
// missing or out-of-range field and what it got, where the gateway could
// only say what a valid body looks like.
func (m *Model) RequestSchema(exact bool) *Schema {
	row := &Schema{Type: "object", Properties: map[string]*Schema{}}
	for _, f := range m.Features {
		p := &Schema{Type: "number", Nullable: f.TakesMissing(), Description: f.Description + ", " + f.Expects()}
		switch {
		case f.IsCategory() && !f.Categories[0].IsNumber:
			p.Type = "string"
		case exact && !f.IsCategory():
			p.Minimum, p.ExclusiveMinimum, p.Maximum = &f.Min, true, &f.Max
		}
		if exact && f.IsCategory() && f.Unknown == UnknownRefused {
			p.Enum = anys(f.Categories)
			if p.Nullable { // OpenAPI 3.0.3: an enum must list null for nullable to admit it
				p.Enum = append(p.Enum, nil)
			}
		}
		if exact {
			row.Required = append(row.Required, f.Name)
		}
		row.Properties[f.Name] = p
	}
	row.Closed = exact
	one, most := 1, MaxBatch
	batch := &Schema{
		Type:       "object",
		Required:   []string{"instances"},
		Properties: map[string]*Schema{"instances": {Type: "array", MinItems: &one, MaxItems: &most, Items: row}},
		Closed:     exact,
	}
	return &Schema{Title: "PredictRequest", AnyOf: []*Schema{row, batch}}
}

// PredictionSchema is one prediction: the class under the target's name
// and the probability of each class, or the value.
func (m *Model) PredictionSchema() *Schema {
	if m.Task == Regression {
		value := &Schema{Type: "number", Description: m.TargetDescription}
		if m.TargetUnit != "" {
			value.Description += " (" + m.TargetUnit + ")"
		}
		return &Schema{Type: "object", Required: []string{m.Target}, Properties: map[string]*Schema{m.Target: value}, Closed: true}
	}
	zero, one := 0.0, 1.0
	probabilities := &Schema{Type: "object", Properties: map[string]*Schema{}, Required: slices.Clone(m.Classes), Closed: true}
	for _, c := range m.Classes {
		probabilities.Properties[c] = &Schema{Type: "number", Minimum: &zero, Maximum: &one}
	}
	return &Schema{
		Type:     "object",
		Required: []string{m.Target, "probabilities"},
		Properties: map[string]*Schema{
			m.Target:        {Type: "string", Enum: anys(m.Classes)},
			"probabilities": probabilities,
		},
		Closed: true,
	}
}

// anys is s as the values of an enum.
func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
