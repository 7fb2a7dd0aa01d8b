package ruletest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// diffContext is how many unchanged lines surround each change in a hunk.
const diffContext = 3

// maxEditDistance bounds the work of the line diff: beyond this many
// differing lines the texts are shown as wholly removed and added, which
// is still a correct (if longer) diff.
const maxEditDistance = 2000

type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// edit is one line of an edit script: a line of a (delete), of b (insert)
// or of both (equal).
type edit struct {
	kind opKind
	a, b int // indexes into the two line lists; -1 where not applicable
}

// splitLines splits s after every newline; a last line without one is a
// line of its own.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// myers returns a shortest edit script turning a into b (Myers' O(ND)
// algorithm, with the search frontier of every step kept for the way back).
func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEditDistance)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, off, n, m)
			}
		}
	}
	// Too different: everything out, everything in.
	script := make([]edit, 0, n+m)
	for i := range a {
		script = append(script, edit{opDelete, i, -1})
	}
	for j := range b {
		script = append(script, edit{opInsert, -1, j})
	}
	return script
}

func backtrack(trace [][]int, off, x, y int) []edit {
	var rev []edit
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{opEqual, x, y})
		}
		if d == 0 {
			break
		}
		if x == prevX {
			rev = append(rev, edit{opInsert, -1, prevY})
		} else {
			rev = append(rev, edit{opDelete, prevX, -1})
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// unifiedDiff renders the line diff of want and got in unified format with
// the given file labels; "" when they are equal. Control characters and
// invalid UTF-8 are shown escaped, so that a stray \r or escape sequence
// is visible rather than acted on by the terminal.
func unifiedDiff(wantLabel, gotLabel, want, got string) string {
	if want == got {
		return ""
	}
	a, b := splitLines(want), splitLines(got)
	script := myers(a, b)

	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", wantLabel, gotLabel)
	for i := 0; i < len(script); {
		// Find the next change, then extend the hunk while changes are
		// within 2*diffContext lines of each other.
		for i < len(script) && script[i].kind == opEqual {
			i++
		}
		if i == len(script) {
			break
		}
		start := max(0, i-diffContext)
		end := i
		for j := i; j < len(script); j++ {
			if script[j].kind != opEqual {
				end = j + 1
			} else if j-end >= 2*diffContext {
				break
			}
		}
		end = min(len(script), end+diffContext)
		writeHunk(&sb, script[start:end], a, b)
		i = end
	}
	return sb.String()
}

func writeHunk(sb *strings.Builder, h []edit, a, b []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, e := range h {
		if e.a >= 0 {
			if aStart < 0 {
				aStart = e.a
			}
			aLen++
		}
		if e.b >= 0 {
			if bStart < 0 {
				bStart = e.b
			}
			bLen++
		}
	}
	// A hunk with no line of one side only arises when that side is
	// empty (any other line would be context or a change in the hunk);
	// diff -u then names line 0.
	aStart, bStart = max(aStart, 0), max(bStart, 0)
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, e := range h {
		var line string
		if e.kind == opInsert {
			line = b[e.b]
		} else {
			line = a[e.a]
		}
		sb.WriteByte(byte(e.kind))
		body, hasNL := strings.CutSuffix(line, "\n")
		sb.WriteString(visible(body))
		sb.WriteByte('\n')
		if !hasNL {
			sb.WriteString("\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// visible escapes control characters (except tab) and invalid UTF-8.
func visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case r < 0x20 && r != '\t', r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}
