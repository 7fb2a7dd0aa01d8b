package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
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
		*out = append(*out, m.re.String())
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
