package filters

import (
	"bytes"
	"hash/maphash"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// RuleStats are one rule's cumulative counts for one source.
type RuleStats struct {
	EventsSuppressed uint64 // matched events removed (partners not included)
	LinesSuppressed  uint64 // lines removed, partners included
	Sampled          uint64 // matched events let through by `sample`
	Unpaired         uint64 // matched events forwarded for want of a partner
	Matched          uint64 // every match, whatever came of it
	LastMatch        time.Time
}

// Stats are cumulative counts for one input. They are only ever increased,
// so a reader can turn them into counter deltas.
type Stats struct {
	Lines          uint64
	Bytes          uint64
	Events         uint64
	LinesForwarded uint64
	Truncated      uint64
	// RunLines counts the lines forwarded in runs of plain lines,
	// without a trip through the decoder, assembler and rules each (see
	// Processor.runs): the share of the input that took the fast path.
	RunLines uint64
	// ParseErrors counts lines that were not records of their source's
	// format (invalid or truncated JSON, a line that is no container
	// record); they are forwarded unchanged as text. Indexed like
	// FormatName.
	ParseErrors [NumFormats]uint64
	// Sources is the number of the input's sources currently read in each
	// format, indexed like FormatName.
	Sources [NumFormats]int
	Rules   []RuleStats // indexed like the rule set
}

type heldState uint8

const (
	decided   heldState = iota
	candidate           // may still be claimed as a pair partner
	waiting             // matched a paired rule, looking for a partner
)

// held is an event in the engine's queue.
type held struct {
	span
	seq      uint64
	state    heldState
	verdict  event.Verdict
	rule     int    // index of the matching rule, -1 when none
	partner  bool   // taken as another event's partner
	sampled  bool   // let through by `sample`
	unpaired bool   // found no partner
	mask     uint64 // candidate: the paired rules whose pair.match it satisfies
	claimed  bool
	glued    bool // a candidate that may carry content of another record
	// run: the entry is a run of plain one-line events (lines of them),
	// held as one behind an event that waits; see addRun.
	run bool
}

// engine applies the rules to one source's events and releases them in
// input order. Events that take part in pairing are held in a queue until
// their fate is known; everything behind a held event waits with it, so
// output order always equals input order.
type engine struct {
	rules  []*rules.Rule
	paired []int // indexes into rules of the rules with a pair:, at most 64
	// oneLine are the indexes of the rules that can match an event of
	// one line (see rules.OneLineRules).
	oneLine []int
	arena   *arena
	stats   *Stats

	q    []held
	head int
	seq  uint64
	ev   rules.Event // the event being classified, kept here so matching allocates nothing
	out  *event.OutBatch
	// origin, set for sources whose lines have origins, names the origin
	// of the event starting at an offset.
	origin  func(start int64) *event.Origin
	path    string // the source's, noted with every event for outputs
	lastOff int64  // end offset of the last released event
	hasOff  bool
	trace   TraceFunc
	memo    decisionMemo
	// waitingFor counts, per paired rule (by bit), events waiting for a
	// partner after them. A rule whose partner can only come after its
	// event needs its pair.match tested only while one of its events waits.
	waitingFor [64]int
	heads      headStats // the usual start of a partner, to spot glued ones
	runEnds    []int     // scratch: the line ends of a held run being released
	// readsFields: some rule tests JSON fields (see classify).
	readsFields bool
	// dropSuppressed: no output writes suppressed events, so their bytes
	// are not copied into output batches (see Processor.DropSuppressed).
	dropSuppressed bool
}

// Decision describes how one event was settled, for tools that explain
// rules (`logsift test`, `logsift replay`).
type Decision struct {
	Raw      []byte // the event's bytes; valid only during the call
	Lines    int
	Verdict  event.Verdict
	Rule     string // the rule that matched it or claimed it as partner; "" when none
	Partner  bool   // it was taken as another event's pair partner
	Sampled  bool   // matched, but let through by `sample`
	Unpaired bool   // matched a paired rule but found no partner
}

// TraceFunc receives every event as it is released, in input order.
type TraceFunc func(Decision)

func newEngine(rs []*rules.Rule, a *arena, st *Stats) *engine {
	e := &engine{rules: rs, arena: a, stats: st, oneLine: rules.OneLineRules(rs)}
	for i, r := range rs {
		e.readsFields = e.readsFields || rules.ReadsFields(r.Match)
		if r.Pair != nil && len(e.paired) < 64 {
			e.paired = append(e.paired, i)
		}
	}
	return e
}

// add takes one assembled event.
func (e *engine) add(s *span) {
	e.stats.Events++
	if s.truncated {
		e.stats.Truncated++
	}
	e.ev = rules.Event{Text: s.view, JSON: s.json}
	rule, mask := e.classify(&e.ev, s.lines)
	e.ev = rules.Event{}
	if rule < 0 && mask == 0 && s.raw != nil && e.head == len(e.q) {
		// The common case, a line no rule cares about with nothing held
		// ahead of it: out it goes without becoming a queue entry.
		e.seq++
		e.emitPlain(s)
		return
	}
	h := held{span: *s, seq: e.seq, rule: rule, mask: mask}
	e.seq++
	switch {
	case h.rule < 0:
		if h.mask != 0 {
			h.glued = e.carriesOther(s)
		}
		if h.mask != 0 && e.claimForWaiting(&h) {
			break
		}
		if h.mask != 0 {
			h.state = candidate
		} else {
			h.verdict = event.Forwarded
		}
	default:
		r := e.rules[h.rule]
		rs := &e.stats.Rules[h.rule]
		rs.Matched++
		rs.LastMatch = s.at
		switch {
		case r.Action == rules.Keep:
			h.verdict = event.Forwarded
		case r.Pair == nil:
			e.suppress(&h)
		default:
			switch {
			case e.claimEarlier(&h):
			case r.Pair.Direction == "before":
				// Its partner could only have come earlier: no point waiting.
				e.stats.Rules[h.rule].Unpaired++
				h.unpaired = true
				h.verdict = event.Forwarded
			default:
				h.state = waiting
				e.waitingFor[e.pairIndex(h.rule)]++
			}
		}
	}
	if s.raw != nil {
		if h.state == decided && e.head == len(e.q) {
			// Nothing is waiting ahead of it: out it goes, uncopied.
			e.emit(&h, s.raw)
			return
		}
		h.start, h.end = e.arena.append(s.raw)
		h.raw = nil
	}
	e.q = append(e.q, h)
	e.release(s.at, false)
}

// addRun takes a run of plain one-line events (see gate): the lines of
// data[from:ends[len(ends)-1]], each ending at its entry of ends. None can
// match a rule or partner an event, so they are forwarded as they are, in
// one piece, or held as one entry behind an event that waits.
func (e *engine) addRun(data []byte, from int, ends []int, endOffset int64, at time.Time) {
	n := len(ends)
	e.stats.Events += uint64(n)
	e.stats.RunLines += uint64(n)
	if e.head == len(e.q) {
		e.seq += uint64(n)
		if e.out != nil {
			e.out.NotePath(e.path)
			e.out.AddLines(data, from, ends, event.Forwarded)
		}
		e.stats.LinesForwarded += uint64(n)
		e.lastOff, e.hasOff = endOffset, true
		return
	}
	h := held{span: span{lines: n, endOffset: endOffset, at: at}, seq: e.seq, rule: -1, run: true}
	e.seq += uint64(n)
	h.start, h.end = e.arena.append(data[from:ends[n-1]])
	e.q = append(e.q, h)
	e.release(at, false)
}

// classify finds the first matching rule and, when none matches, the paired
// rules the event could partner. Rules are pure functions of the event's
// text, and multi-line events repeat byte for byte (the same traceback on
// every WebSocket close), so their answers are remembered.
func (e *engine) classify(ev *rules.Event, lines int) (rule int, mask uint64) {
	// When a rule reads JSON fields, the text of a JSON record is no sound
	// memo key: two records with one view may differ in their fields.
	// A JSON record is one line however long its view; a long view is a
	// traceback worth remembering.
	small := lines < 2 && (ev.JSON == nil || len(ev.Text) < minJSONMemoBytes)
	if small || len(ev.Text) > maxMemoBytes || ev.JSON != nil && e.readsFields {
		rule = e.firstMatch(ev)
	} else {
		m := e.memo.lookup(ev.Text)
		if !m.valid {
			m.rule = e.firstMatch(ev)
			m.valid = true
		}
		rule = m.rule
	}
	if rule < 0 {
		mask = e.partnerMask(ev)
	}
	return rule, mask
}

func (e *engine) firstMatch(ev *rules.Event) int {
	if ev.JSON == nil && bytes.IndexByte(ev.Text, '\n') == len(ev.Text)-1 {
		// One line: only the rules that can hold on one are tried.
		for _, i := range e.oneLine {
			if e.rules[i].Match.Match(ev) {
				return i
			}
		}
		return -1
	}
	for i, r := range e.rules {
		if r.Match.Match(ev) {
			return i
		}
	}
	return -1
}

func (e *engine) partnerMask(ev *rules.Event) uint64 {
	var m uint64
	for bit, ri := range e.paired {
		p := e.rules[ri].Pair
		if p.Direction == "after" && e.waitingFor[bit] == 0 {
			continue
		}
		if p.Match.Match(ev) {
			m |= 1 << bit
		}
	}
	return m
}

func (e *engine) pairBit(rule int) uint64 {
	if i := e.pairIndex(rule); i >= 0 {
		return 1 << i
	}
	return 0
}

func (e *engine) pairIndex(rule int) int {
	for i, ri := range e.paired {
		if ri == rule {
			return i
		}
	}
	return -1
}

// settle marks h decided; a waiting event stops counting as waiting.
func (e *engine) settle(h *held) {
	if h.state == waiting {
		e.waitingFor[e.pairIndex(h.rule)]--
	}
	h.state = decided
}

// claimEarlier looks back for the earliest unclaimed partner of h's rule
// within reach, and pairs them.
func (e *engine) claimEarlier(h *held) bool {
	p := e.rules[h.rule].Pair
	if p.Direction == "after" {
		return false
	}
	bit := e.pairBit(h.rule)
	for i := e.head; i < len(e.q); i++ {
		c := &e.q[i]
		if c.state != candidate || c.claimed || c.mask&bit == 0 {
			continue
		}
		if h.seq-c.seq > uint64(p.Within) || h.at.Sub(c.at) > p.MaxWait {
			continue
		}
		e.pair(h, c)
		return true
	}
	return false
}

// claimForWaiting gives candidate c to the earliest event still waiting for
// a partner that c can serve.
func (e *engine) claimForWaiting(c *held) bool {
	for i := e.head; i < len(e.q); i++ {
		w := &e.q[i]
		if w.state != waiting {
			continue
		}
		p := e.rules[w.rule].Pair
		if c.mask&e.pairBit(w.rule) == 0 || p.Direction == "before" {
			continue
		}
		if c.seq-w.seq > uint64(p.Within) || c.at.Sub(w.at) > p.MaxWait {
			continue
		}
		e.pair(w, c)
		return true
	}
	return false
}

// pair settles a matched event and its partner together.
func (e *engine) pair(m, partner *held) {
	partner.claimed = true
	partner.state = decided
	partner.rule = m.rule
	partner.partner = true
	e.settle(m)
	if e.suppress(m) {
		if e.rules[m.rule].Pair.DropPartner && !partner.glued {
			partner.verdict = event.Suppressed
			e.stats.Rules[m.rule].LinesSuppressed += uint64(partner.lines)
		} else {
			partner.verdict = event.Forwarded
		}
	} else {
		partner.verdict = event.Forwarded
	}
}

// suppress decides a matched event's fate, honouring `sample`: it reports
// whether the event is removed.
func (e *engine) suppress(h *held) bool {
	r := e.rules[h.rule]
	rs := &e.stats.Rules[h.rule]
	h.state = decided
	if r.Sample > 0 && (rs.EventsSuppressed+rs.Sampled+1)%uint64(r.Sample) == 0 {
		rs.Sampled++
		h.sampled = true
		h.verdict = event.Forwarded
		return false
	}
	rs.EventsSuppressed++
	rs.LinesSuppressed += uint64(h.lines)
	h.verdict = event.Suppressed
	return true
}

// expired reports whether h can no longer find a partner: `within` events
// have passed it or it has waited `max_wait`.
func (e *engine) expired(h *held, now time.Time, final bool) bool {
	if final {
		return true
	}
	switch h.state {
	case waiting:
		p := e.rules[h.rule].Pair
		return e.seq-1-h.seq >= uint64(p.Within) || now.Sub(h.at) >= p.MaxWait
	case candidate:
		for bit, ri := range e.paired {
			if h.mask&(1<<bit) == 0 {
				continue
			}
			p := e.rules[ri].Pair
			if e.seq-1-h.seq < uint64(p.Within) && now.Sub(h.at) < p.MaxWait {
				return false
			}
		}
		return true
	}
	return true
}

// release passes decided events at the head of the queue to the output
// batch, settling expired ones on the way. final settles everything.
func (e *engine) release(now time.Time, final bool) {
	for e.head < len(e.q) {
		h := &e.q[e.head]
		if h.state != decided {
			if !e.expired(h, now, final) {
				break
			}
			if h.state == waiting {
				e.stats.Rules[h.rule].Unpaired++
				h.unpaired = true
			}
			e.settle(h)
			h.verdict = event.Forwarded
		}
		e.emit(h, e.arena.slice(h.start, h.end))
		e.head++
		e.arena.release(h.end)
	}
	if e.head == len(e.q) {
		e.q = e.q[:0]
		e.head = 0
	} else if e.head >= 1024 && e.head*2 >= len(e.q) {
		n := copy(e.q, e.q[e.head:])
		e.q = e.q[:n]
		e.head = 0
	}
}

// put appends one event ending at file offset end to the output batch.
func (e *engine) put(raw []byte, v event.Verdict, end int64) {
	if v == event.Suppressed && e.dropSuppressed {
		return
	}
	e.out.NotePath(e.path)
	if e.origin == nil {
		e.out.Add(raw, v)
		return
	}
	e.out.AddFrom(raw, v, e.origin(end-int64(len(raw))))
}

// emitPlain passes on an event that matched nothing and was never held.
func (e *engine) emitPlain(s *span) {
	if e.out != nil {
		e.put(s.raw, event.Forwarded, s.endOffset)
	}
	if e.trace != nil {
		e.trace(Decision{Raw: s.raw, Lines: s.lines, Verdict: event.Forwarded})
	}
	e.stats.LinesForwarded += uint64(s.lines)
	e.lastOff, e.hasOff = s.endOffset, true
}

// emit passes a settled event to the output batch and the trace.
func (e *engine) emit(h *held, raw []byte) {
	if h.run {
		e.emitRun(h, raw)
		return
	}
	if e.out != nil {
		e.put(raw, h.verdict, h.endOffset)
	}
	if e.trace != nil {
		d := Decision{Raw: raw, Lines: h.lines, Verdict: h.verdict, Partner: h.partner, Sampled: h.sampled, Unpaired: h.unpaired}
		if h.rule >= 0 {
			d.Rule = e.rules[h.rule].Name
		}
		e.trace(d)
	}
	if h.verdict == event.Forwarded {
		e.stats.LinesForwarded += uint64(h.lines)
	}
	e.lastOff, e.hasOff = h.endOffset, true
}

// emitRun passes on a held run of plain one-line events.
func (e *engine) emitRun(h *held, raw []byte) {
	// Every line of a run ends in '\n'; were one not to, it would end
	// the run rather than loop forever.
	e.runEnds = e.runEnds[:0]
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			j = len(raw) - 1 - i
		}
		i += j + 1
		e.runEnds = append(e.runEnds, i)
	}
	if e.out != nil {
		e.out.NotePath(e.path)
		e.out.AddLines(raw, 0, e.runEnds, event.Forwarded)
	}
	if e.trace != nil {
		from := 0
		for _, end := range e.runEnds {
			e.trace(Decision{Raw: raw[from:end], Lines: 1, Verdict: event.Forwarded})
			from = end
		}
	}
	e.stats.LinesForwarded += uint64(h.lines)
	e.lastOff, e.hasOff = h.endOffset, true
}

