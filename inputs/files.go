package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logsift/logsift/event"
)

// Where a file with no saved position starts.
const (
	StartAtEnd       = "end"
	StartAtBeginning = "beginning"
)

// DefaultRescan is how often the globs are re-evaluated when not configured.
const DefaultRescan = time.Second

// FilesConfig configures a FileSource.
type FilesConfig struct {
	Input   string   // input name, stamped on batches
	Paths   []string // glob patterns
	Exclude []string // glob patterns matched against the base name and the full path
	// StartAt is where files found at start with no saved position begin:
	// StartAtEnd (default) or StartAtBeginning. Files that appear later are
	// new content and are always read from their beginning.
	StartAt string
	// Rescan is the interval between glob evaluations (default 1s).
	Rescan time.Duration
	// Progress, if set, keeps where reading stopped; what it saved takes
	// precedence over StartAt.
	Progress Progress
	// Rotated are extra patterns naming a live file's rotated files, for
	// rotators whose names the built-in families do not cover: {name} is
	// the live file's base name, {dir} its directory; a relative pattern is
	// taken from that directory.
	Rotated []string
	// RotateWait is how long a rotated file is kept open after its last
	// write, for writers that reopen their log late (default 5s).
	RotateWait time.Duration
	// OnCaughtUp, if set, is told of every rotated file read as catch-up
	// (after a start, a stall or a double rotation) once it is finished,
	// with the bytes read from it.
	OnCaughtUp func(path string, bytes int64)
	// Own are the files logsift itself writes (file outputs, the
	// positions file): never followed, whatever the globs match, so that
	// logsift cannot read its own output back.
	Own []string
	// OnLost, if set, is told when a file's unread rest was deleted before
	// it could be read, with the offset read up to.
	OnLost func(path string, offset int64)
	// MaxLineBytes is the split size for long lines (default 1 MiB).
	MaxLineBytes int
	// OnSplit, if set, is called once for every line longer than MaxLineBytes.
	OnSplit func()
	// Poll makes the tail library poll files (every 250ms) instead of using
	// inotify. Inotify is preferred: the library's polling watcher ends the
	// process if a stat fails with anything but "not found" (for example a
	// directory losing its search permission), while its inotify watcher
	// only stats when the file reports a change.
	Poll bool
	// Once reads every matched file from its start position to its end
	// with plain reads, without following, and then returns.
	Once bool
}

// FileSource follows the files matched by a set of globs across rotation
// and truncation, or reads them once. It implements Source.
type FileSource struct {
	cfg       FilesConfig
	log       *slog.Logger
	ready     chan struct{}
	readyOnce sync.Once
	// open opens a file for reading; tests replace it to inject failures.
	open func(path string) (*os.File, error)
	// files is the number of files being followed.
	files atomic.Int64

	mu sync.Mutex
	// unmatched are the patterns that matched no file at the last scan;
	// noDir those of them whose directory does not exist.
	unmatched []string
	noDir     map[string]bool
}

// Unmatched returns the input's patterns that matched no file at the last
// scan, and which of them lack even their directory.
func (s *FileSource) Unmatched() (patterns []string, noDir map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unmatched), s.noDir
}

// Files is the number of files currently followed (logsift_input_files).
func (s *FileSource) Files() int { return int(s.files.Load()) }

