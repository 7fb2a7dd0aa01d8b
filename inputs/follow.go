package inputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/nxadm/tail"

	"github.com/logsift/logsift/event"
)

// followRun is the state of one follow-mode Run.
type followRun struct {
	src       *FileSource
	ctx       context.Context
	out       chan<- *event.LineBatch
	pool      *batchPool
	reg       *registry
	poll      bool
	followers map[string]*follower
	exited    chan *follower
	// pollPaths are paths whose inotify-based tail failed; they are
	// retried with polling.
	pollPaths map[string]bool
	// openErr is the last open error reported per path, so a file that
	// stays unreadable is reported once, not on every rescan.
	openErr map[string]string
	// gens is the last Generation used at a path whose follower ended, so
	// that a follower started again there continues the count.
	gens map[string]uint64
}

func (s *FileSource) follow(ctx context.Context, out chan<- *event.LineBatch) error {
	r := &followRun{
		src:       s,
		ctx:       ctx,
		out:       out,
		pool:      newBatchPool(),
		reg:       newRegistry(),
		poll:      s.cfg.Poll,
		followers: map[string]*follower{},
		exited:    make(chan *follower),
		pollPaths: map[string]bool{},
		openErr:   map[string]string{},
		gens:      map[string]uint64{},
	}
	if !r.poll {
		if err := inotifyUsable(); err != nil {
			s.log.Warn("inotify is unavailable, polling files instead", "err", err)
			r.poll = true
		}
	}
	r.scan(true)
	s.markReady()

	ticker := time.NewTicker(s.cfg.Rescan)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			// Followers see ctx too: wait until every tail has stopped.
			for len(r.followers) > 0 {
				r.remove(<-r.exited)
			}
			return nil
		case f := <-r.exited:
			r.remove(f)
		case <-ticker.C:
			r.scan(false)
		}
	}
}

func (r *followRun) remove(f *follower) {
	if r.followers[f.path] == f {
		delete(r.followers, f.path)
	}
	r.src.files.Store(int64(len(r.followers)))
	if f.failed && !f.poll {
		r.pollPaths[f.path] = true
	}
	r.gens[f.path] = f.w.file.Generation
}

