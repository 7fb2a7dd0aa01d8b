package inputs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/logsift/logsift/event"
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

type pumpResult int

const (
	pumpEOF pumpResult = iota
	pumpCanceled
	pumpTruncated // f is the live file and its content was replaced from the start
)

// pump reads f from the offset handed on to its end, sending full batches
// on the way, and the complete lines at the end. For the live file it
// stops before reading content that replaced what it was reading
// (truncation, copytruncate), looking again after every send that had to
// wait, since that is when the file can change under it unseen.
func (s *stream) pump(f *openFile) (int64, pumpResult) {
	bp := s.run.bufs.Get().(*[]byte)
	defer s.run.bufs.Put(bp)
	buf := *bp
	var total int64
	check := !f.rotated && f.gz == nil
	for {
		if check && s.contentChanged(f) {
			return total, pumpTruncated
		}
		check = false
		off := f.w.offset()
		n, err := f.readAt(buf, off)
		data := buf[:n]
		if off == int64(len(f.head)) && len(f.head) < headBytes {
			// The start is kept from the bytes read, not read again:
			// the file may have been replaced by the time it is looked at.
			f.head = append(f.head, data[:min(len(data), headBytes-len(f.head))]...)
		}
		for len(data) > 0 {
			data = f.w.write(data)
			if len(data) > 0 {
				sent, blocked := s.send(f)
				if !sent {
					return total, pumpCanceled
				}
				check = blocked && !f.rotated && f.gz == nil
			}
		}
		total += int64(n)
		f.read += int64(n)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("reading the file failed", "file", f.path, "err", err)
			}
			break
		}
		if n < len(buf) && f.gz == nil {
			break
		}
	}
	if sent, _ := s.send(f); !sent {
		return total, pumpCanceled
	}
	return total, pumpEOF
}

func (f *openFile) readAt(buf []byte, off int64) (int, error) {
	if f.gz == nil {
		return f.fd.ReadAt(buf, off)
	}
	if off > f.gzPos {
		n, err := io.CopyN(io.Discard, f.gz, off-f.gzPos)
		f.gzPos += n
		if err != nil {
			return 0, err
		}
	}
	n, err := io.ReadFull(f.gz, buf)
	f.gzPos += int64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// contentChanged reports whether the live file f no longer holds what was
// read from it: it is shorter than the offset read, or starts with other
// bytes than it did.
func (s *stream) contentChanged(f *openFile) bool {
	fi, err := f.fd.Stat()
	if err != nil {
		return false
	}
	return fi.Size() < f.w.offset() || s.headChanged(f)
}

func (s *stream) headChanged(f *openFile) bool {
	if len(f.head) == 0 || f.gz != nil {
		return false
	}
	now := make([]byte, len(f.head))
	n, _ := f.fd.ReadAt(now, 0)
	return !bytes.Equal(now[:n], f.head)
}

// updateHead reads f's first bytes, up to headBytes, as far as it was
// read, for a file opened at an offset.
func (s *stream) updateHead(f *openFile) {
	if f.gz != nil || f.fd == nil || len(f.head) == headBytes || f.w.offset() <= int64(len(f.head)) {
		return
	}
	head := make([]byte, min(f.w.offset(), headBytes))
	n, _ := f.fd.ReadAt(head, 0)
	f.head = head[:n]
}

// send hands f's complete lines on. blocked reports that the consumer
// was not ready at once (the output is slow or stalled).
func (s *stream) send(f *openFile) (sent, blocked bool) {
	b := f.w.take()
	if b == nil {
		return true, false
	}
	if s.run.ctx.Err() != nil {
		// Stopping: what was not handed on is read again by whoever
		// continues from the saved position.
		b.Release()
		return false, false
	}
	select {
	case s.run.out <- b:
		return true, false
	default:
	}
	select {
	case s.run.out <- b:
		return true, true
	case <-s.run.ctx.Done():
		b.Release()
		return false, true
	}
}

func (s *stream) flush(f *openFile) bool {
	sent, _ := s.send(f)
	return sent
}

func (s *stream) nextGen() uint64 {
	g := s.gen
	s.gen++
	return g
}

// open opens m for reading from offset, checking that the name still
// leads to the file listed (a rotation can rename it meanwhile).
func (s *stream) open(m member, offset int64, catchUp bool) *openFile {
	fd, fi, err := s.run.src.openFile(m.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.run.reportOpenErr(m.path, err)
		}
		return nil
	}
	k := keyOf(fi)
	if k != m.key && m.key != (fileKey{}) {
		// A rotation renamed the file listed or planned meanwhile: it is
		// read under its new name.
		fd.Close()
		for _, n := range listFamily(s.live, s.run.src.cfg.Rotated) {
			if n.key == m.key && !n.gz && n.path != m.path {
				return s.open(n, offset, catchUp || !n.live)
			}
		}
		if offset > 0 {
			s.lost(m.path, offset, "it was deleted before it could be read")
		}
		if !m.live {
			return nil
		}
		m.key = fileKey{}
		return s.open(m, 0, catchUp)
	}
	if s.run.isOwn(k) {
		fd.Close() // logsift writes it
		return nil
	}
	ok, resume := s.run.claim(k, s)
	if !ok {
		fd.Close() // another stream reads it
		return nil
	}
	s.run.clearOpenErr(m.path)
	now := time.Now()
	f := &openFile{path: m.path, fd: fd, key: k, rotated: !m.live, catchUp: catchUp, opened: now, begun: now}
	if m.gz {
		zr, err := gzip.NewReader(fd)
		if err != nil {
			s.log.Warn("cannot read compressed file", "file", m.path, "err", err)
			fd.Close()
			return nil
		}
		f.gz = zr
		f.head = gzipHead(m.path)
	}
	src := s.run.src
	f.w = newBatcher(s.run.pool, src.cfg.Input, s.live, src.cfg.MaxLineBytes, src.cfg.OnSplit)
	id := event.FileID{Dev: k.dev, Inode: k.ino, Generation: s.nextGen()}
	f.w.reset(id, offset)
	if offset > 0 && f.gz == nil && offset > fi.Size() {
		s.log.Warn("saved position is beyond the end of the file, reading it from the start",
			"file", m.path, "offset", offset, "size", fi.Size())
		f.w.reset(id, 0)
	}
	s.updateHead(f)
	if resume.by != nil && resume.offset > f.w.offset() && f.gz == nil && resume.offset <= fi.Size() &&
		bytes.HasPrefix(memberHead(m), resume.head) {
		// Read under another followed name until now: continue there.
		f.w.reset(id, resume.offset)
		f.head = nil
		s.updateHead(f)
	}
	s.begin(f)
	if catchUp {
		s.log.Info("catching up on a rotated file", "file", m.path, "offset", f.w.offset())
	}
	return f
}

