package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Errors lists every problem found in a configuration or pack file, one
// "FILE:LINE:COL: message" entry each, ordered by position.
type Errors []string

// Error joins the entries with newlines, ready to print one per line.
func (e Errors) Error() string { return strings.Join(e, "\n") }

// maxNodes bounds how many nodes one document may expand to. Aliases are
// resolved while walking, so a small file of nested aliases could otherwise
// make the walk exponentially long.
const maxNodes = 100_000

// decoder walks a yaml.Node tree by hand so that every value keeps its
// position and unknown keys are caught at every level.
type decoder struct {
	file     string
	errs     []posError
	nodes    int
	tooLarge bool
	seen     map[posError]bool
	reported int // errors reported, repeats included: "before" marks for validity checks
	// regexps caches compiled match regexps by expression: aliases can
	// repeat one expression thousands of times.
	regexps map[string]compiledRegex
}

type compiledRegex struct {
	m   regexMatcher
	err error
}

type posError struct {
	line, col int
	msg       string
}

// maxMessage caps one error message; values quoted in messages can be
// arbitrarily long.
const maxMessage = 512

// add records msg at n's position (1:1 when n carries none). The same
// error reached again through an alias is recorded once.
func (d *decoder) add(n *yaml.Node, msg string) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	d.addAt(line, col, msg)
}

// lineBreaks escapes line breaks that a message quotes verbatim (regexp
// errors do), which would break the one-error-per-line format.
var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

func (d *decoder) addAt(line, col int, msg string) {
	msg = lineBreaks.Replace(msg)
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	d.reported++
	e := posError{line: line, col: col, msg: msg}
	if d.seen[e] {
		return
	}
	if d.seen == nil {
		d.seen = make(map[posError]bool)
	}
	d.seen[e] = true
	d.errs = append(d.errs, e)
}

// pos formats n's position the way errors do.
func (d *decoder) pos(n *yaml.Node) string {
	if n == nil || n.Line == 0 {
		return d.file + ":1:1"
	}
	return fmt.Sprintf("%s:%d:%d", d.file, n.Line, max(n.Column, 1))
}

// result returns the collected errors (nil if none), ordered by position.
func (d *decoder) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b posError) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	out := make(Errors, len(d.errs))
	for i, e := range d.errs {
		out[i] = fmt.Sprintf("%s:%d:%d: %s", d.file, e.line, e.col, e.msg)
	}
	return out
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// document parses data and returns the root value, or nil for an empty
// document. Syntax errors are recorded with the line yaml.v3 reports.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		d.syntaxError(err, data)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err, data)
		return nil
	default:
		d.add(&extra, "only one YAML document is allowed")
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root := doc.Content[0]
		if isNull(root) {
			return nil
		}
		return root
	}
	return nil
}

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 reports their line 0-based, and for problems inside a
// collection it reports where the collection starts.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxError records a yaml.v3 error at the line it names, 1:1 if none.
func (d *decoder) syntaxError(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		msg = strings.TrimPrefix(err.Error(), m[0])
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
			if slices.Contains(parserProblems, msg) {
				line++
			}
		}
	} else if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		// yaml.v3 gives no position; the first use of the alias is it.
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = i - bytes.LastIndexByte(data[:i], '\n')
		}
	}
	d.addAt(line, col, "YAML syntax error: "+msg)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scope prefixes the errors of one section ("rule \"x\": ", "input 2: ").
type scope struct {
	d      *decoder
	prefix string
}

func (s scope) errorf(n *yaml.Node, format string, args ...any) {
	s.d.add(n, s.prefix+fmt.Sprintf(format, args...))
}

// deref follows aliases without counting, for positions of values
// already decoded.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// resolve follows aliases and counts the node against the document's
// budget. It returns nil once the budget is spent.
func (s scope) resolve(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if s.d.tooLarge {
		return nil
	}
	if s.d.nodes++; s.d.nodes > maxNodes {
		s.d.tooLarge = true
		s.d.add(n, fmt.Sprintf("document expands to more than %d values (nested aliases?)", maxNodes))
		return nil
	}
	return n
}

// peek returns the string value of key in mapping n, before validation, so
// that messages can name the section; "" if there is none.
func peek(n *yaml.Node, key string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return firstString(n.Content[i+1])
		}
	}
	return ""
}

