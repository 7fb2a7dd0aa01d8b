package inputs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/logsift/logsift/event"
)

// Cursors keeps journal inputs' positions (positions.Store does).
type Cursors interface {
	JournalCursor(input string) (string, bool)
	SetJournalCursor(input, cursor string)
}

// JournalConfig configures a journal input.
type JournalConfig struct {
	Input string
	// Select are the journalctl arguments choosing the journal and its
	// entries (rules.Journal.JournalctlArgs).
	Select []string
	// Command is the journalctl to run; "journalctl" from PATH when empty.
	Command string
	// StartAt is where reading starts without a saved cursor: "end" (new
	// entries only) or "beginning".
	StartAt      string
	Once         bool // read what is there and end, instead of following
	MaxLineBytes int
	// Cursors, when set, supplies the saved cursor and receives the
	// cursor of every entry acknowledged.
	Cursors Cursors
	// OnTruncated hears of a MESSAGE cut at its size bound.
	OnTruncated func(dropped int)
}

// JournalSource reads the systemd journal by following `journalctl -o
// export`: the export format is byte-exact (binary field values come with
// their length), journalctl handles every journal file version, rotation
// and vacuuming, and running it needs no cgo, so logsift stays a static
// binary. Each entry's MESSAGE plus a newline is one line of the stream
// of its writer: the unit, identifier and PID, since journald stores a
// service's output one line per entry and a traceback must be assembled
// from that writer's lines only.
//
// The position is the journal cursor of the newest entry that every
// output has written, and of every entry before it; a restart continues
// after it.
type JournalSource struct {
	cfg   JournalConfig
	log   *slog.Logger
	pool  *batchPool
	ready chan struct{}
	once  sync.Once
	pid   string // logsift's own, whose entries are never read back

	streams map[streamKey]*journalStream
	swept   time.Time // when idle streams were last dropped
	nextID  uint64    // the FileID of the next new stream
	read    string    // cursor of the last entry read

	mu      sync.Mutex
	byPath  map[string]*journalStream
	pending []pendingEntry // entries read, oldest first; those before head are acknowledged
	head    int
}

// streamKey names a writer: its unit, identifier and PID.
type streamKey struct{ unit, ident, pid string }

// journalStream is the lines of one writer.
type journalStream struct {
	path   string // "UNIT/IDENTIFIER[PID]": the source name the processor sees
	w      *batcher
	origin *event.Origin
	seen   time.Time // its last entry
	acked  int64     // guarded by JournalSource.mu
}

// StreamIdle is how long a writer's stream is kept after its last entry
// once everything of it is written: every PID is a stream, and services
// that run often (timers, cron jobs) would otherwise add one each run.
const StreamIdle = 10 * time.Minute

type pendingEntry struct {
	st     *journalStream // nil for an entry without a message
	end    int64          // the stream's offset after the entry's line
	cursor string
}

// NewJournal returns a journal input.
func NewJournal(cfg JournalConfig, logger *slog.Logger) *JournalSource {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Command == "" {
		cfg.Command = "journalctl"
	}
	return &JournalSource{
		cfg:     cfg,
		log:     logger,
		pool:    newBatchPool(),
		ready:   make(chan struct{}),
		pid:     fmt.Sprint(os.Getpid()),
		streams: make(map[streamKey]*journalStream),
		byPath:  make(map[string]*journalStream),
	}
}

// Ready is closed once journalctl runs.
func (s *JournalSource) Ready() <-chan struct{} { return s.ready }

// args is journalctl's command line, starting after the last entry read
// (a restart of journalctl), else after the saved cursor, else at StartAt.
func (s *JournalSource) args() []string {
	args := []string{"--output=export", "--quiet", "--no-pager"}
	if !s.cfg.Once {
		args = append(args, "--follow")
	}
	cursor := s.read
	if cursor == "" && s.cfg.Cursors != nil {
		cursor, _ = s.cfg.Cursors.JournalCursor(s.cfg.Input)
	}
	switch {
	case cursor != "":
		args = append(args, "--after-cursor="+cursor)
	case s.cfg.StartAt == StartAtBeginning:
		if !s.cfg.Once {
			args = append(args, "--no-tail")
		}
	default:
		args = append(args, "--lines=0")
	}
	return append(args, s.cfg.Select...)
}

