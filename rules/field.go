package rules

import (
	"bytes"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
	"github.com/logsift/logsift/record"
)

var fieldKeys = []string{"name", "equals", "contains", "regex", "exists"}

// fieldMatcher tests one field of a JSON record. It never holds for an
// event that is not a JSON record: a text line has no fields to compare,
// and guessing them from the text would make a rule's meaning depend on
// the log format.
type fieldMatcher struct {
	name     string
	equals   [][]byte // any of them
	contains [][]byte // any of them
	re       *regexp.Regexp
	exists   bool // set when only presence is tested
}

// fieldScratch bounds the decoded value kept on the stack; longer values
// are compared through a heap buffer, which only very long fields pay for.
const fieldScratch = 256

func (m fieldMatcher) Match(ev *Event) bool {
	if ev.JSON == nil {
		return false
	}
	raw, ok := record.Field(ev.JSON, m.name)
	if !ok {
		return false
	}
	if m.exists {
		return true
	}
	var buf [fieldScratch]byte
	v := record.AppendValue(buf[:0], raw)
	switch {
	case m.equals != nil:
		for _, e := range m.equals {
			if bytes.Equal(v, e) {
				return true
			}
		}
		return false
	case m.contains != nil:
		return containsAny(v, m.contains)
	case m.re != nil:
		return m.re.Match(v)
	}
	return false
}

// field decodes `field: {name: ..., equals|contains|regex|exists: ...}`.
func (s scope) field(n *yaml.Node) (Matcher, bool) {
	m, ok := s.Mapping(n, "field", "field", fieldKeys)
	if !ok {
		return nil, false
	}
	at := yamlstrict.Deref(n)
	fm := fieldMatcher{}
	if e, has := m["name"]; has {
		v, ok := s.Str(e.Val, "name")
		if !ok {
			return nil, false
		}
		if v == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "field: name must not be empty")
			return nil, false
		}
		fm.name = v
	} else {
		s.Errorf(at, "field: name is required")
		return nil, false
	}
	tests := 0
	for _, k := range []string{"equals", "contains", "regex", "exists"} {
		if _, has := m[k]; has {
			tests++
		}
	}
	if tests != 1 {
		s.Errorf(at, "field %q: needs exactly one of equals, contains, regex or exists", fm.name)
		return nil, false
	}
	switch {
	case has(m, "equals"):
		items, ok := s.StrList(m["equals"].Val, "equals")
		if !ok || len(items) == 0 {
			if ok {
				s.Errorf(yamlstrict.Deref(m["equals"].Val), "field %q: equals needs at least one value", fm.name)
			}
			return nil, false
		}
		fm.equals = make([][]byte, 0, len(items))
		for _, it := range items {
			fm.equals = append(fm.equals, []byte(it.Value))
		}
	case has(m, "contains"):
		c, ok := s.contains(m["contains"].Val)
		if !ok {
			return nil, false
		}
		fm.contains = c.(containsMatcher).needles
	case has(m, "regex"):
		re, ok := s.regex(m["regex"].Val, "regex")
		if !ok {
			return nil, false
		}
		fm.re = re
	default:
		v, ok := s.boolean(m["exists"].Val, "exists")
		if !ok {
			return nil, false
		}
		if !v {
			s.Errorf(yamlstrict.Deref(m["exists"].Val), "field %q: exists: false is written as not: {field: {name: %s, exists: true}}", fm.name, fm.name)
			return nil, false
		}
		fm.exists = true
	}
	return fm, true
}

func has(m map[string]yamlstrict.Entry, key string) bool {
	_, ok := m[key]
	return ok
}

// ReadsFields reports whether m tests a JSON record's fields anywhere. A
// matcher that does not depends only on the event's message view, so its
// answer for one view holds for every event with that view.
func ReadsFields(m Matcher) bool {
	switch m := m.(type) {
	case fieldMatcher:
		return true
	case notMatcher:
		return ReadsFields(m.m)
	case anyMatcher:
		return slices.ContainsFunc(m, ReadsFields)
	case allMatcher:
		return slices.ContainsFunc(m, ReadsFields)
	}
	return false
}
