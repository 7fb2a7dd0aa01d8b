package filters

import (
	"testing"
)

// TestPostedMatch checks how many lines the marker takes as a template's:
// all of them, all after the first, or none, and never lines past the
// batch or not ending where the template's lines end.
func TestPostedMatch(t *testing.T) {
	tmpl := &template{raw: []byte("H1\nTraceback\n  x\nE: e\n"), lines: 4, firstLen: 3}
	one := &template{raw: []byte("only\n"), lines: 1, firstLen: 5}
	tests := []struct {
		name  string
		t     *template
		batch string
		at    int // line index to match from
		want  int
	}{
		{"whole", tmpl, "a\nH1\nTraceback\n  x\nE: e\nb\n", 1, 4},
		{"rest after another header", tmpl, "H2\nTraceback\n  x\nE: e\n", 1, 3},
		{"rest after a header of the same length", tmpl, "H2\nTraceback\n  x\nE: e\n", 0, 0},
		{"cut by the batch end", tmpl, "H1\nTraceback\n  x\n", 0, 0},
		{"a line differs", tmpl, "H1\nTraceback\n  y\nE: e\n", 0, 0},
		{"a line longer", tmpl, "H1\nTraceback\n  x\nE: e2\n", 0, 0},
		{"one line", one, "only\n", 0, 1},
		{"one line, other", one, "onlx\n", 0, 0},
		{"one line never by its rest", one, "x\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b board
			b.post("p", []*template{tt.t})
			cp := b.copyFor("p", map[string]*posting{})
			data := []byte(tt.batch)
			var ends []int
			for i, c := range data {
				if c == '\n' {
					ends = append(ends, i+1)
				}
			}
			start := 0
			if tt.at > 0 {
				start = ends[tt.at-1]
			}
			if got := cp.ts[0].match(data, ends, tt.at, start); got != tt.want {
				t.Errorf("match = %d lines, want %d", got, tt.want)
			}
		})
	}
}

// TestBoardCopies checks that the marker's copy follows the board: a new
// posting replaces it, a dropped path removes it.
func TestBoardCopies(t *testing.T) {
	var b board
	copies := map[string]*posting{}
	if b.copyFor("p", copies) != nil {
		t.Fatal("a copy of nothing posted")
	}
	b.post("p", []*template{{raw: []byte("a\nb\n"), lines: 2, firstLen: 2}})
	cp := b.copyFor("p", copies)
	if cp == nil || cp.n != 1 || string(cp.ts[0].raw) != "a\nb\n" || cp.ts[0].secondLen != 2 {
		t.Fatalf("copy %+v", cp)
	}
	b.post("p", []*template{{raw: []byte("c\n"), lines: 1, firstLen: 2}, {raw: []byte("d\ne\n"), lines: 2, firstLen: 2}})
	cp = b.copyFor("p", copies)
	if cp.n != 2 || string(cp.ts[0].raw) != "c\n" || string(cp.ts[1].raw) != "d\ne\n" {
		t.Fatalf("copy after a second post %+v", cp)
	}
	b.drop("p")
	if b.copyFor("p", copies) != nil || len(copies) != 0 {
		t.Fatal("the copy outlived the dropped posting")
	}
}