// Run follows the journal until ctx is done (or, with Once, until the
// entries there are read). A journalctl that exits on its own is started
// again, after the last entry read, with a growing delay.
func (s *JournalSource) Run(ctx context.Context, out chan<- *event.LineBatch) error {
	delay := time.Second
	for {
		started := time.Now()
		err := s.runOnce(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && s.cfg.Once {
			return nil
		}
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return fmt.Errorf("cannot run journalctl (the journald input reads the journal through it; install systemd): %w", err)
		}
		if time.Since(started) > time.Minute {
			delay = time.Second
		}
		s.log.Warn("journalctl stopped; starting it again after the last entry read", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// runOnce runs one journalctl to its end.
func (s *JournalSource) runOnce(ctx context.Context, out chan<- *event.LineBatch) error {
	args := s.args()
	cmd := exec.CommandContext(ctx, s.cfg.Command, args...)
	// A terminated journalctl exits at once; what it printed before is
	// still read.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.log.Debug("journalctl started", "args", args)
	s.once.Do(func() { close(s.ready) })
	var errText string
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		errText = s.relayStderr(stderr)
	}()
	rerr := s.pump(ctx, stdout, out)
	if rerr != nil {
		// Stop a journalctl whose output cannot be used any more.
		cmd.Process.Signal(syscall.SIGTERM)
	}
	io.Copy(io.Discard, stdout)
	<-logged
	werr := cmd.Wait()
	switch {
	case rerr != nil:
		return rerr
	case werr != nil && errText != "":
		return fmt.Errorf("journalctl: %w: %s", werr, errText)
	case werr != nil:
		return fmt.Errorf("journalctl: %w", werr)
	case !s.cfg.Once:
		return errors.New("journalctl exited")
	}
	return nil
}

// relayStderr logs what journalctl says and returns its last line.
func (s *JournalSource) relayStderr(r io.Reader) string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	last := ""
	for sc.Scan() {
		last = sc.Text()
		s.log.Warn("journalctl: " + last)
	}
	return last
}

// pump reads entries and sends their lines, a batch per run of entries of
// one stream, as soon as no more input is at hand.
func (s *JournalSource) pump(ctx context.Context, r io.Reader, out chan<- *event.LineBatch) error {
	x := newExportReader(r)
	var cur *journalStream
	flush := func() bool {
		if cur == nil {
			return true
		}
		b := cur.w.take()
		if b == nil {
			return true
		}
		b.Origin = cur.origin
		return send(ctx, out, b)
	}
	for {
		e, err := x.next()
		if err != nil {
			if !flush() {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		s.read = e.cursor
		if !e.hasMessage || e.forwarded || (e.pid == s.pid && e.comm == "logsift") {
			// Nothing to filter, or logsift's own lines: the entry
			// is done as soon as those before it are.
			s.note(nil, 0, e.cursor)
			if !x.buffered() && !flush() {
				return ctx.Err()
			}
			continue
		}
		st, origin := s.stream(e)
		if st != cur || origin != st.origin {
			if !flush() {
				return ctx.Err()
			}
			cur = st
			st.origin = origin
		}
		if e.cut > 0 && s.cfg.OnTruncated != nil {
			s.cfg.OnTruncated(e.cut)
		}
		line := e.message
		if len(line) == 0 || line[len(line)-1] != '\n' {
			line = append(line, '\n')
			e.message = line // keep the grown buffer
		}
		for rest := st.w.write(line); rest != nil; rest = st.w.write(rest) {
			if !flush() {
				return ctx.Err()
			}
		}
		s.note(st, st.w.offset(), e.cursor)
		if st.w.full() || !x.buffered() {
			if !flush() {
				return ctx.Err()
			}
		}
	}
}

// stream returns the stream of e's writer, and e's origin: the stream's
// current one when e's fields are the same.
func (s *JournalSource) stream(e *journalEntry) (*journalStream, *event.Origin) {
	ident := e.ident
	if ident == "" {
		ident = e.comm
	}
	key := streamKey{e.unit, ident, e.pid}
	st := s.streams[key]
	if st == nil {
		s.sweep()
		s.nextID++
		path := e.unit + "/" + ident + "[" + e.pid + "]"
		st = &journalStream{path: path}
		st.w = newBatcher(s.pool, s.cfg.Input, path, s.cfg.MaxLineBytes, nil)
		st.w.reset(event.FileID{Inode: s.nextID}, 0)
		s.streams[key] = st
		s.mu.Lock()
		s.byPath[path] = st
		s.mu.Unlock()
	}
	st.seen = time.Now()
	if o := st.origin; o != nil && o.Priority == e.priority && slices.Equal(o.Fields, e.fields) {
		return st, o
	}
	return st, &event.Origin{Identifier: ident, PID: e.pid, Unit: e.unit, Priority: e.priority, Fields: slices.Clone(e.fields)}
}

// sweep drops, at most once a minute, the streams idle for StreamIdle
// whose every line is written. A writer that comes back gets a new stream.
func (s *JournalSource) sweep() {
	now := time.Now()
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, st := range s.streams {
		if now.Sub(st.seen) >= StreamIdle && st.acked >= st.w.offset() {
			delete(s.streams, key)
			delete(s.byPath, st.path)
		}
	}
}

// note queues an entry read, to be acknowledged once its stream has been
// written up to end.
func (s *JournalSource) note(st *journalStream, end int64, cursor string) {
	s.mu.Lock()
	s.pending = append(s.pending, pendingEntry{st: st, end: end, cursor: cursor})
	if st == nil {
		s.advanceLocked()
	}
	s.mu.Unlock()
}

// Acknowledge records that every output has written the stream a.Path up
// to a.Offset; the saved cursor moves to the newest entry before which
// everything is written.
func (s *JournalSource) Acknowledge(a event.Ack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.byPath[a.Path]; st != nil && a.Offset > st.acked {
		st.acked = a.Offset
	}
	s.advanceLocked()
}

func (s *JournalSource) advanceLocked() {
	i := s.head
	for i < len(s.pending) {
		p := s.pending[i]
		if p.st != nil && p.end > p.st.acked {
			break
		}
		i++
	}
	if i == s.head {
		return
	}
	cursor := s.pending[i-1].cursor
	s.head = i
	if s.head == len(s.pending) {
		clear(s.pending)
		s.pending, s.head = s.pending[:0], 0
	} else if s.head >= 1024 && 2*s.head >= len(s.pending) {
		n := copy(s.pending, s.pending[s.head:])
		clear(s.pending[n:])
		s.pending, s.head = s.pending[:n], 0
	}
	if s.cfg.Cursors != nil && cursor != "" {
		s.cfg.Cursors.SetJournalCursor(s.cfg.Input, cursor)
	}
}
