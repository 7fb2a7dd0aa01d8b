package inputs

import (
	"compress/gzip"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/logsift/logsift/positions"
)

// headBytes is how much of a file's start a stream keeps to recognise the
// file's content elsewhere: in a copy (copytruncate), compressed, or after
// its inode was reused. It is the saved positions' fingerprint length.
const headBytes = positions.FingerprintBytes

// pollEvery is how often a stream looks at its files when it cannot rely on
// change notifications: in polling mode, and while a rotated file is
// waited on to go quiet.
const pollEvery = 250 * time.Millisecond

// DefaultRotateWait is how long a rotated file is kept open after its last
// write, for a writer that has not reopened its log yet.
const DefaultRotateWait = 5 * time.Second

// stream reads one family (see family.go) as one ordered stream of lines.
// It holds at most one file it reads (cur) plus rotated files kept open for
// late writers (linger); every batch carries the live path as its Path and
// the file's own device, inode and a generation that grows with every file
// (or restart of a file) the stream reads.
type stream struct {
	run  *followRun
	live string
	log  *slog.Logger

	wake    chan struct{} // one pending wake-up at most
	planned chan struct{} // closed once the start position is decided
	watch   *pathWatch
	initial bool // found by the first scan (start_at applies)

	gen    uint64 // the next file's generation
	queue  []queued
	cur    *openFile
	linger []*openFile
	// done holds the files read to their end (or retired) in this run, by
	// identity, with their first bytes; last is the most recent one,
	// from which the next file in rotation order is found.
	done map[fileKey]doneFile
	last *doneFile
	// copyChecked is when catchCopy last listed the family; copyCheckDue
	// is set when a check was put off.
	copyChecked  time.Time
	copyCheckDue bool
	// stepSize and stepMod are the live file's size and modification time
	// at the previous step, to tell a change from a spurious wake-up.
	stepSize int64
	stepMod  time.Time

	mu       sync.Mutex
	orphaned bool // the live path is no longer matched by the input's globs
	seenKey  fileKey
	seenSize int64
}

// queued is a file the stream reads before going on in rotation order:
// catch-up after a start, a stall or a double rotation.
type queued struct {
	m       member
	offset  int64
	catchUp bool
}

type doneFile struct {
	key    fileKey
	head   []byte
	size   int64 // the offset read to
	opened time.Time
}

// openFile is a file the stream reads.
type openFile struct {
	path    string // its name when opened
	fd      *os.File
	gz      *gzip.Reader // for a compressed member: read sequentially
	gzPos   int64
	key     fileKey
	w       *batcher
	head    []byte
	rotated bool // no longer the file at the live path
	copied  bool // a copy made by copytruncate: nobody writes to it
	catchUp bool // read as catch-up (counted)
	read    int64
	opened  time.Time
	begun   time.Time // when reading its current content began (open, truncation)
}

func newStream(r *followRun, live string, initial bool) *stream {
	return &stream{
		run:     r,
		live:    live,
		log:     r.src.log.With("path", live),
		wake:    make(chan struct{}, 1),
		planned: make(chan struct{}),
		initial: initial,
		done:    map[fileKey]doneFile{},
	}
}

func (s *stream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *stream) setOrphaned(v bool) {
	s.mu.Lock()
	s.orphaned = v
	s.mu.Unlock()
	if v {
		s.poke()
	}
}

// stale reports whether a rescan saw the live file differ from what the
// stream last saw: a safety net for a change notification that never came.
func (s *stream) stale(k fileKey, size int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return k != s.seenKey || size != s.seenSize
}

func (s *stream) sawLive(k fileKey, size int64) {
	s.mu.Lock()
	s.seenKey, s.seenSize = k, size
	s.mu.Unlock()
}

func (s *stream) main() {
	ctx := s.run.ctx
	defer func() {
		s.closeAll()
		if s.watch != nil {
			s.watch.close()
		}
		s.run.exited <- s
	}()
	poll := s.run.poll
	if !poll {
		w, err := watchPath(s.live, s.wake)
		if err != nil {
			s.log.Debug("cannot watch the file's directory, polling it", "err", err)
			poll = true
		} else {
			s.watch = w
		}
	}
	s.plan()
	close(s.planned)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var lost <-chan struct{}
	if s.watch != nil {
		lost = s.watch.lost
	}
	for {
		pending, ok := s.step()
		if !ok {
			return
		}
		if s.finishedOrphan() {
			return
		}
		var tick <-chan time.Time
		if poll || pending {
			timer.Reset(pollEvery)
			tick = timer.C
		}
		select {
		case <-s.wake:
		case <-tick:
		case <-lost:
			// Another watch of the same path was removed, and the
			// library closed the events shared with it: watch again.
			s.watch, lost = nil, nil
			if w, err := watchPath(s.live, s.wake); err == nil {
				s.watch, lost = w, w.lost
			} else {
				s.log.Debug("change notifications for the file ended, polling it", "err", err)
				poll = true
			}
		case <-ctx.Done():
			return
		}
		timer.Stop()
	}
}

// finishedOrphan reports whether the stream has nothing left to do for a
// live path its input no longer matches.
func (s *stream) finishedOrphan() bool {
	s.mu.Lock()
	orphaned := s.orphaned
	s.mu.Unlock()
	if !orphaned || s.cur != nil || len(s.linger) > 0 || len(s.queue) > 0 {
		return false
	}
	_, err := os.Stat(s.live)
	return err != nil
}