// holding is the number of lines in events not yet released.
func (e *engine) holding() int {
	n := 0
	for i := e.head; i < len(e.q); i++ {
		n += e.q[i].lines
	}
	return n
}

const (
	memoSlots    = 64
	maxMemoBytes = 8 << 10
	// minJSONMemoBytes is the view length from which a JSON record's
	// classification is remembered.
	minJSONMemoBytes = 256
)

// decisionMemo is a small direct-mapped cache from an event's exact text to
// its classification.
type decisionMemo struct {
	seed  maphash.Seed
	slots [memoSlots]memoSlot
	// recent are the slots of the last two lookups, compared before any
	// hashing: noise repeats, so an event is most often the same text as
	// one of the last two, and a comparison costs a third of a hash of
	// the same bytes.
	recent [2]*memoSlot
}

type memoSlot struct {
	hash  uint64
	text  []byte
	valid bool
	rule  int
}

// lookup returns the slot for view: a hit (valid) or a slot reset to hold
// view, for the caller to fill.
func (m *decisionMemo) lookup(view []byte) *memoSlot {
	for i, s := range m.recent {
		if s != nil && s.valid && bytes.Equal(s.text, view) {
			m.recent[0], m.recent[i] = s, m.recent[0]
			return s
		}
	}
	if m.seed == (maphash.Seed{}) {
		m.seed = maphash.MakeSeed()
	}
	h := maphash.Bytes(m.seed, view)
	s := &m.slots[h%memoSlots]
	if m.recent[0] != s {
		m.recent[1], m.recent[0] = m.recent[0], s
	}
	if s.valid && s.hash == h && bytes.Equal(s.text, view) {
		return s
	}
	s.valid = false
	s.hash = h
	if cap(s.text) < len(view) {
		// Room for a somewhat longer event next time: tracebacks of one
		// kind differ by a few bytes of their first line.
		s.text = make([]byte, 0, len(view)+len(view)/4)
	}
	s.text = append(s.text[:0], view...)
	return s
}
