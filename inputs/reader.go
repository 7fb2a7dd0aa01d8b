package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/logsift/logsift/event"
)

// DefaultReadBytes is the size of each Read a ReaderSource issues.
const DefaultReadBytes = 64 << 10

// ReaderOptions tunes a ReaderSource. The zero value is ready to use.
type ReaderOptions struct {
	// MaxLineBytes is the longest line content (without its newline)
	// emitted as one line; longer lines are emitted in parts of this size.
	// Default DefaultMaxLineBytes.
	MaxLineBytes int
	// ReadBytes is the size of each Read. Default DefaultReadBytes.
	ReadBytes int
	// Offset is the position of the reader's first byte in its file, so
	// that batches carry file offsets (zero for stdin).
	Offset int64
	// File identifies the file being read, stamped on every batch.
	File event.FileID
	// OnSplit, if set, is called once for every line longer than
	// MaxLineBytes (not once per part).
	OnSplit func()
}

// ReaderSource reads lines from an io.Reader (stdin, or a file read once)
// and forwards them byte for byte. It implements Source.
type ReaderSource struct {
	input string
	path  string
	r     io.Reader
	opts  ReaderOptions
	pool  *batchPool
}

// NewReader returns a source that reads r until EOF. input names the input
// (metric label); path is stamped on batches ("-" for stdin).
func NewReader(input, path string, r io.Reader, opts ReaderOptions) *ReaderSource {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.ReadBytes <= 0 {
		opts.ReadBytes = DefaultReadBytes
	}
	return &ReaderSource{input: input, path: path, r: r, opts: opts, pool: newBatchPool()}
}

// Run reads until EOF, a read error or the end of ctx, sending every
// complete line and, at EOF or on error, a final line without newline.
// Lines available after each Read are sent at once rather than waiting for
// a full buffer, so interactive pipelines see them immediately.
//
// It returns nil at EOF or when ctx ends, and the read error otherwise. A
// Read blocked when ctx ends (stdin with no writer) cannot be interrupted:
// Run returns regardless and the goroutine doing the Read ends once that
// Read returns.
func (s *ReaderSource) Run(ctx context.Context, out chan<- *event.LineBatch) error {
	// A goroutine reads and splits; this one hands its batches on, so it
	// can return when ctx ends even while that goroutine is stuck in Read.
	done := make(chan struct{})
	defer close(done)
	ready := make(chan *event.LineBatch, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.fill(ready, done) }()
	for {
		select {
		case b, ok := <-ready:
			if !ok {
				return <-errc
			}
			if !send(ctx, out, b) {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// fill reads into the batches themselves and splits the lines where they
// lie (see batcher.commit), handing each Read's complete lines to ready.
// It closes ready at EOF or on a read error, which it returns.
func (s *ReaderSource) fill(ready chan<- *event.LineBatch, done <-chan struct{}) error {
	defer close(ready)
	w := newBatcher(s.pool, s.input, s.path, s.opts.MaxLineBytes, s.opts.OnSplit)
	w.reset(s.opts.File, s.opts.Offset)
	scratch := make([]byte, s.opts.ReadBytes)
	hand := func() bool {
		b := w.take()
		if b == nil {
			return true
		}
		select {
		case ready <- b:
			return true
		case <-done:
			b.Release()
			return false
		}
	}
	// write passes p through the batcher, handing full batches on.
	write := func(p []byte) bool {
		for {
			p = w.write(p)
			if len(p) == 0 {
				return true
			}
			if !hand() {
				return false
			}
		}
	}
	for {
		b := w.batch()
		var n int
		var err error
		if room := cap(b.Data) - len(b.Data); room >= minDirectRead {
			n, err = s.r.Read(b.Data[len(b.Data) : len(b.Data)+min(room, s.opts.ReadBytes)])
			if rest := w.commit(n); len(rest) > 0 {
				// A line longer than the split size or past the
				// batch's line count: the ordinary path copes.
				k := copy(scratch, rest)
				if !write(scratch[:k]) {
					return nil
				}
			}
		} else {
			// A long open line leaves little room: read beside it.
			n, err = s.r.Read(scratch)
			if !write(scratch[:n]) {
				return nil
			}
		}
		if n > 0 && !hand() {
			return nil
		}
		if err != nil {
			w.finish()
			if !hand() {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read %s: %w", s.path, err)
		}
	}
}
