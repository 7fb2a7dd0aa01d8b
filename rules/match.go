package rules

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
)

// Event is what a matcher tests.
type Event struct {
	// Text is the event's message view: its lines joined, each with its
	// '\n', with the record framing (container runtime records, JSON),
	// line prefixes, suffixes and carriage returns taken off, so that
	// `(?m)^...$` anchors work per line.
	Text []byte
	// JSON is the event's JSON record when it is one (a json input, or a
	// JSON app line inside a container record); nil otherwise. Only
	// `field:` looks at it.
	JSON []byte
}

// Matcher tests an event. Match must not retain or modify the event, and
// allocates nothing.
type Matcher interface {
	Match(ev *Event) bool
}

// MatchText tests text as an event's message view with no JSON record.
func MatchText(m Matcher, text []byte) bool { return m.Match(&Event{Text: text}) }

// containsMatcher holds when any of its needles occurs in the event.
type containsMatcher struct {
	needles [][]byte
}

func newContains(needles []string) containsMatcher {
	m := containsMatcher{needles: make([][]byte, len(needles))}
	for i, n := range needles {
		m.needles[i] = []byte(n)
	}
	return m
}

func (m containsMatcher) Match(ev *Event) bool { return containsAny(ev.Text, m.needles) }

// regexMatcher runs its regexp only on events that contain one of the
// literals every match needs; on most log lines the cheap substring scan
// already says no. A line-local regexp runs only on the lines holding a
// literal, which keeps large events cheap: Go's regexp engines are linear
// but slow per byte.
type regexMatcher struct {
	expr      string
	re        *regexp.Regexp // nil when split does the matching
	literals  [][]byte       // nil: no prefilter, always run re
	lineLocal bool
	// conjuncts must all occur in a matching event: the literal pieces of
	// the top-level concatenation. Checking them all first rejects events
	// that have the most selective literal but not the rest (a websocket
	// 200 when the pattern wants a websocket 500).
	conjuncts [][]byte
	// split, when the regexp is a first line and a rest, matches them
	// apart (see lineSplit).
	split *lineSplit
	// newlines is the fewest newlines a match consumes.
	newlines int
	// simple, when the regexp has its shape, matches in re's place.
	simple *simpleRegexp
}

// newRegex parses expr once for every analysis and compiles what matching
// will run: the split parts when there are some, else the whole regexp.
// Compiling a regexp costs milliseconds and fresh memory at every start,
// and the split form never runs the whole.
func newRegex(expr string) (regexMatcher, error) {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return regexMatcher{}, err
	}
	simple := parsed.Simplify()
	subs := concatOf(simple)
	m := regexMatcher{expr: expr, lineLocal: withinLine(simple), newlines: minNewlines(simple)}
	lits := required(simple)
	if !m.lineLocal {
		m.split = splitConcat(subs)
	}
	if m.lineLocal || m.split == nil {
		if m.re, err = regexp.Compile(expr); err != nil {
			return regexMatcher{}, err
		}
		m.simple = newSimple(simple)
	}
	for _, l := range lits {
		m.literals = append(m.literals, []byte(l))
	}
	for _, c := range conjunctsOf(subs) {
		if !slices.ContainsFunc(m.literals, func(l []byte) bool { return len(m.literals) == 1 && string(l) == c }) {
			m.conjuncts = append(m.conjuncts, []byte(c))
		}
	}
	return m, nil
}

func (m regexMatcher) hasConjuncts(event []byte) bool {
	for _, c := range m.conjuncts {
		if !bytes.Contains(event, c) {
			return false
		}
	}
	return true
}

func (m regexMatcher) Match(ev *Event) bool {
	event := ev.Text
	switch {
	case m.literals == nil:
		return m.whole(event)
	case !m.lineLocal:
		return containsAny(event, m.literals) && m.hasConjuncts(event) && m.whole(event)
	}
	if !m.hasConjuncts(event) {
		return false
	}
	for _, lit := range m.literals {
		// rest always starts at a line start.
		for rest := event; ; {
			i := bytes.Index(rest, lit)
			if i < 0 {
				break
			}
			start := bytes.LastIndexByte(rest[:i], '\n') + 1
			end := len(rest)
			if j := bytes.IndexByte(rest[i:], '\n'); j >= 0 {
				end = i + j + 1
			}
			if m.run(rest[start:end]) {
				return true
			}
			rest = rest[end:]
		}
	}
	return false
}

// whole runs the regexp on a whole event.
func (m regexMatcher) whole(event []byte) bool {
	if m.split != nil {
		return m.split.match(event)
	}
	return m.run(event)
}

// run runs the regexp itself on text.
func (m regexMatcher) run(text []byte) bool {
	if m.simple != nil {
		return m.simple.match(text)
	}
	return m.re.Match(text)
}

func containsAny(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

type notMatcher struct{ m Matcher }

func (m notMatcher) Match(ev *Event) bool { return !m.m.Match(ev) }

// anyMatcher holds when one of its members does.
type anyMatcher []Matcher

func (m anyMatcher) Match(ev *Event) bool {
	for _, sub := range m {
		if sub.Match(ev) {
			return true
		}
	}
	return false
}

// allMatcher holds when all of its members do; they are ordered cheapest
// first so that most events are rejected by a substring scan.
type allMatcher []Matcher

func (m allMatcher) Match(ev *Event) bool {
	for _, sub := range m {
		if !sub.Match(ev) {
			return false
		}
	}
	return true
}
