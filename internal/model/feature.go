package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A feature's type: a number (the default, for files written before
// features had one) or a category.
const (
	TypeNumber   = "number"
	TypeCategory = "category"
)

// What a missing value (null) of a feature does (Feature.Missing).
const (
	MissingRefused  = "refused"  // a 400: the pipeline takes none
	MissingImputed  = "imputed"  // a SimpleImputer puts its statistic in
	MissingRouted   = "routed"   // the trees send it where they learned to
	MissingCategory = "category" // an encoder learned it as a category of its own
)

// UnknownRefused is Feature.Unknown where a category the model never saw is
// a 400 (scikit-learn raises); any other word says what the encoder does
// with it instead ("ignored", "infrequent", "encoded").
const UnknownRefused = "refused"

// Feature describes one input: its JSON name, what it is, and what the API
// accepts for it: a number in a range (Min exclusive, Max inclusive) with
// a unit, or one of a category's values. Missing says what null does,
// Unknown what a category the model never saw does; Compile derives both
// from the preparation when a file does not say, and refuses a file whose
// words contradict it.
type Feature struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Type        string     `json:"type,omitempty"`
	Unit        string     `json:"unit,omitempty"`
	Min         float64    `json:"min_exclusive,omitzero"`
	Max         float64    `json:"max,omitzero"`
	Categories  []Category `json:"categories,omitempty"`
	Missing     string     `json:"missing,omitempty"`
	Unknown     string     `json:"unknown,omitempty"`

	codes map[Category]int // the index of each category
}

// MarshalJSON writes a number's range always (0 is a bound like any
// other) and a category's never.
func (f Feature) MarshalJSON() ([]byte, error) {
	type plain Feature
	w := struct {
		plain
		Min *float64 `json:"min_exclusive,omitempty"`
		Max *float64 `json:"max,omitempty"`
	}{plain: plain(f)}
	if !f.IsCategory() {
		w.Min, w.Max = &f.Min, &f.Max
	}
	return json.Marshal(w, json.Deterministic(true))
}

// IsCategory reports whether f takes one of a list of values.
func (f *Feature) IsCategory() bool { return f.Type == TypeCategory }

// TakesMissing reports whether null is a value of f.
func (f *Feature) TakesMissing() bool { return f.Missing != MissingRefused }

// Valid reports whether v is a number the model may be asked about.
func (f Feature) Valid(v float64) bool {
	return v > f.Min && v <= f.Max // false for NaN too
}

// Range says what Valid accepts, for messages: "more than 0 and at most 30 cm".
func (f Feature) Range() string {
	unit := ""
	if f.Unit != "" {
		unit = " " + f.Unit
	}
	return fmt.Sprintf("more than %g and at most %g%s", f.Min, f.Max, unit)
}

// Category is one value of a category feature: a string, or a number the
// model saw as a label (a passenger class 1, 2, 3). In model.json and in a
// request it is the JSON string or number itself.
type Category struct {
	Text   string
	Number float64
	// IsNumber tells a number from a string.
	IsNumber bool
}

// MarshalJSON writes c as a JSON string or number.
func (c Category) MarshalJSON() ([]byte, error) {
	if c.IsNumber {
		return []byte(strconv.FormatFloat(c.Number, 'g', -1, 64)), nil
	}
	return json.Marshal(c.Text)
}

// UnmarshalJSON reads a JSON string or number.
func (c *Category) UnmarshalJSON(b []byte) error {
	switch jsontext.Value(b).Kind() {
	case '"':
		*c = Category{}
		return json.Unmarshal(b, &c.Text)
	case '0':
		*c = Category{IsNumber: true}
		return json.Unmarshal(b, &c.Number)
	}
	return fmt.Errorf("a category is a string or a number, not %s", b)
}

// String is c as JSON, for messages.
func (c Category) String() string {
	b, _ := c.MarshalJSON()
	return string(b)
}

// unknownCode is the row value of a category the model never saw; a known
// one's is its index in Categories, a missing one's NaN.
const unknownCode = -1

// listed is how many categories a message lists before it points at GET
// /model for the rest.
const listed = 12

