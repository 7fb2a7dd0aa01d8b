package filters

import (
	"bytes"
	"sync"
)

// board passes each source's templates (see template) from a processor
// to its marker: the marker need not search the lines of an event the
// processor will take in one step. It is the one piece of state the two
// goroutines share. Both sides copy under the lock into buffers they
// reuse, so posting allocates nothing once a source's buffers have grown
// (fresh memory costs a page fault per 4 KiB on some machines).
type board struct {
	mu     sync.Mutex
	byPath map[string]*posting
}

// posting is one source's templates as the marker uses them.
type posting struct {
	gen int // changed by every post
	n   int
	ts  [2]posted
}

// posted is a template as the marker uses it: its bytes and the lengths
// of its first two lines, by which a batch's lines are ruled out before
// any comparison.
type posted struct {
	raw       []byte
	lines     int
	firstLen  int
	secondLen int
}

// post puts ts (at most two) on the board for path, in place of what was
// there.
func (b *board) post(path string, ts []*template) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byPath == nil {
		b.byPath = make(map[string]*posting)
	}
	p := b.byPath[path]
	if p == nil {
		p = &posting{}
		b.byPath[path] = p
	}
	p.gen++
	p.n = len(ts)
	for i, t := range ts {
		d := &p.ts[i]
		d.raw = append(d.raw[:0], t.raw...)
		d.lines, d.firstLen, d.secondLen = t.lines, t.firstLen, 0
		if t.lines > 1 {
			d.secondLen = bytes.IndexByte(t.raw[t.firstLen:], '\n') + 1
		}
	}
}

func (b *board) drop(path string) {
	b.mu.Lock()
	delete(b.byPath, path)
	b.mu.Unlock()
}

// copyFor returns the marker's copy of path's posting, brought up to
// date, from copies (the marker's, by path); nil when there is none.
func (b *board) copyFor(path string, copies map[string]*posting) *posting {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.byPath[path]
	dst := copies[path]
	if p == nil {
		if dst != nil {
			delete(copies, path)
		}
		return nil
	}
	if dst == nil {
		dst = &posting{}
		copies[path] = dst
	}
	if p.gen == dst.gen {
		return dst
	}
	dst.gen, dst.n = p.gen, p.n
	for i := range p.n {
		s, d := &p.ts[i], &dst.ts[i]
		d.raw = append(d.raw[:0], s.raw...)
		d.lines, d.firstLen, d.secondLen = s.lines, s.firstLen, s.secondLen
	}
	return dst
}

// match returns how many lines from line i of a batch (data, ends; line i
// starts at start) are the template's bytes: all of it, or all but its
// first line (a header that differs); 0 when neither.
func (p *posted) match(data []byte, ends []int, i, start int) int {
	n := ends[i] - start
	if n == p.firstLen {
		if k := matchAt(data, ends, i, start, p.raw, p.lines); k > 0 {
			return k
		}
	}
	if n == p.secondLen && p.lines > 1 {
		return matchAt(data, ends, i, start, p.raw[p.firstLen:], p.lines-1)
	}
	return 0
}

// matchAt returns lines when the batch's lines from line i on (line i
// starting at start) are raw, lines of them ending where raw's do; 0
// otherwise. The marker and replay both ask it.
func matchAt(data []byte, ends []int, i, start int, raw []byte, lines int) int {
	j, end := i+lines-1, start+len(raw)
	if j < len(ends) && ends[j] == end && bytes.Equal(data[start:end], raw) {
		return lines
	}
	return 0
}
