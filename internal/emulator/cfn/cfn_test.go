package cfn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func tmpl(name, doc string) *Template {
	t := &Template{StackName: name}
	if err := json.Unmarshal([]byte(doc), t); err != nil {
		panic(err)
	}
	return t
}

func TestResolve(t *testing.T) {
	site := tmpl("dev-Site", `{"Resources": {"Dist": {"Type": "AWS::CloudFront::Distribution"}},
		"Outputs": {"Domain": {"Value": {"Fn::GetAtt": ["Dist", "DomainName"]}, "Export": {"Name": "dev-Site:Domain"}}}}`)
	api := tmpl("dev-Api", `{"Resources": {}}`)
	r := &Resolver{Templates: []*Template{site, api}, Region: "eu-west-1"}
	for _, tc := range []struct{ name, in, want string }{
		{"Join", `{"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["Dist", "DomainName"]}]]}`, "https://dist-domainname.local.invalid"},
		{"GetStackOutput", `{"Fn::GetStackOutput": {"StackName": "dev-Site", "OutputName": "Domain", "Region": "eu-west-1"}}`, "dist-domainname.local.invalid"},
		{"ImportValue", `{"Fn::ImportValue": "dev-Site:Domain"}`, "dist-domainname.local.invalid"},
		{"ImportValue of an unknown export", `{"Fn::ImportValue": "other:Thing"}`, "import-other-thing.local.invalid"},
		{"Sub with pseudo parameters and attributes", `{"Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Dist.DomainName}:${Name}:${!Literal}"}`, "arn:aws:x:eu-west-1:000000000000:dist-domainname.local.invalid:name.local.invalid:${Literal}"},
		{"Sub with variables", `{"Fn::Sub": ["${A}-${B}", {"A": "a", "B": {"Ref": "AWS::StackName"}}]}`, "a-dev-Api"},
		{"Select and Split", `{"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}`, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			json.Unmarshal([]byte(tc.in), &v)
			got, err := r.String(api, v)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	var v any
	json.Unmarshal([]byte(`{"Fn::Cidr": ["10.0.0.0/16", 2, 8]}`), &v)
	if _, err := r.Resolve(api, v); err == nil || !strings.Contains(err.Error(), "Fn::Cidr is not supported") {
		t.Errorf("unsupported intrinsic: error = %v", err)
	}
}

// testdata/assembly is a Stage's nested assembly as `cdk synth` writes it: a
// stack named by its stackName, one only by its displayName, an asset
// manifest to pass over, and a reference from one stack to the other.
func TestLoadAssembly(t *testing.T) {
	a, err := LoadAssembly("testdata/assembly", "dev")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tmpl := range a.Templates {
		names = append(names, tmpl.StackName)
	}
	if got := strings.Join(names, " "); got != "dev-Api dev-Site" || a.Region != "eu-west-1" {
		t.Fatalf("stacks %q in %q, want dev-Api dev-Site in eu-west-1", got, a.Region)
	}
	r := &Resolver{Templates: a.Templates, Region: a.Region}
	got, err := r.String(a.Templates[0], Dig(a.Templates[0].Resources["Fn"].Properties, "Environment", "Variables", "SITE"))
	if want := "https://dist-domainname.local.invalid"; err != nil || got != want {
		t.Errorf("cross-stack reference = %q, %v; want %q", got, err, want)
	}
}

func TestLoadRejectsNonTemplates(t *testing.T) {
	if _, err := Load("cfn.go"); err == nil {
		t.Error("Load accepted a Go file")
	}
	if _, err := LoadAssembly(t.TempDir(), "dev"); err == nil || !strings.Contains(err.Error(), "cdk synth") {
		t.Errorf("missing assembly: error = %v, want a hint to synth", err)
	}
}

// A template that refers to itself, directly or through another stack, or
// nests without end, is an error naming the path, never a stack overflow.
func TestCyclesAndDepthAreErrors(t *testing.T) {
	a := tmpl("a", `{"Resources": {"X": {"Type": "T"}}, "Outputs": {
		"Self": {"Value": {"Fn::GetStackOutput": {"StackName": "a", "OutputName": "Self"}}},
		"ToB":  {"Value": {"Fn::ImportValue": "b-export"}, "Export": {"Name": "a-export"}}}}`)
	b := tmpl("b", `{"Resources": {"Y": {"Type": "T"}}, "Outputs": {
		"ToA": {"Value": {"Fn::ImportValue": "a-export"}, "Export": {"Name": "b-export"}}}}`)
	r := &Resolver{Templates: []*Template{a, b}}
	for _, tc := range []struct{ name, in, want string }{
		{"an output that names itself", `{"Fn::GetStackOutput": {"StackName": "a", "OutputName": "Self"}}`, "output a.Self refers back to itself: a.Self -> a.Self"},
		{"two stacks importing each other", `{"Fn::ImportValue": "a-export"}`, "output a.ToB refers back to itself: a.ToB -> b.ToA -> a.ToB"},
		{"nesting without end", strings.Repeat(`{"Fn::Join": ["", [`, 100) + `"x"` + strings.Repeat("]]}", 100), "nested more than 64 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Resolve(a, v); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
	if got, err := r.String(a, map[string]any{"Fn::Join": []any{"-", []any{"x", map[string]any{"Ref": "AWS::Region"}}}}); err != nil || got != "x-us-east-1" {
		t.Errorf("after the errors, a plain value: %q, %v", got, err)
	}
}

// Conditions evaluate; a parameter resolves to a placeholder, except where
// the value must be decided (Decide), which refuses it.
func TestConditionsAndParameters(t *testing.T) {
	tmpl, err := Parse("c.template.json", []byte(`{
		"Parameters": {"Env": {"Type": "String", "Default": "dev"}},
		"Conditions": {"Ireland": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}, "Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
		               "Both": {"Fn::And": [{"Condition": "Ireland"}, {"Fn::Not": [{"Condition": "Prod"}]}]}},
		"Resources": {"R": {"Type": "X"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Templates: []*Template{tmpl}, Region: "eu-west-1"}
	if v, err := r.Decide(tmpl, map[string]any{"Fn::If": []any{"Ireland", "a", "b"}}); err != nil || v != "a" {
		t.Errorf("Fn::If on the region: %v, %v", v, err)
	}
	if v, err := r.Resolve(tmpl, map[string]any{"Fn::If": []any{"Both", "a", "b"}}); err != nil || v != "a" {
		t.Errorf("Fn::If on Both, resolved: %v, %v (the parameter's placeholder is not prod)", v, err)
	}
	if _, err := r.Decide(tmpl, map[string]any{"Fn::If": []any{"Both", "a", "b"}}); err == nil || !strings.Contains(err.Error(), "parameter Env") {
		t.Errorf("Fn::If on Both, decided: %v, want a refusal naming the parameter", err)
	}
	if v, err := r.Resolve(tmpl, map[string]any{"Ref": "Env"}); err != nil || v != "env.local.invalid" {
		t.Errorf("Ref Env: %v, %v", v, err)
	}
}

// Conditions that name each other are evaluated once each, not once per
// path (30 conditions, each the And of the previous one twice, took 2^30
// evaluations and never finished); a chain deeper than the bound and a
// condition that names itself fail at once.
func TestConditionsAreEvaluatedOnce(t *testing.T) {
	chain := func(n int) *Template {
		conditions := map[string]any{"C0": map[string]any{"Fn::Equals": []any{"a", "a"}}}
		for i := 1; i < n; i++ {
			prev := map[string]any{"Condition": fmt.Sprint("C", i-1)}
			conditions[fmt.Sprint("C", i)] = map[string]any{"Fn::And": []any{prev, prev}}
		}
		doc, _ := json.Marshal(map[string]any{"Conditions": conditions, "Resources": map[string]any{"R": map[string]any{"Type": "X"}}})
		tmpl, err := Parse("chain.template.json", doc)
		if err != nil {
			t.Fatal(err)
		}
		return tmpl
	}
	tmpl := chain(30)
	r := &Resolver{Templates: []*Template{tmpl}, Region: "eu-west-1"}
	if v, err := r.Decide(tmpl, map[string]any{"Fn::If": []any{"C29", "yes", "no"}}); err != nil || v != "yes" {
		t.Errorf("30 chained conditions: %v, %v", v, err)
	}
	if len(r.conditions) != 30 {
		t.Errorf("%d conditions evaluated, want each of the 30 once", len(r.conditions))
	}
	deep := chain(200)
	r = &Resolver{Templates: []*Template{deep}, Region: "eu-west-1"}
	if _, err := r.Decide(deep, map[string]any{"Condition": "C199"}); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("200 chained conditions: %v, want the depth bound", err)
	}
	self, err := Parse("self.template.json", []byte(`{"Conditions": {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}},
		"Resources": {"R": {"Type": "X"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	r = &Resolver{Templates: []*Template{self}}
	if _, err := r.Resolve(self, map[string]any{"Condition": "A"}); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("A = Not B, B = Not A: %v", err)
	}
}

// A function's properties come resolved, with Lambda's defaults for what
// the template leaves out and for a function of another stack.
func TestFunction(t *testing.T) {
	api := tmpl("dev-Api", `{"Resources": {
		"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "bootstrap", "Runtime": "provided.al2023", "Timeout": 10, "MemorySize": 256,
			"Environment": {"Variables": {"REGION": {"Ref": "AWS::Region"}, "N": 3}}}},
		"Bare": {"Type": "AWS::Lambda::Function", "Properties": {}},
		"Bucket": {"Type": "AWS::S3::Bucket"}}}`)
	r := &Resolver{Templates: []*Template{api}, Region: "eu-west-1"}
	f, err := r.Function(api, "Fn")
	if err != nil || f.Handler != "bootstrap" || f.Runtime != "provided.al2023" || f.Timeout != 10*time.Second || f.MemoryMB != 256 ||
		f.Env["REGION"] != "eu-west-1" || f.Env["N"] != "3" {
		t.Errorf("Fn = %+v, %v", f, err)
	}
	for _, id := range []string{"Bare", "InAnotherStack"} {
		if f, err := r.Function(api, id); err != nil || f.Timeout != 3*time.Second || f.MemoryMB != 128 || len(f.Env) != 0 {
			t.Errorf("%s = %+v, %v; want Lambda's defaults", id, f, err)
		}
	}
	if _, err := r.Function(api, "Bucket"); err == nil || !strings.Contains(err.Error(), "not an AWS::Lambda::Function") {
		t.Errorf("a bucket as a function: error %v", err)
	}
}

func TestRefers(t *testing.T) {
	var v any
	json.Unmarshal([]byte(`{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
		":lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["Predict", "Arn"]}, "/invocations", {"Ref": "Predict"}]]}`), &v)
	if got := Refers(v); !slices.Equal(got, []string{"AWS::Partition", "AWS::Region", "Predict"}) {
		t.Errorf("Refers = %v", got)
	}
}

func TestReplace(t *testing.T) {
	api := tmpl("dev-Api", `{"Resources": {"M": {"Type": "AWS::ApiGateway::Method", "Properties": {"Integration": {"IntegrationResponses": [
		{"ResponseTemplates": {"application/json": "#if($o == \"http://localhost:8080\")"}}]}}},
		"F": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"ALLOWED_ORIGINS": "https://d.example,http://localhost:8080"}}}}}}`)
	api.Replace("http://localhost:8080", "http://localhost:8081")
	doc, _ := json.Marshal(api.Resources)
	if strings.Contains(string(doc), "8080") || strings.Count(string(doc), "http://localhost:8081") != 2 {
		t.Errorf("after Replace: %s", doc)
	}
}
