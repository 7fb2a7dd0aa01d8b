package filters

import (
	"bytes"
	"regexp"
	"time"

	"github.com/logsift/logsift/rules"
)

// span is an assembled event: a run of whole lines stored in the arena.
type span struct {
	start, end int64 // arena positions
	lines      int   // physical lines
	endOffset  int64 // file offset just after the last line
	truncated  bool  // cut by max_lines/max_bytes or a split over-long line
	at         time.Time
	// raw, when set, holds the event's bytes instead of the arena: a line
	// that stands alone is passed on without being copied unless it has to
	// wait. view is the event's message view and json its JSON record, if
	// it is one. All three are valid only during the emit call.
	raw  []byte
	view []byte
	json []byte
}

// pyState tracks where the python preset is inside a record.
type pyState uint8

const (
	pyNone      pyState = iota // nothing held
	pyHeader                   // a line that may introduce a traceback
	pyTraceback                // inside frames, waiting for the exception line
	pyGroup                    // inside an exception group (all lines indented)
	pyException                // exception line seen: the traceback is complete
	pyNote                     // a note (add_note) after the exception line
	pyBlank                    // exception line plus one blank line
	pyChain                    // "During handling of the above exception ..." seen
	pyCustom                   // custom preset: an event started by `start`
)

// assembler groups the lines of one source into events.
//
// The python preset holds a line only while the next line could still belong
// to it: a possible traceback header, an unfinished traceback, or a finished
// one that a blank line or a chained exception could extend. Every other
// line is an event on its own and is passed on at once.
type assembler struct {
	preset     string
	start      *regexp.Regexp
	cont       *regexp.Regexp
	maxLines   int
	maxBytes   int
	flushAfter time.Duration

	arena *arena
	emit  func(*span)

	cur       span
	one       span // a line passed on alone
	held      bool
	state     pyState
	lastInput time.Time
	// view is the held event's message view, built line by line, unless
	// rawView: so far every line's view was its raw bytes, and the view
	// is the event's bytes in the arena (a traceback is kilobytes, copied
	// once instead of twice).
	view    []byte
	rawView bool
	// headed counts the records in a row that began with a record head
	// (a timestamp, a level): in such a source, a free-text line after an
	// exception line is a note of that exception, not a record.
	headed int

	// tmpls are events the python preset assembled line by line: the
	// last one (the last slot, on probation) and two that were replayed,
	// the last used first (two: noise and the errors between it take
	// turns). recording says whether the held event can become the one on
	// probation: it began with a text line of its own and every line
	// since was one.
	tmpls     [3]template
	recorded  int // templates recorded so far
	recording bool
	first     template // the held event's first line, as a template holds it
}

// maxTemplateBytes is the largest event kept as a template: noise is
// a traceback of a few kilobytes, and a file's template stays in memory.
const maxTemplateBytes = 8 << 10

// template is an event as the python preset assembled it, for assembling
// the same bytes again in one step (see Processor.replay). Noise repeats
// byte for byte: the same traceback after every websocket close. Lines
// with the same bytes have the same content, so pushing them one by one
// from the same start would take the same states; only the number of
// record heads in a row (headed) comes from outside the event, and the
// template keeps what the event did with it.
type template struct {
	raw      []byte
	view     []byte // the event's message view, when it is not raw (else empty)
	lines    int
	state    pyState // after the last line
	firstLen int     // the first line's length
	lo, hi   int     // the first line's content, in raw
	head     int8    // what the first line did to headed: -1 nothing, 0 reset, 1 counted
	notes    bool    // whether notes could follow an exception line (headed >= headedForNotes)
	// After the first line: the state and the length of the view. An
	// event held in that state whose next lines are the template's rest
	// takes them in one step too (a header with a timestamp, then the
	// same traceback).
	firstState pyState
	firstView  int
	gen        int  // the assembler's count of templates when it was recorded
	used       bool // replayed since: it repeats (see Processor.post)
}

// headedForNotes is how many records in a row must have begun with a head
// before free-text lines after an exception line are taken as its notes.
const headedForNotes = 16

