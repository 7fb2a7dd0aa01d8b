// Package replay runs log files through a rule set offline (`logsift
// replay`) and reports what the rules would suppress: per-rule counts, the
// share of lines and bytes removed, and sample events.
//
// Files are streamed in bounded memory, plain or gzip-compressed (detected
// by content, not by name). Each file is its own source, as a file input
// would be: events and pairs never span two files. Replay has no arrival
// times, so a pair's max_wait never runs out; `within` still applies.
package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/filters"
	"github.com/logsift/logsift/inputs"
	"github.com/logsift/logsift/rules"
)

// Show selects the events written while replaying.
type Show uint8

const (
	// ShowNone writes no events, only the report.
	ShowNone Show = iota
	// ShowSuppressed writes every event the rules suppress.
	ShowSuppressed
	// ShowForwarded writes every event the rules let through.
	ShowForwarded
)

// ParseShow parses the -show flag: none, suppressed or forwarded.
func ParseShow(s string) (Show, error) {
	switch s {
	case "none", "":
		return ShowNone, nil
	case "suppressed":
		return ShowSuppressed, nil
	case "forwarded":
		return ShowForwarded, nil
	}
	return 0, fmt.Errorf("invalid -show %q (want none, suppressed or forwarded)", s)
}

// String returns the flag spelling.
func (s Show) String() string {
	switch s {
	case ShowSuppressed:
		return "suppressed"
	case ShowForwarded:
		return "forwarded"
	}
	return "none"
}

func (s Show) selects(v event.Verdict) bool {
	switch s {
	case ShowSuppressed:
		return v == event.Suppressed
	case ShowForwarded:
		return v == event.Forwarded
	}
	return false
}

// DefaultSamples is how many sample events per rule a report keeps unless
// told otherwise.
const DefaultSamples = 3

// MaxSampleBytes caps the text kept of one sample event; longer events are
// cut and marked Truncated.
const MaxSampleBytes = 16 << 10

// Options configure a replay.
type Options struct {
	// Input supplies the prefix and multiline settings.
	Input rules.Input
	// Rules are applied in order, as in the daemon.
	Rules []*rules.Rule
	// Samples is the number of suppressed events kept per rule (0: none).
	Samples int
	// Show selects the events written to Events while replaying.
	Show   Show
	Events io.Writer
	// Read, if set, is increased by every byte read from disk (compressed
	// bytes for gzip files), for progress reports. It is updated with
	// atomic operations.
	Read *atomic.Int64
}

// Report is the outcome of a replay. Its JSON form is what `logsift
// replay -json` prints.
type Report struct {
	Files  []FileReport `json:"files"`
	Lines  uint64       `json:"lines"`  // lines read
	Bytes  uint64       `json:"bytes"`  // bytes read, uncompressed
	Events uint64       `json:"events"` // events assembled
	// EventsSuppressed counts the suppressed events that matched a rule;
	// LinesSuppressed and BytesSuppressed include dropped pair partners.
	EventsSuppressed       uint64       `json:"events_suppressed"`
	LinesSuppressed        uint64       `json:"lines_suppressed"`
	BytesSuppressed        uint64       `json:"bytes_suppressed"`
	LinesSuppressedPercent float64      `json:"lines_suppressed_percent"`
	BytesSuppressedPercent float64      `json:"bytes_suppressed_percent"`
	Truncated              uint64       `json:"events_truncated"` // events cut by multiline max_lines/max_bytes
	Rules                  []RuleReport `json:"rules"`
}

// FileReport describes one replayed file.
type FileReport struct {
	Path       string `json:"path"`
	Compressed bool   `json:"compressed"`
	DiskBytes  int64  `json:"disk_bytes"` // bytes read from disk
	Lines      uint64 `json:"lines"`
	Bytes      uint64 `json:"bytes"` // uncompressed
}

// RuleReport holds one rule's counts, in rule order.
type RuleReport struct {
	Name string `json:"name"`
	Pack string `json:"pack,omitempty"` // "" for the configuration's own rules
	// Events are the matched events suppressed; Lines and Bytes those of
	// every event removed for the rule, pair partners included.
	Events   uint64   `json:"events"`
	Lines    uint64   `json:"lines"`
	Bytes    uint64   `json:"bytes"`
	Matched  uint64   `json:"matched"`  // every matched event, whatever came of it
	Sampled  uint64   `json:"sampled"`  // matched but let through by sample
	Unpaired uint64   `json:"unpaired"` // matched but forwarded for want of a partner
	Samples  []Sample `json:"samples"`
}

// Sample is one suppressed event shown as an example of a rule.
type Sample struct {
	Path      string `json:"path"`
	Line      uint64 `json:"line"` // line number of the event's first line in its file
	Lines     int    `json:"lines"`
	Text      string `json:"text"`
	Truncated bool   `json:"truncated,omitempty"`
}

