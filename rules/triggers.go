package rules

import (
	"bytes"
	"regexp/syntax"
	"strings"
)

// LineNeeds is a necessary condition for a matcher to hold on a one-line
// text event: the event's line must contain, for every clause, at least
// one of the clause's literals. It lets a reader skip the matcher on the
// lines of a buffer that lack those literals, found by a substring search
// over the whole buffer instead of a call per line.
//
// The condition is about the raw line: a one-line event's message view is
// a part of its raw line (prefix, suffix and line ending taken off) plus
// '\n', so a literal's trailing '\n' is dropped and a literal with '\n'
// anywhere else cannot occur in such an event at all.
type LineNeeds struct {
	// Never: the matcher cannot hold on any one-line text event.
	Never bool
	// Clauses must all hold; none at all means the matcher may hold on
	// any line (no condition could be derived).
	Clauses [][][]byte
}

// Any reports whether the condition rules nothing out.
func (n LineNeeds) Any() bool { return !n.Never && len(n.Clauses) == 0 }

// Holds reports whether line meets the condition.
func (n LineNeeds) Holds(line []byte) bool {
	if n.Never {
		return false
	}
	for _, c := range n.Clauses {
		if !containsAny(line, c) {
			return false
		}
	}
	return true
}

// NeedsOfLine derives the condition under which m can hold on a one-line
// text event (one whose JSON record is nil).
func NeedsOfLine(m Matcher) LineNeeds {
	switch m := m.(type) {
	case containsMatcher:
		return clauseNeeds(m.needles)
	case regexMatcher:
		if m.newlines >= 2 {
			// A one-line event's text has one newline, at its end.
			return LineNeeds{Never: true}
		}
		if m.literals == nil {
			return LineNeeds{}
		}
		n := clauseNeeds(m.literals)
		for _, c := range m.conjuncts {
			n = both(n, clauseNeeds([][]byte{c}))
		}
		return n
	case fieldMatcher:
		// A text event has no fields.
		return LineNeeds{Never: true}
	case allMatcher:
		var n LineNeeds
		for _, sub := range m {
			n = both(n, NeedsOfLine(sub))
		}
		return n
	case anyMatcher:
		// One clause with every member's literals: weaker than the exact
		// disjunction, still necessary.
		var lits [][]byte
		for _, sub := range m {
			s := NeedsOfLine(sub)
			switch {
			case s.Never:
				continue
			case s.Any():
				return LineNeeds{}
			}
			lits = append(lits, s.Clauses[0]...)
		}
		if lits == nil {
			return LineNeeds{Never: true}
		}
		return LineNeeds{Clauses: [][][]byte{lits}}
	}
	// not, and anything unknown: no condition.
	return LineNeeds{}
}

// clauseNeeds is the condition "one of lits occurs", restated for a line.
func clauseNeeds(lits [][]byte) LineNeeds {
	var clause [][]byte
	for _, l := range lits {
		l = bytes.TrimSuffix(l, []byte("\n"))
		if bytes.IndexByte(l, '\n') >= 0 {
			continue // spans lines: cannot occur in one
		}
		if len(l) == 0 {
			return LineNeeds{} // occurs in every line
		}
		clause = append(clause, l)
	}
	if clause == nil {
		return LineNeeds{Never: true}
	}
	return LineNeeds{Clauses: [][][]byte{clause}}
}

func both(a, b LineNeeds) LineNeeds {
	if a.Never || b.Never {
		return LineNeeds{Never: true}
	}
	return LineNeeds{Clauses: append(append([][][]byte(nil), a.Clauses...), b.Clauses...)}
}

// String shows the condition, for tests and debugging.
func (n LineNeeds) String() string {
	if n.Never {
		return "never"
	}
	if len(n.Clauses) == 0 {
		return "any line"
	}
	var b strings.Builder
	for i, c := range n.Clauses {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString("(")
		for j, l := range c {
			if j > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(strings.ReplaceAll(string(l), "\n", `\n`))
		}
		b.WriteString(")")
	}
	return b.String()
}

// minNewlines is the fewest newlines any match of re consumes.
func minNewlines(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if r == '\n' {
				n++
			}
		}
		return n
	case syntax.OpCharClass:
		// A class of newline alone is one.
		if len(re.Rune) == 2 && re.Rune[0] == '\n' && re.Rune[1] == '\n' {
			return 1
		}
		return 0
	case syntax.OpCapture, syntax.OpPlus:
		return minNewlines(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minNewlines(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minNewlines(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if k := minNewlines(sub); n < 0 || k < n {
				n = k
			}
		}
		return max(n, 0)
	}
	return 0
}

// OneLineRules returns the indexes of the rules whose match can hold on
// an event of one line (text with a single newline, at its end, and no
// JSON record): the others need not be tried on such events.
func OneLineRules(rs []*Rule) []int {
	var out []int
	for i, r := range rs {
		if !NeedsOfLine(r.Match).Never {
			out = append(out, i)
		}
	}
	return out
}
