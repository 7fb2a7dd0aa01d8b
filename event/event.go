// Package event defines the values that travel between logsift's stages:
// batches of raw lines from inputs, and batches of decided events for
// outputs. Both carry their bytes in one contiguous buffer so that stages
// exchange one channel send per batch, never one per line.
package event

// FileID identifies one incarnation of a file: a rotated or truncated file
// gets a new FileID even when its path stays the same.
type FileID struct {
	Dev   uint64
	Inode uint64
	// Generation increases every time the input reopens or rewinds the
	// same path (rotation, truncation), so offsets from an older
	// generation are never applied to a newer one.
	Generation uint64
}

// LineBatch is a run of consecutive lines read from one file (or stdin).
//
// Data holds the lines' original bytes back to back; Ends[i] is the index in
// Data just after line i. A line normally ends in '\n'. A line without one is
// either the final fragment of the input (stdin at EOF, one-shot file mode)
// or the leading part of a line longer than the input's split size; the
// next line then continues it.
type LineBatch struct {
	Input string // the input's configured name (metric label)
	Path  string // the file path, "-" for stdin
	File  FileID
	Data  []byte
	Ends  []int
	// EndOffset is the byte offset in the file just after the last line of
	// Data. Line i ends at EndOffset - len(Data) + Ends[i].
	EndOffset int64
	// Origin, when the input knows more about where its lines come from
	// than a path (a journal entry's fields), describes every line of the
	// batch. Nil for files and stdin.
	Origin *Origin
	// Marks, when a stage ahead of the processor filled them, say which
	// lines need the processor's full attention (see filters.Marker).
	Marks Marks
	// release returns the batch's buffers to the input that produced it.
	release func(*LineBatch)
}

// NewLineBatch returns a batch whose Release hands it to release.
func NewLineBatch(release func(*LineBatch)) *LineBatch {
	return &LineBatch{release: release}
}

// Len is the number of lines in the batch.
func (b *LineBatch) Len() int { return len(b.Ends) }

// Line returns line i's bytes (aliasing Data).
func (b *LineBatch) Line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.Ends[i-1]
	}
	return b.Data[start:b.Ends[i]]
}

// LineEndOffset is the file offset just after line i.
func (b *LineBatch) LineEndOffset(i int) int64 {
	return b.EndOffset - int64(len(b.Data)) + int64(b.Ends[i])
}

// Append adds one line (with its newline, if any).
func (b *LineBatch) Append(line []byte) {
	b.Data = append(b.Data, line...)
	b.Ends = append(b.Ends, len(b.Data))
}

// Reset empties the batch, keeping its buffers.
func (b *LineBatch) Reset() {
	b.Data = b.Data[:0]
	b.Ends = b.Ends[:0]
	b.EndOffset = 0
	b.Origin = nil
	b.Marks.Reset()
}

// Marks are facts about a batch's lines, one bit per line, found on
// another goroutine than the one that processes the batch. Key names what
// they were computed for; a processor uses them only when it is its own.
type Marks struct {
	Key any
	// Full: bit i is set when line i needs the full way through the
	// processor (it is not a plain line).
	Full []uint64
	// Body: bit i is set when line i may continue a held traceback as
	// it is (indented, whole, with no ending that changes its view).
	Body []uint64
}

// Reset forgets the marks, keeping their buffers.
func (m *Marks) Reset() {
	m.Key = nil
	m.Full = m.Full[:0]
	m.Body = m.Body[:0]
}

// Origin is what a journal entry said about its writer, kept so that an
// output to the journal can write an event under its original identity.
// An Origin is immutable once made: batches and output batches share it.
type Origin struct {
	Identifier string // SYSLOG_IDENTIFIER, or the process name
	PID        string // _PID
	Unit       string // _SYSTEMD_UNIT
	Priority   string // PRIORITY, "" when the entry had none
	// Fields are the entry's other fields that a client may set (no
	// leading underscore), as NAME, value pairs in entry order, without
	// MESSAGE, PRIORITY and SYSLOG_IDENTIFIER.
	Fields [][2]string
}

// Release tells the producer the consumer is done with the batch's bytes.
// It is safe to call on a batch made without a release function.
func (b *LineBatch) Release() {
	if b.release != nil {
		b.release(b)
	}
}

// Verdict is what the rules decided for an event.
type Verdict uint8

const (
	// Forwarded events go to outputs with `events: forwarded` or `all`.
	Forwarded Verdict = iota
	// Suppressed events go to outputs with `events: suppressed` or `all`.
	Suppressed
)

func (v Verdict) String() string {
	if v == Suppressed {
		return "suppressed"
	}
	return "forwarded"
}

// Segment is a run of consecutive events with the same verdict.
type Segment struct {
	End     int // index in OutBatch.Data just after the run
	Events  int
	Verdict Verdict
}

// Ack is the acknowledgement an OutBatch carries for one file: once every
// output has written the batch, everything in File up to Offset is safe.
type Ack struct {
	Input  string
	Path   string
	File   FileID
	Offset int64
}

