package inputs

import (
	"bytes"
	"context"

	"github.com/logsift/logsift/event"
)

const (
	// DefaultMaxLineBytes is the split size for lines when none is configured.
	DefaultMaxLineBytes = 1 << 20
	// batchBytes is the amount of complete-line data after which a batch is
	// sent even though more input is at hand: large enough to amortise the
	// channel send, small enough to stay in a core's cache while the
	// marker, the processor and the outputs pass it on (64 KiB: 1M lines
	// in 0.14 s against 0.16 s with 256 KiB, and half the page faults).
	batchBytes = 64 << 10
	// batchLines caps the lines per batch so that a flood of empty lines
	// still yields batches of bounded Ends length.
	batchLines = 4096
	// poolSize is how many released batches a pool keeps for reuse.
	poolSize = 16
	// maxKeptData is the largest Data buffer a pool keeps: a batch that
	// had to grow for a huge line is left to the garbage collector instead
	// of pinning that memory forever.
	maxKeptData = 1 << 20
)

// batchPool is a free list of line batches. Consumers hand batches back
// through LineBatch.Release; get reuses them so that steady-state reading
// allocates nothing.
type batchPool struct {
	free    chan *event.LineBatch
	release func(*event.LineBatch) // p.put, bound once so Release costs no allocation
}

func newBatchPool() *batchPool {
	p := &batchPool{free: make(chan *event.LineBatch, poolSize)}
	p.release = p.put
	return p
}

func (p *batchPool) get() *event.LineBatch {
	select {
	case b := <-p.free:
		return b
	default:
		// Made at full size: grown by appends, a batch would leave
		// half a megabyte of garbage on its way, and a new process
		// makes a dozen of them.
		b := event.NewLineBatch(p.release)
		b.Data = make([]byte, 0, batchBytes+batchBytes/4)
		b.Ends = make([]int, 0, batchLines)
		return b
	}
}

func (p *batchPool) put(b *event.LineBatch) {
	if cap(b.Data) > maxKeptData {
		return
	}
	b.Reset()
	select {
	case p.free <- b:
	default:
	}
}

// batcher packs lines into batches for one file (or stdin). It accepts raw
// bytes (write), splits
// lines longer than max into parts, and tracks the file offset of every
// byte so each batch carries an exact EndOffset.
//
// Bytes of a line whose newline has not been seen yet stay at the end of the
// current batch's Data (after the last entry of Ends) and move to the next
// batch when the current one is taken.
type batcher struct {
	pool    *batchPool
	input   string
	path    string
	file    event.FileID
	max     int
	onSplit func()

	b         *event.LineBatch
	base      int64 // file offset of b.Data[0]
	splitting bool  // the open line already had a part emitted
}

func newBatcher(pool *batchPool, input, path string, maxLine int, onSplit func()) *batcher {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	return &batcher{pool: pool, input: input, path: path, max: maxLine, onSplit: onSplit}
}

// reset points the batcher at a new position (a new file incarnation or a
// jump in offset). It must only be called when no line is open.
func (w *batcher) reset(file event.FileID, offset int64) {
	w.file = file
	w.base = offset
	w.splitting = false
	if w.b != nil {
		w.b.Data = w.b.Data[:0]
		w.b.Ends = w.b.Ends[:0]
	}
}

func (w *batcher) batch() *event.LineBatch {
	if w.b == nil {
		w.b = w.pool.get()
	}
	return w.b
}

// lastEnd is the length of Data taken by complete lines.
func (w *batcher) lastEnd() int {
	if n := len(w.b.Ends); n > 0 {
		return w.b.Ends[n-1]
	}
	return 0
}

// full reports whether the current batch should be sent before more lines
// are added.
func (w *batcher) full() bool {
	return w.b != nil && (w.lastEnd() >= batchBytes || len(w.b.Ends) >= batchLines)
}

// offset is the file offset just after the last byte handed to the batcher
// (including an open line's bytes).
func (w *batcher) offset() int64 {
	if w.b == nil {
		return w.base
	}
	return w.base + int64(len(w.b.Data))
}

// delivered is the file offset just after the last complete line handed to
// the batcher.
func (w *batcher) delivered() int64 {
	if w.b == nil {
		return w.base
	}
	return w.base + int64(w.lastEnd())
}

// closeLine ends the open line at the current end of Data.
func (w *batcher) closeLine() {
	w.b.Ends = append(w.b.Ends, len(w.b.Data))
}

