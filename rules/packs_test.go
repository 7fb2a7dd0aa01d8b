package rules

import (
	"slices"
	"strings"
	"testing"
)

// TestEmbeddedPacks guarantees what Packs promises: every embedded pack
// parses (Packs would panic otherwise), and any combination of packs can
// be used together.
func TestEmbeddedPacks(t *testing.T) {
	packs := Packs()
	if len(packs) == 0 {
		t.Fatal("no embedded packs")
	}
	if !slices.IsSortedFunc(packs, func(a, b *Pack) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("packs are not sorted by name")
	}
	owner := make(map[string]string)
	for _, p := range packs {
		if p.Description == "" {
			t.Errorf("pack %s has no description", p.Name)
		}
		if len(p.Rules) == 0 {
			t.Errorf("pack %s has no rules", p.Name)
		}
		for _, r := range p.Rules {
			if prev, dup := owner[r.Name]; dup {
				t.Errorf("rule %s is in packs %s and %s", r.Name, prev, p.Name)
			}
			owner[r.Name] = p.Name
			if r.Pack != p.Name {
				t.Errorf("rule %s: Pack = %q, want %q", r.Name, r.Pack, p.Name)
			}
			if r.Description == "" {
				t.Errorf("rule %s has no description (logsift rules lists it)", r.Name)
			}
			if want := "packs/" + p.Name + ".yaml:"; !strings.HasPrefix(r.Pos, want) {
				t.Errorf("rule %s: Pos = %q, want it to start with %q", r.Name, r.Pos, want)
			}
			if r.Match == nil || (r.Pair != nil && r.Pair.Match == nil) {
				t.Errorf("rule %s has no matcher", r.Name)
			}
		}
	}
}

// TestLazyPacks checks what lazyPacks reads without parsing (a pack's
// name from its file name, its default flag from one line) against the
// full parse.
func TestLazyPacks(t *testing.T) {
	full := Packs()
	lazy := lazyPacks()
	if len(lazy) != len(full) {
		t.Fatalf("lazyPacks: %d packs, Packs: %d", len(lazy), len(full))
	}
	for i, p := range full {
		l := lazy[i]
		if l.Name != p.Name || l.Default != p.Default {
			t.Errorf("lazy pack %d = %s (default %v), parsed: %s (default %v)", i, l.Name, l.Default, p.Name, p.Default)
		}
		if got := ruleNames(l.rules()); !slices.Equal(got, ruleNames(p.Rules)) {
			t.Errorf("pack %s: lazy rules %v, parsed %v", p.Name, got, ruleNames(p.Rules))
		}
	}
}

