// Package cfn reads synthesized CloudFormation templates (a CDK cloud assembly
// or single template files) and resolves their intrinsic functions to local
// values, so a template can be run on one machine. Values that exist only in
// AWS (a CloudFront domain, an account id) become clearly fake placeholders
// under the reserved .invalid domain.
package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Template is one stack's template.
type Template struct {
	StackName string
	Path      string
	// Parameters' values are known only at deploy: Ref resolves one to a
	// placeholder, and Decide refuses it.
	Parameters map[string]any      `json:"Parameters"`
	Conditions map[string]any      `json:"Conditions"`
	Resources  map[string]Resource `json:"Resources"`
	Outputs    map[string]struct {
		Value  any `json:"Value"`
		Export *struct {
			Name any `json:"Name"`
		} `json:"Export"`
	} `json:"Outputs"`
}

// Resource is one resource of a template.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// Describe names a resource for error messages: its CDK construct path when
// the template records it, else its logical ID.
func (t *Template) Describe(logicalID string) string {
	if p, ok := t.Resources[logicalID].Metadata["aws:cdk:path"].(string); ok {
		return fmt.Sprintf("%s (%s)", p, logicalID)
	}
	return fmt.Sprintf("%s in %s", logicalID, t.StackName)
}

// OfType lists the logical IDs of resources of a type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Load reads a template file. The stack name is the file name without
// ".template.json", as in `cdk synth` output and test/testdata.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse reads a template's JSON; path names it in messages and gives the
// stack name.
func Parse(path string, data []byte) (*Template, error) {
	t := &Template{Path: path, StackName: strings.TrimSuffix(filepath.Base(path), ".template.json")}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("%s: no Resources; is it a CloudFormation template?", path)
	}
	return t, nil
}

// Assembly is a CDK cloud assembly directory (cdk.out) or one of its nested
// Stage assemblies.
type Assembly struct {
	Templates []*Template
	Region    string
}

