// Package yamlstrict decodes YAML strictly, walking yaml.v3 nodes by hand so
// that every value keeps its position: unknown keys are errors at every
// level, and all problems of a file are collected at once, each as
// "FILE:LINE:COL: message". Which keys exist and what values mean is left
// to the caller; this package knows mappings, lists and strings.
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds how many nodes one document may expand to. Aliases are
// resolved while walking, so a small file of nested aliases could otherwise
// make the walk exponentially long.
const maxNodes = 100_000

// maxMessage caps one error message; values quoted in messages can be
// arbitrarily long.
const maxMessage = 512

// Decoder collects the positioned errors of one file while its caller walks
// the document. The zero value is ready to use.
type Decoder struct {
	// File names the file in errors and positions.
	File string
	// MergeKeys resolves `<<` merge keys in mappings. Without it they are
	// errors, like any other key that is not a plain string.
	MergeKeys bool

	errs     []posError
	seen     map[posError]bool
	reported int
	nodes    int
	tooLarge bool
}

type posError struct {
	line, col int
	msg       string
}

// Add records msg at n's position (1:1 when n is nil or carries none).
// The same error reached again through an alias is recorded once.
func (d *Decoder) Add(n *yaml.Node, msg string) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	d.addAt(line, col, msg)
}

// lineBreaks escapes line breaks that a message quotes verbatim (regexp
// errors do), which would break the one-error-per-line format.
var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

func (d *Decoder) addAt(line, col int, msg string) {
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

// Reported counts the errors reported so far, repeats included. Comparing
// it before and after decoding a part tells whether that part has errors,
// even when all of them were recorded before through another alias.
func (d *Decoder) Reported() int { return d.reported }

// Pos formats n's position the way errors do: "FILE:LINE:COL".
func (d *Decoder) Pos(n *yaml.Node) string {
	if n == nil || n.Line == 0 {
		return d.File + ":1:1"
	}
	return fmt.Sprintf("%s:%d:%d", d.File, n.Line, max(n.Column, 1))
}

// Errors returns the collected errors ordered by position, errors at the
// same position in the order they were recorded; nil if there are none.
func (d *Decoder) Errors() []string {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b posError) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	out := make([]string, len(d.errs))
	for i, e := range d.errs {
		out[i] = fmt.Sprintf("%s:%d:%d: %s", d.File, e.line, e.col, e.msg)
	}
	return out
}

// Document parses data, which must hold at most one YAML document, and
// returns its root value. It returns nil for an empty document (no error
// is recorded then) and for one that cannot be parsed (syntax errors are
// recorded with the position yaml.v3 gives, corrected where it is off).
func (d *Decoder) Document(data []byte) *yaml.Node {
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
		d.Add(&extra, "only one YAML document is allowed")
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root := doc.Content[0]
		if IsNull(root) {
			return nil
		}
		return root
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

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
func (d *Decoder) syntaxError(err error, data []byte) {
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

// Resolve follows aliases and counts the node against the document's
// budget. It returns nil once the budget is spent; the error is recorded
// once, at the node that exceeded it.
func (d *Decoder) Resolve(n *yaml.Node) *yaml.Node {
	n = Deref(n)
	if d.tooLarge {
		return nil
	}
	if d.nodes++; d.nodes > maxNodes {
		d.tooLarge = true
		d.Add(n, fmt.Sprintf("document expands to more than %d values (nested aliases?)", maxNodes))
		return nil
	}
	return n
}

// Scope returns a view of d whose messages start with prefix, such as
// `rule "x": ` or `test 2: `.
func (d *Decoder) Scope(prefix string) Scope {
	return Scope{d: d, prefix: prefix}
}

// Scope records errors about one section of a document, each message
// starting with the section's prefix.
type Scope struct {
	d      *Decoder
	prefix string
}

// Errorf records the formatted message, prefixed, at n's position.
func (s Scope) Errorf(n *yaml.Node, format string, args ...any) {
	s.d.Add(n, s.prefix+fmt.Sprintf(format, args...))
}

// Entry is one key of a mapping with its value. Key has its aliases
// followed; Val is as written, to be decoded by the caller.
type Entry struct {
	Key, Val *yaml.Node
}

// Mapping checks that n is a mapping whose keys are plain strings, each at
// most once and, unless known is nil, each one of known. A null value
// counts as an empty mapping. ok is false when n is not a mapping at all.
//
// key is the key n is the value of, for "KEY: expected a mapping"; "" for
// none. what names the mapping in unknown-key messages (`unknown key "k"
// in WHAT`); with "" the clause is left out and the prefix alone names the
// mapping, and with no prefix either n is the top level of the document
// (`unknown top-level key "k"`). An unknown key close to a known one gets
// a "did you mean" hint, any other the list of valid keys.
func (s Scope) Mapping(n *yaml.Node, key, what string, known []string) (m map[string]Entry, ok bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return nil, false
	}
	m = make(map[string]Entry)
	if IsNull(n) {
		return m, true
	}
	if n.Kind != yaml.MappingNode {
		if key == "" {
			s.Errorf(n, "expected a mapping, got %s", Describe(n))
		} else {
			s.Errorf(n, "%s: expected a mapping, got %s", key, Describe(n))
		}
		return nil, false
	}
	s.collect(n, m, what, known, false)
	return m, true
}

func (s Scope) collect(n *yaml.Node, m map[string]Entry, what string, known []string, merged bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := s.d.Resolve(n.Content[i])
		v := n.Content[i+1]
		if k == nil {
			return
		}
		if s.d.MergeKeys && k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || IsNull(k) || k.Tag == "!!merge" {
			s.Errorf(k, "keys must be plain strings, got %s", Describe(k))
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			s.unknownKey(k, what, known)
			continue
		}
		if prev, dup := m[k.Value]; dup {
			if !merged {
				s.Errorf(k, "key %q repeated (first at line %d)", k.Value, prev.Key.Line)
			}
			continue
		}
		m[k.Value] = Entry{Key: k, Val: v}
	}
	// Merged keys come last so that the mapping's own keys win wherever
	// the `<<` stands.
	for _, v := range merges {
		s.merge(v, m, what, known)
	}
}

