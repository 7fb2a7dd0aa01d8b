package filters

import (
	"bytes"
	"time"

	"github.com/logsift/logsift/event"
)

// endsPlain marks the bytes that, last before a line's newline, send the
// line the full way: a carriage return (the view drops it), and the end of
// what may be a JSON object ('}', possibly followed by blanks).
var endsPlain = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for _, c := range []byte{'\r', '}', ' ', '\t', '\v', '\f'} {
		t[c] = false
	}
	return t
}()

// plainLine reports whether the line data[start:end] ends so that it may
// go in a run: in a newline, with no carriage return or JSON object end
// before it.
func plainLine(data []byte, start, end int) bool {
	return data[end-1] == '\n' && (end-start == 1 || endsPlain[data[end-2]])
}

// bodyLine reports whether the line data[start:end] may continue a held
// traceback as it is (see bodyRun): indented, whole, plainly ended.
func bodyLine(data []byte, start, end int) bool {
	c := data[start]
	return (c == ' ' || c == '\t') && end-start >= 2 && data[end-1] == '\n' && endsPlain[data[end-2]]
}

// runs processes a batch of a source whose lines may go in bulk: while
// nothing is held, consecutive lines the gate finds plain are forwarded as
// one run, and only the others take the full way through the decoder,
// assembler and rules. The outcome is the same as pushing every line; the
// property tests compare the two.
func (p *Processor) runs(s *source, b *event.LineBatch, now time.Time) {
	g := p.gate
	data, ends := b.Data, b.Ends
	marks := p.marksFor(b)
	if marks == nil {
		g.reset(data)
	}
	n := len(ends)
	for i := 0; i < n; {
		if s.asm.held || !s.dec.plainReady() {
			if k := p.bodyRun(s, b, i, marks, now); k > i {
				i = k
				continue
			}
			if p.endsHeld(s, b, i, marks) {
				// Settle the held event; line i then goes as a plain
				// line would with nothing held.
				s.asm.flush()
				continue
			}
			if k := p.replay(s, b, i, now); k > i {
				i = k
				continue
			}
			p.push(s, b, i, now)
			i++
			continue
		}
		if k := p.replay(s, b, i, now); k > i {
			i = k
			continue
		}
		from := 0
		if i > 0 {
			from = ends[i-1]
		}
		j, ls := i, from
		if marks != nil {
			j = nextSet(marks.Full, i, n)
			if j > i {
				ls = ends[j-1]
			}
		} else {
			for j < n && !g.fullLine(ls, ends[j]) {
				ls = ends[j]
				j++
			}
		}
		// The last plain line goes the full way when the next line may
		// open a traceback, or lies in the next batch: it may be the
		// traceback's header ("Error on request:"), which the assembler
		// holds with it.
		k := j
		if k > i && (k == n || bytes.Contains(data[ls:ends[k]], tracebackLine)) {
			k--
		}
		if k > i {
			p.forwardRun(s, b, from, i, k, now)
		}
		// The line before j, if it is to take the full way, goes now
		// (or begins the template's lines, see replay); line j itself
		// at the next turn, which may take it with the lines after it
		// in one step as the rest of the template.
		switch {
		case k < j:
			if r := p.replay(s, b, k, now); r > k {
				k = r
				break
			}
			p.push(s, b, k, now)
			k++
		case k == i:
			p.push(s, b, k, now)
			k++
		}
		i = k
	}
}

// bodyRun appends the indented lines from line i of b on to a traceback
// held in its frames, in one piece, and returns the index of the first
// line it did not take (i when it took none). An indented line has no
// transport prefix of any kind logsift knows (they all start with a name,
// a date or a digit), and no suffix is looked for on it.
func (p *Processor) bodyRun(s *source, b *event.LineBatch, i int, marks *event.Marks, now time.Time) int {
	if !p.plainIndent || !s.asm.inBody() || !s.dec.plainReady() {
		return i
	}
	data, ends := b.Data, b.Ends
	from := 0
	if i > 0 {
		from = ends[i-1]
	}
	j := i
	if marks != nil {
		j = nextClear(marks.Body, i, len(ends))
	} else {
		for ls := from; j < len(ends) && bodyLine(data, ls, ends[j]); j++ {
			ls = ends[j]
		}
	}
	if j == i || !s.asm.extendRun(data[from:ends[j-1]], j-i, b.LineEndOffset(j-1), now) {
		return i
	}
	return j
}

