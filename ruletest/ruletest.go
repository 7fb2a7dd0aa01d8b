// Package ruletest runs rule unit tests: YAML files that pair log input with
// the exact text logsift must forward and the events each rule must
// suppress (`logsift test`, in the style of `promtool test rules`).
//
// A test file names its rules either with `config:` (a configuration file,
// relative to the test file) or inline, with the configuration keys
// `rules`, `use`, `disable` and `inputs` (the first input's prefix and
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
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

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
var configKeys = []string{"rules", "use", "disable", "inputs"}

var (
	topKeys    = []string{"config", "rules", "use", "disable", "inputs", "tests"}
	caseKeys   = []string{"name", "input", "expect"}
	expectKeys = []string{"forwarded", "suppressed"}
)

// maxNodes bounds the values a test file's tests may expand to through
// aliases.
const maxNodes = 100_000

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
	d := &decoder{file: path}
	root := d.document(data)
	if root == nil {
		return nil, d.result()
	}
	f := &File{Path: path}
	top := d.mapping(root, "", topKeys)
	if top == nil {
		return nil, d.result()
	}

	cfg, cfgErr := d.config(root, top, data)
	f.Config = cfg
	if e, ok := top["tests"]; ok {
		f.Cases = d.cases(e.val, cfg)
	} else {
		d.add(root, "tests is required (a list of test cases)")
	}
	var cfgErrs rules.Errors
	if cfgErr != nil && !errors.As(cfgErr, &cfgErrs) {
		// The configuration file could not be read at all.
		d.add(top["config"].val, "config: "+cfgErr.Error())
	}
	if len(d.errs)+len(cfgErrs) > 0 {
		return nil, sortErrors(append(cfgErrs, d.errs...))
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
func (d *decoder) config(root *yaml.Node, top map[string]entry, data []byte) (*rules.Config, error) {
	var inline []entry
	for _, k := range configKeys {
		if e, ok := top[k]; ok {
			inline = append(inline, e)
		}
	}
	if e, ok := top["config"]; ok {
		for _, in := range inline {
			d.add(in.key, in.key.Value+": cannot be combined with config (the rules under test come from one place)")
		}
		if len(inline) > 0 {
			return nil, nil
		}
		name, ok := d.str(e.val, "config")
		if !ok {
			return nil, nil
		}
		if name == "" {
			d.add(e.val, "config: must not be empty")
			return nil, nil
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(d.file), name)
		}
		return rules.Load(name)
	}
	return rules.Parse(d.file, blankExcept(data, root, configKeys))
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
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := deref(root.Content[i])
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
	items, ok := d.list(n, "tests")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.add(deref(n), "tests: needs at least one test case")
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
				d.add(deref(item), fmt.Sprintf("test %q: name already used by the test at %s", c.Name, first))
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
	before := len(d.errs)
	what := fmt.Sprintf("test %d", index)
	if name := peekName(n); name != "" {
		what = fmt.Sprintf("test %q", name)
	}
	m := d.mapping(n, what, caseKeys)
	if m == nil {
		return Case{}, false
	}
	n = deref(n)
	c = Case{Pos: d.pos(n), Suppressed: map[string]int{}}
	if e, ok := m["name"]; ok {
		if c.Name, ok = d.str(e.val, what+": name"); ok && c.Name == "" {
			d.add(deref(e.val), what+": name: must not be empty")
		}
	} else {
		d.add(n, what+": name is required")
	}
	if e, ok := m["input"]; ok {
		c.Input, _ = d.str(e.val, what+": input")
	} else {
		d.add(n, what+": input is required")
	}
	e, ok := m["expect"]
	if !ok {
		d.add(n, what+": expect is required (forwarded and/or suppressed)")
		return c, false
	}
	exp := d.mapping(e.val, what+": expect", expectKeys)
	if exp == nil {
		return c, false
	}
	if e, ok := exp["forwarded"]; ok {
		c.Forwarded, c.CheckForwarded = d.str(e.val, what+": forwarded")
	}
	if e, ok := exp["suppressed"]; ok {
		d.suppressed(e.val, what, c.Suppressed, checkNames, known)
	}
	return c, len(d.errs) == before
}

func (d *decoder) suppressed(n *yaml.Node, what string, into map[string]int, checkNames bool, known []string) {
	m := d.mapping(n, what+": suppressed", nil)
	if m == nil {
		return
	}
	for name, e := range m {
		if checkNames && !slices.Contains(known, name) {
			msg := fmt.Sprintf("%s: suppressed: no rule %q in the rules under test", what, name)
			if guess := closest(name, known); guess != "" {
				msg += fmt.Sprintf("; did you mean %q?", guess)
			} else if len(known) > 0 {
				msg += " (" + strings.Join(known, ", ") + ")"
			}
			d.add(e.key, msg)
			continue
		}
		v := deref(e.val)
		var count int
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&count) != nil || count < 0 {
			d.add(v, fmt.Sprintf("%s: suppressed: %s: expected a count of events (0 or more), got %s", what, name, describe(v)))
			continue
		}
		into[name] = count
	}
}