func newAssembler(ml rules.Multiline, a *arena, emit func(*span)) *assembler {
	as := &assembler{
		preset:     ml.Preset,
		start:      ml.Start,
		cont:       ml.Continue,
		maxLines:   ml.MaxLines,
		maxBytes:   ml.MaxBytes,
		flushAfter: ml.FlushAfter,
		arena:      a,
		emit:       emit,
	}
	if as.maxLines <= 0 {
		as.maxLines = 1000
	}
	if as.maxBytes <= 0 {
		as.maxBytes = 1 << 20
	}
	if as.flushAfter <= 0 {
		as.flushAfter = 250 * time.Millisecond
	}
	return as
}

// push adds one logical line.
func (a *assembler) push(l *logicalLine, now time.Time) {
	a.lastInput = now
	if l.standalone {
		a.flush()
		a.single(l, now)
		return
	}
	switch a.preset {
	case "none":
		a.single(l, now)
	case "custom":
		a.pushCustom(l, now)
	default:
		a.pushPython(l, now)
	}
}

// tick emits a held event after flush_after of quiet.
func (a *assembler) tick(now time.Time) {
	if a.held && now.Sub(a.lastInput) >= a.flushAfter {
		a.flush()
	}
}

// holding reports the number of lines held in an unfinished event.
func (a *assembler) holding() int {
	if !a.held {
		return 0
	}
	return a.cur.lines
}

// flush emits the held event, if any.
func (a *assembler) flush() {
	if a.held {
		if a.recording && !a.cur.truncated && a.cur.end-a.cur.start <= maxTemplateBytes {
			a.record()
		}
		a.recording = false
		a.held = false
		a.state = pyNone
		a.cur.view = a.view
		if a.rawView {
			a.cur.view = a.arena.slice(a.cur.start, a.cur.end)
		}
		a.emit(&a.cur)
		a.cur.view = nil
	}
}

func (a *assembler) single(l *logicalLine, now time.Time) {
	// The span is handed on by pointer: it is large, and a plain line goes
	// through here on its own.
	a.one = span{raw: l.raw, view: l.view, json: l.json, lines: l.records, endOffset: l.endOffset, truncated: l.truncated, at: now}
	a.emit(&a.one)
}

// record makes the held event the template on probation.
func (a *assembler) record() {
	t := &a.tmpls[probation]
	raw, view := t.raw, t.view
	*t = a.first
	t.raw = append(raw[:0], a.arena.slice(a.cur.start, a.cur.end)...)
	t.view = view[:0]
	if !a.rawView {
		t.view = append(t.view, a.view...)
	}
	t.lines = a.cur.lines
	t.state = a.state
	a.recorded++
	t.gen = a.recorded
}

// probation is the slot of the last template recorded.
const probation = 2

// use notes that template x was replayed and puts it first: one on
// probation takes the place of the replayed one used less lately.
func (a *assembler) use(x int) *template {
	a.tmpls[x].used = true
	if x == probation {
		a.tmpls[1], a.tmpls[probation] = a.tmpls[probation], a.tmpls[1]
		x = 1
	}
	if x == 1 {
		a.tmpls[0], a.tmpls[1] = a.tmpls[1], a.tmpls[0]
	}
	return &a.tmpls[0]
}

// beginRecord starts holding a new event with l as pushPython does, where
// head is what l did to headed; the event may become the template.
func (a *assembler) beginRecord(l *logicalLine, now time.Time, st pyState, head int8) {
	a.begin(l, now, st)
	if l.cut < 0 || l.records != 1 {
		return
	}
	a.recording = true
	a.first = template{firstLen: len(l.raw), lo: l.cut, hi: l.cut + len(l.content), head: head,
		notes: a.headed >= headedForNotes, firstState: st, firstView: len(l.view)}
}

