package rules

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/invalid")

// testPacks are the packs in testdata/packs: stand-ins for the embedded
// ones, so that these tests do not depend on the real packs' rules.
func testPacks(t testing.TB) []*Pack {
	t.Helper()
	files, err := filepath.Glob("testdata/packs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test packs: %v", err)
	}
	var packs []*Pack
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePack(f, data)
		if err != nil {
			t.Fatalf("test pack %s: %v", f, err)
		}
		packs = append(packs, p)
	}
	slices.SortFunc(packs, func(a, b *Pack) int { return strings.Compare(a.Name, b.Name) })
	return packs
}

func loadWith(t testing.TB, path string, packs []*Pack) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(path, data, packs)
}

// parseString parses an inline config against the test packs.
func parseString(t testing.TB, src string) (*Config, error) {
	t.Helper()
	return parse("cfg.yaml", []byte(src), testPacks(t))
}

func mustParse(t testing.TB, src string) *Config {
	t.Helper()
	cfg, err := parseString(t, src)
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return cfg
}

var errLine = regexp.MustCompile(`^[^:]+:\d+:\d+: \S`)

func TestInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 14 {
		t.Fatalf("only %d invalid cases", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(file)
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			for _, line := range errs {
				if !strings.HasPrefix(line, file+":") || !errLine.MatchString(line) {
					t.Errorf("error %q does not read %s:LINE:COL: message", line, file)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestValidFiles loads through the public entry point with the embedded
// packs (`logsift check` runs these files too), and again with the test
// packs.
func TestValidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid cases: %v", err)
	}
	packs := testPacks(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if _, err := loadWith(t, file, packs); err != nil {
				t.Errorf("with the test packs: %v", err)
			}
			cfg, err := Load(file)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if cfg.File != file {
				t.Errorf("File = %q, want %q", cfg.File, file)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestFullExample(t *testing.T) {
	cfg, err := Load("testdata/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Inputs) != 2 {
		t.Fatalf("inputs = %+v", cfg.Inputs)
	}
	web := cfg.Inputs[0]
	check := func(what string, got, want any) {
		t.Helper()
		if !equal(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("name", web.Name, "webapp")
	check("paths", web.Paths, []string{"/var/log/webapp/*.log", "/var/log/webapp/*.txt"})
	check("exclude", web.Exclude, []string{"*.gz", "*.[0-9]", "suppressed.log", "all.log"})
	check("start_at", web.StartAt, "beginning")
	check("prefix", web.Prefix.Kind, "docker-compose")
	check("preset", web.Multiline.Preset, "custom")
	check("start", web.Multiline.Start.String(), `^\S`)
	check("continue", web.Multiline.Continue.String(), `^\s`)
	check("max_lines", web.Multiline.MaxLines, 200)
	check("max_bytes", web.Multiline.MaxBytes, 64<<10)
	check("flush_after", web.Multiline.FlushAfter, time.Second)

	api := cfg.Inputs[1]
	check("derived name", api.Name, "api-server")
	check("start_at default", api.StartAt, "end")
	check("prefix kind", api.Prefix.Kind, "regex")
	check("prefix regex", api.Prefix.Regex.String(), `^\S+ \| `)
	check("preset none", api.Multiline.Preset, "none")
	check("max_bytes 2MB", api.Multiline.MaxBytes, 2_000_000)
	check("start unset", api.Multiline.Start == nil, true)

	check("use", cfg.Use, []string{"werkzeug"})
	check("disable", cfg.Disable, []string{"werkzeug-ws-close"})
	names := ruleNames(cfg.Rules)
	check("user rules first", names[:2], []string{"ws-close", "health_checks"})
	check("disabled rule absent", slices.Contains(names, "werkzeug-ws-close"), false)
	for _, r := range cfg.Rules[2:] {
		check("pack of "+r.Name, r.Pack, "werkzeug")
	}

	ws := cfg.Rules[0]
	check("description", ws.Description, "Flask-SocketIO closes WebSockets without a response.")
	check("pack", ws.Pack, "")
	check("pos", ws.Pos, "testdata/valid/full.yaml:23:5")
	check("action", ws.Action, Drop)
	check("sample", ws.Sample, 100)
	check("expires", ws.Expires, time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC))
	check("within", ws.Pair.Within, 32)
	check("max_wait", ws.Pair.MaxWait, 500*time.Millisecond)
	check("drop_partner", ws.Pair.DropPartner, false)
	event := "Error on request:\nTraceback (most recent call last):\nAssertionError: write() before start_response\n"
	check("match", MatchText(ws.Match, []byte(event)), true)
	check("match (not)", MatchText(ws.Match, []byte(event+"Headers already set\n")), false)
	check("pair match", MatchText(ws.Pair.Match, []byte(`"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`)), true)
	check("keep", cfg.Rules[1].Action, Keep)
	check("pair unset", cfg.Rules[1].Pair == nil, true)

	check("outputs", cfg.Outputs, []OutputSpec{
		{Name: "stdout", Type: "stdout", Events: "forwarded"},
		{Name: "audit", Type: "file", Path: "/var/log/webapp/suppressed.log", Events: "suppressed"},
		{Name: "all.log", Type: "file", Path: "/var/log/webapp/all.log", Events: "all"},
	})
	check("summary", cfg.Summary.Every, time.Minute)
	check("positions", cfg.Positions.Path, "/var/lib/logsift/positions.json")
	check("metrics", cfg.Metrics.Listen, "[::1]:9100")
}

// equal compares the plain values these tests check.
func equal(a, b any) bool {
	switch a := a.(type) {
	case []string:
		return slices.Equal(a, b.([]string))
	case []OutputSpec:
		return slices.Equal(a, b.([]OutputSpec))
	case time.Time:
		return a.Equal(b.(time.Time))
	}
	return a == b
}

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, "")
	if got := cfg.Inputs; len(got) != 1 || got[0].Name != "stdin" || !slices.Equal(got[0].Paths, []string{"-"}) {
		t.Errorf("inputs = %+v, want one stdin input", got)
	}
	in := cfg.Inputs[0]
	if in.StartAt != "end" || in.Prefix.Kind != "auto" || in.Prefix.Regex != nil {
		t.Errorf("input defaults = %+v", in)
	}
	wantML := Multiline{Preset: "python", MaxLines: 1000, MaxBytes: 1 << 20, FlushAfter: 250 * time.Millisecond}
	if in.Multiline != wantML {
		t.Errorf("multiline = %+v, want %+v", in.Multiline, wantML)
	}
	if want := []OutputSpec{{Name: "stdout", Type: "stdout", Events: "forwarded"}}; !slices.Equal(cfg.Outputs, want) {
		t.Errorf("outputs = %+v, want %+v", cfg.Outputs, want)
	}
	if !slices.Equal(cfg.Use, []string{"werkzeug"}) || len(cfg.Disable) != 0 {
		t.Errorf("use = %v, disable = %v", cfg.Use, cfg.Disable)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].Name != "werkzeug-ws-close" || cfg.Rules[0].Pack != "werkzeug" {
		t.Errorf("rules = %v, want the werkzeug pack's", ruleNames(cfg.Rules))
	}
	if cfg.Summary.Every != 0 || cfg.Positions.Path != "" || cfg.Metrics.Listen != "127.0.0.1:9468" {
		t.Errorf("summary/positions/metrics = %+v %+v %+v", cfg.Summary, cfg.Positions, cfg.Metrics)
	}
}

func ruleNames(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestDefaultValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		get  func(*Config) any
		want any
	}{
		{"null document", "~\n", func(c *Config) any { return c.Inputs[0].Name }, "stdin"},
		{"derived name from glob dir", "inputs: [{paths: ['/var/log/webapp/*.log']}]",
			func(c *Config) any { return c.Inputs[0].Name }, "webapp"},
		{"derived name from file", "inputs: [{paths: ['/var/log/My App.LOG']}]",
			func(c *Config) any { return c.Inputs[0].Name }, "my-app"},
		{"derived name stdin", "inputs: [{paths: ['-']}]",
			func(c *Config) any { return c.Inputs[0].Name }, "stdin"},
		{"paths as a single string", "inputs: [{name: x, paths: '/a/*.log'}]",
			func(c *Config) any { return c.Inputs[0].Paths }, []string{"/a/*.log"}},
		{"null multiline keeps defaults", "inputs: [{paths: [-], multiline: }]",
			func(c *Config) any { return c.Inputs[0].Multiline.MaxLines }, 1000},
		{"plain size", "inputs: [{paths: [-], multiline: {max_bytes: 4096}}]",
			func(c *Config) any { return c.Inputs[0].Multiline.MaxBytes }, 4096},
		{"use empty", "use: []", func(c *Config) any { return len(c.Rules) }, 0},
		{"use demo only", "use: [demo]", func(c *Config) any { return ruleNames(c.Rules) }, []string{"demo-one", "demo-two"}},
		{"use order", "use: [demo, werkzeug]\ndisable: [demo-one]",
			func(c *Config) any { return ruleNames(c.Rules) }, []string{"demo-two", "werkzeug-ws-close"}},
		{"user rules first", "use: [werkzeug, demo]\nrules: [{name: mine, match: {contains: x}}]",
			func(c *Config) any { return ruleNames(c.Rules) }, []string{"mine", "werkzeug-ws-close", "demo-one", "demo-two"}},
		{"pack rule keeps pack", "use: [demo]", func(c *Config) any { return c.Rules[1].Pack + " " + c.Rules[1].Action.String() }, "demo keep"},
		{"pack rule position", "use: [demo]", func(c *Config) any { return c.Rules[0].Pos }, "testdata/packs/demo.yaml:4:5"},
		{"replace a disabled pack rule", "disable: [werkzeug-ws-close]\nrules: [{name: werkzeug-ws-close, match: {contains: x}}]",
			func(c *Config) any { return c.Rules[0].Pack == "" && len(c.Rules) == 1 }, true},
		{"rule defaults", "rules: [{name: r, match: {contains: x}}]",
			func(c *Config) any {
				r := c.Rules[0]
				return r.Action == Drop && r.Sample == 0 && r.Pair == nil && r.Expires.IsZero() && r.Description == ""
			}, true},
		{"pair defaults", "rules: [{name: r, match: {contains: x}, pair: {match: {contains: y}}}]",
			func(c *Config) any { return *c.Rules[0].Pair }, Pair{Match: newContains([]string{"y"}), Within: 64, MaxWait: 2 * time.Second, DropPartner: true}},
		{"output names", "outputs: [{type: stdout}, {type: file, path: /x/y/out.log}]",
			func(c *Config) any { return c.Outputs[1].Name + " " + c.Outputs[1].Events }, "out.log forwarded"},
		{"metrics listen empty", "metrics: {listen: ''}", func(c *Config) any { return c.Metrics.Listen }, ""},
		{"summary zero", "summary: {every: 0}", func(c *Config) any { return c.Summary.Every }, time.Duration(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.src)
			got := tt.get(cfg)
			if p, ok := got.(Pair); ok {
				want := tt.want.(Pair)
				if p.Within != want.Within || p.MaxWait != want.MaxWait || p.DropPartner != want.DropPartner || p.Match == nil {
					t.Errorf("got %+v, want %+v", p, want)
				}
				return
			}
			if s, ok := got.([]string); ok {
				if !slices.Equal(s, tt.want.([]string)) {
					t.Errorf("got %q, want %q", s, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestUnknownKeysEverywhere proves the walk rejects unknown keys at every
// level, including match forms nested inside not, any and all.
func TestUnknownKeysEverywhere(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"top level", "colour: red\n", `cfg.yaml:1:1: unknown top-level key "colour"`},
		{"input", "inputs:\n  - paths: [-]\n    bogus: 1\n", `cfg.yaml:3:5: input "stdin": unknown key "bogus" in input`},
		{"multiline", "inputs:\n  - paths: [-]\n    multiline: {bogus: 1}\n", `cfg.yaml:3:17: input "stdin": unknown key "bogus" in multiline`},
		{"prefix", "inputs:\n  - paths: [-]\n    prefix: {regex: x, bogus: 1}\n", `cfg.yaml:3:24: input "stdin": unknown key "bogus" in prefix`},
		{"rule", "rules:\n  - name: r\n    match: {contains: x}\n    bogus: 1\n", `cfg.yaml:4:5: rule "r": unknown key "bogus" in rule`},
		{"match", "rules:\n  - name: r\n    match: {contains: x, bogus: 1}\n", `cfg.yaml:3:26: rule "r": unknown key "bogus" in match`},
		{"match in not", "rules:\n  - name: r\n    match: {not: {contains: x, bogus: 1}}\n", `cfg.yaml:3:32: rule "r": unknown key "bogus" in match`},
		{"match in any", "rules:\n  - name: r\n    match: {any: [{contains: x}, {bogus: 1}]}\n", `cfg.yaml:3:35: rule "r": unknown key "bogus" in match`},
		{"match in all in not", "rules:\n  - name: r\n    match: {not: {all: [{bogus: 1}]}}\n", `cfg.yaml:3:26: rule "r": unknown key "bogus" in match`},
		{"pair", "rules:\n  - name: r\n    match: {contains: x}\n    pair: {match: {contains: y}, bogus: 1}\n", `cfg.yaml:4:34: rule "r": unknown key "bogus" in pair`},
		{"match in pair", "rules:\n  - name: r\n    match: {contains: x}\n    pair: {match: {contains: y, bogus: 1}}\n", `cfg.yaml:4:33: rule "r": unknown key "bogus" in match`},
		{"output", "outputs:\n  - type: stdout\n    bogus: 1\n", `cfg.yaml:3:5: output 1 (stdout): unknown key "bogus" in output`},
		{"summary", "summary: {every: 1m, bogus: 1}\n", `cfg.yaml:1:22: unknown key "bogus" in summary`},
		{"positions", "positions: {path: /p, bogus: 1}\n", `cfg.yaml:1:23: unknown key "bogus" in positions`},
		{"metrics", "metrics: {listen: '', bogus: 1}\n", `cfg.yaml:1:23: unknown key "bogus" in metrics`},
		{"merged in", "inputs:\n  - paths: [-]\n    multiline: {<<: {bogus: 1}}\n", `cfg.yaml:3:22: input "stdin": unknown key "bogus" in multiline`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseString(t, tt.src)
			if err == nil {
				t.Fatal("accepted")
			}
			if lines := err.(Errors); len(lines) != 1 || !strings.HasPrefix(lines[0], tt.want) {
				t.Errorf("got\n%v\nwant one error starting with\n%s", err, tt.want)
			}
		})
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	cfg, err := loadWith(t, "testdata/valid/anchors.yaml", testPacks(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Inputs[1].Multiline; got.MaxLines != 50 || got.Preset != "python" {
		t.Errorf("merged multiline = %+v, want max_lines 50 (own key wins) and preset python", got)
	}
	if got := cfg.Inputs[0].Multiline.MaxLines; got != 500 {
		t.Errorf("anchored multiline max_lines = %d", got)
	}
	two := cfg.Rules[1]
	if two.Name != "two" || MatchText(two.Match, []byte("x")) || !MatchText(two.Match, []byte("y")) {
		t.Errorf("rule two = %+v, want not-contains-x", two)
	}
}

// TestAliasExpansionBounded guards against a tiny file of nested aliases
// making the walk take exponential time.
func TestAliasExpansionBounded(t *testing.T) {
	// Each level lists the previous one 8 times: 8^10 match forms when
	// expanded, from a file of a dozen lines. The leaf is a regexp that is
	// slow to compile, so compiling it once per use would take minutes.
	var doc strings.Builder
	doc.WriteString("rules:\n  - name: bomb\n    match:\n      any:\n")
	doc.WriteString("        - &a0 {regex: '" + strings.Repeat(`(?:foo|bar\d+baz[a-z]{2,5})`, 40) + "'}\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&doc, "        - &a%d {any: [", i)
		for j := range 8 {
			if j > 0 {
				doc.WriteString(", ")
			}
			fmt.Fprintf(&doc, "*a%d", i-1)
		}
		doc.WriteString("]}\n")
	}
	start := time.Now()
	_, err := parseString(t, doc.String())
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("err = %v, want the expansion limit", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestAllErrorsReported(t *testing.T) {
	_, err := parseString(t, `
inputs:
  - paths: [-]
    start_at: middle
rules:
  - name: a
    match: {regex: '('}
  - name: a
    match: {contains: x}
outputs:
  - type: file
`)
	want := Errors{
		`cfg.yaml:4:15: input "stdin": start_at: invalid value "middle" (want end or beginning)`,
		`cfg.yaml:7:20: rule "a": regex: error parsing regexp: missing closing ): ` + "`(`",
		`cfg.yaml:8:5: rule "a": name already used by the rule at cfg.yaml:6:5`,
		`cfg.yaml:11:5: output 1 (file): path is required for type file`,
	}
	if got, ok := err.(Errors); !ok || !slices.Equal(got, want) {
		t.Errorf("got\n%v\nwant\n%v", err, want)
	}
}

func TestDeriveName(t *testing.T) {
	tests := []struct{ path, want string }{
		{"-", "stdin"},
		{"/var/log/webapp/*.log", "webapp"},
		{"/var/log/app.log", "app"},
		{"/var/log/app-*.log", "app"},
		{"/var/log/App_Server.log", "app_server"},
		{"/var/log/nginx/access.log.1", "access-log"},
		{"/var/log/app[0-9].log", "app"},
		{"/var/log/{a,b}/*", "a-b"},
		{"relative.txt", "relative"},
		{"/*/*.log", "input"},
		{"/var/log/über app.log", "ber-app"},
		{"/var/log/.hidden", "hidden"},
	}
	for _, tt := range tests {
		if got := deriveName(tt.path); got != tt.want {
			t.Errorf("deriveName(%q) = %q, want %q", tt.path, got, tt.want)
		}
		if got := deriveName(tt.path); !namePattern.MatchString(got) {
			t.Errorf("deriveName(%q) = %q is not a valid name", tt.path, got)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"inputs:\n  - paths: [-\n", `cfg.yaml:2:1: YAML syntax error: did not find expected node content`},
		{"inputs:\n  - paths: [a\nuse: []\n", `cfg.yaml:2:1: YAML syntax error: did not find expected ',' or ']'`},
		{"rules:\n  - name: a\n  match: {}\n", `cfg.yaml:2:1: YAML syntax error: did not find expected '-' indicator`},
		{"rules:\n\t- name: a\n", `cfg.yaml:2:1: YAML syntax error: found character that cannot start any token`},
		{"use: [werkzeug]\ndisable: *nope\n", `cfg.yaml:2:10: YAML syntax error: unknown anchor 'nope' referenced`},
		{"use: a: b\n", `cfg.yaml:1:1: YAML syntax error: mapping values are not allowed in this context`},
		{"\x01", `cfg.yaml:1:1: YAML syntax error: control characters are not allowed`},
		{"use: []\n---\nuse: []\n", `cfg.yaml:2:1: only one YAML document is allowed`},
		// Not a syntax error: a message that quotes a line break verbatim.
		{"rules: [{name: r, match: {regex: \"(a\\nb\"}}]\n", "cfg.yaml:1:34: rule \"r\": regex: error parsing regexp: missing closing ): `(a\\nb`"},
	}
	for _, tt := range tests {
		if _, err := parseString(t, tt.src); err == nil || err.Error() != tt.want {
			t.Errorf("parse(%q) = %v, want %s", tt.src, err, tt.want)
		}
	}
}

// TestSelfReferentialAlias: yaml.v3 lets an anchored node contain an alias
// of itself; walking it must end with an error, not recurse forever.
func TestSelfReferentialAlias(t *testing.T) {
	_, err := parseString(t, "rules:\n  - name: r\n    match: &m {not: *m}\n")
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("err = %v, want the expansion limit", err)
	}
}
