package filters

import (
	"bytes"
	"regexp"
	"time"

	"github.com/logsift/logsift/record"
	"github.com/logsift/logsift/rules"
)

// Resolved formats: what a source's records turned out to be. Auto is
// never a resolved format.
const (
	fmtText = iota
	fmtJSON
	fmtDockerJSON
	fmtCRI
	numFormats
)

// FormatNames are the resolved formats, indexed like Stats.ParseErrors and
// Stats.Sources.
var formatNames = [numFormats]string{record.Text, record.JSON, record.DockerJSON, record.CRI}

// FormatName returns the name of resolved format i.
func FormatName(i int) string { return formatNames[i] }

// NumFormats is the number of resolved formats.
const NumFormats = numFormats

func formatIndex(name string) int {
	for i, n := range formatNames {
		if n == name {
			return i
		}
	}
	return -1
}

// logicalLine is one application line after its record framing is decoded:
// one physical line, or several when a container runtime split the app's
// line into partial records.
type logicalLine struct {
	raw     []byte // the physical bytes, valid during push
	content []byte // the text the python preset classifies: no prefix, suffix or line ending
	view    []byte // this line's part of the message view, ending in '\n'
	json    []byte // the JSON record, when the line is one
	// cut is where content starts in raw, when raw is one text line and
	// content a part of it; -1 otherwise.
	cut        int
	records    int // physical lines in raw
	endOffset  int64
	truncated  bool
	standalone bool // never grouped with other lines
}

// suffixer finds the length of a formatter's suffix at the end of a line's
// text (without its line ending).
type suffixer interface {
	suffixLen(text []byte) int
}

type autoSuffix struct{}

func (autoSuffix) suffixLen(text []byte) int { return record.SuffixLen(text) }

type regexSuffix struct{ re *regexp.Regexp }

func (s regexSuffix) suffixLen(text []byte) int {
	loc := s.re.FindIndex(text)
	if loc == nil || loc[0] == 0 {
		// A suffix with no message before it is the message.
		return 0
	}
	return len(text) - loc[0]
}

func newSuffixer(s rules.Suffix) suffixer {
	switch s.Kind {
	case "none":
		return nil
	case "regex":
		if s.Regex != nil {
			return regexSuffix{s.Regex}
		}
	}
	return autoSuffix{}
}

// recordDecoder turns one source's physical lines into logical lines: it
// undoes the container runtime's framing, joins partial records, decodes
// JSON records into their message view and strips prefixes and suffixes
// from text lines. The raw bytes always pass through untouched.
type recordDecoder struct {
	configured string // the input's format setting
	format     int    // resolved format; -1 while auto has not decided
	// jsonLines: a line that is a JSON object is decoded as a JSON record.
	// Off only for format text.
	jsonLines bool
	prefix    prefixer
	suffix    suffixer
	maxBytes  int
	stats     *Stats
	// resolved is called once when the source's format is known.
	resolved func(format string, detected bool)

	// A partial record (CRI "P", Docker's split lines) waits for the rest
	// of its line.
	pendRaw     []byte
	pendText    []byte
	pendRecords int
	pendOffset  int64
	pendSince   time.Time
	// midLine: the last physical line was a part without its newline
	// (split by the input at max_bytes); the next part continues it.
	midLine bool

	text []byte // scratch: a decoded container record
	view []byte // scratch: a line's message view
	line logicalLine
}

func newRecordDecoder(in rules.Input, p prefixer, st *Stats, resolved func(string, bool)) *recordDecoder {
	d := &recordDecoder{
		configured: in.Format,
		format:     formatIndex(in.Format),
		jsonLines:  in.Format != record.Text,
		prefix:     p,
		suffix:     newSuffixer(in.Suffix),
		maxBytes:   in.Multiline.MaxBytes,
		stats:      st,
		resolved:   resolved,
	}
	if d.maxBytes <= 0 {
		d.maxBytes = rules.DefaultMaxBytes
	}
	if d.format >= 0 {
		d.stats.Sources[d.format]++
		if resolved != nil {
			resolved(formatNames[d.format], false)
		}
	}
	return d
}

// close stops counting the source under its format.
func (d *recordDecoder) close() {
	if d.format >= 0 {
		d.stats.Sources[d.format]--
		d.format = -1
	}
}

// pending is the number of physical lines waiting for the rest of their
// record.
func (d *recordDecoder) pending() int { return d.pendRecords }

// push decodes one physical line (with its newline, if it has one) ending
// at file offset endOffset and hands the logical lines it completes to emit.
func (d *recordDecoder) push(line []byte, endOffset int64, now time.Time, emit func(*logicalLine)) {
	whole := len(line) > 0 && line[len(line)-1] == '\n'
	if d.midLine || !whole {
		// Part of a line longer than the input's split size, or a final
		// fragment: it stands alone, so no event grows without bound.
		d.flush(emit)
		d.midLine = !whole
		d.emitRaw(line, endOffset, true, emit)
		return
	}
	if d.format < 0 {
		d.detect(line)
	}
	switch d.format {
	case fmtDockerJSON:
		text, _, partial, ok := record.DecodeDocker(d.text[:0], line)
		if !ok {
			d.stats.ParseErrors[fmtDockerJSON]++
			d.flush(emit)
			d.inner(line, trimEOL(line), 1, endOffset, false, emit)
			return
		}
		d.text = text
		d.framed(line, text, partial, endOffset, now, emit)
	case fmtCRI:
		text, _, partial, ok := record.DecodeCRI(line)
		if !ok {
			d.stats.ParseErrors[fmtCRI]++
			d.flush(emit)
			d.inner(line, trimEOL(line), 1, endOffset, false, emit)
			return
		}
		if !partial {
			// A full record's text is the app line without its newline;
			// make both framings hand on the same thing.
			d.text = append(append(d.text[:0], text...), '\n')
			text = d.text
		}
		d.framed(line, text, partial, endOffset, now, emit)
	default:
		d.inner(line, trimEOL(line), 1, endOffset, true, emit)
	}
}