// NewFiles returns a file source. A nil logger discards the source's logs.
func NewFiles(cfg FilesConfig, logger *slog.Logger) *FileSource {
	if cfg.StartAt == "" {
		cfg.StartAt = StartAtEnd
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = DefaultRescan
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.RotateWait <= 0 {
		cfg.RotateWait = DefaultRotateWait
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FileSource{cfg: cfg, log: logger, ready: make(chan struct{}), open: os.Open}
}

// Ready is closed once every file matched at start has been opened (or
// has failed to open and been reported; it is retried on every rescan, but
// an unreadable file does not hold readiness back forever).
func (s *FileSource) Ready() <-chan struct{} { return s.ready }

func (s *FileSource) markReady() { s.readyOnce.Do(func() { close(s.ready) }) }

func (s *FileSource) validate() error {
	if len(s.cfg.Paths) == 0 {
		return errors.New("no paths")
	}
	if s.cfg.StartAt != StartAtEnd && s.cfg.StartAt != StartAtBeginning {
		return fmt.Errorf("start_at %q: want %q or %q", s.cfg.StartAt, StartAtEnd, StartAtBeginning)
	}
	for _, p := range append(append(slices.Clip(s.cfg.Paths), s.cfg.Exclude...), expandRotated(s.cfg.Rotated, "/x")...) {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return nil
}

// Run follows the files (or, with Once, reads them) until ctx ends. In
// follow mode it returns nil after every tail has stopped; in Once mode it
// returns after the last file, with the errors of files it could not read.
func (s *FileSource) Run(ctx context.Context, out chan<- *event.LineBatch) error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("input %s: %w", s.cfg.Input, err)
	}
	if s.cfg.Once {
		return s.readOnce(ctx, out)
	}
	return s.follow(ctx, out)
}

// match evaluates the globs: sorted, without duplicates and exclusions.
func (s *FileSource) match() []string {
	paths, _ := s.matchAll()
	return paths
}

// matchAll is match, and the patterns that matched no file at all.
func (s *FileSource) matchAll() (paths, none []string) {
	for _, pat := range s.cfg.Paths {
		m, _ := filepath.Glob(pat) // patterns were validated
		if len(m) == 0 {
			none = append(none, pat)
		}
		for _, p := range m {
			if !s.excluded(p) {
				paths = append(paths, p)
			}
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths), none
}

// named reports whether the input's patterns name path (whether or not it
// exists).
func (s *FileSource) named(path string) bool {
	for _, pat := range s.cfg.Paths {
		if ok, _ := filepath.Match(pat, path); ok {
			return !s.excluded(path)
		}
	}
	return false
}

func (s *FileSource) excluded(path string) bool {
	base := filepath.Base(path)
	for _, pat := range s.cfg.Exclude {
		if ok, _ := filepath.Match(pat, base); ok {
			return true
		}
		if ok, _ := filepath.Match(pat, path); ok {
			return true
		}
	}
	return false
}

// openFile opens path and returns it with its identity, refusing anything
// but a regular file (a FIFO would block every read).
func (s *FileSource) openFile(path string) (*os.File, os.FileInfo, error) {
	fd, err := s.open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		fd.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file", path)
	}
	return fd, fi, nil
}

// startOffset decides where a file read once starts: a saved position,
// else the end for start_at end, else the beginning. A position beyond the
// end means the file was truncated since it was saved, so it starts over.
func (s *FileSource) startOffset(path string, fd *os.File, fi os.FileInfo) int64 {
	if s.cfg.Progress != nil {
		if off, ok := s.cfg.Progress.Lookup(path, fd, fi); ok {
			if off > fi.Size() || off < 0 {
				s.log.Warn("saved position is beyond the end of the file, reading it from the start",
					"path", path, "offset", off, "size", fi.Size())
				return 0
			}
			return off
		}
	}
	if s.cfg.StartAt == StartAtEnd {
		return fi.Size()
	}
	return 0
}

// readOnce reads every matched file from its start position to EOF through
// the same code path as stdin.
func (s *FileSource) readOnce(ctx context.Context, out chan<- *event.LineBatch) error {
	type opened struct {
		path  string
		fd    *os.File
		start int64
		id    event.FileID
	}
	var files []opened
	var errs []error
	for _, p := range s.match() {
		fd, fi, err := s.openFile(p)
		if err != nil {
			s.log.Error("cannot open file", "path", p, "err", err)
			errs = append(errs, err)
			continue
		}
		k := keyOf(fi)
		start := s.startOffset(p, fd, fi)
		if s.cfg.Progress != nil {
			// What lies before start is done with, and acknowledgements
			// of this run start from generation 0.
			s.cfg.Progress.Begin(p, k.dev, k.ino, 0, fd, fi.Size(), start)
		}
		files = append(files, opened{path: p, fd: fd, start: start, id: event.FileID{Dev: k.dev, Inode: k.ino}})
	}
	s.markReady()
	defer func() {
		for _, f := range files {
			f.fd.Close()
		}
	}()
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		if _, err := f.fd.Seek(f.start, io.SeekStart); err != nil {
			errs = append(errs, fmt.Errorf("seek %s: %w", f.path, err))
			continue
		}
		r := NewReader(s.cfg.Input, f.path, f.fd, ReaderOptions{
			MaxLineBytes: s.cfg.MaxLineBytes,
			Offset:       f.start,
			File:         f.id,
			OnSplit:      s.cfg.OnSplit,
		})
		if err := r.Run(ctx, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