func TestPacksAreFresh(t *testing.T) {
	a := Packs()
	a[0].Rules[0].Name = "changed"
	a[0].Rules = nil
	b := Packs()
	if len(b[0].Rules) == 0 || b[0].Rules[0].Name == "changed" {
		t.Error("Packs shares state between calls")
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := Default()
	var defaults []string
	var rules []string
	for _, p := range Packs() {
		if p.Default {
			defaults = append(defaults, p.Name)
			rules = append(rules, ruleNames(p.Rules)...)
		}
	}
	if !slices.Contains(defaults, "werkzeug") {
		t.Errorf("default packs = %v, want werkzeug among them", defaults)
	}
	if !slices.Equal(cfg.Use, defaults) || !slices.Equal(ruleNames(cfg.Rules), rules) {
		t.Errorf("Default(): use %v, rules %v; want %v, %v", cfg.Use, ruleNames(cfg.Rules), defaults, rules)
	}
	if cfg.Metrics.Listen != "" {
		t.Errorf("Default() listens on %q; a pipeline stage binds no port", cfg.Metrics.Listen)
	}
	if len(cfg.Inputs) != 1 || cfg.Inputs[0].Name != "stdin" || !slices.Equal(cfg.Inputs[0].Paths, []string{"-"}) {
		t.Errorf("Default() inputs = %+v", cfg.Inputs)
	}
	if len(cfg.Outputs) != 1 || cfg.Outputs[0] != (OutputSpec{Name: "stdout", Type: "stdout", Events: "forwarded"}) {
		t.Errorf("Default() outputs = %+v", cfg.Outputs)
	}

	fromFile, err := Parse("logsift.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Metrics.Listen != DefaultMetricsListen {
		t.Errorf("an empty config file listens on %q, want %q", fromFile.Metrics.Listen, DefaultMetricsListen)
	}
}

func TestParsePackErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"p.yaml:1:1: empty pack: pack and rules are required"}},
		{"missing keys", "description: x\n", []string{
			"p.yaml:1:1: pack is required (the pack's name)",
			"p.yaml:1:1: rules is required",
		}},
		{"unknown key", "pack: p\nversion: 2\nrules: [{name: r, match: {contains: x}}]\n", []string{
			`p.yaml:2:1: unknown key "version" in pack (valid: pack, description, default, rules)`,
		}},
		{"bad name and default", "pack: My Pack\ndefault: yes\nrules: [{name: r, match: {contains: x}}]\n", []string{
			`p.yaml:1:7: pack: "My Pack" must consist of a-z, 0-9, '_' and '-' only`,
			`p.yaml:2:10: default: expected true or false, got "yes"`,
		}},
		{"no rules", "pack: p\nrules: []\n", []string{"p.yaml:2:8: rules: a pack needs at least one rule"}},
		{"duplicate and bad rules", "pack: p\nrules:\n  - {name: a, match: {contains: x}}\n  - {name: a, match: {contains: y}}\n  - {name: b, match: {regex: '['}}\n", []string{
			`p.yaml:4:5: rule "a": name already used by the rule at p.yaml:3:5`,
			"p.yaml:5:30: rule \"b\": regex: error parsing regexp: missing closing ]: `[`",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePack("p.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if got, ok := err.(Errors); !ok || !slices.Equal(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParsePack(t *testing.T) {
	p, err := ParsePack("p.yaml", []byte("pack: p\ndescription: d\ndefault: true\nrules:\n  - name: r\n    match: {contains: x}\n    action: keep\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "p" || p.Description != "d" || !p.Default || len(p.Rules) != 1 {
		t.Fatalf("pack = %+v", p)
	}
	if r := p.Rules[0]; r.Name != "r" || r.Pack != "p" || r.Action != Keep || r.Pos != "p.yaml:5:5" {
		t.Errorf("rule = %+v", r)
	}
}

// TestPackClash: two packs in use with the same rule name is reported at
// the later pack's `use` entry.
func TestPackClash(t *testing.T) {
	_, err := parseString(t, "use: [demo, clash]\n")
	want := `cfg.yaml:1:13: use: pack "clash" rule "demo-one" has the same name as a rule of pack "demo" (testdata/packs/demo.yaml:4:5); disable one of them`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := parseString(t, "use: [demo, clash]\ndisable: [demo-one]\n"); err != nil {
		t.Errorf("disabling the clashing rule: %v", err)
	}
}

// TestPackRuleMessages covers the messages that name pack rules, against
// the test packs so that they do not change with the embedded ones.
func TestPackRuleMessages(t *testing.T) {
	tests := []struct{ src, want string }{
		{"rules: [{name: werkzeug-ws-close, match: {contains: x}}]\n",
			`cfg.yaml:1:9: rule "werkzeug-ws-close": name already used by pack "werkzeug" (testdata/packs/werkzeug.yaml:7:5); add it to disable to replace the pack's rule`},
		{"disable: [demo-one]\n",
			`cfg.yaml:1:11: disable: rule "demo-one" belongs to pack "clash", which is not in use`},
		{"use: [demo]\ndisable: [werkzeug-ws-close]\n",
			`cfg.yaml:2:11: disable: rule "werkzeug-ws-close" belongs to pack "werkzeug", which is not in use`},
		{"use: []\ndisable: [x]\n",
			`cfg.yaml:2:11: disable: no rule "x": no packs are in use`},
		{"use: [demo, werkzeug]\ndisable: [x]\n",
			`cfg.yaml:2:11: disable: no rule "x" in the packs in use (demo, werkzeug)`},
		{"use: [nope]\n",
			`cfg.yaml:1:7: use: unknown pack "nope" (available: clash, demo, werkzeug)`},
	}
	for _, tt := range tests {
		if _, err := parseString(t, tt.src); err == nil || err.Error() != tt.want {
			t.Errorf("parse(%q):\ngot  %v\nwant %s", tt.src, err, tt.want)
		}
	}
}