// replay holds raw, the bytes of template x, as the event the template
// is, as if its lines had been pushed one by one; endOffset is the file
// offset after them.
func (a *assembler) replay(x int, raw []byte, endOffset int64, now time.Time) {
	t := a.use(x)
	s, e := a.arena.append(raw)
	a.cur = span{start: s, end: e, lines: t.lines, endOffset: endOffset, at: now}
	a.view = append(a.view[:0], t.view...)
	a.rawView = len(t.view) == 0
	a.held = true
	a.state = t.state
	a.lastInput = now
	// It is the template already.
	a.recording = false
}

// replayRest appends raw, the bytes of template x after its first line,
// to the held event, as if they had been pushed line by line; endOffset is
// the file offset after them. The caller has checked that the event is in
// the state the template was in after its first line, and that the lines
// fit within max_lines and max_bytes.
func (a *assembler) replayRest(x int, raw []byte, endOffset int64, now time.Time) {
	t := a.use(x)
	s, e := a.arena.append(raw)
	if len(t.view) > 0 {
		a.ownView(s)
		a.view = append(a.view, t.view[t.firstView:]...)
	} else if !a.rawView {
		a.view = append(a.view, raw...)
	}
	a.cur.end = e
	a.cur.lines += t.lines - 1
	a.cur.endOffset = endOffset
	a.state = t.state
	a.lastInput = now
	// Its first line differs from the template's: a timestamp, most
	// likely, which would make every such event a new template.
	a.recording = false
}

// fitsRest reports whether the lines of t after its first would keep the
// held event within max_lines and max_bytes.
func (a *assembler) fitsRest(t *template) bool {
	return a.cur.lines+t.lines-1 <= a.maxLines && int(a.cur.end-a.cur.start)+len(t.raw)-t.firstLen <= a.maxBytes
}

// begin starts holding a new event with l.
func (a *assembler) begin(l *logicalLine, now time.Time, st pyState) {
	a.recording = false
	s, e := a.arena.append(l.raw)
	a.cur = span{start: s, end: e, lines: l.records, endOffset: l.endOffset, at: now}
	a.view = a.view[:0]
	a.rawView = aliases(l.view, l.raw)
	if !a.rawView {
		a.view = append(a.view, l.view...)
	}
	a.held = true
	a.state = st
}

// extend appends l to the held event. When the event would exceed
// max_lines or max_bytes, the held part is emitted (marked truncated) and
// l starts a new event in the same state, so the rest stays grouped.
func (a *assembler) extend(l *logicalLine, now time.Time, st pyState) {
	if a.cur.lines+l.records > a.maxLines || int(a.cur.end-a.cur.start)+len(l.raw) > a.maxBytes {
		a.cur.truncated = true
		a.flush()
		a.begin(l, now, st)
		return
	}
	if l.cut < 0 || l.records != 1 {
		a.recording = false
	}
	s, e := a.arena.append(l.raw)
	if !aliases(l.view, l.raw) {
		a.ownView(s)
	}
	if !a.rawView {
		a.view = append(a.view, l.view...)
	}
	a.cur.end = e
	a.cur.lines += l.records
	a.cur.endOffset = l.endOffset
	a.state = st
}

// ownView makes the held event's view its own copy, up to arena position
// upTo, when it was the event's bytes in the arena: a line whose view is
// not its bytes is about to be added.
func (a *assembler) ownView(upTo int64) {
	if a.rawView {
		a.view = append(a.view[:0], a.arena.slice(a.cur.start, upTo)...)
		a.rawView = false
	}
}

// aliases reports whether view is raw itself, as the decoder hands on a
// line with nothing to take off.
func aliases(view, raw []byte) bool {
	return len(view) == len(raw) && (len(raw) == 0 || &view[0] == &raw[0])
}

// inBody reports whether the held event is inside a traceback's frames,
// where every indented line continues it.
func (a *assembler) inBody() bool {
	return a.held && (a.state == pyTraceback || a.state == pyGroup)
}

