package rules

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		expr string
		want []string // nil: no prefilter
	}{
		{`abc`, []string{"abc"}},
		{`(?m)^AssertionError: write\(\) before start_response\(?\)?$`, []string{"AssertionError: write() before start_response"}},
		{`a(b)c`, []string{"abc"}},
		{`^a$`, []string{"a"}},
		{`\bword\b`, []string{"word"}},
		{`ab\d+cdef`, []string{"cdef"}},
		{`xyz\s+ab`, []string{"xyz"}},
		{`foo|bar`, []string{"foo", "bar"}},
		{`(?:foo|bar)\d+bazooka`, []string{"bazooka"}},
		{`(?:foo|bar)\d+ba`, []string{"foo", "bar"}},
		{`foo|\d+`, nil},
		{`foo|`, nil},
		{`(foo)+`, []string{"foo"}},
		{`(foo)*`, nil},
		{`(foo)?bar`, []string{"bar"}},
		{`(?:abc){2,3}`, []string{"abcabc"}},
		{`(?:abc){0,3}`, nil},
		{`.*`, nil},
		{`[ab]`, nil},
		{`\d+`, nil},
		{``, nil},
		{`(?i)abc`, nil},
		{`(?i)error: 500`, []string{": 500"}},
		{`(?i)k1`, []string{"1"}},
		{`(?i:abc)-xyz`, []string{"-xyz"}},
		{`a\x{FFFD}bc`, []string{"bc"}},
		{`transport=websocket[^"]*" 500 `, []string{"transport=websocket"}},
		{`"(?:\x1b\[[0-9;]*m)*GET [^" ]*/socket\.io/\?(?:[^" ]*&)?transport=websocket(?:&[^" ]*)? HTTP/1\.[01](?:\x1b\[[0-9;]*m)*" 500 -\n`,
			[]string{"transport=websocket"}},
		{`\A[^\n]*Error on request:\nTraceback \(most recent call last\):\n`,
			[]string{"Error on request:\nTraceback (most recent call last):\n"}},
		{`a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q`, nil}, // more than maxLiterals alternatives
		{`(`, nil}, // does not parse: no prefilter, and Compile reports it
	}
	for _, tt := range tests {
		got := requiredLiterals(tt.expr)
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// TestPrefilterNeverRejectsAMatch is a property test: for random regexps
// and random inputs, whenever the regexp matches, one of its required
// literals is present, and the matcher (prefilter and line-local search)
// always agrees with the plain regexp.
func TestPrefilterNeverRejectsAMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Inputs use case variants, the Kelvin sign and long s (which (?i)k
	// and (?i)s match), newlines and an invalid byte.
	alphabet := []string{"a", "b", "c", "A", "B", "k", "K", "\u212a", "s", "\u017f", "\n", "\n", "\n", " ", "1", "\xff", "\ufffd", "ab", "abc"}
	matched, filtered := 0, 0
	for range 3000 {
		expr := randomRegex(rng, 3)
		re, err := regexp.Compile(expr)
		if err != nil {
			t.Fatalf("generated invalid regexp %q: %v", expr, err)
		}
		lits := requiredLiterals(expr)
		m, err := newRegex(expr)
		if err != nil {
			t.Fatalf("newRegex(%q): %v", expr, err)
		}
		for range 40 {
			var in strings.Builder
			for range rng.IntN(16) {
				in.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			b := []byte(in.String())
			want := re.Match(b)
			if got := MatchText(m, b); got != want {
				t.Fatalf("regexp %q on %q: matcher (literals %q, line-local %v) says %v, regexp says %v",
					expr, b, m.literals, m.lineLocal, got, want)
			}
			if !want {
				continue
			}
			matched++
			if lits == nil {
				continue
			}
			filtered++
			if !slices.ContainsFunc(lits, func(l string) bool { return bytes.Contains(b, []byte(l)) }) {
				t.Fatalf("regexp %q matches %q, but the prefilter %q rejects it", expr, b, lits)
			}
		}
	}
	if matched < 1000 || filtered < 300 {
		t.Errorf("too few cases exercised: %d matches, %d through a prefilter", matched, filtered)
	}
}

// randomRegex builds a random expression over a small alphabet from the
// constructs the literal extraction handles.
func randomRegex(rng *rand.Rand, depth int) string {
	atoms := []string{"a", "b", "c", "ab", "abc", "k", "s", "1", `\n`, ".", "[ab]", "[^a]", `\d`, `\s`, "^", "$", `\A`, `\z`, `\b`, `\B`, `\x{FFFD}`, "(?i:ab)", "(?i:k)", "(?i:s1)", "(?s:.)"}
	if depth == 0 || rng.IntN(3) == 0 {
		return atoms[rng.IntN(len(atoms))]
	}
	sub := func() string { return randomRegex(rng, depth-1) }
	switch rng.IntN(9) {
	case 0:
		return "(?:" + sub() + "|" + sub() + ")"
	case 1:
		return "(" + sub() + ")*"
	case 2:
		return "(?:" + sub() + ")+"
	case 3:
		return "(?:" + sub() + ")?"
	case 4:
		return "(?:" + sub() + "){1,2}"
	case 5:
		return "(?i)" + sub()
	case 6:
		return "(?m)" + sub() + sub()
	default:
		return sub() + sub() + sub()
	}
}

func TestLineLocal(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{`(?m)^AssertionError: write\(\) before start_response\(?\)?$`, true},
		{`line \d+, in \w+`, true},
		{`a.b`, true},
		{`\bx\B`, true},
		{`[a-z]+`, true},
		{`^abc`, false},    // ^ without (?m) is the start of the event
		{`abc$`, false},    // likewise the end
		{`\Aabc`, false},   // start of the event
		{`a\nb`, false},    // spans lines
		{`a\sb`, false},    // \s matches '\n'
		{`a[^"]*b`, false}, // negated classes match '\n'
		{`(?s)a.b`, false}, // . matches '\n'
		{`a(?:x|\n)b`, false},
	}
	for _, tt := range tests {
		if _, got := analyze(tt.expr); got != tt.want {
			t.Errorf("line-local(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
