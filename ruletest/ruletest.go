// Package ruletest runs rule unit tests: YAML files that pair log input with
// the exact text logsift must forward and the events each rule must
// suppress (`logsift test`, in the style of `promtool test rules`).
//
// A test file names its rules either with `config:` (a configuration file,
// relative to the test file) or inline, with the configuration keys
// `rules`, `use`, `disable` and `inputs` (the first input's format, prefix and
// multiline settings apply; its paths are ignored). With neither, the
// default packs apply. `tests:` lists the cases:
//
//	tests:
//	  - name: websocket close is hidden
//	    input: |
//	      ...
//	    expect:
//	      forwarded: ""                      # exact text; left out = not checked
//	      suppressed: {werkzeug-ws-close: 1} # events per rule; rules not listed: 0
//
// Decoding is strict: unknown keys are errors, reported as FILE:LINE:COL.
package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
	"github.com/logsift/logsift/rules"
)

// File is a parsed test file.
type File struct {
	Path   string
	Config *rules.Config // the rules under test; Config.Inputs[0] sets prefix and multiline
	Cases  []Case
}

// Case is one test: input and what must come out of it.
type Case struct {
	Name  string
	Pos   string // "FILE:LINE:COL" of the case
	Input string
	// Forwarded is the exact text that must be forwarded, when
	// CheckForwarded is set.
	Forwarded      string
	CheckForwarded bool
	// Suppressed is the number of matched events each rule must suppress
	// (partners not counted); rules not listed must suppress none.
	Suppressed map[string]int
}

// configKeys are the top-level keys handed to the configuration parser.
var configKeys = []string{"rules", "use", "disable", "overrides", "inputs"}

var (
	topKeys    = []string{"config", "rules", "use", "disable", "overrides", "inputs", "tests"}
	caseKeys   = []string{"name", "input", "expect"}
	expectKeys = []string{"forwarded", "suppressed"}
)

// Load reads and parses the test file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load test file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a test file; path names it in errors and locates a
// `config:` file. Every problem, in the test file or in the configuration
// it names, is returned in one rules.Errors, one "FILE:LINE:COL: message"
// each; a configuration file that cannot be read is reported at the
// `config:` value.
func Parse(path string, data []byte) (*File, error) {
	d := &decoder{&yamlstrict.Decoder{File: path}}
	root := d.Document(data)
	if root == nil {
		if d.Reported() == 0 {
			d.Add(nil, "empty test file: tests is required")
		}
		return nil, d.result()
	}
	// blankExcept relies on one key per line.
	if root.Kind == yaml.MappingNode && root.Style&yaml.FlowStyle != 0 {
		d.Add(root, "a test file must be a block mapping (one key per line), not {...}")
		return nil, d.result()
	}
	f := &File{Path: path}
	top, ok := d.scope("").Mapping(root, "", "", topKeys)
	if !ok {
		return nil, d.result()
	}

	cfg, cfgErr := d.config(root, top, data)
	f.Config = cfg
	if e, ok := top["tests"]; ok {
		f.Cases = d.cases(e.Val, cfg)
	} else {
		d.Add(root, "tests is required (a list of test cases)")
	}
	var cfgErrs rules.Errors
	if cfgErr != nil && !errors.As(cfgErr, &cfgErrs) {
		// The configuration file could not be read at all.
		d.Add(top["config"].Val, "config: "+cfgErr.Error())
	}
	if errs := d.Errors(); len(errs)+len(cfgErrs) > 0 {
		return nil, sortErrors(append(cfgErrs, errs...))
	}
	return f, nil
}