// extendRun appends a run of indented lines to a traceback held in its
// frames (see inBody). Their views are their bytes: no prefix, suffix or
// carriage return. It appends nothing and reports false when the run
// would take the event past max_lines or max_bytes; the lines then go one
// by one, and the event is cut where it must be.
func (a *assembler) extendRun(raw []byte, lines int, endOffset int64, now time.Time) bool {
	if a.cur.lines+lines > a.maxLines || int(a.cur.end-a.cur.start)+len(raw) > a.maxBytes {
		return false
	}
	_, e := a.arena.append(raw)
	a.cur.end = e
	a.cur.lines += lines
	a.cur.endOffset = endOffset
	if !a.rawView {
		a.view = append(a.view, raw...)
	}
	a.lastInput = now
	return true
}

func (a *assembler) pushCustom(l *logicalLine, now time.Time) {
	switch {
	case a.start.Match(l.content):
		a.flush()
		a.begin(l, now, pyCustom)
	case a.held && a.cont.Match(l.content):
		a.extend(l, now, pyCustom)
	default:
		a.flush()
		a.single(l, now)
	}
}

func (a *assembler) pushPython(l *logicalLine, now time.Time) {
	c := l.content
	if a.held {
		if next, ok := continues(a.state, c, a.headed >= headedForNotes); ok {
			a.extend(l, now, next)
			return
		}
		// l does not belong to the held event: that event is complete.
		a.flush()
	}
	head := int8(-1)
	if len(c) > 0 {
		if isRecordHead(c) {
			a.headed++
			head = 1
		} else {
			a.headed = 0
			head = 0
		}
	}
	if next, ok := tracebackStart(c); ok {
		a.beginRecord(l, now, next, head)
		return
	}
	if isFrameLine(c) {
		// A traceback without its "Traceback" line: what the interpreter
		// prints for a SyntaxError in the main script.
		a.beginRecord(l, now, pyTraceback, head)
		return
	}
	if isHeader(c) {
		a.beginRecord(l, now, pyHeader, head)
		return
	}
	a.single(l, now)
}

// continues reports whether a line with content c extends an event held in
// state st, and the state after it.
func continues(st pyState, c []byte, notes bool) (pyState, bool) {
	switch st {
	case pyHeader:
		return tracebackStart(c)
	case pyTraceback:
		switch {
		case isIndented(c):
			return pyTraceback, true
		case isExceptionLine(c):
			return pyException, true
		}
	case pyException, pyNote:
		switch {
		case len(c) == 0:
			return pyBlank, true
		case isChainMarker(c):
			return pyChain, true
		case notes && isNote(c):
			return pyNote, true
		}
	case pyGroup:
		switch {
		case isIndented(c):
			return pyGroup, true
		case len(c) == 0:
			return pyBlank, true
		}
	case pyBlank:
		if isChainMarker(c) {
			return pyChain, true
		}
	case pyChain:
		if len(c) == 0 {
			return pyChain, true
		}
		return tracebackStart(c)
	}
	return pyNone, false
}

var (
	tracebackLine      = []byte("Traceback (most recent call last):")
	groupTracebackLine = []byte("+ Exception Group Traceback (most recent call last):")
	chainDuring        = []byte("During handling of the above exception, another exception occurred:")
	chainCause         = []byte("The above exception was the direct cause of the following exception:")
	httpVersion        = []byte("HTTP/")
	framePrefix        = []byte(`  File "`)
	frameLine          = []byte(`", line `)
)

// tracebackStart reports whether c opens a traceback, and which state
// follows it.
func tracebackStart(c []byte) (pyState, bool) {
	if bytes.Equal(c, tracebackLine) {
		return pyTraceback, true
	}
	if t := bytes.TrimLeft(c, " "); len(t) < len(c) && bytes.Equal(t, groupTracebackLine) {
		return pyGroup, true
	}
	return pyNone, false
}

// isFrameLine reports whether c is a traceback's frame line:
// `  File "path", line N` and what may follow.
func isFrameLine(c []byte) bool {
	return bytes.HasPrefix(c, framePrefix) && bytes.Contains(c, frameLine)
}

