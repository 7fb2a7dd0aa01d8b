package rules

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// Errors lists every problem found in a configuration or pack file, one
// "FILE:LINE:COL: message" entry each, ordered by position.
type Errors []string

// Error joins the entries with newlines, ready to print one per line.
func (e Errors) Error() string { return strings.Join(e, "\n") }

// decoder decodes configurations and packs: the strict walk of
// yamlstrict, plus what the rule schema needs across the document.
type decoder struct {
	*yamlstrict.Decoder
	// regexps caches compiled match regexps by expression: aliases can
	// repeat one expression thousands of times.
	regexps map[string]compiledRegex
}

type compiledRegex struct {
	m   regexMatcher
	err error
}

// newDecoder returns a decoder for file. Configurations and packs may
// share settings through `<<` merge keys.
func newDecoder(file string) *decoder {
	return &decoder{Decoder: &yamlstrict.Decoder{File: file, MergeKeys: true}}
}

// result returns the collected errors (nil if none), ordered by position.
func (d *decoder) result() error {
	if errs := d.Errors(); errs != nil {
		return Errors(errs)
	}
	return nil
}

// scope prefixes the errors of one section ("rule \"x\": ", "input 2: ")
// and decodes the values of the configuration schema.
type scope struct {
	yamlstrict.Scope
	d *decoder
}

func (d *decoder) scope(prefix string) scope {
	return scope{Scope: d.Scope(prefix), d: d}
}

// peek returns the string value of key in mapping n, before validation, so
// that messages can name the section; "" if there is none.
func peek(n *yaml.Node, key string) string {
	for k, v := range yamlstrict.Pairs(n) {
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return firstString(v)
		}
	}
	return ""
}

// firstString returns a scalar's value, or the first item of a list of
// scalars; "" for anything else.
func firstString(n *yaml.Node) string {
	n = yamlstrict.Deref(n)
	if n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		n = yamlstrict.Deref(n.Content[0])
	}
	if n == nil || n.Kind != yaml.ScalarNode || yamlstrict.IsNull(n) {
		return ""
	}
	return n.Value
}

// integer decodes an integer scalar no smaller than minimum.
func (s scope) integer(n *yaml.Node, key string, minimum int) (int, bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return 0, false
	}
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		s.Errorf(n, "%s: expected an integer, got %s", key, yamlstrict.Describe(n))
		return 0, false
	}
	if v < minimum {
		s.Errorf(n, "%s: must be at least %d, got %d", key, minimum, v)
		return 0, false
	}
	return v, true
}

func (s scope) boolean(n *yaml.Node, key string) (bool, bool) {
	n = s.d.Resolve(n)
	if n == nil {
		return false, false
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		s.Errorf(n, "%s: expected true or false, got %s", key, yamlstrict.Describe(n))
		return false, false
	}
	return v, true
}

// duration decodes a Go duration; positive demands > 0, otherwise >= 0.
func (s scope) duration(n *yaml.Node, key string, positive bool) (time.Duration, bool) {
	v, ok := s.Str(n, key)
	if !ok {
		return 0, false
	}
	n = yamlstrict.Deref(n)
	dur, err := parseDuration(v)
	if err != nil {
		s.Errorf(n, "%s: %v", key, err)
		return 0, false
	}
	switch {
	case positive && dur <= 0:
		s.Errorf(n, "%s: must be greater than 0, got %s", key, v)
		return 0, false
	case dur < 0:
		s.Errorf(n, "%s: must not be negative, got %s", key, v)
		return 0, false
	}
	return dur, true
}

// size decodes a positive byte size such as 65536, 64KiB or 1MB.
func (s scope) size(n *yaml.Node, key string) (int, bool) {
	v, ok := s.Str(n, key)
	if !ok {
		return 0, false
	}
	n = yamlstrict.Deref(n)
	b, err := parseSize(v)
	if err != nil {
		s.Errorf(n, "%s: %v", key, err)
		return 0, false
	}
	if b <= 0 {
		s.Errorf(n, "%s: must be greater than 0, got %s", key, v)
		return 0, false
	}
	return b, true
}

// enum decodes a string that must be one of allowed.
func (s scope) enum(n *yaml.Node, key string, allowed ...string) (string, bool) {
	v, ok := s.Str(n, key)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, v) {
		s.Errorf(yamlstrict.Deref(n), "%s: invalid value %q (want %s)", key, v, orList(allowed))
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
	v, ok := s.Str(n, key)
	if !ok {
		return nil, false
	}
	n = yamlstrict.Deref(n)
	if v == "" {
		s.Errorf(n, "%s: must not be empty", key)
		return nil, false
	}
	re, err := regexp.Compile(v)
	if err != nil {
		s.Errorf(n, "%s: %v", key, err)
		return nil, false
	}
	return re, true
}

// regexMatcher compiles a match form's regex, once per expression.
func (s scope) regexMatcher(n *yaml.Node) (Matcher, bool) {
	v, ok := s.Str(n, "regex")
	if !ok {
		return nil, false
	}
	c, hit := s.d.regexps[v]
	if !hit {
		if v == "" {
			c.err = errors.New("must not be empty")
		} else if m, err := newRegex(v); err != nil {
			c.err = err
		} else {
			c.m = m
		}
		if s.d.regexps == nil {
			s.d.regexps = make(map[string]compiledRegex)
		}
		s.d.regexps[v] = c
	}
	if c.err != nil {
		s.Errorf(yamlstrict.Deref(n), "regex: %v", c.err)
		return nil, false
	}
	return c.m, true
}

var namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// name decodes a metric-label name: [a-z0-9_-]+.
func (s scope) name(n *yaml.Node, key string) (string, bool) {
	v, ok := s.Str(n, key)
	if !ok {
		return "", false
	}
	if !namePattern.MatchString(v) {
		s.Errorf(yamlstrict.Deref(n), "%s: %q must consist of a-z, 0-9, '_' and '-' only", key, v)
		return "", false
	}
	return v, true
}
