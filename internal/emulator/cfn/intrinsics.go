package cfn

import (
	"fmt"
	"strconv"
	"strings"
)

// intrinsics are the functions Resolve evaluates, by name. (Filled in init:
// they call Resolve, which reads the table.)
var intrinsics map[string]func(r *Resolver, t *Template, arg any) (any, error)

func init() {
	intrinsics = map[string]func(*Resolver, *Template, any) (any, error){
		"Ref": func(r *Resolver, t *Template, arg any) (any, error) {
			name, _ := arg.(string)
			return r.ref(t, name)
		},
		"Condition": func(r *Resolver, t *Template, arg any) (any, error) {
			name, _ := arg.(string)
			return r.condition(t, name)
		},
		"Fn::If":     (*Resolver).fnIf,
		"Fn::Equals": (*Resolver).equals,
		"Fn::Not":    logicOf("Fn::Not"),
		"Fn::And":    logicOf("Fn::And"),
		"Fn::Or":     logicOf("Fn::Or"),
		"Fn::GetAtt": func(r *Resolver, _ *Template, arg any) (any, error) {
			parts, err := list("Fn::GetAtt", "[resource, attribute]", arg)
			if err != nil {
				return nil, err
			}
			return r.getAtt(fmt.Sprint(parts[0]), fmt.Sprint(parts[1])), nil
		},
		"Fn::Join":           (*Resolver).join,
		"Fn::Sub":            (*Resolver).sub,
		"Fn::Select":         (*Resolver).selectItem,
		"Fn::Split":          (*Resolver).split,
		"Fn::ImportValue":    (*Resolver).importValue,
		"Fn::GetStackOutput": (*Resolver).stackOutput,
	}
}

// list is an intrinsic's argument as the list shape describes ("[delimiter,
// list]"), its length the number of names in shape.
func list(fn, shape string, arg any) ([]any, error) {
	parts, _ := arg.([]any)
	if len(parts) != strings.Count(shape, ",")+1 {
		return nil, fmt.Errorf("%s wants %s, got %v", fn, shape, arg)
	}
	return parts, nil
}

func (r *Resolver) fnIf(t *Template, arg any) (any, error) {
	parts, err := list("Fn::If", "[condition, if true, if false]", arg)
	if err != nil {
		return nil, err
	}
	name, _ := parts[0].(string)
	ok, err := r.condition(t, name)
	if err != nil {
		return nil, err
	}
	if ok {
		return r.Resolve(t, parts[1])
	}
	return r.Resolve(t, parts[2])
}

func (r *Resolver) equals(t *Template, arg any) (any, error) {
	parts, err := r.operands(t, "Fn::Equals", arg, 2)
	if err != nil {
		return nil, err
	}
	return jsonValue(parts[0]) == jsonValue(parts[1]), nil
}

// logicOf is the condition function fn (Fn::Not, Fn::And, Fn::Or) of its
// resolved operands.
func logicOf(fn string) func(*Resolver, *Template, any) (any, error) {
	return func(r *Resolver, t *Template, arg any) (any, error) {
		parts, err := r.operands(t, fn, arg, -1)
		if err != nil {
			return nil, err
		}
		return logic(fn, parts)
	}
}

func (r *Resolver) join(t *Template, arg any) (any, error) {
	parts, err := list("Fn::Join", "[delimiter, list]", arg)
	if err != nil {
		return nil, err
	}
	resolved, err := r.Resolve(t, parts[1])
	if err != nil {
		return nil, err
	}
	items, ok := resolved.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Join: %v is not a list", resolved)
	}
	strs := make([]string, len(items))
	for i, it := range items {
		if strs[i], err = r.String(t, it); err != nil {
			return nil, fmt.Errorf("Fn::Join item %d: %w", i, err)
		}
	}
	return strings.Join(strs, fmt.Sprint(parts[0])), nil
}

func (r *Resolver) selectItem(t *Template, arg any) (any, error) {
	parts, err := list("Fn::Select", "[index, list]", arg)
	if err != nil {
		return nil, err
	}
	idx, err := r.String(t, parts[0])
	if err != nil {
		return nil, err
	}
	resolved, err := r.Resolve(t, parts[1])
	if err != nil {
		return nil, err
	}
	items, _ := resolved.([]any)
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(items) {
		return nil, fmt.Errorf("Fn::Select: index %s out of range", idx)
	}
	return items[i], nil
}

func (r *Resolver) split(t *Template, arg any) (any, error) {
	parts, err := list("Fn::Split", "[delimiter, string]", arg)
	if err != nil {
		return nil, err
	}
	s, err := r.String(t, parts[1])
	if err != nil {
		return nil, err
	}
	var out []any
	for _, x := range strings.Split(s, fmt.Sprint(parts[0])) {
		out = append(out, x)
	}
	return out, nil
}

// importValue is the output another template exports under the name, or a
// placeholder for a stack not loaded.
func (r *Resolver) importValue(t *Template, arg any) (any, error) {
	name, err := r.String(t, arg)
	if err != nil {
		return nil, err
	}
	for _, other := range r.Templates {
		for out, o := range other.Outputs {
			if o.Export == nil {
				continue
			}
			if n, err := r.String(other, o.Export.Name); err == nil && n == name {
				return r.output(other, out, o.Value)
			}
		}
	}
	return "import-" + strings.ToLower(strings.ReplaceAll(name, ":", "-")) + ".local.invalid", nil
}

// stackOutput is CDK's Fn::GetStackOutput: a named stack's output, or a
// placeholder for a stack not loaded.
func (r *Resolver) stackOutput(_ *Template, arg any) (any, error) {
	m, _ := arg.(map[string]any)
	stack, _ := m["StackName"].(string)
	output, _ := m["OutputName"].(string)
	for _, other := range r.Templates {
		if o, ok := other.Outputs[output]; ok && other.StackName == stack {
			return r.output(other, output, o.Value)
		}
	}
	return strings.ToLower(stack+"-"+output) + ".local.invalid", nil
}
