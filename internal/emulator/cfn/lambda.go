package cfn

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Function is what a local runner needs of an AWS::Lambda::Function, its
// values resolved, with Lambda's defaults where the template sets none.
type Function struct {
	ID       string
	Handler  string
	Runtime  string
	Timeout  time.Duration
	MemoryMB int
	Env      map[string]string
}

// Function reads the Lambda function id of t. One the template does not
// define (another stack's) gets Lambda's defaults.
func (r *Resolver) Function(t *Template, id string) (Function, error) {
	f := Function{ID: id, Timeout: 3 * time.Second, MemoryMB: 128, Env: map[string]string{}}
	res, ok := t.Resources[id]
	if !ok {
		return f, nil
	}
	if res.Type != "AWS::Lambda::Function" {
		return f, fmt.Errorf("%s is an %s, not an AWS::Lambda::Function", t.Describe(id), res.Type)
	}
	p := res.Properties
	vars, err := r.Resolve(t, Dig(p, "Environment", "Variables"))
	if err != nil {
		return f, fmt.Errorf("function %s: environment: %w", t.Describe(id), err)
	}
	for k, v := range Map(vars) {
		f.Env[k] = fmt.Sprint(v)
	}
	for key, into := range map[string]*string{"Handler": &f.Handler, "Runtime": &f.Runtime} {
		if p[key] != nil {
			if *into, err = r.String(t, p[key]); err != nil {
				return f, fmt.Errorf("function %s: %s: %w", t.Describe(id), key, err)
			}
		}
	}
	if seconds, ok := p["Timeout"].(float64); ok && seconds > 0 {
		f.Timeout = time.Duration(seconds) * time.Second
	}
	if mb, ok := p["MemorySize"].(float64); ok && mb > 0 {
		f.MemoryMB = int(mb)
	}
	return f, nil
}

// Refers lists the logical IDs that v names with Ref or Fn::GetAtt, at any
// depth (an Fn::Join of an ARN, say), in order and each once.
func Refers(v any) []string {
	var ids []string
	add := func(id any) {
		if s, ok := id.(string); ok && !slices.Contains(ids, s) {
			ids = append(ids, s)
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 1 {
				if id, ok := v["Ref"]; ok {
					add(id)
					return
				}
				if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) == 2 {
					add(att[0])
					return
				}
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return ids
}