// scan evaluates the globs, starts followers for new files and stops those
// whose path no longer matches.
func (r *followRun) scan(initial bool) {
	scan := r.reg.beginScan()
	seen := map[fileKey]bool{}
	present := map[string]bool{}
	for _, path := range r.src.match() {
		fi, err := os.Stat(path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				r.reportOpenErr(path, err)
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		present[path] = true
		seen[keyOf(fi)] = true
		if _, ok := r.followers[path]; !ok {
			r.start(path, initial)
		}
	}
	for path, f := range r.followers {
		if !present[path] {
			f.stop()
		}
	}
	for path := range r.openErr {
		if !present[path] {
			delete(r.openErr, path)
		}
	}
	for path := range r.gens {
		if !present[path] {
			delete(r.gens, path)
		}
	}
	r.reg.prune(scan, seen)
}

func (r *followRun) reportOpenErr(path string, err error) {
	msg := err.Error()
	if r.openErr[path] == msg {
		r.src.log.Debug("still cannot open file", "path", path, "err", err)
		return
	}
	r.openErr[path] = msg
	r.src.log.Error("cannot open file, retrying on every rescan", "path", path, "err", err)
}

// start opens path and begins following it.
func (r *followRun) start(path string, initial bool) {
	if r.ctx.Err() != nil {
		return
	}
	s := r.src
	fd, fi, err := s.openFile(path)
	if err != nil {
		r.reportOpenErr(path, err)
		return
	}
	key := keyOf(fi)
	if key != (fileKey{}) && r.reg.isLive(key) {
		// The same file is being followed under another name, typically
		// a rotation the tail has not noticed yet; look again next scan.
		fd.Close()
		return
	}
	// A file already read in this run continues from what was delivered;
	// saved positions and start_at are for files not read yet.
	start, seen := r.reg.resume(key, fd, fi.Size())
	if !seen {
		start = s.startOffset(path, fd, fi, initial)
	}

	poll := r.poll || r.pollPaths[path]
	f := &follower{
		run:   r,
		path:  path,
		poll:  poll,
		notes: make(chan note),
		quit:  make(chan struct{}),
		stopc: make(chan struct{}),
		fd:    fd,
		fi:    fi,
		key:   key,
		log:   s.log.With("path", path),
	}
	f.w = newBatcher(r.pool, s.cfg.Input, path, s.cfg.MaxLineBytes, s.cfg.OnSplit)
	id := event.FileID{Dev: key.dev, Inode: key.ino}
	if g, ok := r.gens[path]; ok {
		id.Generation = g + 1
	}
	f.w.reset(id, start)

	t, err := tail.TailFile(path, tail.Config{
		Location:      &tail.SeekInfo{Offset: start, Whence: io.SeekStart},
		Follow:        true,
		ReOpen:        true,
		MustExist:     true, // open now, so that errors are ours to report
		CompleteLines: true,
		Poll:          poll,
		Logger:        &tailLogger{log: f.log, notes: f.notes, quit: f.quit},
	})
	if err != nil {
		fd.Close()
		r.reportOpenErr(path, err)
		return
	}
	// The tail opened the path after us: make sure it is still the file
	// our offsets and identity describe.
	if now, err := os.Stat(path); err != nil || !os.SameFile(now, fi) {
		close(f.quit)
		t.Kill(nil)
		for range t.Lines {
		}
		t.Wait()
		fd.Close()
		return
	}
	f.t = t
	delete(r.openErr, path)
	r.reg.claim(key)
	f.claimed = true
	r.followers[path] = f
	r.src.files.Store(int64(len(r.followers)))
	f.log.Debug("following file", "offset", start, "poll", poll)
	go f.follow()
}

// note is what the tail library reports through its logger about its
// file; see tailLogger.
type note int

const (
	noteMoved     note = iota + 1 // the file was renamed or deleted; the tail is about to reopen the path
	noteTruncated                 // the file shrank; the tail is about to reopen it from the start
	noteReopened                  // the tail opened the path again
)

// noteOf recognises the tail library's log formats that announce a
// reopen; it announces them only through its logger. Its Printf calls come
// from the goroutine that also sends Lines, so when tailLogger hands them
// over synchronously the follower sees lines and reopen notes in exactly
// the order the library produced them.
func noteOf(format string) note {
	switch format {
	case "Re-opening moved/deleted file %s ...":
		return noteMoved
	case "Re-opening truncated file %s ...":
		return noteTruncated
	case "Successfully reopened %s", "Successfully reopened truncated %s":
		return noteReopened
	}
	return 0
}

// tailLogger receives the tail library's log calls. It never exits or
// panics: its Fatal and Panic methods only log.
type tailLogger struct {
	log   *slog.Logger
	notes chan<- note
	quit  <-chan struct{}
}

func (l *tailLogger) Printf(format string, v ...any) {
	if n := noteOf(format); n != 0 {
		select {
		case l.notes <- n:
		case <-l.quit:
		}
		return
	}
	l.log.Debug("tail: " + fmt.Sprintf(format, v...))
}

func (l *tailLogger) Print(v ...any)   { l.log.Debug("tail: " + fmt.Sprint(v...)) }
func (l *tailLogger) Println(v ...any) { l.log.Debug("tail: " + fmt.Sprint(v...)) }
func (l *tailLogger) Fatal(v ...any)   { l.log.Error("tail: " + fmt.Sprint(v...)) }
func (l *tailLogger) Fatalf(format string, v ...any) {
	l.log.Error("tail: " + fmt.Sprintf(format, v...))
}
func (l *tailLogger) Fatalln(v ...any) { l.log.Error("tail: " + fmt.Sprint(v...)) }
func (l *tailLogger) Panic(v ...any)   { l.log.Error("tail: " + fmt.Sprint(v...)) }
func (l *tailLogger) Panicf(format string, v ...any) {
	l.log.Error("tail: " + fmt.Sprintf(format, v...))
}
func (l *tailLogger) Panicln(v ...any) { l.log.Error("tail: " + fmt.Sprint(v...)) }

// follower turns one tail's lines into batches.
//
// Offsets: the follower counts them itself (start offset plus the length
// of every line and its newline, reset to zero when the tail reads a new or
// truncated file from its start) because it must know exactly which bytes it has delivered in order
// to read a rotated file to its end. Each tail.Line's SeekInfo.Offset is a
// cross-check: nxadm/tail v1.4.11 fills it with Tell() in the reading
// goroutine right after the line was consumed (file position minus
// buffered bytes), so without MaxLineSize and RateLimiter, which logsift
// never sets, it is exactly the end of that line. The two agree unless the
// tail skipped or rewound bytes without announcing it; then SeekInfo
// describes the file the tail is really reading, so the follower adopts
// it (bumping Generation on a rewind) and logs a warning.
type follower struct {
	run   *followRun
	path  string
	poll  bool
	t     *tail.Tail
	notes chan note
	quit  chan struct{} // closed when the follower ends; unblocks tailLogger
	stopc chan struct{} // closed to ask the follower to stop
	w     *batcher
	log   *slog.Logger

	// fd is the follower's own handle on the file the tail reads. After a
	// rename the tail reopens the path without reading the old file to
	// its end (nxadm/tail#73, hpcloud/tail#127); fd still refers to the
	// old file, so the follower reads the rest from it.
	fd   *os.File
	fi   os.FileInfo // fd's identity
	key  fileKey
	head []byte // the file's first headBytes bytes, once it has them
	// skip is set when the tail reads a file again from its start that
	// was already delivered up to this offset.
	skip int64
	// changedSince is when the path was first seen leading to another
	// file, or to a file shorter than the delivered offset.
	changedSince  time.Time
	checkedOffset int64 // offset at the previous check
	claimed       bool
	failed        bool // the tail ended on its own (an error), not by stop
	// superseded is set when the tail reopened the path onto a file
	// another follower is reading; the follower then ends, discarding
	// what the tail still sends.
	superseded bool
}

func (f *follower) stop() {
	select {
	case <-f.stopc:
	default:
		close(f.stopc)
	}
}

func (f *follower) follow() {
	ctx, out := f.run.ctx, f.run.out
	defer func() {
		if f.fd != nil {
			f.fd.Close()
		}
		close(f.quit)
		f.run.exited <- f
	}()
	stopc := f.stopc
	stopping := false
	check := time.NewTicker(f.run.src.cfg.Rescan)
	defer check.Stop()
	for {
		select {
		case l, ok := <-f.t.Lines:
			if !ok {
				f.ended(ctx, out, stopping)
				return
			}
			if !f.add(ctx, out, l) || !f.gather(ctx, out, stopping) {
				f.abort()
				return
			}
			if f.t == nil { // gather saw the end
				return
			}
		case n := <-f.notes:
			if !f.handle(ctx, out, n) {
				f.abort()
				return
			}
			if f.superseded && !stopping {
				stopc, stopping = nil, true
				f.t.Kill(nil)
			}
		case <-stopc:
			stopc, stopping = nil, true
			f.t.Kill(nil)
		case now := <-check.C:
			if !stopping && f.missedChange(now) {
				// The follower ends like for a vanished file (the old
				// file is read to its end); the next scan follows the
				// file at the path from its beginning.
				f.log.Warn("the tail missed a rotation or truncation, restarting it")
				stopc, stopping = nil, true
				f.t.Kill(nil)
			}
		case <-ctx.Done():
			f.abort()
			return
		}
	}
}

// missedChangeAfter is how long the follower lets the tail lag behind the
// file before it stops waiting for the tail to catch up. The tail sets up
// its inotify watch by path, lazily, at its first end of file, and never
// looks at the file's state at that moment: a write, rotation or
// truncation completed just before leaves it waiting for a change that
// already happened.
const missedChangeAfter = time.Second

// missedChange reports whether, for missedChangeAfter, the path has led to
// another file than fd, or to a file shorter than the delivered offset, or
// to a file holding a complete line beyond that offset while nothing was
// delivered.
func (f *follower) missedChange(now time.Time) bool {
	off := f.w.offset()
	progressed := off != f.checkedOffset
	f.checkedOffset = off
	if f.fi != nil && !progressed {
		cur, err := os.Stat(f.path)
		if err == nil && (!os.SameFile(cur, f.fi) || cur.Size() < off || f.lineWaiting(off, cur.Size())) {
			if f.changedSince.IsZero() {
				f.changedSince = now
			}
			return now.Sub(f.changedSince) >= missedChangeAfter
		}
	}
	f.changedSince = time.Time{}
	return false
}

// lineWaiting reports whether the file holds a complete line after off.
func (f *follower) lineWaiting(off, size int64) bool {
	if size <= off {
		return false
	}
	buf := make([]byte, min(size-off, 64<<10))
	n, _ := f.fd.ReadAt(buf, off)
	return bytes.IndexByte(buf[:n], '\n') >= 0
}

// gather adds the lines the tail already has ready, without waiting for
// more, then sends the batch. If the tail ends meanwhile it finishes the
// follower and sets f.t to nil.
func (f *follower) gather(ctx context.Context, out chan<- *event.LineBatch, stopping bool) bool {
	yielded := false
	for !f.w.full() {
		select {
		case l, ok := <-f.t.Lines:
			if !ok {
				if !f.flush(ctx, out) {
					return false
				}
				f.ended(ctx, out, stopping)
				f.t = nil
				return true
			}
			if !f.add(ctx, out, l) {
				return false
			}
			yielded = false
			continue
		default:
		}
		if !yielded {
			// The tail hands over one line at a time; letting it run
			// once finds the next line when it is already buffered,
			// without ever waiting for one to be written.
			yielded = true
			runtime.Gosched()
			continue
		}
		break
	}
	return f.flush(ctx, out)
}

func (f *follower) add(ctx context.Context, out chan<- *event.LineBatch, l *tail.Line) bool {
	if l.Err != nil {
		f.log.Warn("tail reported an error", "err", l.Err)
		return true
	}
	if f.superseded {
		return true
	}
	n := int64(len(l.Text)) + 1
	if f.skip > 0 {
		if l.SeekInfo.Offset <= f.skip {
			return true // delivered before the tail reopened the file
		}
		f.skip = 0
	}
	if want := f.w.offset() + n; l.SeekInfo.Offset != want {
		if !f.flush(ctx, out) {
			return false
		}
		start := l.SeekInfo.Offset - n
		id := f.w.file
		if start < f.w.offset() {
			id.Generation++
		}
		f.log.Warn("tail position differs from the bytes delivered; following the tail",
			"expected", want, "tail", l.SeekInfo.Offset)
		f.w.reset(id, start)
	}
	for rest := f.w.appendLine(l.Text); rest != ""; rest = f.w.appendLine(rest) {
		if !f.flush(ctx, out) {
			return false
		}
	}
	return true
}

func (f *follower) flush(ctx context.Context, out chan<- *event.LineBatch) bool {
	b := f.w.take()
	if b == nil {
		return true
	}
	if !send(ctx, out, b) {
		return false
	}
	f.keepHead()
	return true
}

func (f *follower) handle(ctx context.Context, out chan<- *event.LineBatch, n note) bool {
	if !f.flush(ctx, out) {
		return false
	}
	switch n {
	case noteMoved, noteTruncated:
		// The library's notes are not always right: its inotify watcher
		// stats the path, not the file it reads, so a rename followed by a
		// smaller new file looks like a truncation (nxadm/tail#73). What
		// matters is whether the path still leads to the file fd holds; if
		// not, that file is finished and is read to its end now, before
		// any line of the file the tail is about to open.
		if f.fd == nil {
			return true
		}
		now, err := os.Stat(f.path)
		if err == nil && os.SameFile(now, f.fi) {
			return true
		}
		f.log.Info("file rotated, reading the old file to its end")
		if !f.drain(ctx, out, true) {
			return false
		}
		f.leave()
	case noteReopened:
		return f.reopened(ctx, out)
	}
	return true
}

// reopened runs after the tail opened the path again and before it reads
// from it. The path leads either to a new file (rotation), to the same file
// shrunk or rewritten (truncation), or to the same file unchanged: the
// library reopens once per note and can be told twice about one rotation
// (nxadm/tail#73). In that last case it reads the file again from the
// start, and the lines already delivered are skipped.
func (f *follower) reopened(ctx context.Context, out chan<- *event.LineBatch) bool {
	fd, fi, err := f.run.src.openFile(f.path)
	if err != nil {
		// The tail holds a file the follower cannot identify: count it
		// as a new incarnation, without identity.
		f.log.Warn("cannot open the reopened file to identify it", "err", err)
		if !f.drain(ctx, out, true) {
			return false
		}
		f.leave()
		f.w.reset(event.FileID{Generation: f.w.file.Generation + 1}, 0)
		return true
	}
	k := keyOf(fi)
	if f.fd != nil && k == f.key {
		fd.Close()
		if fi.Size() >= f.w.offset() && !f.headChanged() {
			f.skip = f.w.offset()
			return true
		}
		f.log.Info("file truncated, reading it again from the start")
		id := f.w.file
		id.Generation++
		f.w.reset(id, 0)
		f.head = nil
		return true
	}
	// A file the follower has not read. The previous one was finished
	// when the note came, unless the path changed in between.
	if !f.drain(ctx, out, true) {
		fd.Close()
		return false
	}
	f.leave()
	if k != (fileKey{}) && f.run.reg.isLive(k) {
		// A rotation moved a file another follower reads to this path
		// (app.log -> app.log.1 with "app.log*"). Reading it here from
		// its start would repeat it: this follower ends instead, and the
		// next scan continues the file where the other one leaves it.
		fd.Close()
		f.superseded = true
		f.log.Debug("the path leads to a file followed under another name; leaving it to the next scan")
		return true
	}
	// A file left by another follower earlier in this run continues where
	// it was left; the tail reads it from its start, so skip up to there.
	start, _ := f.run.reg.resume(k, fd, fi.Size())
	f.run.reg.claim(k)
	f.fd, f.fi, f.key, f.claimed, f.head = fd, fi, k, true, nil
	f.w.reset(event.FileID{Dev: k.dev, Inode: k.ino, Generation: f.w.file.Generation + 1}, start)
	f.skip = start
	f.log.Debug("following the new file at the path", "offset", start)
	return true
}

// headChanged reports whether the file's first bytes differ from those
// seen before (a truncated file written again past the old offset).
func (f *follower) headChanged() bool {
	if len(f.head) == 0 {
		return false
	}
	now := make([]byte, len(f.head))
	n, _ := f.fd.ReadAt(now, 0)
	return !bytes.Equal(now[:n], f.head)
}

// keepHead remembers the file's first bytes once it has that many.
func (f *follower) keepHead() {
	if len(f.head) == headBytes || f.fd == nil || f.w.offset() < headBytes {
		return
	}
	head := make([]byte, headBytes)
	if n, _ := f.fd.ReadAt(head, 0); n == headBytes {
		f.head = head
	}
}

// drain reads the file held by fd from the delivered offset to its end.
// When final (the file is finished: rotated away or deleted) an unfinished
// last line is delivered as a fragment without newline; otherwise it is
// left for whoever reads the file next.
func (f *follower) drain(ctx context.Context, out chan<- *event.LineBatch, final bool) bool {
	if f.fd == nil {
		return true
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := f.fd.ReadAt(buf, f.w.offset())
		rest := buf[:n]
		for len(rest) > 0 {
			rest = f.w.write(rest)
			if !f.flush(ctx, out) {
				return false
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				f.log.Warn("reading the rest of the file failed", "err", err)
			}
			break
		}
	}
	if final {
		f.w.finish()
	}
	return f.flush(ctx, out)
}

// leave closes fd and records how far the file was read.
func (f *follower) leave() {
	if f.fd == nil {
		return
	}
	if f.claimed {
		f.run.reg.leave(f.key, f.w.delivered(), f.fd)
		f.claimed = false
	}
	f.fd.Close()
	f.fd, f.fi = nil, nil
}

// ended handles the end of the tail's Lines, after a stop or an error.
// Whatever the file gained since the tail last read it is delivered. If the
// path no longer leads to the file, the file is finished; otherwise the
// follower that the next scan starts continues from the delivered offset.
func (f *follower) ended(ctx context.Context, out chan<- *event.LineBatch, stopping bool) {
	err := f.t.Wait()
	if !stopping {
		f.failed = true
		f.log.Error("tail stopped, retrying on the next rescan", "err", err, "poll", f.poll)
	}
	final := true
	if f.fi != nil {
		if cur, err := os.Stat(f.path); err == nil && os.SameFile(cur, f.fi) {
			final = false
		}
	}
	if f.flush(ctx, out) && f.drain(ctx, out, final) {
		f.leave()
	}
	f.release()
}

// abort ends the follower without delivering more: ctx is done (or a send
// was abandoned). The tail is stopped and its channels drained so that its
// goroutine ends.
func (f *follower) abort() {
	if f.t != nil {
		f.t.Kill(nil)
		for lines := f.t.Lines; lines != nil; {
			select {
			case _, ok := <-lines:
				if !ok {
					lines = nil
				}
			case <-f.notes:
			}
		}
		f.t.Wait()
	}
	f.release()
}

func (f *follower) release() {
	if b := f.w.b; b != nil {
		f.w.b = nil
		b.Release()
	}
	if f.claimed {
		f.run.reg.release(f.key)
		f.claimed = false
	}
}
