package inputs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"

	"github.com/logsift/logsift/positions"
)

// Progress is where a file input's progress is kept (a positions store).
type Progress interface {
	// Lookup returns the saved offset of the open file f at path (used by
	// one-shot reading).
	Lookup(path string, f *os.File, fi os.FileInfo) (offset int64, ok bool)
	// Saved returns what is saved for the stream of the live path, the
	// most recently acknowledged first.
	Saved(path string) []positions.Entry
	// Begin records that reading a file of the stream starts at offset.
	Begin(path string, dev, inode, gen uint64, r io.ReaderAt, size, offset int64)
	// Refingerprint extends a short fingerprint from the open file.
	Refingerprint(dev, inode uint64, r io.ReaderAt, size int64)
}

// plan decides where the stream starts. Without saved progress, start_at
// end starts at the live file's end; start_at beginning, and a family that
// appears after the start, are read from the family's oldest file. With
// saved progress, the stream catches up: the saved file is found by
// identity (and content) under whatever name it has now — or by content
// alone when it was copied (copytruncate) or compressed — and read from its
// saved offset; every family member after it in rotation order is read
// whole, oldest first; the live file comes last. Files before it that were
// left unfinished (the acknowledgements of a kill -9) are read from their
// saved offsets first.
func (s *stream) plan() {
	ms := listFamily(s.live, s.run.src.cfg.Rotated)
	var saved []positions.Entry
	if p := s.run.src.cfg.Progress; p != nil {
		saved = p.Saved(s.live)
	}
	if len(saved) == 0 {
		if s.initial && s.run.src.cfg.StartAt == StartAtEnd {
			if n := len(ms); n > 0 && ms[n-1].live {
				s.queue = append(s.queue, queued{m: ms[n-1], offset: ms[n-1].size})
			}
			return
		}
		// From the beginning: the family's beginning, its oldest file.
		for _, m := range ms {
			s.queue = append(s.queue, queued{m: m})
		}
		return
	}

	matched := make([]*positions.Entry, len(ms))
	used := map[positions.Key]bool{}
	byKey := map[positions.Key]int{}
	for i := range saved {
		byKey[saved[i].Key()] = i
	}
	heads := make([][]byte, len(ms))
	head := func(i int) []byte {
		if heads[i] == nil {
			heads[i] = memberHead(ms[i])
			if heads[i] == nil {
				heads[i] = []byte{}
			}
		}
		return heads[i]
	}
	reasons := map[positions.Key]string{}
	for i, m := range ms {
		j, ok := byKey[positions.Key{Dev: m.key.dev, Inode: m.key.ino}]
		if !ok || m.gz {
			continue
		}
		e := saved[j]
		reason, err := e.Mismatch(bytes.NewReader(head(i)), m.size)
		if err != nil {
			reason = "its first bytes could not be read: " + err.Error()
		}
		if reason == "" {
			matched[i] = &saved[j]
			used[e.Key()] = true
		} else {
			reasons[e.Key()] = m.path + ": " + reason
		}
	}
	// An entry whose file is not where its identity says — deleted after
	// being compressed, copied and truncated, or its inode reused — may
	// still be found by its content.
	for j := range saved {
		e := &saved[j]
		if used[e.Key()] || e.FingerprintSize == 0 {
			continue
		}
		for i, m := range ms {
			if matched[i] != nil || m.live {
				continue
			}
			h := head(i)
			if int64(len(h)) < e.FingerprintSize || (!m.gz && m.size < e.Offset) {
				continue
			}
			sum := sha256.Sum256(h[:e.FingerprintSize])
			if hex.EncodeToString(sum[:]) == e.Fingerprint {
				matched[i] = e
				used[e.Key()] = true
				break
			}
		}
	}

	anchor := -1
	for i := range ms {
		if matched[i] != nil {
			anchor = i
		}
	}
	if anchor < 0 {
		latest := saved[0]
		reason, ok := reasons[latest.Key()]
		if !ok {
			reason = "no file of the family has its identity or its content"
		}
		s.lost(latest.Path, latest.Offset, reason)
		for _, m := range ms {
			if m.live || m.mtime.After(latest.Updated) {
				s.queue = append(s.queue, queued{m: m, catchUp: !m.live})
			}
		}
		return
	}
	for i, m := range ms {
		switch e := matched[i]; {
		case i < anchor && e != nil && (m.gz || e.Offset < m.size):
			s.queue = append(s.queue, queued{m: m, offset: e.Offset, catchUp: true})
		case i == anchor:
			s.queue = append(s.queue, queued{m: m, offset: e.Offset, catchUp: !m.live})
		case i > anchor:
			s.queue = append(s.queue, queued{m: m, catchUp: !m.live})
		}
	}
	if len(s.queue) > 1 || (len(s.queue) == 1 && !s.queue[0].m.live) {
		s.log.Info("catching up on files rotated while logsift was not reading", "files", len(s.queue))
	}
}