// lost reports that the rest of a file, from offset, is gone: it was
// deleted by its rotator before it could be read.
func (s *stream) lost(file string, offset int64, reason string) {
	s.log.Warn("the file a saved position belongs to is gone; what it held after the position is lost",
		"file", file, "offset", offset, "reason", reason)
	if cb := s.run.src.cfg.OnLost; cb != nil {
		cb(file, offset)
	}
}

// begin tells the positions store where reading f starts.
func (s *stream) begin(f *openFile) {
	p := s.run.src.cfg.Progress
	if p == nil {
		return
	}
	id := f.w.file
	if f.gz != nil {
		p.Begin(s.live, id.Dev, id.Inode, id.Generation, bytes.NewReader(f.head), int64(len(f.head)), f.w.delivered())
		return
	}
	size := int64(0)
	if fi, err := f.fd.Stat(); err == nil {
		size = fi.Size()
	}
	p.Begin(s.live, id.Dev, id.Inode, id.Generation, f.fd, size, f.w.delivered())
}

func (s *stream) refingerprint(f *openFile) {
	p := s.run.src.cfg.Progress
	if p == nil || f.gz != nil {
		return
	}
	if fi, err := f.fd.Stat(); err == nil {
		p.Refingerprint(f.key.dev, f.key.ino, f.fd, fi.Size())
	}
}

// gzipHead returns the first headBytes of a compressed file's content.
func gzipHead(path string) []byte {
	fd, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fd.Close()
	zr, err := gzip.NewReader(fd)
	if err != nil {
		return nil
	}
	head := make([]byte, headBytes)
	n, _ := io.ReadFull(zr, head)
	return head[:n]
}

// memberHeadOf returns the first bytes of an open plain file.
func memberHeadOf(fd *os.File) []byte {
	head := make([]byte, headBytes)
	n, _ := fd.ReadAt(head, 0)
	return head[:n]
}

