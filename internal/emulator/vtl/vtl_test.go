package vtl

import (
	"strings"
	"testing"
)

// The template CDK (2.17x and later) generates for several allowed origins.
const cdkCurrent = `#set($origin = $input.params().header.get("Origin"))
#if($origin == "")
  #set($origin = $input.params().header.get("origin"))
#end
#if($origin == "http://localhost:8080" || $origin == "https://app.example")
  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)
#end`

// The form older CDK versions generated: $input.params(name) and matches().
const cdkOlder = `#set($origin = $input.params("Origin"))
#if($origin == "") #set($origin = $input.params("origin")) #end
#if($origin.matches("http://localhost:8080") || $origin.matches('https://app\.example'))
  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)
#end`

func TestCORSTemplates(t *testing.T) {
	for name, src := range map[string]string{"current CDK": cdkCurrent, "older CDK": cdkOlder} {
		tmpl, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, tc := range []struct {
			header map[string]string
			want   string
		}{
			{map[string]string{"Origin": "http://localhost:8080"}, "http://localhost:8080"},
			{map[string]string{"origin": "https://app.example"}, "https://app.example"},
			{map[string]string{"Origin": "https://evil.example"}, ""},
			{map[string]string{"Origin": "https://appXexample"}, ""}, // the dot is escaped in the regex form
			{map[string]string{}, ""},
		} {
			res, err := tmpl.Execute(Request{Header: tc.header})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := res.Headers["Access-Control-Allow-Origin"]; got != tc.want {
				t.Errorf("%s, headers %v: ACAO override = %q, want %q", name, tc.header, got, tc.want)
			}
			if strings.TrimSpace(res.Body) != "" {
				t.Errorf("%s: body %q, want only whitespace", name, res.Body)
			}
		}
	}
}

func TestBranchesOperatorsAndOverrides(t *testing.T) {
	tmpl, err := Parse(`#set($m = $input.params('method'))
#if($m == "GET" && !($m != "GET"))get#elseif($m == 'PUT')put#{else}x#end`)
	if err == nil {
		t.Fatalf("#{else} parsed; formal directives are outside the subset: %v", tmpl)
	}
	tmpl, err = Parse(`#set($m = $input.params('method'))#if($m == "GET" && !($m != "GET"))get#elseif($m == 'PUT')put#else#set($context.responseOverride.status = 405)other#end`)
	if err != nil {
		t.Fatal(err)
	}
	for method, want := range map[string]string{"GET": "get", "PUT": "put", "POST": "other"} {
		res, err := tmpl.Execute(Request{Query: map[string]string{"method": method}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Body != want {
			t.Errorf("method %s: body %q, want %q", method, res.Body, want)
		}
		if want == "other" && res.Status != 405 {
			t.Errorf("status override = %d, want 405", res.Status)
		}
	}
}

func TestParamsLookupOrder(t *testing.T) {
	tmpl, _ := Parse(`$input.params("id")|$input.params().querystring.get("id")|$input.params().path.id|$input.params("none")|`)
	res, err := tmpl.Execute(Request{Path: map[string]string{"id": "p"}, Query: map[string]string{"id": "q"}, Header: map[string]string{"id": "h"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Body != "p|q|p||" {
		t.Errorf("body %q, want path first, then the maps, and \"\" when absent", res.Body)
	}
}

// Gateway responses print $context.error values into JSON.
func TestGatewayResponseTemplate(t *testing.T) {
	tmpl, err := Parse(`{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Execute(Request{Context: map[string]any{"error": map[string]any{
		"responseType": "MISSING_AUTHENTICATION_TOKEN", "messageString": `"Missing Authentication Token"`,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"error":{"code":"MISSING_AUTHENTICATION_TOKEN","message":"Missing Authentication Token"}}`; res.Body != want {
		t.Errorf("body %s, want %s", res.Body, want)
	}
}

func TestUnsupportedVTLIsRejectedWithItsPosition(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`#foreach($x in $list)$x#end`, `line 1 col 1: unsupported directive "foreach"`},
		{"ok\n$util.escapeJavaScript($x)", "line 2 col 2: $util is not supported"},
		{`$input.json('$')`, "method json() is not supported"},
		{`$input.body`, "only $input.params(...) is supported"},
		{`## note`, "comments are not supported"},
		{`$!origin`, "quiet ($!) and formal"},
		{`#set($context.requestId = "x")`, "cannot assign to $context.requestId"},
		{`#if($a == "b")`, "#if without #end"},
		{`#end`, "#end without #if"},
		{`#if($a = "b")#end`, `expected ")"`},
		{`#set($a = "$b")`, "references inside double-quoted strings"},
		{`#set($a = $b.toLowerCase())`, "method toLowerCase() is not supported"},
	} {
		_, err := Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

func TestBadRegexIsARuntimeError(t *testing.T) {
	tmpl, err := Parse(`#if($input.params("Origin").matches("(")) #end`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Execute(Request{Header: map[string]string{"Origin": "x"}}); err == nil {
		t.Error("invalid regex did not fail")
	}
}

// However deep a template nests, the answer is an error naming the place,
// never a stack overflow.
func TestDeepNestingIsAnError(t *testing.T) {
	for name, src := range map[string]string{
		"directives":  strings.Repeat("#if(true)", 100000) + strings.Repeat("#end", 100000),
		"parentheses": "#set($x = " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + ")",
		"negations":   "#if(" + strings.Repeat("!", 100000) + "true)#end",
	} {
		if _, err := Parse(src); err == nil || !strings.Contains(err.Error(), "nested more than 64 deep") {
			t.Errorf("%s: %v, want a nesting error", name, err)
		}
	}
	if _, err := Parse(strings.Repeat("#if(true)", 60) + strings.Repeat("#end", 60)); err != nil {
		t.Errorf("60 levels: %v, want them accepted", err)
	}
}

// Any input gives a template or an error, and running a template gives a
// result or an error: never a panic.
func FuzzParseAndExecute(f *testing.F) {
	for _, s := range []string{cdkCurrent, cdkOlder, "", "#if(", "$input.params(", "#set($a = $b)$a", `#if($x.matches("("))#end`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse(src)
		if err != nil {
			return
		}
		tmpl.Execute(Request{Header: map[string]string{"Origin": "http://localhost:8080"}, Context: map[string]any{"requestId": "x"}})
	})
}
