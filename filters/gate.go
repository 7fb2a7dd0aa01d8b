package filters

import (
	"bytes"

	"github.com/logsift/logsift/rules"
)

// gate tells, over a whole batch at once, which lines some rule or the
// multiline preset could care about ("hot" lines). Every other line is
// plain: it starts no event, continues none (while nothing is held),
// matches no rule and partners no event, so it can be forwarded as part of
// a run without being looked at on its own.
//
// Each condition's most selective clause is its anchor: the anchor
// literals are searched for through the batch (from their rarest byte,
// with IndexByte, as grep does), and only a line holding one is tested
// against the conditions in full.
type gate struct {
	needs   []rules.LineNeeds
	anchors []int // per need, the index of its anchor clause
	finders []finder
	// Per batch: data is the batch's bytes, next[k] the start of finder
	// k's next occurrence at or after from[k] (len(data) when none), min
	// the smallest next.
	data []byte
	next []int
	from []int
	min  int
}

// pythonNeeds are the lines the python preset acts on while it holds
// nothing: a traceback's first line (plain or of an exception group) and a
// frame line opening a headerless traceback. A header line ("Error on
// request:") is held only until the next line shows whether a traceback
// follows, so it needs no condition of its own: see Processor.bulk.
var pythonNeeds = []rules.LineNeeds{
	{Clauses: [][][]byte{{tracebackLine}}},
	{Clauses: [][][]byte{{framePrefix}, {frameLine}}},
}

// newGate builds the gate for a rule set and multiline preset, or returns
// nil when some line could matter without holding any literal (a `not`
// matcher, a regexp without a required literal, a custom preset): then
// every line takes the full path.
func newGate(rs []*rules.Rule, preset string) *gate {
	g := &gate{}
	switch preset {
	case "python", "":
		g.needs = append(g.needs, pythonNeeds...)
	case "none":
	default:
		return nil
	}
	for _, r := range rs {
		ms := []rules.Matcher{r.Match}
		if r.Pair != nil {
			ms = append(ms, r.Pair.Match)
		}
		for _, m := range ms {
			n := rules.NeedsOfLine(m)
			switch {
			case n.Never:
				continue
			case n.Any():
				return nil
			}
			g.needs = append(g.needs, n)
		}
	}
	byLit := map[string]int{}
	for i, n := range g.needs {
		a := anchorClause(n)
		g.anchors = append(g.anchors, a)
		for _, lit := range n.Clauses[a] {
			k, ok := byLit[string(lit)]
			if !ok {
				k = len(g.finders)
				byLit[string(lit)] = k
				g.finders = append(g.finders, newFinder(lit))
			}
			g.finders[k].needs = append(g.finders[k].needs, i)
		}
	}
	g.next = make([]int, len(g.finders))
	g.from = make([]int, len(g.finders))
	return g
}

// anchorClause is the clause of n whose literals are cheapest to search
// for: the fewest, with the rarest bytes.
func anchorClause(n rules.LineNeeds) int {
	best, bestCost := 0, -1
	for i, c := range n.Clauses {
		cost := 0
		for _, lit := range c {
			cost += byteCost(lit[rarest(lit)])
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = i, cost
		}
	}
	return best
}

// reset points the gate at a new batch.
func (g *gate) reset(data []byte) {
	g.data = data
	for k := range g.next {
		g.next[k], g.from[k] = -1, 0
	}
	g.min = -1
}

// hot reports whether the line data[start:end] may matter. Lines must be
// asked about in order; a line asked about implies that the bytes before
// it need no more searching. It is cheap for lines before the next
// anchor occurrence: call it only when end > g.min.
func (g *gate) hot(start, end int) bool {
	if end <= g.min {
		return false
	}
	m := len(g.data)
	for k := range g.finders {
		if g.next[k] < start {
			g.next[k] = g.finders[k].find(g.data, start)
		}
		m = min(m, g.next[k])
	}
	g.min = m
	if m >= end {
		return false
	}
	// Only the conditions anchored by a literal found in the line can
	// hold, and their anchor clause does.
	line := g.data[start:end]
	for k := range g.finders {
		if g.next[k] >= end {
			continue
		}
		for _, i := range g.finders[k].needs {
			if g.holdsBesides(i, line) {
				return true
			}
		}
	}
	return false
}

// holdsBesides reports whether the clauses of need i other than its
// anchor hold on line.
func (g *gate) holdsBesides(i int, line []byte) bool {
	for c, clause := range g.needs[i].Clauses {
		if c == g.anchors[i] {
			continue
		}
		if !containsAnyOf(line, clause) {
			return false
		}
	}
	return true
}

func containsAnyOf(line []byte, lits [][]byte) bool {
	for _, l := range lits {
		if bytes.Contains(line, l) {
			return true
		}
	}
	return false
}

// finder searches for one literal from its rarest byte.
type finder struct {
	lit   []byte
	at    int   // index in lit of the byte searched for
	needs []int // the conditions whose anchor clause holds lit
}

func newFinder(lit []byte) finder { return finder{lit: lit, at: rarest(lit)} }

// find returns the start of the first occurrence of the literal in data at
// or after from, or len(data).
func (f finder) find(data []byte, from int) int {
	c := f.lit[f.at]
	for i := from + f.at; i < len(data); {
		j := bytes.IndexByte(data[i:], c)
		if j < 0 {
			break
		}
		p := i + j - f.at
		if p+len(f.lit) <= len(data) && bytes.Equal(data[p:p+len(f.lit)], f.lit) {
			return p
		}
		i += j + 1
	}
	return len(data)
}

// rarest returns the index of the byte of lit least likely to occur in
// log text.
func rarest(lit []byte) int {
	best := 0
	for i := 1; i < len(lit); i++ {
		if byteCost(lit[i]) < byteCost(lit[best]) {
			best = i
		}
	}
	return best
}

// byteCost estimates how often a byte occurs in log lines: lower is
// rarer. Punctuation outside URLs and numbers is rare, capitals less common
// than lower case, and spaces, digits and separators are everywhere.
func byteCost(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return 10
	case c >= 'A' && c <= 'Z':
		return 5
	case c >= '0' && c <= '9':
		return 9
	}
	switch c {
	case ' ':
		return 12
	case '.', '/', ':', '-', '"', '=', ',', '_':
		return 8
	case '(', ')', '[', ']', '\'', '&', '\t':
		return 4
	case '?', '!', '@', '#', '$', '%', '^', '*', '+', '|', '\\', '`', '~', ';', '<', '>', '{', '}':
		return 3
	}
	return 2 // control bytes, bytes of multi-byte characters
}