// memberHead returns a listed member's first bytes (decompressed for .gz).
func memberHead(m member) []byte {
	if m.gz {
		return gzipHead(m.path)
	}
	fd, err := os.Open(m.path)
	if err != nil {
		return nil
	}
	defer fd.Close()
	if fi, err := fd.Stat(); err != nil || keyOf(fi) != m.key {
		return nil
	}
	head := make([]byte, headBytes)
	n, _ := fd.ReadAt(head, 0)
	return head[:n]
}

// next returns the file to read after the last one: the queue first, then
// the family's next member in rotation order that was not read yet, then
// the live file; nil when there is nothing to read now.
func (s *stream) next() *openFile {
	for len(s.queue) > 0 {
		q := s.queue[0]
		s.queue = s.queue[1:]
		if f := s.open(q.m, q.offset, q.catchUp); f != nil {
			return f
		}
	}
	ms := listFamily(s.live, s.run.src.cfg.Rotated)
	s.pruneDone(ms)
	start := 0
	if s.last != nil {
		if i := s.indexOf(ms, s.last); i >= 0 {
			start = i + 1
		} else {
			// The last file left the family's names (deleted, or moved
			// elsewhere): what was written since it was opened comes after.
			var after []member
			for _, m := range ms {
				if m.live || !m.mtime.Before(s.last.opened) {
					after = append(after, m)
				}
			}
			ms = after
		}
	}
	for _, m := range ms[start:] {
		if d, ok := s.done[m.key]; ok && !m.gz {
			if !m.live {
				if s.isDone(m, memberHead(m)) {
					continue
				}
				delete(s.done, m.key) // its inode was reused
				return s.open(m, 0, true)
			}
			// The live path leads to a file read before in this run (it
			// was renamed back, or briefly looked gone): continue it
			// where it was left, unless its content is new.
			delete(s.done, m.key)
			offset := int64(0)
			if m.size >= d.size && bytes.HasPrefix(memberHead(m), d.head) {
				offset = d.size
			}
			return s.open(m, offset, false)
		}
		if m.gz {
			if h := memberHead(m); len(h) > 0 && s.isDoneContent(h) {
				continue
			}
		}
		return s.open(m, 0, !m.live)
	}
	return nil
}

// isDone reports whether m, starting with head, was finished in this run:
// same identity and same start (inode numbers are reused).
func (s *stream) isDone(m member, head []byte) bool {
	d, ok := s.done[m.key]
	return ok && !m.gz && bytes.HasPrefix(head, d.head)
}

// isDoneContent reports whether head is the start of a file finished in
// this run (a compressed or copied file already read).
func (s *stream) isDoneContent(head []byte) bool {
	for _, d := range s.done {
		if len(d.head) > 0 && bytes.HasPrefix(head, d.head) {
			return true
		}
	}
	return false
}

// indexOf finds d among the listed members: by identity, or for a file
// that was compressed after it was read, by its content's start.
func (s *stream) indexOf(ms []member, d *doneFile) int {
	for i, m := range ms {
		if !m.gz && m.key == d.key {
			return i
		}
	}
	if len(d.head) == 0 {
		return -1
	}
	for i, m := range ms {
		if m.gz {
			if h := memberHead(m); bytes.HasPrefix(h, d.head) {
				return i
			}
		}
	}
	return -1
}

// pruneDone forgets finished files that are no longer in the family, once
// there are many: a listing taken while a rotator renames files can miss
// one that is still there.
func (s *stream) pruneDone(ms []member) {
	if len(s.done) < 64 {
		return
	}
	present := map[fileKey]bool{}
	for _, m := range ms {
		present[m.key] = true
	}
	for k := range s.done {
		if !present[k] && (s.last == nil || k != s.last.key) {
			delete(s.done, k)
		}
	}
}

