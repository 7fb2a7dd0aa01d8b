package inputs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"time"

	"github.com/logsift/logsift/event"
)

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
	// The copy is read on from the offset reached even when it holds no
	// more (lines written between the copy and the truncation were read
	// from the live file, and are in neither file now): the files after it
	// in the family, copies made while nothing read, come next.
	cp := s.findCopy(c)
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
