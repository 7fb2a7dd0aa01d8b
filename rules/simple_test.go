package rules

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// TestSimpleShapes lists which regexps take the simple form: the pair
// regexps of the built-in packs must, and what could need a step back
// must not.
func TestSimpleShapes(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		simple bool
	}{
		{`HTTP/1\.[01]" 500 [0-9]+ [0-9.]+\n`, true},
		{`HTTP/1\.[01]" 500 [0-9-]+ "[^"\n]*" "[^"\n]*"`, true},
		{`\A[^\n]*Error on request:\z`, false}, // [^\n]* could give back the E
		{`\AError on request:\z`, true},
		{`timeout after [0-9]+s`, true},
		{`a[0-9]*[0-9]`, false}, // the star could give back a digit
		{`a[0-9]*b?c`, false},   // an optional step after a repeat
		{`a[^b]+b`, true},       // a negated class, repeated
		{`a[^b]b`, false},       // the same class once could be a multi-byte rune
		{`a[é]+`, false},        // part of the non-ASCII runes
		{`(?i)abc`, false},      // case folding
		{`[0-9]+abc`, false},    // unanchored, not starting with a literal
		{`a\bb`, false},         // an assertion
		{`(?m)^abc`, false},     // a line start
		{`a(?:bc)+`, false},     // a repeated sequence
		{`a(b)c[0-9]+`, true},   // a capturing group
		{`a\x{FFFD}b`, false},   // U+FFFD, which invalid bytes also match
		{`\Aa[^\n]*\z`, true},   // a last repeat up to the end
		{`x[ab]?c`, true},       // an optional class before a literal it does not hold
		{`x[ac]?c`, false},      // and one it holds
	} {
		re, err := syntax.Parse(tc.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := newSimple(re.Simplify()) != nil; got != tc.simple {
			t.Errorf("%q: simple = %v, want %v", tc.expr, got, tc.simple)
		}
	}
}

// TestSimpleMatchesRegexp runs random regexps of the simple shape (and
// near it) against random texts: wherever newSimple accepts one, its
// answer must be the regexp package's, invalid UTF-8 and newlines
// included.
func TestSimpleMatchesRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	atoms := []string{"a", "b", "ab", "é", `\n`, " ", "0", "[ab]", "[^a]", "[0-9]", `[^"\n]`, "[a-c]", `\.`, ".", "(?s:.)", `[\x00-\x{10FFFF}]`, "[^b]"}
	reps := []string{"", "", "", "*", "+", "?"}
	alphabet := []string{"a", "b", "c", "ab", "é", "\n", " ", "0", "9", ".", "\"", "\xff", "\xe9", "\ufffd"}
	accepted := 0
	for range 4000 {
		var expr strings.Builder
		if rng.IntN(3) == 0 {
			expr.WriteString(`\A`)
		}
		expr.WriteString([]string{"a", "b", "ab", "é", " "}[rng.IntN(5)])
		for range 1 + rng.IntN(4) {
			expr.WriteString(atoms[rng.IntN(len(atoms))] + reps[rng.IntN(len(reps))])
		}
		if rng.IntN(3) == 0 {
			expr.WriteString(`\z`)
		}
		parsed, err := syntax.Parse(expr.String(), syntax.Perl)
		if err != nil {
			t.Fatalf("%q: %v", expr.String(), err)
		}
		s := newSimple(parsed.Simplify())
		if s == nil {
			continue
		}
		accepted++
		re := regexp.MustCompile(expr.String())
		for range 60 {
			var in strings.Builder
			for range rng.IntN(12) {
				in.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			text := []byte(in.String())
			if got, want := s.match(text), re.Match(text); got != want {
				t.Fatalf("%q on %q: simple says %v, regexp %v", expr.String(), text, got, want)
			}
		}
	}
	if accepted < 500 {
		t.Fatalf("only %d of 4000 regexps took the simple form", accepted)
	}
}
