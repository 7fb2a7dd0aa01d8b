// Package filters turns an input's lines into events (multiline assembly)
// and decides each event's fate with the rules, keeping input order.
package filters

import (
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// Processor assembles and filters the lines of one configured input. Each
// file (source) of the input has its own assembler and pairing window; the
// counts are per input. A Processor is used from one goroutine.
type Processor struct {
	input  rules.Input
	rules  []*rules.Rule
	prefix prefixer
	// gate finds the lines that can go in bulk; nil when the rules or
	// the preset leave none out (see runs).
	gate *gate
	// plainIndent: an indented line has no prefix (the prefix is not a
	// regexp of the configuration's), so its view is its bytes.
	plainIndent bool
	stats       Stats
	sources     map[string]*source
	order       []*source // deterministic iteration for ticks and acks
	trace       TraceFunc
	// formatChosen, when set, hears which format each source is read in.
	formatChosen FormatFunc
	// dropSuppressed: see DropSuppressed.
	dropSuppressed bool
	// board passes templates to the marker (see Marker).
	board board
}

// FormatFunc is told the format a source's records are read in, and
// whether it was detected (format auto) rather than configured.
type FormatFunc func(path, format string, detected bool)

// OnFormat makes the processor report each new source's format to fn.
func (p *Processor) OnFormat(fn FormatFunc) { p.formatChosen = fn }

// DropSuppressed makes the processor leave suppressed events out of its
// output batches, for a pipeline whose outputs all write forwarded events
// only: their bytes would be copied for nothing. They are counted and
// acknowledged as before.
func (p *Processor) DropSuppressed() {
	p.dropSuppressed = true
	for _, s := range p.order {
		s.eng.dropSuppressed = true
	}
}

// SetTrace makes the processor report every released event to fn.
func (p *Processor) SetTrace(fn TraceFunc) {
	p.trace = fn
	for _, s := range p.order {
		s.eng.trace = fn
	}
}

// source is the state kept for one file of an input.
type source struct {
	path  string
	file  event.FileID
	arena arena
	dec   *recordDecoder
	asm   *assembler
	eng   *engine
	push  func(*logicalLine) // s.asm.push at the time of the current line
	now   time.Time
	seen  time.Time // when the source's last batch arrived
	// acked is the last acknowledgement handed out, so an idle source
	// is not acknowledged again on every tick.
	acked event.Ack
	// origins are the origins of the lines not yet released, each with
	// the offset of its first line, oldest first (journal inputs only).
	origins []originAt
	// posted are the templates last put on the board (see post).
	posted [2]int
}

type originAt struct {
	start int64
	o     *event.Origin
}

// noteOrigin records that the lines from offset start on come from o.
func (s *source) noteOrigin(start int64, o *event.Origin) {
	if n := len(s.origins); n > 0 && s.origins[n-1].o == o {
		return
	}
	s.origins = append(s.origins, originAt{start, o})
}

// originOf is the origin of the event starting at offset start, whose
// lines are the oldest held: origins of earlier lines are dropped.
func (s *source) originOf(start int64) *event.Origin {
	i := 0
	for i+1 < len(s.origins) && s.origins[i+1].start <= start {
		i++
	}
	if i > 0 {
		n := copy(s.origins, s.origins[i:])
		clear(s.origins[n:])
		s.origins = s.origins[:n]
	}
	if len(s.origins) == 0 {
		return nil
	}
	return s.origins[0].o
}

// NewProcessor returns a processor for input applying rs in order.
func NewProcessor(input rules.Input, rs []*rules.Rule) *Processor {
	return &Processor{
		input:       input,
		rules:       rs,
		prefix:      newPrefixer(input.Prefix),
		gate:        newGate(rs, input.Multiline.Preset),
		plainIndent: input.Prefix.Kind != "regex",
		stats:       Stats{Rules: make([]RuleStats, len(rs))},
		sources:     make(map[string]*source),
	}
}

// Rules is the rule set the processor applies, in order; Stats().Rules is
// indexed the same way.
func (p *Processor) Rules() []*rules.Rule { return p.rules }

// Stats returns the cumulative counts. The pointer stays valid until
// SetRules.
func (p *Processor) Stats() *Stats { return &p.stats }

// Held is the number of lines read but not yet released (in an unfinished
// event or waiting for a pair partner).
func (p *Processor) Held() int {
	n := 0
	for _, s := range p.order {
		n += s.dec.pending() + s.asm.holding() + s.eng.holding()
	}
	return n
}

func (p *Processor) newDecoder(path string) *recordDecoder {
	var report func(string, bool)
	if p.formatChosen != nil {
		report = func(format string, detected bool) { p.formatChosen(path, format, detected) }
	}
	return newRecordDecoder(p.input, p.prefix, &p.stats, report)
}

func (p *Processor) source(path string, file event.FileID, out *event.OutBatch) *source {
	s := p.sources[path]
	if s != nil && s.file != file {
		// The file was replaced (rotation, truncation): whatever is still
		// held belongs to the old file and is complete now.
		p.finish(s, out)
		s.file = file
		// A new file may be written in another format (a container
		// restarted with another log driver is rare, but a rotated file
		// is a new source to auto).
		s.dec.close()
		s.dec = p.newDecoder(path)
		// The last released offset is the old file's: acknowledging it
		// for the new file would save a position that skips the new
		// file's first lines after a crash.
		s.eng.hasOff = false
		return s
	}
	if s == nil {
		s = &source{path: path, file: file}
		s.eng = p.newEngine(s)
		s.asm = newAssembler(p.input.Multiline, &s.arena, s.eng.add)
		s.dec = p.newDecoder(path)
		s.push = func(l *logicalLine) { s.asm.push(l, s.now) }
		p.sources[path] = s
		p.order = append(p.order, s)
	}
	return s
}

// newEngine builds source s's engine for the processor's current rules and
// settings; SetRules replaces it with one made the same way.
func (p *Processor) newEngine(s *source) *engine {
	e := newEngine(p.rules, &s.arena, &p.stats)
	e.trace = p.trace
	e.path = s.path
	e.dropSuppressed = p.dropSuppressed
	return e
}

// Process runs a batch of lines through assembly and rules, appending the
// events that are settled to out (with an acknowledgement of how far the
// file is now done).
func (p *Processor) Process(b *event.LineBatch, out *event.OutBatch, now time.Time) {
	s := p.source(b.Path, b.File, out)
	p.stats.Lines += uint64(b.Len())
	p.stats.Bytes += uint64(len(b.Data))
	s.eng.out = out
	s.now, s.seen = now, now
	if b.Origin != nil {
		if s.eng.origin == nil {
			s.eng.origin = s.originOf
		}
		s.noteOrigin(b.EndOffset-int64(len(b.Data)), b.Origin)
	}
	if p.gate != nil && p.trace == nil && b.Origin == nil {
		p.runs(s, b, now)
	} else {
		for i := range b.Len() {
			p.push(s, b, i, now)
		}
	}
	s.eng.release(now, false)
	p.ack(s, out)
	s.eng.out = nil
	if p.gate != nil {
		p.post(s)
	}
}

// post puts s's templates that have been replayed on the board for the
// marker, when they are not there yet: once a batch at most (the marker is
// a batch or two ahead), and only templates that repeat, for each posting
// copies them.
func (p *Processor) post(s *source) {
	var now [2]int
	for x := range now {
		if t := &s.asm.tmpls[x]; t.used {
			now[x] = t.gen
		}
	}
	if now == s.posted || now == [2]int{s.posted[1], s.posted[0]} {
		return
	}
	s.posted = now
	var ts []*template
	for x := range now {
		if now[x] != 0 {
			ts = append(ts, &s.asm.tmpls[x])
		}
	}
	p.board.post(s.path, ts)
}

// Tick emits events held past flush_after or max_wait.
func (p *Processor) Tick(now time.Time, out *event.OutBatch) {
	for _, s := range p.order {
		s.eng.out = out
		s.now = now
		s.dec.tick(now, s.asm.flushAfter, s.push)
		s.asm.tick(now)
		s.eng.release(now, false)
		p.ack(s, out)
		s.eng.out = nil
	}
}

// Forget drops the state of sources that hold nothing and have had no line
// since before (a journal writer that exited: every PID is a source). It
// returns how many it dropped; a forgotten source that comes back starts
// afresh.
func (p *Processor) Forget(before time.Time) int {
	kept := p.order[:0]
	dropped := 0
	for _, s := range p.order {
		if s.seen.Before(before) && s.dec.pending()+s.asm.holding()+s.eng.holding() == 0 {
			s.dec.close()
			delete(p.sources, s.path)
			p.board.drop(s.path)
			dropped++
			continue
		}
		kept = append(kept, s)
	}
	clear(p.order[len(kept):])
	p.order = kept
	return dropped
}

// Finish settles everything held for path (its file ended or vanished).
func (p *Processor) Finish(path string, out *event.OutBatch) {
	if s := p.sources[path]; s != nil {
		p.finish(s, out)
	}
}

// Close settles everything held, as at the end of the input.
func (p *Processor) Close(out *event.OutBatch) {
	for _, s := range p.order {
		p.finish(s, out)
	}
}

func (p *Processor) finish(s *source, out *event.OutBatch) {
	s.eng.out = out
	s.dec.flush(s.push)
	s.dec.midLine = false
	s.asm.flush()
	s.eng.release(time.Time{}, true)
	p.ack(s, out)
	s.eng.out = nil
}

// ack records in out how far s's file is done.
func (p *Processor) ack(s *source, out *event.OutBatch) {
	if s.eng.hasOff && out != nil {
		a := event.Ack{Input: p.input.Name, Path: s.path, File: s.file, Offset: s.eng.lastOff}
		if a == s.acked {
			return
		}
		s.acked = a
		out.Acknowledge(a)
	}
}

// SetRules switches to a new rule set at an event boundary: events waiting
// for a partner under the old rules are settled (forwarded, as unpaired)
// first, the event being assembled carries over.
func (p *Processor) SetRules(rs []*rules.Rule, out *event.OutBatch) {
	for _, s := range p.order {
		s.eng.out = out
		s.eng.release(time.Time{}, true)
		p.ack(s, out)
		s.eng.out = nil
	}
	p.rules = rs
	p.gate = newGate(rs, p.input.Multiline.Preset)
	p.stats.Rules = make([]RuleStats, len(rs))
	for _, s := range p.order {
		fresh := p.newEngine(s)
		fresh.seq = s.eng.seq
		s.eng = fresh
		s.asm.emit = fresh.add
	}
}
