package filters

import (
	"math/bits"

	"github.com/logsift/logsift/event"
)

// Marker finds, for a processor, which lines of a batch can go in runs,
// ahead of it and on another goroutine: the search for the gate's literals
// through a batch costs as much as the rest of the processor's work on
// plain lines, and it needs no state but the batch's. A processor uses the
// marks only when they were made for its current rules; otherwise it finds
// them itself, so marks that arrive across a reload are merely wasted.
type Marker struct {
	key  *gate // the processor's gate the marks are for (compared, never used)
	gate *gate // this marker's own, searched from this marker's goroutine
	// board holds the processor's templates: their lines are marked to
	// take the full way without a search, for the processor takes them
	// in one step (see replay), and the full way is right whatever it
	// does.
	board *board
	// posted are this marker's copies of the board's postings, by path.
	posted map[string]*posting
}

// Marker returns a marker for the processor's current rules, or nil when
// no line can go in runs. Call it from the processor's goroutine; the
// marker is then used from one other goroutine.
func (p *Processor) Marker() *Marker {
	if p.gate == nil {
		return nil
	}
	return &Marker{key: p.gate, gate: newGate(p.rules, p.input.Multiline.Preset), board: &p.board, posted: make(map[string]*posting)}
}

// Mark fills b.Marks. A nil Marker marks nothing.
func (m *Marker) Mark(b *event.LineBatch) {
	if m == nil || b.Origin != nil || len(b.Ends) == 0 {
		return
	}
	n := len(b.Ends)
	words := (n + 63) / 64
	mk := &b.Marks
	mk.Full = grow(mk.Full, words)
	mk.Body = grow(mk.Body, words)
	g := m.gate
	data := b.Data
	g.reset(data)
	var ts []posted
	if cp := m.board.copyFor(b.Path, m.posted); cp != nil {
		ts = cp.ts[:cp.n]
	}
	start := 0
lines:
	for i := 0; i < n; i++ {
		for t := range ts {
			if k := ts[t].match(data, b.Ends, i, start); k > 0 {
				for x := i; x < i+k; x++ {
					mk.Full[x>>6] |= 1 << (x & 63)
				}
				i += k - 1
				start = b.Ends[i]
				continue lines
			}
		}
		end := b.Ends[i]
		if g.fullLine(start, end) {
			mk.Full[i>>6] |= 1 << (i & 63)
		}
		if bodyLine(data, start, end) {
			mk.Body[i>>6] |= 1 << (i & 63)
		}
		start = end
	}
	mk.Key = m.key
}

// grow returns s with n zeroed words.
func grow(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// marksFor returns b's marks when they were made for p's rules.
func (p *Processor) marksFor(b *event.LineBatch) *event.Marks {
	if p.gate == nil || b.Marks.Key != p.gate {
		return nil
	}
	return &b.Marks
}

// nextSet returns the first index from i on, below n, whose bit is set in
// m (n when none).
func nextSet(m []uint64, i, n int) int {
	for i < n {
		w := m[i>>6] >> (i & 63)
		if w != 0 {
			return min(i+bits.TrailingZeros64(w), n)
		}
		i = (i | 63) + 1
	}
	return n
}

// nextClear returns the first index from i on, below n, whose bit is
// clear in m (n when none).
func nextClear(m []uint64, i, n int) int {
	for i < n {
		w := ^m[i>>6] >> (i & 63)
		if w != 0 {
			return min(i+bits.TrailingZeros64(w), n)
		}
		i = (i | 63) + 1
	}
	return n
}
