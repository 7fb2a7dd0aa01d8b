// Package positions remembers, per file, how far every output has written,
// so that a restarted logsift continues where it stopped (at-least-once
// delivery for file inputs).
//
// Files are identified by device and inode, not by path, so a file renamed
// by log rotation keeps its position and a new file created at the old path
// starts fresh. Because an inode number can be reused for a file with new
// content once the old file is deleted, every entry also carries a content
// fingerprint: the SHA-256 of the file's first bytes (at most
// FingerprintBytes). A saved offset is only applied when the file still
// starts with the same bytes.
//
// The fingerprint is taken the first time an entry is acknowledged for a
// device and inode. A file shorter than FingerprintBytes at that moment is
// fingerprinted again on every later acknowledgement until it has grown to
// FingerprintBytes, so a small file that keeps growing ends up with a
// fingerprint of a fixed, full-length prefix. FingerprintSize records how
// many bytes a fingerprint covers, so a prefix taken while the file was
// short can still be verified after it has grown.
//
// The store is written as indented JSON:
//
//	{"version": 1, "files": [{"path": ..., "dev": ..., "inode": ..., ...}]}
//
// A missing, corrupt or foreign positions file never stops the daemon: it
// is logged and treated as empty, which at worst re-reads or skips input
// according to start_at.
package positions

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// FingerprintBytes is the length of the file prefix a fingerprint covers.
const FingerprintBytes = 1024

// DefaultTTL is how long an entry for a file that no longer exists is kept
// after its last acknowledgement. A day covers rotated files that are still
// being drained and short outages of network filesystems.
const DefaultTTL = 24 * time.Hour

// Key identifies a file independently of its path.
type Key struct{ Dev, Inode uint64 }