// sortErrors orders "FILE:LINE:COL: message" entries by file, then
// position.
func sortErrors(errs rules.Errors) rules.Errors {
	type key struct {
		file      string
		line, col int
	}
	parse := func(e string) key {
		var k key
		// The file name may contain colons: the position is the last
		// two numbers before the first ": ".
		head, _, _ := strings.Cut(e, ": ")
		parts := strings.Split(head, ":")
		if len(parts) >= 3 {
			k.file = strings.Join(parts[:len(parts)-2], ":")
			fmt.Sscan(parts[len(parts)-2], &k.line)
			fmt.Sscan(parts[len(parts)-1], &k.col)
		}
		return k
	}
	slices.SortStableFunc(errs, func(a, b string) int {
		ka, kb := parse(a), parse(b)
		if c := strings.Compare(ka.file, kb.file); c != 0 {
			return c
		}
		if ka.line != kb.line {
			return ka.line - kb.line
		}
		return ka.col - kb.col
	})
	return errs
}

// config loads the rules under test: the `config:` file, or the inline
// configuration keys parsed in place (every other key blanked out, so the
// configuration parser reports positions in the test file itself).
func (d *decoder) config(root *yaml.Node, top map[string]yamlstrict.Entry, data []byte) (*rules.Config, error) {
	var inline []yamlstrict.Entry
	for _, k := range configKeys {
		if e, ok := top[k]; ok {
			inline = append(inline, e)
		}
	}
	if e, ok := top["config"]; ok {
		for _, in := range inline {
			d.Add(in.Key, in.Key.Value+": cannot be combined with config (the rules under test come from one place)")
		}
		if len(inline) > 0 {
			return nil, nil
		}
		name, ok := d.str(d.scope(""), e.Val, "config")
		if !ok {
			return nil, nil
		}
		if name == "" {
			d.Add(e.Val, "config: must not be empty")
			return nil, nil
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(d.File), name)
		}
		return rules.Load(name)
	}
	return rules.Parse(d.File, blankExcept(data, root, configKeys))
}

// blankExcept returns data with the lines of every top-level key of root
// not in keep replaced by spaces (unknown keys included), so that what
// remains is a configuration whose positions are those of the original
// file. The root mapping is in block style (checked by mapping), so every
// key starts a line of its own and its value ends where the next key
// starts.
func blankExcept(data []byte, root *yaml.Node, keep []string) []byte {
	type span struct {
		line int
		keep bool
	}
	var spans []span
	for k := range yamlstrict.Pairs(root) {
		spans = append(spans, span{k.Line, k.Kind == yaml.ScalarNode && slices.Contains(keep, k.Value)})
	}
	slices.SortStableFunc(spans, func(a, b span) int { return a.line - b.line })
	out := bytes.Clone(data)
	line := 1
	blank := false
	next := 0
	for i, c := range out {
		for next < len(spans) && spans[next].line == line {
			blank = !spans[next].keep
			next++
		}
		if c == '\n' {
			line++
			continue
		}
		if blank && c != '\r' {
			out[i] = ' '
		}
	}
	return out
}

