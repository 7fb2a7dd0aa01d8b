package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestSplitRegexpShape(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		split bool
	}{
		{`\Afoo:\nbar\n\z`, true},
		{`\A[^\n]*Error:\nTraceback\n(?:  [^\n]*\n)+\z`, true},
		{`\A(?i)error:\nx\z`, true},
		{`foo:\nbar\n\z`, false},     // not anchored at the start
		{`\Afoo:\nbar\n`, false},     // not anchored at the end
		{`\A.*\nbar\z`, true},        // . does not match '\n'
		{`\A(?s).*\nbar\z`, false},   // (?s). does
		{`\Afoo$\nbar\z`, false},     // $ is \z without (?m)
		{`\A(?m)foo$\nbar\z`, true},  // (?m)$ holds before the newline
		{`\Afoo\n\Abar\z`, false},    // \A in the rest
		{`\Afoo[\s]+bar\n\z`, false}, // \s matches the newline
		{`\Afoo\z`, false},
	} {
		got := splitRegexp(tc.expr) != nil
		if got != tc.split {
			t.Errorf("splitRegexp(%q) split = %v, want %v", tc.expr, got, tc.split)
		}
	}
}

// TestSplitRegexpSameAnswers runs every split regexp of the packs and a few
// of its own on windows of consecutive lines of the real captures, and on
// edited copies, and compares each answer with the regexp's own.
func TestSplitRegexpSameAnswers(t *testing.T) {
	exprs := []string{
		`\Afoo:\nbar\n\z`,
		`\A(?m)[^\n]*Error on request:$\nTraceback[^\n]*\n(?:  [^\n]*\n)+[A-Za-z]+Error: [^\n]*\n\z`,
		`\A(?i)[^\n]*error[^\n]*\ntraceback \(most recent call last\):\n(?s:.*)\z`,
		`\A[^\n]*\b\nTraceback(?:[^\n]*\n)+\z`,
		`\A[^\n]{0,200}Error on request:\n(?:Traceback|Trace){1,2} \(most[^\n]*\n(?:[ ]{2}[^\n]*\n)*?[A-Z][a-z]+Error: write\(\) before start_response\n\z`,
		`\A.*(?:GET|POST) /[^ ]*\x{1b}?.* 500 -\n(?i:ERROR)?[^\n]*\z`,
	}
	for _, r := range Default().Rules {
		collectRegexps(r.Match, &exprs)
	}
	files, _ := filepath.Glob("../testdata/corpus/*_*.log")
	files = slices.DeleteFunc(files, func(f string) bool { return strings.Contains(f, ".expected") })
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	var texts [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		// Windows from every line that may start an event the regexps
		// are about (a header, a traceback), and from some others; under
		// the race detector, which slows regexps tenfold, from a tenth.
		every := 1
		if raceEnabled {
			every = 10
		}
		for i := range lines {
			starts := i+1 < len(lines) && bytes.HasPrefix(lines[i+1], []byte("Traceback (most")) ||
				bytes.HasPrefix(lines[i], []byte("Traceback (most")) || i%29 == 0
			if !starts || i%every != 0 {
				continue
			}
			for _, n := range []int{1, 2, 7, 8, 10, 11, 19, 20} {
				if i+n <= len(lines) {
					texts = append(texts, bytes.Join(lines[i:i+n], nil))
				}
			}
		}
	}
	checked := 0
	for _, expr := range exprs {
		s := splitRegexp(expr)
		if s == nil {
			continue
		}
		re := regexp.MustCompile(expr)
		matched := 0
		for round := 0; round < 2; round++ { // the second round answers from the memo
			for _, text := range texts {
				want := re.Match(text)
				if got := s.match(text); got != want {
					t.Fatalf("%s on %q: split says %v, the regexp %v", expr, text, got, want)
				}
				if want {
					matched++
				}
				checked++
			}
		}
		t.Logf("%.60s: %d matches", expr, matched)
	}
	if checked == 0 {
		t.Fatal("no regexp was split")
	}
}

func collectRegexps(m Matcher, out *[]string) {
	switch m := m.(type) {
	case regexMatcher:
		*out = append(*out, m.expr)
	case allMatcher:
		for _, s := range m {
			collectRegexps(s, out)
		}
	case anyMatcher:
		for _, s := range m {
			collectRegexps(s, out)
		}
	case notMatcher:
		collectRegexps(m.m, out)
	}
}

func TestDigitBlind(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		blind bool
	}{
		{`[0-9]+`, true},
		{`\d{2}:\d{2}`, true},
		{`[^\n]*x`, true},
		{`\w+`, true},
		{`[a-f0-9]+`, true},
		{`[^ \n]*/socket\.io/\?`, true},
		{`[1-9]`, false},
		{`code=5\d\d`, false},
		{`[^5]`, false},
		{`(?:abc|d7)`, false},
	} {
		re, err := syntax.Parse(tc.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := digitBlind(re.Simplify()); got != tc.blind {
			t.Errorf("digitBlind(%q) = %v, want %v", tc.expr, got, tc.blind)
		}
	}
}

// TestSplitHeadDigits checks the first-line memo keyed by digits made '0':
// a digit-blind first line answers alike for any digits, and a first line
// that tests digits is never answered from another line's key.
func TestSplitHeadDigits(t *testing.T) {
	blind := splitRegexp(`\A[^\n]*\[ERROR\] request [0-9]+ failed\ntail\n\z`)
	if blind == nil || !blind.headBlind {
		t.Fatal("want a digit-blind split")
	}
	for _, text := range []string{"[ERROR] request 12 failed\ntail\n", "[ERROR] request 99 failed\ntail\n", "x [ERROR] request 7 failed\ntail\n"} {
		if !blind.match([]byte(text)) {
			t.Errorf("%q: no match", text)
		}
	}
	if blind.match([]byte("[ERROR] request x failed\ntail\n")) {
		t.Error("a request id without digits matched")
	}
	picky := splitRegexp(`\A[^\n]*code=5[0-9][0-9]\ntail\n\z`)
	if picky == nil || picky.headBlind {
		t.Fatal("want a split that is not digit-blind")
	}
	for text, want := range map[string]bool{"code=503\ntail\n": true, "code=403\ntail\n": false, "code=500\ntail\n": true, "code=200\ntail\n": false} {
		if got := picky.match([]byte(text)); got != want {
			t.Errorf("%q: match = %v, want %v", text, got, want)
		}
	}
}
