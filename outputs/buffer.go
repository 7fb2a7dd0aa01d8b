package outputs

import (
	"io"

	"github.com/logsift/logsift/event"
)

// bufferSize is how much an output collects before writing to its
// destination: large enough that a busy output makes few system calls,
// small enough to stay negligible per output.
const bufferSize = 64 << 10

// buffer is a write buffer that, unlike bufio.Writer, survives errors:
// bytes the destination did not accept stay in the buffer and go out on the
// next flush, so a failed write can be retried without loss or repetition.
type buffer struct {
	dst io.Writer
	buf []byte // pending bytes; cap(buf) is the buffer size
}

func newBuffer(dst io.Writer, size int) buffer {
	return buffer{dst: dst, buf: make([]byte, 0, size)}
}

// flush writes the pending bytes. On error the bytes not yet written stay
// pending.
func (b *buffer) flush() error {
	for len(b.buf) > 0 {
		n, err := b.dst.Write(b.buf)
		if n > 0 {
			b.buf = b.buf[:copy(b.buf, b.buf[n:])]
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
	}
	return nil
}

// write accepts p, buffering it or, when it does not fit, flushing the
// pending bytes and then writing p straight through if it is at least as
// large as the buffer. It returns how much of p was accepted: on error the
// caller retries with p[n:].
func (b *buffer) write(p []byte) (int, error) {
	if len(b.buf)+len(p) <= cap(b.buf) {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	if err := b.flush(); err != nil {
		return 0, err
	}
	if len(p) < cap(b.buf) {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	n, err := b.dst.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

// sink is what every output shares: a name, a selection, a buffer, and the
// place a failed batch write stopped at.
type sink struct {
	name string
	sel  Selection
	buf  buffer

	// resume and resumeAt record the batch whose write failed and the
	// index in its Data where the retry continues.
	resume   *event.OutBatch
	resumeAt int
}

// write hands the selected segments of b to the buffer, one write per
// segment, continuing after a previous failure on the same batch.
func (s *sink) write(b *event.OutBatch) error {
	from := 0
	if s.resume == b {
		from = s.resumeAt
	}
	s.resume = nil
	start := 0
	for _, seg := range b.Segments {
		end := seg.End
		if end > from && s.sel.Selects(seg.Verdict) {
			lo := max(start, from)
			n, err := s.buf.write(b.Data[lo:end])
			if err != nil {
				s.resume, s.resumeAt = b, lo+n
				return err
			}
		}
		start = end
	}
	return nil
}
