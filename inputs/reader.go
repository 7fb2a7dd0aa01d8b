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

// chunk is the result of one Read.
type chunk struct {
	buf []byte
	n   int
	err error
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
	w := newBatcher(s.pool, s.input, s.path, s.opts.MaxLineBytes, s.opts.OnSplit)
	w.reset(s.opts.File, s.opts.Offset)

	// Two buffers alternate between the reading goroutine and this one, so
	// the next Read overlaps the splitting of the previous chunk.
	done := make(chan struct{})
	defer close(done)
	free := make(chan []byte, 2)
	free <- make([]byte, s.opts.ReadBytes)
	free <- make([]byte, s.opts.ReadBytes)
	chunks := make(chan chunk)
	go s.read(free, chunks, done)

	for {
		var c chunk
		select {
		case c = <-chunks:
		case <-ctx.Done():
			return nil
		}
		rest := c.buf[:c.n]
		for {
			rest = w.write(rest)
			if b := w.take(); b != nil && !send(ctx, out, b) {
				return nil
			}
			if len(rest) == 0 {
				break
			}
		}
		free <- c.buf
		if c.err == nil {
			continue
		}
		w.finish()
		if b := w.take(); b != nil && !send(ctx, out, b) {
			return nil
		}
		if errors.Is(c.err, io.EOF) {
			return nil
		}
		return fmt.Errorf("read %s: %w", s.path, c.err)
	}
}

// read issues Reads into free buffers until an error (EOF included).
func (s *ReaderSource) read(free chan []byte, chunks chan<- chunk, done <-chan struct{}) {
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-done:
			return
		}
		n, err := s.r.Read(buf)
		if n == 0 && err == nil {
			free <- buf
			continue
		}
		select {
		case chunks <- chunk{buf: buf, n: n, err: err}:
		case <-done:
			return
		}
		if err != nil {
			return
		}
	}
}