// detect resolves auto from the first line with content.
func (d *recordDecoder) detect(line []byte) {
	c := bytes.TrimSpace(line)
	if len(c) == 0 {
		return
	}
	f := formatIndex(record.Detect(c))
	if f < 0 {
		f = fmtText
	}
	d.format = f
	d.stats.Sources[f]++
	if d.resolved != nil {
		d.resolved(formatNames[f], true)
	}
}

// framed handles one decoded container record: a partial one waits, a
// final one completes the app line.
func (d *recordDecoder) framed(line, text []byte, partial bool, endOffset int64, now time.Time, emit func(*logicalLine)) {
	if partial {
		if d.pendRecords == 0 {
			d.pendSince = now
		}
		d.pendRaw = append(d.pendRaw, line...)
		d.pendText = append(d.pendText, text...)
		d.pendRecords++
		d.pendOffset = endOffset
		if len(d.pendText) >= d.maxBytes {
			// A line that never ends goes out in parts, as on stdin.
			d.flush(emit)
		}
		return
	}
	raw, app, records := line, text, 1
	if d.pendRecords > 0 {
		d.pendRaw = append(d.pendRaw, line...)
		d.pendText = append(d.pendText, text...)
		raw, app, records = d.pendRaw, d.pendText, d.pendRecords+1
	}
	d.inner(raw, trimEOL(app), records, endOffset, false, emit)
	d.resetPending()
}

func (d *recordDecoder) resetPending() {
	d.pendRaw = d.pendRaw[:0]
	d.pendText = d.pendText[:0]
	d.pendRecords = 0
}

// flush emits a waiting partial record as a truncated line of its own.
func (d *recordDecoder) flush(emit func(*logicalLine)) {
	if d.pendRecords == 0 {
		return
	}
	d.view = append(append(d.view[:0], d.pendText...), '\n')
	d.line = logicalLine{raw: d.pendRaw, content: d.pendText, view: d.view, cut: -1, records: d.pendRecords,
		endOffset: d.pendOffset, truncated: true, standalone: true}
	emit(&d.line)
	d.resetPending()
}

// tick lets a partial record that has waited flush_after go out alone.
func (d *recordDecoder) tick(now time.Time, after time.Duration, emit func(*logicalLine)) {
	if d.pendRecords > 0 && now.Sub(d.pendSince) >= after {
		d.flush(emit)
	}
}

// emitRaw passes a line on without decoding it.
func (d *recordDecoder) emitRaw(line []byte, endOffset int64, truncated bool, emit func(*logicalLine)) {
	c := trimEOL(line)
	d.view = append(append(d.view[:0], c...), '\n')
	d.line = logicalLine{raw: line, content: c, view: d.view, cut: -1, records: 1, endOffset: endOffset,
		truncated: truncated, standalone: truncated}
	emit(&d.line)
}

// inner classifies an app line's text: a JSON record or a text line with
// an optional prefix and suffix. plain says that raw is exactly app plus
// its line ending, so a clean line's view can alias raw.
func (d *recordDecoder) inner(raw, app []byte, records int, endOffset int64, plain bool, emit func(*logicalLine)) {
	l := &d.line
	l.raw, l.records, l.endOffset = raw, records, endOffset
	l.json, l.truncated, l.standalone, l.cut = nil, false, false, -1
	c := app
	n := 0
	if d.prefix != nil {
		n = d.prefix.prefixLen(c)
		c = c[n:]
	}
	cr := len(c) > 0 && c[len(c)-1] == '\r'
	if cr {
		c = c[:len(c)-1]
	}
	if d.jsonLines && record.IsJSONObject(c) {
		v, ok := record.AppendMessageView(d.view[:0], c)
		if ok {
			d.view = append(v, '\n')
			l.content, l.view, l.json, l.standalone = c, d.view, c, true
			emit(l)
			return
		}
	}
	if d.format == fmtJSON && len(c) > 0 {
		// Not a record of a JSON source: matched as a text line, counted.
		d.stats.ParseErrors[fmtJSON]++
	}
	s := d.suffixLen(c)
	c = c[:len(c)-s]
	l.content = c
	if plain {
		l.cut = n
	}
	if plain && n == 0 && s == 0 && !cr && len(raw) == len(app)+1 {
		l.view = raw
	} else {
		d.view = append(append(d.view[:0], c...), '\n')
		l.view = d.view
	}
	emit(l)
}

// plainReady reports whether the decoder holds nothing back and reads
// text, so that whole text lines may bypass it (see Processor.runs).
func (d *recordDecoder) plainReady() bool {
	return d.format == fmtText && d.pendRecords == 0 && !d.midLine
}

// textContent is the content inner finds in a whole text line that is no
// JSON record and does not end in "\r\n": the line without its prefix,
// suffix and newline.
func (d *recordDecoder) textContent(line []byte) []byte {
	c := line[:len(line)-1]
	if d.prefix != nil {
		c = c[d.prefix.prefixLen(c):]
	}
	return c[:len(c)-d.suffixLen(c)]
}

// suffixLen is the length of the formatter suffix at the end of a text
// line's content c; indented lines (traceback frames) have none.
func (d *recordDecoder) suffixLen(c []byte) int {
	if d.suffix == nil || isIndented(c) {
		return 0
	}
	return d.suffix.suffixLen(c)
}