// oneOf lists f's categories for messages: `"female", "male"`.
func (f *Feature) oneOf() string {
	var b strings.Builder
	for i, c := range f.Categories {
		if i == listed {
			fmt.Fprintf(&b, ", … (%d in all: GET /model lists them)", len(f.Categories))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// Expects says what the API accepts for f, for messages: "a number more
// than 0 and at most 30 cm", `one of "female", "male"`, each ", or null
// for a missing value" where it takes one.
func (f *Feature) Expects() string {
	s := "a number " + f.Range()
	if f.IsCategory() {
		kind := "a string"
		if f.Categories[0].IsNumber {
			kind = "a number"
		}
		s = kind + ": one of " + f.oneOf()
		if f.Unknown != UnknownRefused {
			s = kind + ", such as one of " + f.oneOf()
		}
	}
	if f.TakesMissing() {
		s += ", or null for a missing value"
	}
	return s
}

// Read turns v, a feature's value as decoded from JSON (nil, float64,
// string, ...), into its place in a row: the number, a category's index
// (unknownCode for one the model never saw), NaN for a missing value. Its
// error says what f takes and what v was, without f's name.
func (f *Feature) Read(v any) (float64, error) {
	if v == nil {
		if !f.TakesMissing() {
			return 0, fmt.Errorf("must be %s, got null: this feature takes no missing values", f.Expects())
		}
		return math.NaN(), nil
	}
	if !f.IsCategory() {
		n, ok := v.(float64)
		if !ok || !f.Valid(n) {
			return 0, fmt.Errorf("must be %s, got %s", f.Expects(), Describe(v))
		}
		return n, nil
	}
	var c Category
	switch v := v.(type) {
	case string:
		c = Category{Text: v}
	case float64:
		c = Category{Number: v, IsNumber: true}
	default:
		return 0, fmt.Errorf("must be %s, got %s", f.Expects(), Describe(v))
	}
	if c.IsNumber != f.Categories[0].IsNumber {
		// "3" for the number 3 is a client's bug, not an unseen category.
		return 0, fmt.Errorf("must be %s, got %s", f.Expects(), Describe(v))
	}
	if code, ok := f.codes[c]; ok {
		return float64(code), nil
	}
	if f.Unknown == UnknownRefused {
		return 0, fmt.Errorf("must be %s, got %s, which the model never saw", f.Expects(), Describe(v))
	}
	return unknownCode, nil
}

// Value is the JSON value of x, a row's value of f: the inverse of Read.
func (f *Feature) Value(x float64) any {
	switch {
	case math.IsNaN(x):
		return nil
	case !f.IsCategory():
		return x
	case x < 0 || int(x) >= len(f.Categories):
		return "(a category the model never saw)"
	case f.Categories[int(x)].IsNumber:
		return f.Categories[int(x)].Number
	}
	return f.Categories[int(x)].Text
}

// Describe names a decoded JSON value for messages, repeating at most
// echoLimit characters of a string: enough to recognise a typo, not
// enough to reflect a payload into logs and pages.
func Describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "the string " + strconv.Quote(Bounded(v))
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		return "an array"
	}
	return "an object"
}

// echoLimit bounds how much of what a caller sent a message repeats.
const echoLimit = 40

// Bounded shortens s to echoLimit characters.
func Bounded(s string) string {
	if utf8.RuneCountInString(s) <= echoLimit {
		return s
	}
	return string([]rune(s)[:echoLimit]) + "…"
}

// check checks f's shape for its type and indexes its categories.
func (f *Feature) check() error {
	switch f.Type {
	case "", TypeNumber:
		f.Type = TypeNumber
		if len(f.Categories) > 0 || f.Unknown != "" {
			return fmt.Errorf("feature %q: a number has no categories or unknown values; give it type %q", f.Name, TypeCategory)
		}
		if !(f.Min < f.Max) || math.IsInf(f.Min, 0) || math.IsInf(f.Max, 0) {
			return fmt.Errorf("feature %q: range (%g, %g] is empty or unbounded", f.Name, f.Min, f.Max)
		}
	case TypeCategory:
		if len(f.Categories) == 0 || f.Min != 0 || f.Max != 0 || f.Unit != "" {
			return fmt.Errorf("feature %q: a category has categories, and no range or unit", f.Name)
		}
		f.codes = make(map[Category]int, len(f.Categories))
		for i, c := range f.Categories {
			if _, dup := f.codes[c]; dup || c.IsNumber != f.Categories[0].IsNumber || (c.IsNumber && (math.IsNaN(c.Number) || math.IsInf(c.Number, 0))) {
				return fmt.Errorf("feature %q: category %s is repeated, not finite, or a number among strings (or the reverse)", f.Name, c)
			}
			f.codes[c] = i
		}
	default:
		return fmt.Errorf("feature %q: type %q: want %q or %q", f.Name, f.Type, TypeNumber, TypeCategory)
	}
	return nil
}