// merge applies a `<<: *anchor` (or a list of them); keys already set
// win, as YAML merge keys specify.
func (s Scope) merge(v *yaml.Node, m map[string]Entry, what string, known []string) {
	v = s.d.Resolve(v)
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
		s.Errorf(v, "<<: expected a mapping or a list of mappings to merge, got %s", Describe(v))
		return
	}
	for _, src := range sources {
		src = s.d.Resolve(src)
		if src == nil {
			return
		}
		if src.Kind != yaml.MappingNode {
			s.Errorf(src, "<<: expected a mapping to merge, got %s", Describe(src))
			continue
		}
		s.collect(src, m, what, known, true)
	}
}

func (s Scope) unknownKey(k *yaml.Node, what string, known []string) {
	var msg string
	switch {
	case what != "":
		msg = fmt.Sprintf("unknown key %q in %s", k.Value, what)
	case s.prefix != "":
		msg = fmt.Sprintf("unknown key %q", k.Value)
	default:
		msg = fmt.Sprintf("unknown top-level key %q", k.Value)
	}
	if guess := Closest(k.Value, known); guess != "" {
		msg += fmt.Sprintf("; did you mean %q?", guess)
	} else {
		msg += " (valid: " + strings.Join(known, ", ") + ")"
	}
	s.Errorf(k, "%s", msg)
}

// List decodes a sequence, returning its items as written.
func (s Scope) List(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		s.Errorf(n, "%s: expected a list, got %s", key, Describe(n))
		return nil, false
	}
	return n.Content, true
}

// Str decodes a scalar as a string. Any non-null scalar qualifies, so that
// `name: 404s` or `expires: 2027-06-30` read as written.
func (s Scope) Str(n *yaml.Node, key string) (string, bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		s.Errorf(n, "%s: expected a string, got %s", key, Describe(n))
		return "", false
	}
	return n.Value, true
}

// StrList decodes a list of strings; a single string stands for a list of
// one. It returns the items' scalar nodes, aliases followed.
func (s Scope) StrList(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind == yaml.ScalarNode && !IsNull(n) {
		return []*yaml.Node{n}, true
	}
	if n.Kind != yaml.SequenceNode {
		s.Errorf(n, "%s: expected a list of strings, got %s", key, Describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		item = s.d.Resolve(item)
		if item == nil {
			return nil, false
		}
		if item.Kind != yaml.ScalarNode || IsNull(item) {
			s.Errorf(item, "%s: expected a string, got %s", key, Describe(item))
			ok = false
			continue
		}
		out = append(out, item)
	}
	return out, ok
}

// IsNull reports whether n is a null scalar (`~`, `null` or nothing).
func IsNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// Deref follows aliases without counting them against the budget, for
// values already decoded or only peeked at.
func Deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Pairs yields the keys (aliases followed) and values (as written) of
// mapping n, without counting or checking them; nothing if n is not a
// mapping. It is for peeking at a value before the mapping is validated.
func Pairs(n *yaml.Node) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(k, v *yaml.Node) bool) {
		n := Deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(Deref(n.Content[i]), n.Content[i+1]) {
				return
			}
		}
	}
}

// Describe names a node's kind for "expected X, got Y" messages: "a
// mapping", "a list", "nothing" or the quoted scalar.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected value"
}

// Closest returns the candidate within edit distance 2 of s, the first of
// the nearest if several are; "" if there is none.
func Closest(s string, candidates []string) string {
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

// editDistance is the Levenshtein distance of a and b, in bytes.
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
