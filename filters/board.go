package filters

import (
	"bytes"
	"sync"
)

// board passes each source's template (see template) from a processor to
// its marker: the marker need not search the lines of an event the
// processor will take in one step. It is the one piece of state the two
// goroutines share; what it holds is never changed, only replaced.
type board struct {
	mu     sync.Mutex
	byPath map[string][]*posted
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

// post puts ts on the board for path, in place of what was there.
func (b *board) post(path string, ts []*template) {
	ps := make([]*posted, len(ts))
	for i, t := range ts {
		p := &posted{raw: bytes.Clone(t.raw), lines: t.lines, firstLen: t.firstLen}
		if t.lines > 1 {
			p.secondLen = bytes.IndexByte(t.raw[t.firstLen:], '\n') + 1
		}
		ps[i] = p
	}
	b.mu.Lock()
	if b.byPath == nil {
		b.byPath = make(map[string][]*posted)
	}
	b.byPath[path] = ps
	b.mu.Unlock()
}

func (b *board) drop(path string) {
	b.mu.Lock()
	delete(b.byPath, path)
	b.mu.Unlock()
}

func (b *board) get(path string) []*posted {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byPath[path]
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
	if n == p.secondLen {
		return matchAt(data, ends, i, start, p.raw[p.firstLen:], p.lines-1)
	}
	return 0
}

func matchAt(data []byte, ends []int, i, start int, raw []byte, lines int) int {
	j, end := i+lines-1, start+len(raw)
	if j < len(ends) && ends[j] == end && bytes.Equal(data[start:end], raw) {
		return lines
	}
	return 0
}