// cases decodes the `tests:` list. cfg, when loaded, is used to check the
// rule names under `suppressed`.
func (d *decoder) cases(n *yaml.Node, cfg *rules.Config) []Case {
	items, ok := d.scope("").List(n, "tests")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.Add(yamlstrict.Deref(n), "tests: needs at least one test case")
		return nil
	}
	var known []string
	if cfg != nil {
		for _, r := range cfg.Rules {
			known = append(known, r.Name)
		}
	}
	names := make(map[string]string)
	var out []Case
	for i, item := range items {
		c, ok := d.testCase(item, i+1, cfg != nil, known)
		if c.Name != "" {
			if first, dup := names[c.Name]; dup {
				d.Add(yamlstrict.Deref(item), fmt.Sprintf("test %q: name already used by the test at %s", c.Name, first))
				continue
			}
			names[c.Name] = c.Pos
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// testCase decodes one case; ok reports that it has no errors. The case
// carries its name even when it has errors, for the duplicate check.
func (d *decoder) testCase(n *yaml.Node, index int, checkNames bool, known []string) (c Case, ok bool) {
	before := d.Reported()
	what := fmt.Sprintf("test %d", index)
	if name := peekName(n); name != "" {
		what = fmt.Sprintf("test %q", name)
	}
	s := d.scope(what)
	m, ok := s.Mapping(n, "", "", caseKeys)
	if !ok {
		return Case{}, false
	}
	n = yamlstrict.Deref(n)
	c = Case{Pos: d.Pos(n), Suppressed: map[string]int{}}
	if e, ok := m["name"]; ok {
		if c.Name, ok = d.str(s, e.Val, "name"); ok && c.Name == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "name: must not be empty")
		}
	} else {
		s.Errorf(n, "name is required")
	}
	if e, ok := m["input"]; ok {
		c.Input, _ = d.str(s, e.Val, "input")
	} else {
		s.Errorf(n, "input is required")
	}
	e, ok := m["expect"]
	if !ok {
		s.Errorf(n, "expect is required (forwarded and/or suppressed)")
		return c, false
	}
	exp, ok := d.scope(what+": expect").Mapping(e.Val, "", "", expectKeys)
	if !ok {
		return c, false
	}
	if e, ok := exp["forwarded"]; ok {
		c.Forwarded, c.CheckForwarded = d.str(s, e.Val, "forwarded")
	}
	if e, ok := exp["suppressed"]; ok {
		d.suppressed(e.Val, what, c.Suppressed, checkNames, known)
	}
	return c, d.Reported() == before
}

func (d *decoder) suppressed(n *yaml.Node, what string, into map[string]int, checkNames bool, known []string) {
	s := d.scope(what + ": suppressed")
	// Any key may stand here; rule names are checked below, once the
	// rules under test are known.
	m, ok := s.Mapping(n, "", "", nil)
	if !ok {
		return
	}
	for name, e := range m {
		if checkNames && !slices.Contains(known, name) {
			msg := fmt.Sprintf("no rule %q in the rules under test", name)
			if guess := yamlstrict.Closest(name, known); guess != "" {
				msg += fmt.Sprintf("; did you mean %q?", guess)
			} else if len(known) > 0 {
				msg += " (" + strings.Join(known, ", ") + ")"
			}
			s.Errorf(e.Key, "%s", msg)
			continue
		}
		v := yamlstrict.Deref(e.Val)
		var count int
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&count) != nil || count < 0 {
			s.Errorf(v, "%s: expected a count of events (0 or more), got %s", name, yamlstrict.Describe(v))
			continue
		}
		into[name] = count
	}
}

// peekName returns a case's name before it is validated, so that
// messages about the case can name it; "" if there is none.
func peekName(n *yaml.Node) string {
	for k, v := range yamlstrict.Pairs(n) {
		v = yamlstrict.Deref(v)
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && !yamlstrict.IsNull(v) {
			return v.Value
		}
	}
	return ""
}

// decoder decodes one test file. Merge keys are not resolved: a `<<` at
// the top level would hide configuration keys from blankExcept.
type decoder struct {
	*yamlstrict.Decoder
}

// result returns the errors collected so far, nil if there are none.
func (d *decoder) result() error {
	if errs := d.Errors(); errs != nil {
		return rules.Errors(errs)
	}
	return nil
}

// scope returns a yamlstrict.Scope for the part of the file named what
// ("" for the top level): its messages start with "what: ".
func (d *decoder) scope(what string) yamlstrict.Scope {
	if what == "" {
		return d.Scope("")
	}
	return d.Scope(what + ": ")
}

// str decodes a non-null scalar as the string it spells. A null value
// gets a hint: test texts are often meant to be empty.
func (d *decoder) str(s yamlstrict.Scope, n *yaml.Node, key string) (string, bool) {
	if v := yamlstrict.Deref(n); yamlstrict.IsNull(v) {
		if d.Resolve(n) != nil {
			s.Errorf(v, `%s: expected a string, got nothing (write "" for an empty text)`, key)
		}
		return "", false
	}
	return s.Str(n, key)
}