// peekName returns a case's name before it is validated, so that
// messages about the case can name it; "" if there is none.
func peekName(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}

// decoder walks yaml.v3 nodes, collecting positioned errors.
type decoder struct {
	file  string
	errs  []string
	nodes int
}

func (d *decoder) pos(n *yaml.Node) string {
	if n == nil || n.Line == 0 {
		return d.file + ":1:1"
	}
	return fmt.Sprintf("%s:%d:%d", d.file, n.Line, max(n.Column, 1))
}

func (d *decoder) add(n *yaml.Node, msg string) {
	d.errs = append(d.errs, d.pos(n)+": "+strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg))
}

func (d *decoder) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	return rules.Errors(d.errs)
}

// document parses data and returns its root value, nil when there is none
// (an error is recorded then).
func (d *decoder) document(data []byte) *yaml.Node {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		d.add(nil, "empty test file: tests is required")
		return nil
	}
	if err == nil {
		var extra yaml.Node
		if err = dec.Decode(&extra); err == nil {
			d.add(&extra, "only one YAML document is allowed")
			return nil
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		d.syntaxError(data, err)
		return nil
	}
	if len(doc.Content) != 1 || isNull(doc.Content[0]) {
		d.add(nil, "empty test file: tests is required")
		return nil
	}
	return doc.Content[0]
}

// syntaxError records a YAML syntax error the way configuration errors
// report it: the configuration parser sees the same bytes fail the same
// way and knows how to place yaml.v3's messages.
func (d *decoder) syntaxError(data []byte, err error) {
	var errs rules.Errors
	if _, perr := rules.Parse(d.file, data); errors.As(perr, &errs) && len(errs) > 0 {
		d.errs = append(d.errs, errs...)
		return
	}
	d.add(nil, "YAML syntax error: "+strings.TrimPrefix(err.Error(), "yaml: "))
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// visit counts a node against the file's budget.
func (d *decoder) visit(n *yaml.Node) bool {
	d.nodes++
	if d.nodes == maxNodes+1 {
		d.add(n, fmt.Sprintf("document expands to more than %d values (nested aliases?)", maxNodes))
	}
	return d.nodes <= maxNodes
}

type entry struct{ key, val *yaml.Node }

// mapping checks that n is a mapping with string keys, each at most once
// and, when known is not nil, each one of known. The top-level mapping
// (what == "") must be in block style. It returns nil when n is no mapping.
func (d *decoder) mapping(n *yaml.Node, what string, known []string) map[string]entry {
	n = deref(n)
	if !d.visit(n) {
		return nil
	}
	prefix := what + ": "
	if what == "" {
		prefix = ""
	}
	if isNull(n) {
		return map[string]entry{}
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, prefix+"expected a mapping, got "+describe(n))
		return nil
	}
	if what == "" && n.Style&yaml.FlowStyle != 0 {
		d.add(n, "a test file must be a block mapping (one key per line), not {...}")
		return nil
	}
	m := make(map[string]entry)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Tag == "!!merge" {
			d.add(k, prefix+"keys must be plain strings, got "+describe(k))
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			msg := fmt.Sprintf("%sunknown key %q", prefix, k.Value)
			if what == "" {
				msg = fmt.Sprintf("unknown top-level key %q", k.Value)
			}
			if guess := closest(k.Value, known); guess != "" {
				msg += fmt.Sprintf("; did you mean %q?", guess)
			} else {
				msg += " (valid: " + strings.Join(known, ", ") + ")"
			}
			d.add(k, msg)
			continue
		}
		if prev, dup := m[k.Value]; dup {
			d.add(k, fmt.Sprintf("%skey %q repeated (first at line %d)", prefix, k.Value, prev.key.Line))
			continue
		}
		m[k.Value] = entry{key: k, val: v}
	}
	return m
}

func (d *decoder) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = deref(n)
	if !d.visit(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, what+": expected a list, got "+describe(n))
		return nil, false
	}
	return n.Content, true
}

// str decodes a non-null scalar as the string it spells.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if !d.visit(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		msg := what + ": expected a string, got " + describe(n)
		if isNull(n) {
			msg += ` (write "" for an empty text)`
		}
		d.add(n, msg)
		return "", false
	}
	return n.Value, true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected value"
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := editDistance(s, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