// truncated handles the live file c found shorter than what was read, or
// starting with other bytes: copytruncate copied it and emptied it, or it
// was truncated in place. A copy holding c's content has the same bytes at
// the same offsets: its unread rest is read first, then the live file
// from its start.
func (s *stream) truncated(c *openFile) bool {
	if !s.flush(c) {
		return false
	}
	cp := s.findCopy(c)
	if cp != nil && cp.gz == nil {
		if fi, err := cp.fd.Stat(); err == nil && fi.Size() <= c.w.offset() {
			// The copy holds nothing beyond what was read (lines written
			// between the copy and the truncation were read from the live
			// file, and are in neither file now).
			s.done[cp.key] = doneFile{key: cp.key, head: memberHeadOf(cp.fd), size: fi.Size(), opened: time.Now()}
			cp.fd.Close()
			cp = nil
		}
	}
	if cp != nil {
		s.log.Info("file truncated after being copied, reading the rest of the copy first",
			"copy", cp.path, "offset", c.w.offset())
		s.run.unclaim(c.key, s, 0, nil)
		if ok, _ := s.run.claim(cp.key, s); !ok {
			cp.fd.Close()
			return true // another stream reads the copy; it is left to it
		}
		c.fd.Close()
		c.fd, c.gz, c.gzPos, c.key, c.path = cp.fd, cp.gz, 0, cp.key, cp.path
		c.rotated, c.copied, c.catchUp, c.read = true, true, true, 0
		c.w.file = event.FileID{Dev: cp.key.dev, Inode: cp.key.ino, Generation: s.nextGen()}
		s.begin(c)
		return true
	}
	s.log.Info("file truncated, reading it again from the start", "offset", c.w.offset())
	c.w.finish()
	if !s.flush(c) {
		return false
	}
	c.w.reset(event.FileID{Dev: c.key.dev, Inode: c.key.ino, Generation: s.nextGen()}, 0)
	c.head = nil
	// The copy of what was truncated unread, if any, was made just
	// before: look for it from a moment before.
	c.begun = time.Now().Add(-time.Second)
	s.begin(c)
	return true
}

// copyCheckEvery limits how often a change without new data lists the
// family; a change in between is looked at when the interval is over.
const copyCheckEvery = 100 * time.Millisecond

// catchCopy reads a family member that appeared while the live file c was
// read, when it does not start like c: a copy copytruncate made of lines
// written and truncated before they were read. Those lines precede c's
// current content. A member that starts like c (a copy of what is being
// read, made without truncating) is not read again. later reports that the
// check was put off.
func (s *stream) catchCopy(c *openFile) (ok, later bool) {
	if c.w.offset() > 0 {
		// Something of the current content was read: a copy of it is
		// found by its start when the truncation is seen (truncated).
		return true, false
	}
	if time.Since(s.copyChecked) < copyCheckEvery {
		return true, true
	}
	s.copyChecked = time.Now()
	ms := listFamily(s.live, s.run.src.cfg.Rotated)
	start := 0
	if s.last != nil {
		if i := s.indexOf(ms, s.last); i >= 0 {
			start = i + 1
		}
	}
	for _, m := range ms[start:] {
		// Only a file written since the live file's content was started
		// on can hold lines truncated from it.
		if m.live || m.size == 0 || m.key == c.key || m.mtime.Before(c.begun) {
			continue
		}
		h := memberHead(m)
		if s.isDone(m, h) {
			continue
		}
		if len(c.head) > 0 && (bytes.HasPrefix(h, c.head) || bytes.HasPrefix(c.head, h)) {
			d := doneFile{key: m.key, head: h, size: m.size, opened: time.Now()}
			s.done[m.key] = d
			continue
		}
		if m.gz && s.isDoneContent(h) {
			continue
		}
		f := s.open(m, 0, true)
		if f == nil {
			continue
		}
		s.log.Info("reading a copy of lines truncated before they were read", "copy", m.path)
		f.copied = true
		if _, res := s.pump(f); res == pumpCanceled {
			s.closeFile(f)
			return false, false
		}
		if !s.retire(f, true) {
			return false, false
		}
	}
	return true, false
}

// findCopy looks in the family for a file other than c that starts with
// the bytes c started with and is at least as long as what was read of c.
func (s *stream) findCopy(c *openFile) *openFile {
	if len(c.head) == 0 {
		return nil
	}
	ms := listFamily(s.live, s.run.src.cfg.Rotated)
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if m.live || m.key == c.key {
			continue
		}
		if !m.gz && s.isDone(m, memberHead(m)) {
			continue
		}
		if !bytes.HasPrefix(memberHead(m), c.head) {
			continue
		}
		fd, fi, err := s.run.src.openFile(m.path)
		if err != nil {
			continue
		}
		if keyOf(fi) != m.key {
			fd.Close()
			continue
		}
		f := &openFile{path: m.path, fd: fd, key: m.key}
		if m.gz {
			zr, err := gzip.NewReader(fd)
			if err != nil {
				fd.Close()
				continue
			}
			f.gz = zr
		}
		return f
	}
	return nil
}

// String is for logs and test failures.
func (s *stream) String() string { return fmt.Sprintf("stream(%s)", s.live) }