// step reads whatever the family's files hold now, moving through
// rotations, and reports whether it waits on something that needs polling
// (a rotated file that may still be written). ok is false when ctx ended.
func (s *stream) step() (pending, ok bool) {
	rotateWait := s.run.src.cfg.RotateWait
	lingering := s.linger
	s.linger = nil
	for i, l := range lingering {
		if _, res := s.pump(l); res == pumpCanceled {
			s.linger = append(s.linger, lingering[i:]...)
			return false, false
		}
		if quietFor(l.fd) < rotateWait {
			s.linger = append(s.linger, l)
		} else if !s.finish(l) {
			return false, false
		}
	}

	for {
		if s.cur == nil {
			s.cur = s.next()
			if s.cur == nil {
				return len(s.linger) > 0, true
			}
		}
		c := s.cur
		n, res := s.pump(c)
		switch res {
		case pumpCanceled:
			return false, false
		case pumpTruncated:
			if !s.truncated(c) {
				return false, false
			}
			continue
		}
		if c.gz != nil {
			s.cur = nil
			if !s.retire(c, true) {
				return false, false
			}
			continue
		}
		live, err := os.Stat(s.live)
		if !c.rotated {
			if err == nil && keyOf(live) == c.key {
				s.sawLive(c.key, live.Size())
				if live.Size() < c.w.offset() || s.headChanged(c) {
					if !s.truncated(c) {
						return false, false
					}
					continue
				}
				changed := live.Size() != s.stepSize || !live.ModTime().Equal(s.stepMod)
				s.stepSize, s.stepMod = live.Size(), live.ModTime()
				if n == 0 && (changed || s.copyCheckDue) {
					// A change without new data: possibly copytruncate
					// copying and emptying the file before its new lines
					// were read; the copy holds them.
					ok, later := s.catchCopy(c)
					if !ok {
						return false, false
					}
					s.copyCheckDue = later
					return later || len(s.linger) > 0, true
				}
				return len(s.linger) > 0, true
			}
			c.rotated = true
			s.log.Info("file rotated, reading it to its end before the next one", "offset", c.w.offset())
			s.refingerprint(c)
		}
		// A rotated file is done once its writer has moved on — a newer
		// file holds data, so whatever the writer wrote before is in the
		// old file now — or once it has been quiet for rotate_wait.
		if c.copied || s.movedOn(c, live, err) {
			if _, res := s.pump(c); res == pumpCanceled {
				return false, false
			}
			s.cur = nil
			if !s.retire(c, c.copied) {
				return false, false
			}
			continue
		}
		if quietFor(c.fd) >= rotateWait {
			s.cur = nil
			if !s.retire(c, true) {
				return false, false
			}
			continue
		}
		return true, true
	}
}

// movedOn reports whether a file newer than the rotated file c holds data:
// the live file (live, statErr are its stat), or a rotated one after c.
func (s *stream) movedOn(c *openFile, live os.FileInfo, statErr error) bool {
	if statErr == nil && keyOf(live) != c.key && live.Size() > 0 {
		return true
	}
	ms := listFamily(s.live, s.run.src.cfg.Rotated)
	after := false
	for _, m := range ms {
		switch {
		case m.key == c.key && !m.gz:
			after = true
		case after && !m.live && m.size > 0:
			return true
		}
	}
	return false
}

// quietFor is how long ago f was last modified.
func quietFor(f *os.File) time.Duration {
	fi, err := f.Stat()
	if err != nil {
		return time.Hour
	}
	return time.Since(fi.ModTime())
}

// retire ends reading f in order: the next file in the family comes next.
// A file written to recently is kept open (lingers) until it has been
// quiet for rotate_wait, in case a writer still appends to it; final
// finishes it at once.
func (s *stream) retire(f *openFile, final bool) bool {
	d := doneFile{key: f.key, head: f.head, size: f.w.offset(), opened: f.opened}
	s.done[f.key] = d
	s.last = &d
	if final || f.gz != nil || quietFor(f.fd) >= s.run.src.cfg.RotateWait {
		return s.finish(f)
	}
	s.linger = append(s.linger, f)
	return true
}

// finish delivers an unfinished last line of f as a fragment, and closes f.
func (s *stream) finish(f *openFile) bool {
	f.w.finish()
	ok := s.flush(f)
	if f.catchUp && s.run.src.cfg.OnCaughtUp != nil {
		s.run.src.cfg.OnCaughtUp(f.path, f.read)
	}
	s.closeFile(f)
	return ok
}

func (s *stream) closeFile(f *openFile) {
	s.run.unclaim(f.key, s, f.w.offset(), f.head)
	f.close()
}

func (f *openFile) close() {
	if f.fd != nil {
		f.fd.Close()
		f.fd = nil
	}
	if b := f.w.b; b != nil {
		f.w.b = nil
		b.Release()
	}
}

func (s *stream) closeAll() {
	for _, l := range s.linger {
		s.closeFile(l)
	}
	s.linger = nil
	if s.cur != nil {
		s.closeFile(s.cur)
		s.cur = nil
	}
}