// OutBatch is a run of decided events, in input order, for the outputs.
type OutBatch struct {
	Data     []byte
	Segments []Segment
	// EventEnds is the end in Data of every event, for outputs that write
	// one record per event (the journal).
	EventEnds []int
	// Origins[i], when i < len(Origins), is event i's origin (nil when
	// it has none); see OriginOf.
	Origins []*Origin
	// Input is the configured input whose events the batch holds (each
	// processor fills its own batches); Paths say which file each event
	// came from, as runs: see PathOf.
	Input string
	Paths []PathRun
	Acks  []Ack
}

// Add appends one event's bytes with its verdict, merging it into the
// previous segment when the verdict is the same.
func (b *OutBatch) Add(raw []byte, v Verdict) {
	b.Data = append(b.Data, raw...)
	b.EventEnds = append(b.EventEnds, len(b.Data))
	if n := len(b.Segments); n > 0 && b.Segments[n-1].Verdict == v {
		b.Segments[n-1].End = len(b.Data)
		b.Segments[n-1].Events++
		return
	}
	b.Segments = append(b.Segments, Segment{End: len(b.Data), Events: 1, Verdict: v})
}

// AddLines appends a run of one-line events with one verdict: the bytes
// data[from:ends[len(ends)-1]], where ends are the events' ends in data.
// It is Add for each line without a call per line.
func (b *OutBatch) AddLines(data []byte, from int, ends []int, v Verdict) {
	if len(ends) == 0 {
		return
	}
	shift := len(b.Data) - from
	b.Data = append(b.Data, data[from:ends[len(ends)-1]]...)
	for _, e := range ends {
		b.EventEnds = append(b.EventEnds, e+shift)
	}
	if n := len(b.Segments); n > 0 && b.Segments[n-1].Verdict == v {
		b.Segments[n-1].End = len(b.Data)
		b.Segments[n-1].Events += len(ends)
		return
	}
	b.Segments = append(b.Segments, Segment{End: len(b.Data), Events: len(ends), Verdict: v})
}

// PathRun says that the events from First on (up to the next run) came
// from Path.
type PathRun struct {
	First int
	Path  string
}

// NotePath records that the events added next come from path. It costs
// nothing while the path stays the same.
func (b *OutBatch) NotePath(path string) {
	if n := len(b.Paths); n > 0 && b.Paths[n-1].Path == path {
		return
	}
	b.Paths = append(b.Paths, PathRun{First: len(b.EventEnds), Path: path})
}

// PathOf is the path event i came from ("" when none was noted). run is
// a hint, the index of the run of an earlier event; it returns the run
// of event i for the next call.
func (b *OutBatch) PathOf(i, run int) (string, int) {
	if run < 0 || run >= len(b.Paths) || b.Paths[run].First > i {
		run = 0
	}
	for run+1 < len(b.Paths) && b.Paths[run+1].First <= i {
		run++
	}
	if run >= len(b.Paths) || b.Paths[run].First > i {
		return "", run
	}
	return b.Paths[run].Path, run
}

// AddFrom is Add for an event whose lines came with an origin.
func (b *OutBatch) AddFrom(raw []byte, v Verdict, o *Origin) {
	if o != nil {
		for len(b.Origins) < len(b.EventEnds) {
			b.Origins = append(b.Origins, nil)
		}
		b.Origins = append(b.Origins, o)
	}
	b.Add(raw, v)
}

// OriginOf is event i's origin, nil when it has none.
func (b *OutBatch) OriginOf(i int) *Origin {
	if i < len(b.Origins) {
		return b.Origins[i]
	}
	return nil
}

// Acknowledge records that the batch contains everything of a.File up to
// a.Offset. Acknowledgements are kept per file, not per path: when a path
// moves to a new file within one batch, the old file's final offset must
// reach the positions as well as the new file's first.
func (b *OutBatch) Acknowledge(a Ack) {
	for i := range b.Acks {
		if b.Acks[i].File == a.File && b.Acks[i].Path == a.Path && b.Acks[i].Input == a.Input {
			b.Acks[i] = a
			return
		}
	}
	b.Acks = append(b.Acks, a)
}

// Each calls fn for every segment with its bytes.
func (b *OutBatch) Each(fn func(data []byte, s Segment)) {
	start := 0
	for _, s := range b.Segments {
		fn(b.Data[start:s.End], s)
		start = s.End
	}
}

// Reset empties the batch, keeping its buffers.
func (b *OutBatch) Reset() {
	b.Data = b.Data[:0]
	b.Segments = b.Segments[:0]
	b.EventEnds = b.EventEnds[:0]
	clear(b.Origins) // let the garbage collector have origins no stream uses any more
	b.Origins = b.Origins[:0]
	b.Paths = b.Paths[:0]
	b.Input = ""
	b.Acks = b.Acks[:0]
}

// Empty reports whether the batch carries neither bytes nor acknowledgements.
func (b *OutBatch) Empty() bool { return len(b.Segments) == 0 && len(b.Acks) == 0 }
