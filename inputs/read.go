package inputs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"time"

	"github.com/logsift/logsift/event"
)

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
