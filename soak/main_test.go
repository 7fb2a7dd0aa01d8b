package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppLogRotatesAtLineBoundaries writes lines in chunks that cut lines
// in every possible place: each rotated file must hold exactly rotate
// whole lines, and the files together the input, which the hash covers.
func TestAppLogRotatesAtLineBoundaries(t *testing.T) {
	var in strings.Builder
	for i := range 95 {
		fmt.Fprintf(&in, "line %d %s\n", i, strings.Repeat("x", i%7))
	}
	for _, chunk := range []int{1, 3, 10, 64, 1 << 20} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			a, err := newAppLog(path, 10, 1e9)
			if err != nil {
				t.Fatal(err)
			}
			data := []byte(in.String())
			for len(data) > 0 {
				n := min(chunk, len(data))
				if m, err := a.Write(data[:n]); err != nil || m != n {
					t.Fatalf("Write = %d, %v; want %d", m, err, n)
				}
				data = data[n:]
			}
			if err := a.close(); err != nil {
				t.Fatal(err)
			}
			if a.lines.Load() != 95 || a.rotations.Load() != 9 || a.bytes != int64(in.Len()) {
				t.Fatalf("lines %d, rotations %d, bytes %d; want 95, 9, %d", a.lines.Load(), a.rotations.Load(), a.bytes, in.Len())
			}
			var all strings.Builder
			for k := 1; k <= 10; k++ {
				p := fmt.Sprintf("%s.%d", path, k)
				if k == 10 {
					p = path
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				want := 10
				if k == 10 {
					want = 5
				}
				if n := strings.Count(string(b), "\n"); n != want || !strings.HasSuffix(string(b), "\n") {
					t.Errorf("%s holds %d lines (ends in newline: %v), want %d whole lines", p, n, strings.HasSuffix(string(b), "\n"), want)
				}
				all.Write(b)
			}
			if all.String() != in.String() {
				t.Fatal("the files together differ from the input")
			}
			if sum := sha256.Sum256([]byte(in.String())); string(a.sum.Sum(nil)) != string(sum[:]) {
				t.Error("hash differs from the input's")
			}
		})
	}
}

func TestSubsequence(t *testing.T) {
	tests := []struct {
		want, got string
		extra     int64
	}{
		{"a\nb\nc\n", "a\nb\nc\n", 0},
		{"a\nb\nc\n", "a\nx\nb\ny\nz\nc\n", 3},
		{"a\nb\nc\n", "a\nc\n", -1},
		{"a\nb\n", "b\na\n", -1},
		{"", "a\n", 1},
		{"a\na\n", "a\n", -1},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		w, g := filepath.Join(dir, "want"), filepath.Join(dir, "got")
		os.WriteFile(w, []byte(tt.want), 0o644)
		os.WriteFile(g, []byte(tt.got), 0o644)
		_, extra, err := subsequence(w, g)
		if err != nil || extra != tt.extra {
			t.Errorf("subsequence(%q, %q) = %d, %v; want %d", tt.want, tt.got, extra, err, tt.extra)
		}
	}
}