// isNote reports whether c, after an exception line, is a note added with
// add_note() rather than the next record. Notes are free text, so only
// lines that cannot start a record count: a record starts with a
// timestamp, an address, a bracket, a JSON object, a level name or a
// traceback header, and only in a source whose records have all begun
// with such a head lately (a formatter with asctime or levelname). A line
// taken wrongly only extends the event, so the
// event no longer matches rules anchored at its exception line and is
// forwarded whole: nothing is lost.
func isNote(c []byte) bool {
	if len(c) == 0 || isIndented(c) || isRecordHead(c) || isHeader(c) || isChainMarker(c) || hasAccessMarker(c) {
		return false
	}
	_, ok := tracebackStart(c)
	return !ok
}

// isRecordHead reports whether c starts the way formatted log records do:
// a timestamp or address, a bracket, a JSON object, a level name.
func isRecordHead(c []byte) bool {
	switch ch := c[0]; {
	case isDigit(ch), ch == '[', ch == '{', ch == '<':
		return true
	}
	i := 0
	for i < len(c) && isLetter(c[i]) {
		i++
	}
	return isLogLevel(c[:i])
}

func isIndented(c []byte) bool { return len(c) > 0 && (c[0] == ' ' || c[0] == '\t') }

func isChainMarker(c []byte) bool {
	return bytes.Equal(c, chainDuring) || bytes.Equal(c, chainCause)
}

// isHeader reports whether c may introduce a traceback: a message ending in
// a colon ("Error on request:", "Exception in thread X:") or one logged at
// error level ("ERROR in app: Exception on /boom [GET]", gunicorn's
// "[ERROR] Error handling request ..."). Access-log lines never are: a
// headerless traceback (eventlet) must not swallow the request line before it.
func isHeader(c []byte) bool {
	if len(c) == 0 || isIndented(c) {
		return false
	}
	if hasAccessMarker(c) {
		return false
	}
	return c[len(c)-1] == ':' || hasErrorWord(c)
}

// hasAccessMarker reports whether c holds " HTTP/", as an access line's
// request does. It looks for "HTTP/" and then the space: a search that
// starts with a space stops at every word.
func hasAccessMarker(c []byte) bool {
	for from := 0; ; {
		i := bytes.Index(c[from:], httpVersion)
		if i < 0 {
			return false
		}
		if from+i > 0 && c[from+i-1] == ' ' {
			return true
		}
		from += i + 1
	}
}

// hasErrorWord reports whether c contains ERROR, Error, Exception or
// CRITICAL as the start of a word.
func hasErrorWord(c []byte) bool {
	for i := 0; i < len(c); {
		j := bytes.IndexByte(c[i:], 'E')
		if j < 0 {
			break
		}
		i += j
		if hasWordAt(c, i, "ERROR") || hasWordAt(c, i, "Error") || hasWordAt(c, i, "Exception") {
			return true
		}
		i++
	}
	return bytes.Contains(c, []byte("CRITICAL"))
}

// hasWordAt reports whether w starts at c[i] and is not glued to letters
// before it (so "KeyError" does not count as "Error", but "[ERROR]" does).
func hasWordAt(c []byte, i int, w string) bool {
	if i > 0 && isLetter(c[i-1]) {
		return false
	}
	return len(c)-i >= len(w) && string(c[i:i+len(w)]) == w
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isExceptionLine reports whether c looks like the last line of a Python
// traceback: a (dotted) exception name, then end of line or ": message".
// Logging prefixes such as "INFO:werkzeug:..." or "WARNING: ..." are not
// exception names, so a log line that lands where the exception line was
// expected is never absorbed.
func isExceptionLine(c []byte) bool {
	if len(c) == 0 {
		return false
	}
	ch := c[0]
	if !(isLetter(ch) || ch == '_') {
		return false
	}
	i := 1
	for i < len(c) && (isLetter(c[i]) || c[i] >= '0' && c[i] <= '9' || c[i] == '_' || c[i] == '.') {
		i++
	}
	name := c[:i]
	if isLogLevel(name) {
		return false
	}
	if i == len(c) {
		return true
	}
	if c[i] != ':' {
		return false
	}
	return i+1 == len(c) || c[i+1] == ' '
}

func isLogLevel(name []byte) bool {
	switch string(name) {
	case "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "NOTICE", "TRACE":
		return true
	}
	return false
}