// closePart ends the open line as a part without newline because it reached
// the split size.
func (w *batcher) closePart() {
	if !w.splitting {
		w.splitting = true
		if w.onSplit != nil {
			w.onSplit()
		}
	}
	w.closeLine()
}

// write splits p into lines appended to the current batch. It stops early
// when the batch is full and returns the bytes it did not consume; the
// caller takes the batch and calls write again with the rest.
func (w *batcher) write(p []byte) []byte {
	b := w.batch()
	for len(p) > 0 {
		if w.full() {
			return p
		}
		if n := w.lines(p); n > 0 {
			p = p[n:]
			continue
		}
		open := len(b.Data) - w.lastEnd()
		if open == w.max {
			// The line already holds max content bytes: its newline may
			// still join it, anything else starts the next part.
			if p[0] == '\n' {
				b.Data = append(b.Data, '\n')
				p = p[1:]
				w.closeLine()
				w.splitting = false
			} else {
				w.closePart()
			}
			continue
		}
		n := min(w.max-open, len(p))
		if i := bytes.IndexByte(p[:n], '\n'); i >= 0 {
			b.Data = append(b.Data, p[:i+1]...)
			p = p[i+1:]
			w.closeLine()
			w.splitting = false
			continue
		}
		b.Data = append(b.Data, p[:n]...)
		p = p[n:]
	}
	return nil
}

// lines takes the whole lines at the start of p that fit the split size,
// until the batch is full, in one copy; it returns how many bytes it took
// (0 when the first line is longer than the split size, or incomplete).
func (w *batcher) lines(p []byte) int {
	b := w.b
	base := len(b.Data)
	start := w.lastEnd() // of the line p continues
	n := 0
	for {
		i := bytes.IndexByte(p[n:], '\n')
		if i < 0 {
			break
		}
		end := base + n + i + 1
		if end-1-start > w.max {
			break
		}
		b.Ends = append(b.Ends, end)
		start = end
		n += i + 1
		if end >= batchBytes || len(b.Ends) >= batchLines {
			break
		}
	}
	if n > 0 {
		b.Data = append(b.Data, p[:n]...)
		w.splitting = false
	}
	return n
}

// minDirectRead is the least room a batch must have left for a Read to go
// straight into it.
const minDirectRead = 4 << 10

// commit takes the n bytes a Read put right after the current batch's
// Data, in its spare capacity, as written: their whole lines are split
// where they lie, with no copy. It returns the bytes it could not take
// that way (a line longer than the split size, or lines past the batch's
// line count), for write; they still lie in the batch's spare capacity,
// so the caller copies them out first.
func (w *batcher) commit(n int) []byte {
	b := w.b
	base := len(b.Data)
	p := b.Data[base : base+n]
	start := w.lastEnd()
	k := 0
	for len(b.Ends) < batchLines {
		i := bytes.IndexByte(p[k:], '\n')
		if i < 0 {
			break
		}
		end := base + k + i + 1
		if end-1-start > w.max {
			break
		}
		b.Ends = append(b.Ends, end)
		start = end
		k += i + 1
	}
	if k > 0 {
		w.splitting = false
	}
	// What follows the last newline is the start of the open line: it
	// stays, unless it already passed the split size.
	if len(b.Ends) < batchLines && bytes.IndexByte(p[k:], '\n') < 0 && base+n-start <= w.max {
		k = n
	}
	b.Data = b.Data[:base+k]
	return p[k:]
}

// finish closes the open line, if any, as a final fragment without newline.
func (w *batcher) finish() {
	if w.b != nil && len(w.b.Data) > w.lastEnd() {
		w.closeLine()
		w.splitting = false
	}
}

// take returns the current batch if it holds complete lines, or nil. An
// open line's bytes move to a fresh batch that becomes current.
func (w *batcher) take() *event.LineBatch {
	b := w.b
	if b == nil || len(b.Ends) == 0 {
		return nil
	}
	end := w.lastEnd()
	w.b = nil
	if open := b.Data[end:]; len(open) > 0 {
		nb := w.batch()
		nb.Data = append(nb.Data, open...)
		b.Data = b.Data[:end]
	}
	b.Input, b.Path, b.File = w.input, w.path, w.file
	b.EndOffset = w.base + int64(end)
	w.base = b.EndOffset
	return b
}

// send hands b to out unless ctx ends first, in which case b is released
// and send reports false.
func send(ctx context.Context, out chan<- *event.LineBatch, b *event.LineBatch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		b.Release()
		return false
	}
}