// replayTime stamps every line: replay has no arrival times.
var replayTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Run replays the files at paths, in order, and returns the report. It
// stops at the first file that cannot be read or decompressed, or when ctx
// ends, returning the error.
func Run(ctx context.Context, paths []string, opts Options) (*Report, error) {
	r := &runner{
		opts:   opts,
		proc:   filters.NewProcessor(opts.Input, opts.Rules),
		report: &Report{Files: []FileReport{}, Rules: make([]RuleReport, len(opts.Rules))},
		index:  make(map[string]int, len(opts.Rules)),
	}
	for i, rule := range opts.Rules {
		r.report.Rules[i] = RuleReport{Name: rule.Name, Pack: rule.Pack, Samples: []Sample{}}
		r.index[rule.Name] = i
	}
	if opts.Show != ShowNone && opts.Events != nil {
		r.events = bufio.NewWriterSize(opts.Events, 256<<10)
	}
	r.proc.SetTrace(r.trace)
	for _, path := range paths {
		if err := r.file(ctx, path); err != nil {
			return nil, err
		}
	}
	if r.events != nil {
		if err := r.events.Flush(); err != nil {
			return nil, fmt.Errorf("replay: write events: %w", err)
		}
	}
	r.finish()
	return r.report, nil
}

type runner struct {
	opts   Options
	proc   *filters.Processor
	report *Report
	index  map[string]int
	events *bufio.Writer
	out    event.OutBatch

	// The file being replayed, for samples.
	cur  *FileReport
	line uint64 // lines of cur released so far
}

// file replays one file as its own source.
func (r *runner) file(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	r.report.Files = append(r.report.Files, FileReport{Path: path})
	r.cur = &r.report.Files[len(r.report.Files)-1]
	r.line = 0

	counted := &countingReader{r: f, total: r.opts.Read}
	defer func() { r.cur.DiskBytes = counted.n.Load() }()
	br := bufio.NewReaderSize(counted, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("replay: %s: %w", path, err)
		}
		defer gz.Close()
		src = gz
		r.cur.Compressed = true
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *event.LineBatch, 4)
	readErr := make(chan error, 1)
	reader := inputs.NewReader(r.opts.Input.Name, path, src, inputs.ReaderOptions{MaxLineBytes: r.opts.Input.Multiline.MaxBytes})
	go func() {
		readErr <- reader.Run(ctx, batches)
		close(batches)
	}()

	var writeErr error
	for b := range batches {
		if writeErr == nil {
			r.proc.Process(b, &r.out, replayTime)
			writeErr = r.drain()
			if writeErr != nil {
				cancel()
			}
		}
		b.Release()
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if writeErr != nil {
		return writeErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replay: interrupted in %s: %w", path, err)
	}
	r.proc.Finish(path, &r.out)
	return r.drain()
}

// drain writes the selected events of the output batch and empties it.
func (r *runner) drain() error {
	var err error
	if r.events != nil {
		r.out.Each(func(data []byte, s event.Segment) {
			if err == nil && r.opts.Show.selects(s.Verdict) {
				if _, werr := r.events.Write(data); werr != nil {
					err = fmt.Errorf("replay: write events: %w", werr)
				}
			}
		})
	}
	r.out.Reset()
	return err
}

// trace accounts for every released event, in input order.
func (r *runner) trace(d filters.Decision) {
	start := r.line + 1
	r.line += uint64(d.Lines)
	r.cur.Lines += uint64(d.Lines)
	r.cur.Bytes += uint64(len(d.Raw))
	if d.Verdict != event.Suppressed {
		return
	}
	i, ok := r.index[d.Rule]
	if !ok {
		return
	}
	rr := &r.report.Rules[i]
	rr.Lines += uint64(d.Lines)
	rr.Bytes += uint64(len(d.Raw))
	if d.Partner {
		return
	}
	rr.Events++
	if len(rr.Samples) < r.opts.Samples {
		text := d.Raw
		truncated := len(text) > MaxSampleBytes
		if truncated {
			text = text[:MaxSampleBytes]
		}
		rr.Samples = append(rr.Samples, Sample{
			Path: r.cur.Path, Line: start, Lines: d.Lines, Text: string(text), Truncated: truncated,
		})
	}
}

// finish fills in the totals from the processor's counts.
func (r *runner) finish() {
	st := r.proc.Stats()
	rep := r.report
	rep.Lines, rep.Bytes, rep.Events, rep.Truncated = st.Lines, st.Bytes, st.Events, st.Truncated
	for i, rs := range st.Rules {
		rr := &rep.Rules[i]
		rr.Matched, rr.Sampled, rr.Unpaired = rs.Matched, rs.Sampled, rs.Unpaired
		rep.EventsSuppressed += rr.Events
		rep.LinesSuppressed += rr.Lines
		rep.BytesSuppressed += rr.Bytes
	}
	rep.LinesSuppressedPercent = percent(rep.LinesSuppressed, rep.Lines)
	rep.BytesSuppressedPercent = percent(rep.BytesSuppressed, rep.Bytes)
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}

// countingReader counts the bytes read from a file. It is read from the
// input's reading goroutine, hence the atomic counters.
type countingReader struct {
	r     io.Reader
	n     atomic.Int64
	total *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.total != nil {
		c.total.Add(int64(n))
	}
	return n, err
}