// firstString returns a scalar's value, or the first item of a list of
// scalars; "" for anything else.
func firstString(n *yaml.Node) string {
	n = deref(n)
	if n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		n = deref(n.Content[0])
	}
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

// entry is one key of a mapping with its value.
type entry struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping whose keys are all in known, each at
// most once, resolving `<<` merge keys. A null value counts as an empty
// mapping. what names the mapping in messages ("" for the top level).
// ok is false when n is not a mapping at all.
func (s scope) mapping(n *yaml.Node, key, what string, known []string) (m map[string]entry, ok bool) {
	n = s.resolve(n)
	if n == nil {
		return nil, false
	}
	m = make(map[string]entry)
	if isNull(n) {
		return m, true
	}
	if n.Kind != yaml.MappingNode {
		if key == "" {
			s.errorf(n, "expected a mapping, got %s", describe(n))
		} else {
			s.errorf(n, "%s: expected a mapping, got %s", key, describe(n))
		}
		return nil, false
	}
	s.collect(n, m, what, known, false)
	return m, true
}

func (s scope) collect(n *yaml.Node, m map[string]entry, what string, known []string, merged bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := s.resolve(n.Content[i])
		v := n.Content[i+1]
		if k == nil {
			return
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			s.errorf(k, "keys must be plain strings, got %s", describe(k))
			continue
		}
		if !slices.Contains(known, k.Value) {
			s.unknownKey(k, what, known)
			continue
		}
		if prev, dup := m[k.Value]; dup {
			if !merged {
				s.errorf(k, "key %q repeated (first at line %d)", k.Value, prev.key.Line)
			}
			continue
		}
		m[k.Value] = entry{key: k, val: v}
	}
	// Merged keys come last so that the mapping's own keys win wherever
	// the `<<` stands.
	for _, v := range merges {
		s.merge(v, m, what, known)
	}
}

// merge applies a `<<: *anchor` (or a list of them); keys already set
// win, as YAML merge keys specify.
func (s scope) merge(v *yaml.Node, m map[string]entry, what string, known []string) {
	v = s.resolve(v)
	if v == nil {
		return
	}
	var sources []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{v}
	case yaml.SequenceNode:
		sources = v.Content
	default:
		s.errorf(v, "<<: expected a mapping or a list of mappings to merge, got %s", describe(v))
		return
	}
	for _, src := range sources {
		src = s.resolve(src)
		if src == nil {
			return
		}
		if src.Kind != yaml.MappingNode {
			s.errorf(src, "<<: expected a mapping to merge, got %s", describe(src))
			continue
		}
		s.collect(src, m, what, known, true)
	}
}

func (s scope) unknownKey(k *yaml.Node, what string, known []string) {
	where := " in " + what
	if what == "" {
		where = ""
	}
	msg := fmt.Sprintf("unknown key %q%s", k.Value, where)
	if what == "" {
		msg = fmt.Sprintf("unknown top-level key %q", k.Value)
	}
	if guess := closest(k.Value, known); guess != "" {
		msg += fmt.Sprintf("; did you mean %q?", guess)
	} else {
		msg += " (valid: " + strings.Join(known, ", ") + ")"
	}
	s.errorf(k, "%s", msg)
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
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

// describe names a node's kind for "expected X, got Y" messages.
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
		return strconv.Quote(n.Value)
	}
	return "an unexpected value"
}

// str decodes a scalar as a string. Any non-null scalar qualifies, so that
// `name: 404s` or `expires: 2027-06-30` read as written.
func (s scope) str(n *yaml.Node, key string) (string, bool) {
	n = s.resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		s.errorf(n, "%s: expected a string, got %s", key, describe(n))
		return "", false
	}
	return n.Value, true
}

// strList decodes a list of strings; a single string stands for a list of
// one.
func (s scope) strList(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	n = s.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []*yaml.Node{n}, true
	}
	if n.Kind != yaml.SequenceNode {
		s.errorf(n, "%s: expected a list of strings, got %s", key, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		item = s.resolve(item)
		if item == nil {
			return nil, false
		}
		if item.Kind != yaml.ScalarNode || isNull(item) {
			s.errorf(item, "%s: expected a string, got %s", key, describe(item))
			ok = false
			continue
		}
		out = append(out, item)
	}
	return out, ok
}