// endsHeld reports whether line i of b ends the event the python preset
// holds without belonging to it, so that the event can be settled and the
// line go in a run. That is so for a plain line (no literal the gate looks
// for, so no traceback start) with content, after a header, an exception
// line, a blank line after one, or a chain marker, unless the line is a
// chain marker itself or notes may follow (see headedForNotes).
func (p *Processor) endsHeld(s *source, b *event.LineBatch, i int, marks *event.Marks) bool {
	a := s.asm
	if !a.held || !s.dec.plainReady() || a.headed >= headedForNotes {
		return false
	}
	switch a.state {
	case pyHeader, pyException, pyBlank, pyChain:
	default:
		return false
	}
	start, end := 0, b.Ends[i]
	if i > 0 {
		start = b.Ends[i-1]
	}
	if marks != nil {
		if marks.Full[i>>6]&(1<<(i&63)) != 0 {
			return false
		}
	} else if p.gate.fullLine(start, end) {
		return false
	}
	if a.state == pyHeader {
		// Only a traceback's first line continues a header, and the
		// gate looks for it.
		return true
	}
	c := s.dec.textContent(b.Data[start:end])
	return len(c) > 0 && !isChainMarker(c)
}

// replay assembles the lines from line i of b on in one step when their
// bytes are those of one of the assembler's templates (see template), with
// the outcome of pushing them one by one: the held event, if line i does
// not continue it, is settled, and the template's event is held in the
// state it ended in. It returns the index of the first line after them,
// or i when the lines are no template's.
func (p *Processor) replay(s *source, b *event.LineBatch, i int, now time.Time) int {
	if !s.dec.plainReady() {
		return i
	}
	start := 0
	if i > 0 {
		start = b.Ends[i-1]
	}
	for x := range s.asm.tmpls {
		if k := p.replayWith(s, b, i, start, x, now); k != i {
			return k
		}
	}
	return i
}

// replayWith is replay with template x.
func (p *Processor) replayWith(s *source, b *event.LineBatch, i, start, x int, now time.Time) int {
	a := s.asm
	t := &a.tmpls[x]
	if t.lines == 0 {
		return i
	}
	ends := b.Ends
	if ends[i]-start != t.firstLen {
		return p.replayRest(s, b, i, start, x, now)
	}
	if matchAt(b.Data, ends, i, start, t.raw, t.lines) == 0 {
		return p.replayRest(s, b, i, start, x, now)
	}
	j, end := i+t.lines-1, start+len(t.raw)
	headed := a.headed
	switch t.head {
	case 0:
		headed = 0
	case 1:
		headed++
	}
	if headed >= headedForNotes != t.notes {
		return i
	}
	if a.held {
		if _, ok := continues(a.state, b.Data[start+t.lo:start+t.hi], a.headed >= headedForNotes); ok {
			return i
		}
		// Settling the held event may make it a template: look again.
		// Line i goes the full way if it no longer matches, now with
		// nothing held, as it would have after the settling.
		a.flush()
		return p.replay(s, b, i, now)
	}
	a.headed = headed
	a.replay(x, b.Data[start:end], b.LineEndOffset(j), now)
	return j + 1
}

// replayRest appends the lines from line i of b (starting at start) on
// to the held event in one step when they are template x's lines after
// its first and the event is in the state the template was in after it:
// the first line differs (a timestamp), the rest is the same traceback.
func (p *Processor) replayRest(s *source, b *event.LineBatch, i, start, x int, now time.Time) int {
	a := s.asm
	t := &a.tmpls[x]
	if !a.held || t.lines < 2 || a.state != t.firstState || (a.headed >= headedForNotes) != t.notes || !a.fitsRest(t) {
		return i
	}
	rest := t.raw[t.firstLen:]
	if matchAt(b.Data, b.Ends, i, start, rest, t.lines-1) == 0 {
		return i
	}
	j, end := i+t.lines-2, start+len(rest)
	a.replayRest(x, b.Data[start:end], b.LineEndOffset(j), now)
	return j + 1
}

// push takes line i of b the full way.
func (p *Processor) push(s *source, b *event.LineBatch, i int, now time.Time) {
	s.dec.push(b.Line(i), b.LineEndOffset(i), now, s.push)
}

// forwardRun forwards lines i to k-1 of b, which start at from, as plain
// one-line events.
func (p *Processor) forwardRun(s *source, b *event.LineBatch, from, i, k int, now time.Time) {
	ends := b.Ends[i:k]
	s.noteRecords(b.Data, from, ends)
	s.eng.addRun(b.Data, from, ends, b.LineEndOffset(k-1), now)
}

// noteRecords tells the assembler about a run of records it did not see:
// the python preset counts the records in a row that began with a head
// (see headedForNotes), so the run's last lines are looked at, back to the
// first one that is no head or to as many as the count can use.
func (s *source) noteRecords(data []byte, from int, ends []int) {
	a := s.asm
	if a.preset == "none" {
		return
	}
	heads := 0
	for x := len(ends) - 1; x >= 0; x-- {
		start := from
		if x > 0 {
			start = ends[x-1]
		}
		c := s.dec.textContent(data[start:ends[x]])
		if len(c) == 0 {
			continue
		}
		if !isRecordHead(c) {
			a.headed = heads
			return
		}
		heads++
		if heads >= headedForNotes {
			a.headed = max(a.headed, headedForNotes)
			return
		}
	}
	a.headed += heads
}
