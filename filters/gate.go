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
	needs []need
	// finders hold every literal of every condition; anchors are the
	// ones of the conditions' anchor clauses, searched through the batch
	// to say where to look at all (the others are tested on a candidate
	// line only, see holdsBesides).
	finders []finder
	anchors []int
	// Per batch: data is the batch's bytes, next[k] the start of anchor
	// finder k's next occurrence at or after where it last searched from
	// (len(data) when none, -1 before the first search), min the smallest
	// of them.
	data []byte
	next []int
	min  int
	// lineAt[k] is 1 + the start of the line whose test for finder k's
	// literal is in lineHas[k]: conditions share literals, and one
	// literal's absence rules out every literal that contains it.
	lineAt  []int
	lineHas []bool
}

// need is a condition as finder indexes: every clause must have one of
// its literals in the line.
type need struct {
	clauses [][]int
	anchor  int   // the clause searched for first
	rest    []int // the other clauses, in the order they are tested
}

// pythonNeeds are the lines the python preset acts on while it holds
// nothing: a traceback's first line (plain or of an exception group) and a
// frame line opening a headerless traceback. A header line ("Error on
// request:") is held only until the next line shows whether a traceback
// follows, so it needs no condition of its own: see Processor.runs.
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
	var needs []rules.LineNeeds
	switch preset {
	case "python", "":
		needs = append(needs, pythonNeeds...)
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
			needs = append(needs, n)
		}
	}
	byLit := map[string]int{}
	finderOf := func(lit []byte) int {
		k, ok := byLit[string(lit)]
		if !ok {
			k = len(g.finders)
			byLit[string(lit)] = k
			g.finders = append(g.finders, newFinder(lit))
		}
		return k
	}
	for _, n := range needs {
		nd := need{anchor: anchorClause(n)}
		for _, c := range n.Clauses {
			var ks []int
			for _, lit := range c {
				ks = append(ks, finderOf(lit))
			}
			if len(nd.clauses) != nd.anchor {
				nd.rest = append(nd.rest, len(nd.clauses))
			}
			nd.clauses = append(nd.clauses, ks)
		}
		g.needs = append(g.needs, nd)
	}
	for i, nd := range g.needs {
		for _, k := range nd.clauses[nd.anchor] {
			if len(g.finders[k].needs) == 0 {
				g.anchors = append(g.anchors, k)
			}
			g.finders[k].needs = append(g.finders[k].needs, i)
		}
	}
	for k := range g.finders {
		for j := range g.finders {
			if j != k && len(g.finders[j].lit) < len(g.finders[k].lit) && bytes.Contains(g.finders[k].lit, g.finders[j].lit) {
				g.finders[k].subs = append(g.finders[k].subs, j)
			}
		}
	}
	g.next = make([]int, len(g.finders))
	g.lineAt = make([]int, len(g.finders))
	g.lineHas = make([]bool, len(g.finders))
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
		g.next[k] = -1
		g.lineAt[k] = 0
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
	for _, k := range g.anchors {
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
	for _, k := range g.anchors {
		if g.next[k] >= end {
			continue
		}
		for _, i := range g.finders[k].needs {
			if g.holdsBesides(&g.needs[i], start, end) {
				return true
			}
		}
	}
	return false
}

// fullLine reports whether the line data[start:end] of the batch must
// take the full way: it ends otherwise than plainly (see plainLine) or
// may matter (see hot). The same order rules apply as for hot.
func (g *gate) fullLine(start, end int) bool {
	return !plainLine(g.data, start, end) || g.hot(start, end)
}

// holdsBesides reports whether the clauses of n other than its anchor
// hold on the line data[start:end]. They are tested on the line itself:
// a literal that is rare in lines but made of common bytes would cost a
// search through every line if looked for batch-wide. The clause that
// failed last is tried first, so a line is usually ruled out by one test.
func (g *gate) holdsBesides(n *need, start, end int) bool {
	for i, c := range n.rest {
		if !g.containsAny(start, end, n.clauses[c]) {
			copy(n.rest[1:i+1], n.rest[:i])
			n.rest[0] = c
			return false
		}
	}
	return true
}

func (g *gate) containsAny(start, end int, clause []int) bool {
	for _, k := range clause {
		if g.lineHolds(k, start, end) {
			return true
		}
	}
	return false
}

// lineHolds reports whether the line data[start:end] holds finder k's
// literal, testing the literals it contains first.
func (g *gate) lineHolds(k, start, end int) bool {
	if g.lineAt[k] == start+1 {
		return g.lineHas[k]
	}
	has := true
	for _, j := range g.finders[k].subs {
		if !g.lineHolds(j, start, end) {
			has = false
			break
		}
	}
	if has {
		has = bytes.Contains(g.data[start:end], g.finders[k].lit)
	}
	g.lineAt[k], g.lineHas[k] = start+1, has
	return has
}

// finder searches for one literal from its rarest byte.
type finder struct {
	lit   []byte
	at    int   // index in lit of the byte searched for
	needs []int // the conditions whose anchor clause holds lit
	subs  []int // the finders whose literals lit contains
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
