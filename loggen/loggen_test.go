package loggen

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpusFor names the real capture each style imitates.
var corpusFor = map[string]string{
	StyleWerkzeug:    "a_werkzeug_threading_plain",
	StyleBasicConfig: "b_werkzeug_threading_basicconfig",
	StyleEventlet:    "e_eventlet_wsgi_threading",
	StyleGunicorn:    "f_gunicorn_gthread_threading",
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func generateT(t testing.TB, cfg Config) (log, expected []byte, st Stats) {
	t.Helper()
	var l, e bytes.Buffer
	st, err := Generate(cfg, &l, &e)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return l.Bytes(), e.Bytes(), st
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, style := range Styles() {
		t.Run(style, func(t *testing.T) {
			cfg := Config{Lines: 20000, Seed: 42, Style: style}
			hash := func(cfg Config) [2][32]byte {
				log, exp, _ := generateT(t, cfg)
				return [2][32]byte{sha256.Sum256(log), sha256.Sum256(exp)}
			}
			first := hash(cfg)
			if again := hash(cfg); again != first {
				t.Errorf("same config, different output: %x != %x", again, first)
			}
			cfg.Seed++
			if other := hash(cfg); other[0] == first[0] {
				t.Errorf("seeds %d and %d produced the same log", cfg.Seed-1, cfg.Seed)
			}
		})
	}
}

// TestGolden pins a short log per style, so that a change to the output is
// a visible diff in review. Run with -update to accept a change.
func TestGolden(t *testing.T) {
	for _, style := range Styles() {
		t.Run(style, func(t *testing.T) {
			log, exp, _ := generateT(t, Config{Lines: 300, Seed: 1, Style: style})
			for name, got := range map[string][]byte{style + ".log": log, style + ".expected.log": exp} {
				path := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden file; first difference: %s", name, firstDiff(got, want))
				}
			}
		})
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

func TestStatsDescribeOutput(t *testing.T) {
	for _, style := range Styles() {
		t.Run(style, func(t *testing.T) {
			const lines = 30000
			log, exp, st := generateT(t, Config{Lines: lines, Seed: 3, Style: style})
			logLines, expLines := bytes.Count(log, newline), bytes.Count(exp, newline)
			if st.Lines != logLines {
				t.Errorf("Stats.Lines = %d, log has %d lines", st.Lines, logLines)
			}
			if st.ExpectedLines() != expLines {
				t.Errorf("Stats.ExpectedLines() = %d, expected output has %d lines", st.ExpectedLines(), expLines)
			}
			if st.Lines < lines || st.Lines > lines+40 {
				t.Errorf("asked for %d lines, got %d: should stop at the next event boundary", lines, st.Lines)
			}
			if !bytes.HasSuffix(log, newline) || !bytes.HasSuffix(exp, newline) {
				t.Error("output does not end with a complete line")
			}
			if n := len(assemble(log)); st.Events != n {
				t.Errorf("Stats.Events = %d, log assembles into %d events", st.Events, n)
			}
			res := oracleFilter(log)
			if st.FalseEvents != res.suppressed {
				t.Errorf("Stats.FalseEvents = %d, reference filter suppressed %d", st.FalseEvents, res.suppressed)
			}
			if !isSubsequence(exp, log) {
				t.Error("expected output is not the log with lines removed")
			}
		})
	}
}

// isSubsequence reports whether sub's lines appear in full's in order.
func isSubsequence(sub, full []byte) bool {
	s, f := strings.Split(string(sub), "\n"), strings.Split(string(full), "\n")
	i := 0
	for _, line := range f {
		if i < len(s) && s[i] == line {
			i++
		}
	}
	return i == len(s)
}

// TestReferenceFilterMatchesCorpus validates the test's reference filter
// against the ideal outputs that ship with the real captures.
func TestReferenceFilterMatchesCorpus(t *testing.T) {
	for _, name := range []string{
		"a_werkzeug_threading_plain", "b_werkzeug_threading_basicconfig", "c_gunicorn_eventlet",
		"e_eventlet_wsgi_threading", "f_gunicorn_gthread_threading", "g_gevent_pywsgi_threading",
	} {
		t.Run(name, func(t *testing.T) {
			res := oracleFilter(readCorpus(t, name+".log"))
			want := readCorpus(t, name+".expected.log")
			if !bytes.Equal(res.output, want) {
				t.Errorf("reference filter output differs from %s.expected.log: %s", name, firstDiff(res.output, want))
			}
		})
	}
}

func TestExpectedIsIdealFilterOutput(t *testing.T) {
	for _, style := range Styles() {
		t.Run(style, func(t *testing.T) {
			log, exp, _ := generateT(t, Config{Lines: 40000, Seed: 5, Style: style})
			res := oracleFilter(log)
			if !bytes.Equal(res.output, exp) {
				t.Fatalf("expected output differs from the reference filter's: %s", firstDiff(exp, res.output))
			}
			lookalikes := bytes.Count(log, []byte("Error handling request /legacy/report?"))
			if lookalikes == 0 {
				lookalikes = bytes.Count(log, []byte("/legacy/report?"))
			}
			if lookalikes == 0 {
				t.Error("no look-alike (a non-websocket 500 with a false-500 block) generated")
			}
			if res.unpaired != lookalikes {
				t.Errorf("%d blocks without a websocket partner, want %d (the look-alikes)", res.unpaired, lookalikes)
			}
			// Parts of one false event stay a few events apart, far inside
			// the pairing window.
			if res.maxDistance > pairWindow/4 {
				t.Errorf("a block is %d events from its access line", res.maxDistance)
			}
		})
	}
}

// TestFalseBlocksMatchCorpus checks that the suppressed blocks are byte for
// byte the blocks real servers print.
func TestFalseBlocksMatchCorpus(t *testing.T) {
	firstFalseBlock := func(log []byte) string {
		for _, e := range assemble(log) {
			if isFalseBlock(e) {
				return e.text()
			}
		}
		return ""
	}
	for style, corpus := range corpusFor {
		t.Run(style, func(t *testing.T) {
			want := firstFalseBlock(readCorpus(t, corpus+".log"))
			if style == StyleGunicorn {
				// The header names the request path; compare the rest.
				want = dropFirstLine(want)
			}
			log, _, _ := generateT(t, Config{Lines: 5000, Seed: 9, Style: style})
			n := 0
			for _, e := range assemble(log) {
				if !isFalseBlock(e) {
					continue
				}
				n++
				got := e.text()
				if style == StyleGunicorn {
					got = dropFirstLine(got)
					if !gunicornHeader.MatchString(e.lines[0]) {
						t.Errorf("header %q does not look like gunicorn's", e.lines[0])
					}
				}
				if got != want {
					t.Fatalf("block differs from the corpus:\n%s\nwant:\n%s", got, want)
				}
			}
			if n == 0 {
				t.Fatal("no false-500 block generated")
			}
		})
	}
	t.Run(StyleWerkzeugPy310, func(t *testing.T) {
		want := stripCarets(firstFalseBlock(readCorpus(t, corpusFor[StyleWerkzeug]+".log")))
		if got := countLines(want); got != 9 {
			t.Fatalf("Python 3.10 block has %d lines, want 9", got)
		}
		log, _, _ := generateT(t, Config{Lines: 5000, Seed: 9, Style: StyleWerkzeugPy310})
		if got := firstFalseBlock(log); got != want {
			t.Errorf("block:\n%s\nwant:\n%s", got, want)
		}
		for line := range strings.Lines(string(log)) {
			if isCaretLine(line) {
				t.Fatalf("Python 3.10 log has a caret line: %q", line)
			}
		}
	})
}

var gunicornHeader = regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000\] \[\d+\] \[ERROR\] Error handling request (/socket\.io/\?(EIO=4&transport=websocket|transport=websocket&EIO=4&t=\d+\.\d+)|/legacy/report\?id=\d+)\n$`)

func dropFirstLine(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	return rest
}

// shape reduces a line to what stays the same between occurrences in a
// real log: digit runs become N, session ids S, and the few words that
// vary between otherwise identical lines are unified.
func shape(line string) string {
	line = strings.TrimSuffix(line, "\n")
	for _, r := range shapeWords {
		line = strings.ReplaceAll(line, r[0], r[1])
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c >= '0' && c <= '9':
			for i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9' {
				i++
			}
			b.WriteByte('N')
		case strings.HasPrefix(line[i:], "sid=") && len(line) >= i+24:
			b.WriteString("sid=S")
			i += 23
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var shapeWords = [][2]string{
	{"banana", "FRUIT"}, {"kiwi", "FRUIT"}, {"mango", "FRUIT"},
	{"/static/app.js", "STATIC"}, {"/favicon.ico", "STATIC"}, {"/socket.io.js", "STATIC"},
	{"BrokenPipeError: [Errno 32] Broken pipe", "OSError: [Errno 9] Bad file descriptor"},
}

// TestLineShapesMatchCorpus checks that every generated line has the shape
// of a line in the real capture of its style.
func TestLineShapesMatchCorpus(t *testing.T) {
	for style, corpus := range corpusFor {
		t.Run(style, func(t *testing.T) {
			real := map[string]bool{}
			for line := range strings.Lines(string(readCorpus(t, corpus+".log"))) {
				real[shape(line)] = true
			}
			log, _, _ := generateT(t, Config{Lines: 20000, Seed: 11, Style: style})
			missing := map[string]int{}
			for line := range strings.Lines(string(log)) {
				if strings.Contains(line, "/legacy/report?") {
					continue // the look-alike bug is not in the captures
				}
				if s := shape(line); !real[s] {
					missing[s]++
				}
			}
			for s, n := range missing {
				t.Errorf("%d lines of a shape not in %s.log: %q", n, corpus, s)
			}
		})
	}
}

// TestInterleaving checks that other events land between the two parts
// of false events, including the other parts of false events (A1 A2 T1 T2).
func TestInterleaving(t *testing.T) {
	for _, style := range []string{StyleWerkzeug, StyleEventlet} {
		t.Run(style, func(t *testing.T) {
			log, _, _ := generateT(t, Config{Lines: 30000, Seed: 13, Style: style})
			var kinds strings.Builder // A: websocket 500 access, T: false block, x: other
			for _, e := range assemble(log) {
				switch {
				case isWSAccess(e):
					kinds.WriteByte('A')
				case isFalseBlock(e):
					kinds.WriteByte('T')
				default:
					kinds.WriteByte('x')
				}
			}
			first, second := "A", "T"
			if style == StyleEventlet {
				first, second = "T", "A"
			}
			k := kinds.String()
			for _, pattern := range []string{first + second, first + "x" + second, first + first + second + second} {
				if !strings.Contains(k, pattern) {
					t.Errorf("no %q sequence of events", pattern)
				}
			}
		})
	}
}

func TestFalseShare(t *testing.T) {
	tests := []struct {
		share    float64
		min, max float64
	}{
		{0, 0.045, 0.055}, // DefaultFalseShare
		{0.05, 0.045, 0.055},
		{0.2, 0.18, 0.22},
		{-1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.share), func(t *testing.T) {
			log, exp, st := generateT(t, Config{Lines: 50000, Seed: 17, FalseShare: tt.share})
			got := float64(st.FalseEvents) / float64(st.Events)
			if got < tt.min || got > tt.max {
				t.Errorf("false share %.4f, want within [%g, %g]", got, tt.min, tt.max)
			}
			if tt.share < 0 && !bytes.Equal(log, exp) {
				t.Error("without false events the expected output should equal the log")
			}
		})
	}
	t.Run("default is about a third of lines", func(t *testing.T) {
		_, _, st := generateT(t, Config{Lines: 50000, Seed: 17})
		if got := float64(st.SuppressedLines) / float64(st.Lines); got < 0.30 || got > 0.40 {
			t.Errorf("suppressed share of lines %.3f, want about 0.35", got)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no lines", Config{Lines: 0}, "lines must be positive"},
		{"unknown style", Config{Lines: 10, Style: "apache"}, `unknown style "apache"`},
		{"share too high", Config{Lines: 10, FalseShare: 0.6}, "above the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(tt.cfg, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

type failingWriter struct{ left int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDiskFull
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteErrorsAreReported(t *testing.T) {
	tests := []struct {
		name     string
		log, exp io.Writer
		want     string
	}{
		{"log", &failingWriter{left: 3 << 20}, io.Discard, "write log"},
		{"expected", io.Discard, &failingWriter{left: 3 << 20}, "write expected output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(Config{Lines: 200000, Seed: 1}, tt.log, tt.exp)
			if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q wrapping %v", err, tt.want, errDiskFull)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	const lines = 1_000_000
	for b.Loop() {
		if _, err := Generate(Config{Lines: lines, Seed: 1}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