// LoadAssembly reads the stacks of a cloud assembly. For an app with Stages,
// pass the Stage's directory (cdk.out/assembly-dev) or cdk.out and stage.
func LoadAssembly(dir, stage string) (*Assembly, error) {
	if stage != "" {
		dir = filepath.Join(dir, "assembly-"+stage)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("%w (run `cdk synth` first)", err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Type        string `json:"type"`
			Environment string `json:"environment"`
			DisplayName string `json:"displayName"`
			Properties  struct {
				TemplateFile string `json:"templateFile"`
				StackName    string `json:"stackName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	a := &Assembly{}
	for id, art := range manifest.Artifacts {
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		t, err := Load(filepath.Join(dir, art.Properties.TemplateFile))
		if err != nil {
			return nil, err
		}
		switch {
		case art.Properties.StackName != "":
			t.StackName = art.Properties.StackName
		case art.DisplayName != "":
			t.StackName = strings.ReplaceAll(art.DisplayName, "/", "-")
		default:
			t.StackName = id
		}
		if i := strings.LastIndex(art.Environment, "/"); i >= 0 && a.Region == "" {
			a.Region = art.Environment[i+1:]
		}
		a.Templates = append(a.Templates, t)
	}
	if len(a.Templates) == 0 {
		return nil, fmt.Errorf("%s: no stacks in the assembly", dir)
	}
	slices.SortFunc(a.Templates, func(x, y *Template) int { return strings.Compare(x.StackName, y.StackName) })
	return a, nil
}

// Resolver resolves intrinsic functions across a set of templates (for
// cross-stack references).
type Resolver struct {
	Templates []*Template
	Region    string
	// Attrs overrides the placeholder of Fn::GetAtt / Ref values, keyed by
	// "LogicalId.Attribute" or "LogicalId" for Ref.
	Attrs map[string]string

	depth int      // of the Resolve in progress
	chain []string // the outputs being resolved, "Stack.Output"
	// strict refuses what depends on a deploy-time parameter (Decide).
	strict bool
	// conditions holds each condition once evaluated: conditions that
	// name each other (And of the previous one, twice) would otherwise
	// cost 2^n evaluations.
	conditions map[conditionKey]conditionResult
}

type conditionKey struct {
	stack, name string
	strict      bool
}

type conditionResult struct {
	value bool
	err   error
	done  bool // false while it is being evaluated: a cycle
}

// AccountID is the account every local ARN names.
const AccountID = "000000000000"

// Placeholder is the stand-in for a value only AWS knows: a host name under
// .invalid, so it can never resolve or be mistaken for a real one.
func Placeholder(logicalID, attr string) string {
	name := strings.ToLower(logicalID)
	if attr != "" {
		name += "-" + strings.ToLower(strings.ReplaceAll(attr, ".", "-"))
	}
	return name + ".local.invalid"
}

// String resolves v to a string.
func (r *Resolver) String(t *Template, v any) (string, error) {
	out, err := r.Resolve(t, v)
	if err != nil {
		return "", err
	}
	switch out := out.(type) {
	case string:
		return out, nil
	case float64:
		return strconv.FormatFloat(out, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(out), nil
	}
	return "", fmt.Errorf("expected a string, got %T", out)
}

// maxDepth bounds nested intrinsics: CDK's templates nest a handful deep.
const maxDepth = 64

// Decide resolves v as Resolve does, for a value the emulator must not
// guess, such as a method's authorization: a value that depends on a
// template parameter, known only at deploy, is an error.
func (r *Resolver) Decide(t *Template, v any) (any, error) {
	strict := r.strict
	r.strict = true
	defer func() { r.strict = strict }()
	return r.Resolve(t, v)
}

// Resolve replaces every intrinsic function in v with its local value.
func (r *Resolver) Resolve(t *Template, v any) (any, error) {
	if r.depth >= maxDepth {
		return nil, fmt.Errorf("values nested more than %d deep", maxDepth)
	}
	r.depth++
	defer func() { r.depth-- }()
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			var err error
			if out[i], err = r.Resolve(t, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				// A condition names one by string; an IAM statement's
				// Condition holds an object.
				_, named := arg.(string)
				if k == "Ref" || strings.HasPrefix(k, "Fn::") || k == "Condition" && named {
					return r.intrinsic(t, k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			var err error
			if out[k], err = r.Resolve(t, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// output resolves another stack's output, refusing a chain of references
// that comes back to one it is resolving: a cycle would never end.
func (r *Resolver) output(t *Template, name string, value any) (any, error) {
	key := t.StackName + "." + name
	if i := slices.Index(r.chain, key); i >= 0 {
		return nil, fmt.Errorf("output %s refers back to itself: %s", key, strings.Join(append(r.chain[i:], key), " -> "))
	}
	r.chain = append(r.chain, key)
	defer func() { r.chain = r.chain[:len(r.chain)-1] }()
	return r.Resolve(t, value)
}

func (r *Resolver) intrinsic(t *Template, fn string, arg any) (any, error) {
	f, ok := intrinsics[fn]
	if !ok {
		return nil, fmt.Errorf("intrinsic %s is not supported locally", fn)
	}
	return f(r, t, arg)
}

func (r *Resolver) ref(t *Template, name string) (string, error) {
	switch name {
	case "AWS::Region":
		return r.region(), nil
	case "AWS::AccountId":
		// Only AWS knows the account: a decision that depends on it (an
		// authorization behind Fn::If on the account) is not guessed.
		if r.strict {
			return "", fmt.Errorf("it depends on AWS::AccountId, whose value is known only at deploy (locally it is %s)", AccountID)
		}
		return AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return t.StackName, nil
	case "AWS::NoValue":
		return "", nil
	}
	if v, ok := r.Attrs[name]; ok {
		return v, nil
	}
	if _, ok := t.Parameters[name]; ok && r.strict {
		return "", fmt.Errorf("it depends on the parameter %s, whose value is known only at deploy", name)
	}
	return Placeholder(name, ""), nil
}

// condition evaluates one of the template's conditions, once (see
// Resolver.conditions).
func (r *Resolver) condition(t *Template, name string) (bool, error) {
	key := conditionKey{t.StackName, name, r.strict}
	if c, ok := r.conditions[key]; ok {
		if !c.done {
			return false, fmt.Errorf("condition %s refers to itself", name)
		}
		return c.value, c.err
	}
	if r.conditions == nil {
		r.conditions = map[conditionKey]conditionResult{}
	}
	r.conditions[key] = conditionResult{}
	b, err := r.evaluate(t, name)
	r.conditions[key] = conditionResult{value: b, err: err, done: true}
	return b, err
}

func (r *Resolver) evaluate(t *Template, name string) (bool, error) {
	c, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %q is not defined", name)
	}
	v, err := r.Resolve(t, c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not true or false", name, v)
	}
	return b, nil
}

// operands resolves a condition function's list of n arguments (n < 0: any).
func (r *Resolver) operands(t *Template, fn string, arg any, n int) ([]any, error) {
	parts, _ := arg.([]any)
	if n >= 0 && len(parts) != n || n < 0 && len(parts) == 0 {
		return nil, fmt.Errorf("%s wants a list of %d, got %v", fn, max(n, 1), arg)
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		var err error
		if out[i], err = r.Resolve(t, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// logic is Fn::Not, Fn::And or Fn::Or of conditions already resolved.
func logic(fn string, parts []any) (bool, error) {
	bools := make([]bool, len(parts))
	for i, p := range parts {
		b, ok := p.(bool)
		if !ok {
			return false, fmt.Errorf("%s: %v is not a condition", fn, p)
		}
		bools[i] = b
	}
	switch fn {
	case "Fn::Not":
		if len(bools) != 1 {
			return false, fmt.Errorf("Fn::Not wants one condition, got %d", len(bools))
		}
		return !bools[0], nil
	case "Fn::And":
		return !slices.Contains(bools, false), nil
	}
	return slices.Contains(bools, true), nil
}

// jsonValue is v as JSON text, to compare resolved values.
func jsonValue(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (r *Resolver) getAtt(id, attr string) string {
	if v, ok := r.Attrs[id+"."+attr]; ok {
		return v
	}
	return Placeholder(id, attr)
}

func (r *Resolver) region() string {
	if r.Region != "" {
		return r.Region
	}
	return "us-east-1"
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *Resolver) sub(t *Template, arg any) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, errors.New("Fn::Sub wants a string or [string, variables]")
		}
		tmpl, _ = a[0].(string)
		vars, _ = a[1].(map[string]any)
	}
	var err error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			s, e := r.String(t, v)
			if e != nil {
				err = e
			}
			return s
		}
		if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			return r.getAtt(id, attr)
		}
		s, e := r.ref(t, name)
		if e != nil {
			err = e
		}
		return s
	})
	return strings.ReplaceAll(out, "${!", "${"), err
}

// Dig walks nested objects of a decoded template: Dig(props, "Integration",
// "Type"). A missing key or a value of another kind yields nil.
func Dig(v any, path ...string) any {
	for _, p := range path {
		v = Map(v)[p]
	}
	return v
}

// Map is v as an object, or nil.
func Map(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Replace replaces old with new in every string of the template's resources
// (at any depth: a mapping template, a comma-separated variable), for a
// local run that serves a value the template fixed, such as an allowed
// origin on another port.
func (t *Template) Replace(old, new string) {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return strings.ReplaceAll(v, old, new)
		case []any:
			for i, x := range v {
				v[i] = walk(x)
			}
		case map[string]any:
			for k, x := range v {
				v[k] = walk(x)
			}
		}
		return v
	}
	for _, r := range t.Resources {
		walk(r.Properties)
	}
}
