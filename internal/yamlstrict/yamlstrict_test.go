package yamlstrict

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root parses src, failing the test on any error.
func root(t *testing.T, d *Decoder, src string) *yaml.Node {
	t.Helper()
	n := d.Document([]byte(src))
	if errs := d.Errors(); errs != nil {
		t.Fatalf("parsing %q: %v", src, errs)
	}
	if n == nil {
		t.Fatalf("parsing %q: no document", src)
	}
	return n
}

func TestMapping(t *testing.T) {
	known := []string{"name", "input", "expect"}
	tests := []struct {
		name      string
		src       string
		merge     bool
		prefix    string
		key, what string
		known     []string
		wantKeys  []string // keys of the result; nil when ok must be false
		wantErrs  []string
	}{
		{name: "known keys", src: "name: a\ninput: b\n", known: known, wantKeys: []string{"input", "name"}},
		{name: "unknown key with hint", src: "nmae: a\n", prefix: `test "a": `, known: known, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:1: test "a": unknown key "nmae"; did you mean "name"?`}},
		{name: "unknown key without hint", src: "name: a\ncolour: b\n", prefix: `test "a": `, known: known, wantKeys: []string{"name"},
			wantErrs: []string{`f.yaml:2:1: test "a": unknown key "colour" (valid: name, input, expect)`}},
		{name: "unknown key in what", src: "regx: x\n", prefix: `rule "r": `, what: "match", known: []string{"regex", "contains"}, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:1: rule "r": unknown key "regx" in match; did you mean "regex"?`}},
		{name: "unknown top-level key", src: "test: []\n", known: []string{"tests"}, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:1: unknown top-level key "test"; did you mean "tests"?`}},
		{name: "long unknown key gets no hint", src: strings.Repeat("n", 65) + ": 1\n", known: []string{strings.Repeat("n", 64)}, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:1: unknown top-level key "` + strings.Repeat("n", 65) + `" (valid: ` + strings.Repeat("n", 64) + `)`}},
		{name: "repeated key", src: "name: a\nname: b\n", known: known, wantKeys: []string{"name"},
			wantErrs: []string{`f.yaml:2:1: key "name" repeated (first at line 1)`}},
		{name: "keys must be strings", src: "? [a]\n: 1\n~: 2\n", prefix: "p: ", known: nil, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:3: p: keys must be plain strings, got a list`, `f.yaml:3:1: p: keys must be plain strings, got nothing`}},
		{name: "any key when known is nil", src: "x: 1\ny: 2\n", wantKeys: []string{"x", "y"}},
		{name: "null is an empty mapping", src: "~\n", known: known, wantKeys: []string{}},
		{name: "not a mapping", src: "- a\n", wantErrs: []string{"f.yaml:1:1: expected a mapping, got a list"}},
		{name: "not a mapping under a key", src: "x\n", prefix: "output 1: ", key: "expect",
			wantErrs: []string{`f.yaml:1:1: output 1: expect: expected a mapping, got "x"`}},
		{name: "merge key rejected without MergeKeys", src: "<<: {name: a}\ninput: b\n", known: known, wantKeys: []string{"input"},
			wantErrs: []string{`f.yaml:1:1: keys must be plain strings, got "<<"`}},
		{name: "merge key resolved, own keys win", src: "<<: {name: a, input: c}\ninput: b\n", merge: true, known: known, wantKeys: []string{"input", "name"}},
		{name: "merged unknown key", src: "<<: [{nmae: a}]\n", merge: true, what: "rule", known: known, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:7: unknown key "nmae" in rule; did you mean "name"?`}},
		{name: "merge of a scalar", src: "<<: x\n", merge: true, what: "rule", known: known, wantKeys: []string{},
			wantErrs: []string{`f.yaml:1:5: <<: expected a mapping or a list of mappings to merge, got "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decoder{File: "f.yaml", MergeKeys: tt.merge}
			// Unmarshal keeps a null root, which Document drops.
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0]
			m, ok := d.Scope(tt.prefix).Mapping(n, tt.key, tt.what, tt.known)
			if ok != (tt.wantKeys != nil) {
				t.Fatalf("ok = %v, want %v", ok, tt.wantKeys != nil)
			}
			if got := slices.Sorted(maps.Keys(m)); ok && !slices.Equal(got, tt.wantKeys) {
				t.Errorf("keys %q, want %q", got, tt.wantKeys)
			}
			if got := d.Errors(); !slices.Equal(got, tt.wantErrs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrs, "\n"))
			}
		})
	}
}

func TestMergedValuesKeepTheirSource(t *testing.T) {
	d := &Decoder{File: "f.yaml", MergeKeys: true}
	n := root(t, d, "base: &b {name: a, input: c}\nitem:\n  <<: *b\n  input: own\n")
	top, _ := d.Scope("").Mapping(n, "", "", nil)
	m, ok := d.Scope("").Mapping(top["item"].Val, "item", "item", []string{"name", "input"})
	if !ok {
		t.Fatalf("errors: %v", d.Errors())
	}
	if v := m["input"].Val.Value; v != "own" {
		t.Errorf("input = %q, want the mapping's own value", v)
	}
	if k := m["name"].Key; k.Line != 1 || k.Value != "name" {
		t.Errorf("merged key at line %d (%q), want line 1 where the anchor defines it", k.Line, k.Value)
	}
}

func TestDocument(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantNil bool
		want    []string
	}{
		{name: "empty", src: "", wantNil: true},
		{name: "comment only", src: "# nothing\n", wantNil: true},
		{name: "null root", src: "~\n", wantNil: true},
		{name: "value", src: "a: 1\n"},
		// yaml.v3 reports parser problems one line early; the error
		// belongs where the parser stopped.
		{name: "unclosed flow list", src: "tests: [\n", wantNil: true,
			want: []string{"f.yaml:2:1: YAML syntax error: did not find expected node content"}},
		// Inside a collection, yaml.v3 only knows where it started.
		{name: "unclosed list in a mapping", src: "a:\n  b: [1, 2\nc: 3\n", wantNil: true,
			want: []string{"f.yaml:2:1: YAML syntax error: did not find expected ',' or ']'"}},
		// Scanner problems come with the right line and no column.
		{name: "scanner problem", src: "a: 1\nb: c: d\n", wantNil: true,
			want: []string{"f.yaml:2:1: YAML syntax error: mapping values are not allowed in this context"}},
		{name: "tab indentation", src: "a:\n\t- b\n", wantNil: true,
			want: []string{"f.yaml:2:1: YAML syntax error: found character that cannot start any token"}},
		{name: "unknown anchor at its first use", src: "a: 1\nb: [x, *nope]\n", wantNil: true,
			want: []string{"f.yaml:2:8: YAML syntax error: unknown anchor 'nope' referenced"}},
		{name: "two documents", src: "a: 1\n---\nb: 2\n", wantNil: true,
			want: []string{"f.yaml:2:1: only one YAML document is allowed"}},
		{name: "syntax error in the second document", src: "a: 1\n---\nb: [\n", wantNil: true,
			want: []string{"f.yaml:4:1: YAML syntax error: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decoder{File: "f.yaml"}
			n := d.Document([]byte(tt.src))
			if (n == nil) != tt.wantNil {
				t.Errorf("root = %v, want nil: %v", n, tt.wantNil)
			}
			if got := d.Errors(); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestValues(t *testing.T) {
	const src = `
s: &s text
num: 404
none: ~
list: &l [a, *s]
map: {x: 1}
alias: *s
listalias: *l
nulls: [a, ~]
`
	type result struct {
		val  string
		ok   bool
		errs []string
	}
	tests := []struct {
		name   string
		decode func(s Scope, n *yaml.Node, key string) (string, bool)
		key    string
		want   result
	}{
		{"str", strOf, "s", result{"text", true, nil}},
		{"str reads numbers as written", strOf, "num", result{"404", true, nil}},
		{"str through an alias", strOf, "alias", result{"text", true, nil}},
		{"str of null", strOf, "none", result{"", false, []string{"f.yaml:4:7: p: none: expected a string, got nothing"}}},
		{"str of a list", strOf, "list", result{"", false, []string{"f.yaml:5:7: p: list: expected a string, got a list"}}},
		{"list", listOf, "list", result{"a,text", true, nil}},
		{"list through an alias", listOf, "listalias", result{"a,text", true, nil}},
		{"list of a mapping", listOf, "map", result{"", false, []string{"f.yaml:6:6: p: map: expected a list, got a mapping"}}},
		{"list of null", listOf, "none", result{"", false, []string{"f.yaml:4:7: p: none: expected a list, got nothing"}}},
		{"strList of one string", strListOf, "s", result{"text", true, nil}},
		{"strList", strListOf, "listalias", result{"a,text", true, nil}},
		{"strList with a null item", strListOf, "nulls", result{"a", false, []string{"f.yaml:9:12: p: nulls: expected a string, got nothing"}}},
		{"strList of null", strListOf, "none", result{"", false, []string{"f.yaml:4:7: p: none: expected a list of strings, got nothing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decoder{File: "f.yaml"}
			top, ok := d.Scope("").Mapping(root(t, d, src), "", "", nil)
			if !ok {
				t.Fatal(d.Errors())
			}
			val, ok := tt.decode(d.Scope("p: "), top[tt.key].Val, tt.key)
			got := result{val, ok, d.Errors()}
			if got.val != tt.want.val || got.ok != tt.want.ok || !slices.Equal(got.errs, tt.want.errs) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func strOf(s Scope, n *yaml.Node, key string) (string, bool) { return s.Str(n, key) }

func listOf(s Scope, n *yaml.Node, key string) (string, bool) {
	items, ok := s.List(n, key)
	var vals []string
	for _, it := range items {
		vals = append(vals, Deref(it).Value)
	}
	return strings.Join(vals, ","), ok
}

func strListOf(s Scope, n *yaml.Node, key string) (string, bool) {
	items, ok := s.StrList(n, key)
	var vals []string
	for _, it := range items {
		vals = append(vals, it.Value)
	}
	return strings.Join(vals, ","), ok
}

// TestBudget: nested aliases that expand exponentially stop the walk with
// one error instead of running for ages.
func TestBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("top: *a8\n")
	d := &Decoder{File: "f.yaml"}
	top, _ := d.Scope("").Mapping(root(t, d, b.String()), "", "", nil)
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		v := d.Resolve(n)
		if v == nil {
			return false
		}
		for _, it := range v.Content {
			if !walk(it) {
				return false
			}
		}
		return true
	}
	if walk(top["top"].Val) {
		t.Fatal("walked 10^9 values without hitting the budget")
	}
	const want = ": document expands to more than 100000 values (nested aliases?)"
	if got := d.Errors(); len(got) != 1 || !strings.HasSuffix(got[0], want) {
		t.Errorf("errors %q, want one ending in %q", got, want)
	}
	if n := d.Resolve(top["a0"].Val); n != nil {
		t.Errorf("Resolve after the budget is spent = %v, want nil", n)
	}
	if got := len(d.Errors()); got != 1 {
		t.Errorf("%d errors after further use, want the budget reported once", got)
	}
}

func TestErrors(t *testing.T) {
	d := &Decoder{File: "dir/f.yaml"}
	at := func(line, col int) *yaml.Node { return &yaml.Node{Line: line, Column: col} }
	d.Add(at(3, 2), "third")
	d.Add(at(1, 5), "first, second column")
	d.Add(nil, "no position")
	d.Add(at(1, 5), "first, second column") // through an alias: shown once
	d.Add(at(1, 5), "same place, other problem")
	d.Add(at(2, 1), "quoted\nline\r\nbreaks")
	d.Add(at(4, 1), strings.Repeat("é", 300)) // 600 bytes
	if got := d.Reported(); got != 7 {
		t.Errorf("Reported() = %d, want 7 (repeats included)", got)
	}
	want := []string{
		"dir/f.yaml:1:1: no position",
		"dir/f.yaml:1:5: first, second column",
		"dir/f.yaml:1:5: same place, other problem",
		`dir/f.yaml:2:1: quoted\nline\r\nbreaks`,
		"dir/f.yaml:3:2: third",
		"dir/f.yaml:4:1: " + strings.Repeat("é", 256) + "…",
	}
	if got := d.Errors(); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tt := range []struct {
		n    *yaml.Node
		want string
	}{
		{nil, "dir/f.yaml:1:1"},
		{at(0, 0), "dir/f.yaml:1:1"},
		{at(7, 0), "dir/f.yaml:7:1"},
		{at(7, 9), "dir/f.yaml:7:9"},
	} {
		if got := d.Pos(tt.n); got != tt.want {
			t.Errorf("Pos(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := (&Decoder{}).Errors(); got != nil {
		t.Errorf("Errors() of a clean decoder = %q, want nil", got)
	}
}

func TestNullAndAliases(t *testing.T) {
	d := &Decoder{File: "f.yaml"}
	n := root(t, d, "a: &x ~\nb: *x\nc: null\nd:\ne: &y v\nf: *y\n")
	values := map[string]*yaml.Node{}
	for k, v := range Pairs(n) {
		values[k.Value] = v
	}
	for _, tt := range []struct {
		key      string
		null     bool
		describe string
	}{
		{"a", true, "nothing"},
		{"b", true, "nothing"},
		{"c", true, "nothing"},
		{"d", true, "nothing"},
		{"e", false, `"v"`},
		{"f", false, `"v"`},
	} {
		v := Deref(values[tt.key])
		if got := IsNull(v); got != tt.null {
			t.Errorf("%s: IsNull = %v, want %v", tt.key, got, tt.null)
		}
		if got := Describe(v); got != tt.describe {
			t.Errorf("%s: Describe = %q, want %q", tt.key, got, tt.describe)
		}
	}
	if values["b"].Kind != yaml.AliasNode {
		t.Error("Pairs followed the alias of a value; values come as written")
	}
	if IsNull(nil) || Deref(nil) != nil {
		t.Error("IsNull/Deref of nil")
	}
	for range Pairs(values["e"]) {
		t.Error("Pairs of a scalar yielded something")
	}
}

func TestClosest(t *testing.T) {
	candidates := []string{"forwarded", "suppressed", "input"}
	for _, tt := range []struct{ s, want string }{
		{"forwared", "forwarded"},
		{"supressed", "suppressed"},
		{"inptu", "input"}, // a swap is two edits
		{"imput", "input"},
		{"output", ""},
		{"", ""},
		{"input", "input"},
	} {
		if got := Closest(tt.s, candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