// Entry is the saved position of one file.
type Entry struct {
	Path  string `json:"path"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	// Fingerprint is the hex SHA-256 of the file's first FingerprintSize
	// bytes, taken when the offset was saved; empty if the file was empty
	// or could not be read then.
	Fingerprint string `json:"fingerprint"`
	// FingerprintSize is the number of bytes Fingerprint covers:
	// min(file size, FingerprintBytes) when it was taken.
	FingerprintSize int64 `json:"fingerprint_size"`
	// Offset is the end of the last event every output has written.
	Offset int64 `json:"offset"`
	// Generation is the input's count of restarts of reading this file
	// (a truncation starts it again from 0): acknowledgements of an older
	// generation are stale and ignored.
	Generation uint64    `json:"generation,omitempty"`
	Updated    time.Time `json:"updated"`
}

// Key returns the entry's file identity.
func (e Entry) Key() Key { return Key{Dev: e.Dev, Inode: e.Inode} }

// Store holds the positions of all files and saves them to one JSON file.
// Its methods are safe for concurrent use.
type Store struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	entries map[Key]*Entry
	cursors map[string]Cursor // journal inputs, by input name
	ttl     time.Duration
	// lastForget is when Save last looked for vanished files.
	lastForget time.Time
	// gen counts changes; savedGen is the gen last written to disk, so
	// Save can skip writing when nothing changed.
	gen, savedGen uint64

	// saveMu serialises whole saves, so two concurrent Saves cannot
	// rename their temp files in the wrong order.
	saveMu sync.Mutex
}

// Open loads the positions file at path. A missing file gives an empty
// store. A file that is empty, corrupt, truncated, of another schema or of
// another version is logged as a warning and gives an empty store; it is
// replaced by the first Save. Only a file that cannot be read (for example
// for lack of permission) is an error. A nil logger discards logs; a nil
// now uses time.Now.
func Open(path string, logger *slog.Logger, now func() time.Time) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Store{
		path:    path,
		log:     logger,
		now:     now,
		entries: make(map[Key]*Entry),
		cursors: make(map[string]Cursor),
		ttl:     DefaultTTL,
	}
	data, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("load positions: %w", err)
	}
	entries, cursors, err := decode(data)
	if err != nil {
		s.log.Warn("ignoring unusable positions file; files without a saved position start according to start_at",
			"path", path, "error", err)
		// Rewrite it on the first Save, so the warning is not repeated
		// on every start.
		s.gen = 1
		return s, nil
	}
	for _, e := range entries {
		s.entries[e.Key()] = &e
	}
	for _, c := range cursors {
		s.cursors[c.Input] = c
	}
	return s, nil
}

// Path returns the positions file's path.
func (s *Store) Path() string { return s.path }

// SetTTL sets how long entries of vanished files are kept (DefaultTTL
// unless set). A ttl <= 0 restores the default.
func (s *Store) SetTTL(ttl time.Duration) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s.mu.Lock()
	s.ttl = ttl
	s.mu.Unlock()
}

// Entries returns a copy of all entries, sorted by path, then device and
// inode.
func (s *Store) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

func (s *Store) snapshotLocked() []Entry {
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, *e)
	}
	sortEntries(out)
	return out
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Dev, b.Dev),
			cmp.Compare(a.Inode, b.Inode),
		)
	})
}

// Lookup returns the saved offset for the file currently at path. f is the
// already opened file and fi its FileInfo; f is read with ReadAt, so its
// offset is untouched.
//
// found is false when nothing is saved for the file's device and inode: the
// caller then applies start_at. When an entry exists but the file no longer
// matches it — the saved offset is beyond the file's size, the file is
// shorter than its fingerprinted prefix, or it starts with other bytes
// (the inode was reused for a new file) — Lookup logs why at info level,
// forgets the stale entry and returns (0, true): the file is read from its
// start.
func (s *Store) Lookup(path string, f *os.File, fi os.FileInfo) (offset int64, found bool) {
	key, ok := KeyOf(fi)
	if !ok {
		return 0, false
	}
	s.mu.Lock()
	ep, ok := s.entries[key]
	var e Entry
	if ok {
		e = *ep
	}
	s.mu.Unlock()
	if !ok {
		return 0, false
	}

	reason, err := mismatch(e, f, fi.Size())
	if err != nil {
		// An unreadable start cannot be verified; re-reading repeats
		// lines but never loses them.
		reason = "its first bytes could not be read: " + err.Error()
	}
	if reason == "" {
		if e.Path != path {
			s.log.Debug("file moved since its position was saved", "path", path, "saved_path", e.Path)
		}
		return e.Offset, true
	}
	s.log.Info("saved position does not match the file, reading it from the start",
		"path", path, "reason", reason, "offset", e.Offset, "size", fi.Size())
	s.mu.Lock()
	// Drop the entry so acknowledgements of the new content, which
	// start again from 0, are not mistaken for stale ones. An entry that
	// changed meanwhile was updated for the new content; keep it.
	if cur, ok := s.entries[key]; ok && *cur == e {
		delete(s.entries, key)
		s.gen++
	}
	s.mu.Unlock()
	return 0, true
}

// Mismatch returns why e does not describe the content r of the given
// size (for a compressed file, its decompressed start), or "" when it does.
func (e Entry) Mismatch(r io.ReaderAt, size int64) (string, error) {
	return mismatch(e, r, size)
}

// mismatch returns why e does not apply to the file f of the given size,
// or "" when it does.
func mismatch(e Entry, f io.ReaderAt, size int64) (string, error) {
	switch {
	case e.Offset > size:
		return "the saved offset is beyond the end of the file (truncated or replaced)", nil
	case e.FingerprintSize > size:
		return "the file is shorter than its fingerprinted start (truncated or replaced)", nil
	case e.FingerprintSize == 0:
		// Nothing was fingerprinted (the file was empty or unreadable
		// when acknowledged); the offset check above is all there is.
		return "", nil
	}
	fp, n, err := fingerprint(f, e.FingerprintSize)
	if err != nil {
		return "", err
	}
	if n < e.FingerprintSize {
		return "the file is shorter than its fingerprinted start (truncated or replaced)", nil
	}
	if fp != e.Fingerprint {
		return "the file starts with different content (inode reused for a new file)", nil
	}
	return "", nil
}

// Ack records that the file with this device and inode, now at path, has
// been written by every output up to offset, in reading generation gen.
// For the same generation the offset only moves forward: an older
// acknowledgement is ignored, as is one of an older generation. A newer
// generation than the entry's (Begin was not called for it) replaces the
// offset.
//
// The fingerprint is computed on the first acknowledgement of a device and
// inode, and again on later ones while it covers fewer than
// FingerprintBytes. It is read from path after checking that path still
// names the same device and inode; if it does not (the file was rotated
// away), the entry keeps its previous fingerprint, or none.
func (s *Store) Ack(path string, dev, inode, gen uint64, offset int64) {
	if offset < 0 {
		return
	}
	key := Key{Dev: dev, Inode: inode}
	now := s.now()

	s.mu.Lock()
	e, ok := s.entries[key]
	if ok && gen < e.Generation {
		s.mu.Unlock()
		return
	}
	if ok && gen == e.Generation && (e.FingerprintSize >= FingerprintBytes || offset == e.Offset) && offset >= e.Offset {
		// The common case: no file access needed (a short fingerprint is
		// extended only when the file has grown).
		s.advanceLocked(e, path, offset, now)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()

	// A new entry, a short fingerprint or a new generation: look at the
	// file, without holding the lock.
	fp, err := fingerprintPath(path, key)

	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok = s.entries[key]
	switch {
	case !ok:
		e = &Entry{Path: path, Dev: dev, Inode: inode, Offset: offset, Generation: gen, Updated: now}
		if err == nil {
			e.Fingerprint, e.FingerprintSize = fp.sum, fp.n
		}
		s.entries[key] = e
		s.gen++
		return
	case gen < e.Generation:
		return
	case gen > e.Generation:
		*e = Entry{Path: path, Dev: dev, Inode: inode, Offset: offset, Generation: gen, Updated: now}
		if err == nil {
			e.Fingerprint, e.FingerprintSize = fp.sum, fp.n
		}
		s.gen++
		return
	case offset < e.Offset:
		return // a stale acknowledgement
	}
	if err == nil && fp.n > e.FingerprintSize {
		e.Fingerprint, e.FingerprintSize = fp.sum, fp.n
		s.gen++
	}
	s.advanceLocked(e, path, offset, now)
}

// Begin records that an input starts reading the file with this device
// and inode, as part of the stream named path, at offset in generation
// gen: what lies before offset is done with (read and acknowledged
// earlier, skipped by start_at, or the old content of a truncated file).
// r gives the file's content from its start (for a compressed file, the
// decompressed content) and size its length, for the fingerprint. Begin
// replaces whatever was saved for the device and inode.
func (s *Store) Begin(path string, dev, inode, gen uint64, r io.ReaderAt, size, offset int64) {
	sum, n, err := fingerprint(r, size)
	if err != nil {
		sum, n = "", 0
	}
	key := Key{Dev: dev, Inode: inode}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[key] = &Entry{Path: path, Dev: dev, Inode: inode, Offset: offset, Generation: gen,
		Fingerprint: sum, FingerprintSize: n, Updated: s.now()}
	s.gen++
}

// Refingerprint extends the fingerprint of the file with this device and
// inode from r (its content from the start, of length size) while the
// saved one covers fewer than FingerprintBytes, so that a file that was
// short when it was begun can still be recognised after it is renamed.
func (s *Store) Refingerprint(dev, inode uint64, r io.ReaderAt, size int64) {
	key := Key{Dev: dev, Inode: inode}
	s.mu.Lock()
	e, ok := s.entries[key]
	short := ok && e.FingerprintSize < FingerprintBytes && size > e.FingerprintSize
	s.mu.Unlock()
	if !short {
		return
	}
	sum, n, err := fingerprint(r, size)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && n > e.FingerprintSize {
		e.Fingerprint, e.FingerprintSize = sum, n
		s.gen++
	}
}

// Saved returns the entries saved for the stream named path (a followed
// file's live path), the most recently acknowledged first.
func (s *Store) Saved(path string) []Entry {
	s.mu.Lock()
	var out []Entry
	for _, e := range s.entries {
		if e.Path == path {
			out = append(out, *e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return b.Updated.Compare(a.Updated) })
	return out
}

// advanceLocked moves e forward to offset (offset >= e.Offset).
func (s *Store) advanceLocked(e *Entry, path string, offset int64, now time.Time) {
	if offset != e.Offset || path != e.Path {
		e.Offset, e.Path = offset, path
		s.gen++
	}
	// Refreshed even without a change, for Forget; not worth a write.
	e.Updated = now
}

// Forget drops the entries of files that no longer exist at their path
// with their device and inode, and that were not acknowledged for longer
// than ttl. It reports how many it dropped. Save calls it with the store's
// TTL.
func (s *Store) Forget(ttl time.Duration) int {
	now := s.now()
	s.mu.Lock()
	var old []Entry
	for _, e := range s.entries {
		if now.Sub(e.Updated) > ttl {
			old = append(old, *e)
		}
	}
	s.mu.Unlock()
	if len(old) == 0 {
		return 0
	}

	var gone []Entry
	for _, e := range old {
		if vanished(e) {
			gone = append(gone, e)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dropped := 0
	for _, e := range gone {
		// Keep an entry acknowledged while the file was being checked.
		if cur, ok := s.entries[e.Key()]; ok && cur.Updated.Equal(e.Updated) {
			delete(s.entries, e.Key())
			s.gen++
			dropped++
			s.log.Debug("forgot position of vanished file", "path", e.Path, "offset", e.Offset)
		}
	}
	return dropped
}

// vanished reports whether e's file is no longer at e.Path. A path that
// cannot be checked (for example for lack of permission) counts as
// present: forgetting a position is not undone by the next check.
func vanished(e Entry) bool {
	fi, err := os.Stat(e.Path)
	if os.IsNotExist(err) {
		return true
	}
	if err != nil {
		return false
	}
	k, ok := KeyOf(fi)
	return ok && k != e.Key()
}

// Run saves the store every interval (DefaultInterval when interval <= 0)
// until ctx is done, then saves once more. Failed saves are logged as
// warnings, at most once a minute while they keep failing; they
// never stop Run.
func (s *Store) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var r saveReporter
	for {
		select {
		case <-ctx.Done():
			r.report(s, s.Save())
			return
		case <-t.C:
			r.report(s, s.Save())
		}
	}
}