// list decodes a sequence, returning its (unresolved) items.
func (s scope) list(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	n = s.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		s.errorf(n, "%s: expected a list, got %s", key, describe(n))
		return nil, false
	}
	return n.Content, true
}

// integer decodes an integer scalar no smaller than minimum.
func (s scope) integer(n *yaml.Node, key string, minimum int) (int, bool) {
	n = s.resolve(n)
	if n == nil {
		return 0, false
	}
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		s.errorf(n, "%s: expected an integer, got %s", key, describe(n))
		return 0, false
	}
	if v < minimum {
		s.errorf(n, "%s: must be at least %d, got %d", key, minimum, v)
		return 0, false
	}
	return v, true
}

func (s scope) boolean(n *yaml.Node, key string) (bool, bool) {
	n = s.resolve(n)
	if n == nil {
		return false, false
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		s.errorf(n, "%s: expected true or false, got %s", key, describe(n))
		return false, false
	}
	return v, true
}

// duration decodes a Go duration; positive demands > 0, otherwise >= 0.
func (s scope) duration(n *yaml.Node, key string, positive bool) (time.Duration, bool) {
	v, ok := s.str(n, key)
	if !ok {
		return 0, false
	}
	n = deref(n)
	dur, err := parseDuration(v)
	if err != nil {
		s.errorf(n, "%s: %v", key, err)
		return 0, false
	}
	switch {
	case positive && dur <= 0:
		s.errorf(n, "%s: must be greater than 0, got %s", key, v)
		return 0, false
	case dur < 0:
		s.errorf(n, "%s: must not be negative, got %s", key, v)
		return 0, false
	}
	return dur, true
}

// size decodes a positive byte size such as 65536, 64KiB or 1MB.
func (s scope) size(n *yaml.Node, key string) (int, bool) {
	v, ok := s.str(n, key)
	if !ok {
		return 0, false
	}
	n = deref(n)
	b, err := parseSize(v)
	if err != nil {
		s.errorf(n, "%s: %v", key, err)
		return 0, false
	}
	if b <= 0 {
		s.errorf(n, "%s: must be greater than 0, got %s", key, v)
		return 0, false
	}
	return b, true
}

// enum decodes a string that must be one of allowed.
func (s scope) enum(n *yaml.Node, key string, allowed ...string) (string, bool) {
	v, ok := s.str(n, key)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, v) {
		s.errorf(deref(n), "%s: invalid value %q (want %s)", key, v, orList(allowed))
		return "", false
	}
	return v, true
}

// orList renders [a b c] as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// regex compiles a Go RE2 expression.
func (s scope) regex(n *yaml.Node, key string) (*regexp.Regexp, bool) {
	v, ok := s.str(n, key)
	if !ok {
		return nil, false
	}
	n = deref(n)
	if v == "" {
		s.errorf(n, "%s: must not be empty", key)
		return nil, false
	}
	re, err := regexp.Compile(v)
	if err != nil {
		s.errorf(n, "%s: %v", key, err)
		return nil, false
	}
	return re, true
}

// regexMatcher compiles a match form's regex, once per expression.
func (s scope) regexMatcher(n *yaml.Node) (Matcher, bool) {
	v, ok := s.str(n, "regex")
	if !ok {
		return nil, false
	}
	c, hit := s.d.regexps[v]
	if !hit {
		if v == "" {
			c.err = errors.New("must not be empty")
		} else if re, err := regexp.Compile(v); err != nil {
			c.err = err
		} else {
			c.m = newRegex(re)
		}
		if s.d.regexps == nil {
			s.d.regexps = make(map[string]compiledRegex)
		}
		s.d.regexps[v] = c
	}
	if c.err != nil {
		s.errorf(deref(n), "regex: %v", c.err)
		return nil, false
	}
	return c.m, true
}

var namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// name decodes a metric-label name: [a-z0-9_-]+.
func (s scope) name(n *yaml.Node, key string) (string, bool) {
	v, ok := s.str(n, key)
	if !ok {
		return "", false
	}
	if !namePattern.MatchString(v) {
		s.errorf(deref(n), "%s: %q must consist of a-z, 0-9, '_' and '-' only", key, v)
		return "", false
	}
	return v, true
}
