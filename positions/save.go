package positions

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Version is the positions file format this package reads and writes.
const Version = 1

// DefaultInterval is how often Run saves. A crash repeats at most the
// events acknowledged in the last interval; one small write per second is
// negligible next to the logs being read.
const DefaultInterval = time.Second

// errorLogEvery is the least time between two logged save failures.
const errorLogEvery = time.Minute

// fileFormat is the positions file's JSON document.
type fileFormat struct {
	Version int     `json:"version"`
	Files   []Entry `json:"files"`
	// Journals holds journal inputs' cursors; absent when there are none,
	// so a file without journal inputs reads as before.
	Journals []Cursor `json:"journals,omitempty"`
}

// encode renders entries (sorted by the caller) as the positions file.
func encode(entries []Entry, cursors []Cursor) ([]byte, error) {
	if entries == nil {
		entries = []Entry{} // "files": [] rather than null
	}
	data, err := json.MarshalIndent(fileFormat{Version: Version, Files: entries, Journals: cursors}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// decode parses a positions file, saying what is wrong with one that is
// not a valid version-1 logsift positions file.
func decode(data []byte) ([]Entry, []Cursor, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, errors.New("the file is empty")
	}
	if !json.Valid(data) {
		// Unmarshal says where and how (e.g. "unexpected end of JSON
		// input" for a truncated file).
		var v any
		err := json.Unmarshal(data, &v)
		return nil, nil, fmt.Errorf("not valid JSON (corrupt or truncated): %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, errors.New("not a logsift positions file: the top level is not a JSON object")
	}
	rawVersion, ok := top["version"]
	if !ok {
		return nil, nil, errors.New("not a logsift positions file: no \"version\" field")
	}
	var version int
	if err := json.Unmarshal(rawVersion, &version); err != nil {
		return nil, nil, fmt.Errorf("not a logsift positions file: \"version\" is %s, not a number", rawVersion)
	}
	if version != Version {
		return nil, nil, fmt.Errorf("unsupported positions file version %d (this logsift reads version %d)", version, Version)
	}
	if _, ok := top["files"]; !ok {
		return nil, nil, errors.New("not a logsift positions file: no \"files\" field")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc fileFormat
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("not a logsift positions file: %w", err)
	}
	seen := make(map[Key]bool, len(doc.Files))
	for i, e := range doc.Files {
		if err := validate(e); err != nil {
			return nil, nil, fmt.Errorf("files[%d] (%q): %w", i, e.Path, err)
		}
		if seen[e.Key()] {
			return nil, nil, fmt.Errorf("files[%d] (%q): device %d inode %d listed twice", i, e.Path, e.Dev, e.Inode)
		}
		seen[e.Key()] = true
	}
	inputs := make(map[string]bool, len(doc.Journals))
	for i, c := range doc.Journals {
		if err := validateCursor(c); err != nil {
			return nil, nil, fmt.Errorf("journals[%d] (%q): %w", i, c.Input, err)
		}
		if inputs[c.Input] {
			return nil, nil, fmt.Errorf("journals[%d]: input %q listed twice", i, c.Input)
		}
		inputs[c.Input] = true
	}
	return doc.Files, doc.Journals, nil
}

// validate checks one entry's fields for values logsift never writes.
func validate(e Entry) error {
	switch {
	case e.Path == "":
		return errors.New("empty path")
	case e.Offset < 0:
		return fmt.Errorf("negative offset %d", e.Offset)
	case e.FingerprintSize < 0 || e.FingerprintSize > FingerprintBytes:
		return fmt.Errorf("fingerprint_size %d outside 0..%d", e.FingerprintSize, FingerprintBytes)
	case (e.Fingerprint == "") != (e.FingerprintSize == 0):
		return errors.New("fingerprint and fingerprint_size disagree")
	}
	if e.Fingerprint != "" {
		if b, err := hex.DecodeString(e.Fingerprint); err != nil || len(b) != 32 {
			return fmt.Errorf("fingerprint %q is not a hex SHA-256", e.Fingerprint)
		}
	}
	return nil
}

// Save forgets entries of vanished files (see Forget) and writes the store
// if anything changed since the last successful Save. The write is atomic:
// a temporary file in the same directory is written, synced and renamed
// over the positions file, and the directory is synced, so a crash leaves
// either the old or the new file, never a partial one. Errors name the
// positions file.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()

	// Looking for vanished files costs a stat per file idle for longer
	// than the TTL: done now and then, not on every save.
	s.mu.Lock()
	ttl := s.ttl
	due := s.now().Sub(s.lastForget) >= min(time.Minute, ttl/10)
	if due {
		s.lastForget = s.now()
	}
	s.mu.Unlock()
	if due {
		s.Forget(ttl)
	}

	s.mu.Lock()
	if s.gen == s.savedGen {
		s.mu.Unlock()
		return nil
	}
	gen := s.gen
	entries := s.snapshotLocked()
	cursors := s.cursorsLocked()
	s.mu.Unlock()

	data, err := encode(entries, cursors)
	if err != nil {
		return fmt.Errorf("save positions %s: %w", s.path, err)
	}
	if err := writeAtomic(s.path, data); err != nil {
		return fmt.Errorf("save positions %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.savedGen = gen
	s.mu.Unlock()
	return nil
}

// writeAtomic replaces path with data through a synced temporary file in
// the same directory.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// The file holds log paths and offsets, nothing secret; readable
	// like the logs' directory listing.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some filesystems cannot sync a directory; the rename is then as
	// durable as they make it.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// saveReporter logs failed saves without flooding the log while the same
// problem persists.
type saveReporter struct {
	failing    bool
	lastLogged time.Time
	suppressed int
}

// report logs the outcome of one Save.
func (r *saveReporter) report(s *Store, err error) {
	now := s.now()
	if err == nil {
		if r.failing {
			s.log.Info("positions saved again", "path", s.path)
		}
		*r = saveReporter{}
		return
	}
	if r.failing && now.Sub(r.lastLogged) < errorLogEvery {
		r.suppressed++
		return
	}
	s.log.Warn("cannot save positions; a restart may repeat events", "path", s.path, "error", err,
		"failures_not_logged", r.suppressed)
	r.failing, r.lastLogged, r.suppressed = true, now, 0
}
