package filters

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/rules"
)

// assemble groups lines (each given without its newline) and returns the
// events as their lines joined by "|".
func assemble(t *testing.T, ml rules.Multiline, p prefixer, lines []string) []string {
	t.Helper()
	var a arena
	var got []string
	asm := newLineAssembler(ml, p, &a, func(s *span) {
		got = append(got, strings.ReplaceAll(strings.TrimSuffix(string(spanBytes(&a, *s)), "\n"), "\n", "|"))
	})
	now := time.Unix(0, 0)
	var off int64
	for _, l := range lines {
		off += int64(len(l) + 1)
		asm.push([]byte(l+"\n"), off, now)
	}
	asm.flush()
	return got
}

func python() rules.Multiline {
	return rules.Multiline{Preset: "python", MaxLines: 1000, MaxBytes: 1 << 20, FlushAfter: 250 * time.Millisecond}
}

func TestAssemblePython(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{
			name:  "plain lines stand alone",
			lines: []string{"a", "b", "  indented but no traceback"},
			want:  []string{"a", "b", "  indented but no traceback"},
		},
		{
			name: "werkzeug event with caret line",
			lines: []string{
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`,
				"Error on request:",
				"Traceback (most recent call last):",
				`  File "serving.py", line 252, in write`,
				`    assert status_set is not None, "write() before start_response"`,
				`           ^^^^^^^^^^`,
				"AssertionError: write() before start_response",
				`127.0.0.1 - - [x] "GET / HTTP/1.1" 200 -`,
			},
			want: []string{
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`,
				`Error on request:|Traceback (most recent call last):|  File "serving.py", line 252, in write|    assert status_set is not None, "write() before start_response"|           ^^^^^^^^^^|AssertionError: write() before start_response`,
				`127.0.0.1 - - [x] "GET / HTTP/1.1" 200 -`,
			},
		},
		{
			name:  "headerless traceback does not swallow the access line before it",
			lines: []string{`1.2.3.4 - - [x] "GET /Error HTTP/1.1" 200 5 0.1`, "Traceback (most recent call last):", `  File "x"`, "KeyError: 'a'", "", "next"},
			want:  []string{`1.2.3.4 - - [x] "GET /Error HTTP/1.1" 200 5 0.1`, `Traceback (most recent call last):|  File "x"|KeyError: 'a'|`, "next"},
		},
		{
			name:  "logger.exception headers",
			lines: []string{"[2026] ERROR in app: Exception on /boom [GET]", "Traceback (most recent call last):", `  File "a"`, "KeyError: 'banana'", "ERROR:app:Exception on /x [GET]", "Traceback (most recent call last):", `  File "b"`, "ValueError"},
			want:  []string{`[2026] ERROR in app: Exception on /boom [GET]|Traceback (most recent call last):|  File "a"|KeyError: 'banana'`, `ERROR:app:Exception on /x [GET]|Traceback (most recent call last):|  File "b"|ValueError`},
		},
		{
			name:  "a header that is not followed by a traceback stands alone",
			lines: []string{"Exception in thread Thread-1 (_thread):", "plain"},
			want:  []string{"Exception in thread Thread-1 (_thread):", "plain"},
		},
		{
			name: "chained exceptions with their blank lines",
			lines: []string{
				"Traceback (most recent call last):", `  File "a"`, "KeyError: 'x'", "",
				"During handling of the above exception, another exception occurred:", "",
				"Traceback (most recent call last):", `  File "b"`, "ValueError: y", "",
				"The above exception was the direct cause of the following exception:", "",
				"Traceback (most recent call last):", `  File "c"`, "RuntimeError: z", "after",
			},
			want: []string{
				`Traceback (most recent call last):|  File "a"|KeyError: 'x'||During handling of the above exception, another exception occurred:||Traceback (most recent call last):|  File "b"|ValueError: y||The above exception was the direct cause of the following exception:||Traceback (most recent call last):|  File "c"|RuntimeError: z`,
				"after",
			},
		},
		{
			name: "exception group",
			lines: []string{
				"Error on request:",
				"  + Exception Group Traceback (most recent call last):",
				`  |   File "x", line 1, in <module>`,
				"  | ExceptionGroup: eg (2 sub-exceptions)",
				"  +-+---------------- 1 ----------------",
				"    | ValueError: a",
				"    +---------------- 2 ----------------",
				"    | TypeError: b",
				"    +------------------------------------",
				"ValueError: not part of the group",
			},
			want: []string{
				`Error on request:|  + Exception Group Traceback (most recent call last):|  |   File "x", line 1, in <module>|  | ExceptionGroup: eg (2 sub-exceptions)|  +-+---------------- 1 ----------------|    | ValueError: a|    +---------------- 2 ----------------|    | TypeError: b|    +------------------------------------`,
				"ValueError: not part of the group",
			},
		},
		{
			name: "a traceback is complete at its exception line: later frames are a headerless traceback of their own",
			lines: []string{
				"Exception in thread Thread-29 (_thread):", "Traceback (most recent call last):", `  File "threading.py"`,
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`,
				"Error on request:", "Traceback (most recent call last):", `  File "serving.py"`, "AssertionError: write() before start_response",
				`  File "ws.py", line 248, in _handle_events`, "    self.sock.send(out_data)", "OSError: [Errno 9] Bad file descriptor",
			},
			want: []string{
				`Exception in thread Thread-29 (_thread):|Traceback (most recent call last):|  File "threading.py"`,
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`,
				`Error on request:|Traceback (most recent call last):|  File "serving.py"|AssertionError: write() before start_response`,
				`  File "ws.py", line 248, in _handle_events|    self.sock.send(out_data)|OSError: [Errno 9] Bad file descriptor`,
			},
		},
		{
			name:  "a log line where the exception line was expected ends the traceback",
			lines: []string{"Traceback (most recent call last):", `  File "a"`, "INFO:app:chat connect", "WARNING: something", "KeyError: 'late'"},
			want:  []string{`Traceback (most recent call last):|  File "a"`, "INFO:app:chat connect", "WARNING: something", "KeyError: 'late'"},
		},
		{
			name:  "only one blank line belongs to a finished traceback",
			lines: []string{"Traceback (most recent call last):", `  File "a"`, "KeyError: 'x'", "", "", "z"},
			want:  []string{`Traceback (most recent call last):|  File "a"|KeyError: 'x'|`, "", "z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assemble(t, python(), nil, tt.lines)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestAssembleBounds(t *testing.T) {
	ml := python()
	ml.MaxLines = 3
	lines := []string{"Traceback (most recent call last):", "  1", "  2", "  3", "  4", "KeyError: 'x'", "after"}
	got := assemble(t, ml, nil, lines)
	want := []string{"Traceback (most recent call last):|  1|  2", "  3|  4|KeyError: 'x'", "after"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("max_lines:\n got: %q\nwant: %q", got, want)
	}

	ml = python()
	ml.MaxBytes = 40
	got = assemble(t, ml, nil, []string{"Traceback (most recent call last):", "  File 'x'", "KeyError: 'x'"})
	want = []string{"Traceback (most recent call last):", "  File 'x'|KeyError: 'x'"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("max_bytes:\n got: %q\nwant: %q", got, want)
	}
}

func TestAssemblePresets(t *testing.T) {
	lines := []string{"Error on request:", "Traceback (most recent call last):", "  File 'x'", "KeyError: 'x'", "[2026-01-01] start", "  more", "other"}
	got := assemble(t, rules.Multiline{Preset: "none"}, nil, lines)
	if len(got) != len(lines) {
		t.Errorf("preset none: %d events, want one per line (%d)", len(got), len(lines))
	}
	custom := rules.Multiline{Preset: "custom", Start: regexp.MustCompile(`^\[\d{4}`), Continue: regexp.MustCompile(`^\s`)}
	got = assemble(t, custom, nil, lines)
	want := []string{"Error on request:", "Traceback (most recent call last):", "  File 'x'", "KeyError: 'x'", "[2026-01-01] start|  more", "other"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("preset custom:\n got: %q\nwant: %q", got, want)
	}
}

func TestAssemblePrefixes(t *testing.T) {
	tests := []struct {
		kind   string
		prefix string
	}{
		{"docker-compose", "web-1  | "},
		{"journald-short", "Nov 25 21:44:27 corpus-host app[4891]: "},
		{"kubernetes-cri", "2026-11-25T21:44:27.123456789Z stderr F "},
		{"auto", "web-1  | "},
		{"auto", "Nov  5 01:02:03 host app: "},
		{"auto", "2026-11-25T21:44:27.1Z stdout F "},
		{"regex", "<12>app: "},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.prefix, func(t *testing.T) {
			p := rules.Prefix{Kind: tt.kind}
			if tt.kind == "regex" {
				p.Regex = regexp.MustCompile(`^<\d+>\w+: `)
			}
			pre := newPrefixer(p)
			lines := []string{tt.prefix + "Error on request:", tt.prefix + "Traceback (most recent call last):", tt.prefix + "  File 'x'", tt.prefix + "KeyError: 'x'", tt.prefix + "next"}
			got := assemble(t, python(), pre, lines)
			if len(got) != 2 || !strings.HasPrefix(got[0], tt.prefix+"Error on request:|") {
				t.Fatalf("events: %q", got)
			}
			if n := pre.prefixLen([]byte(tt.prefix + "  File 'x'\n")); n != len(tt.prefix) {
				t.Errorf("prefix length = %d, want %d (indentation after the prefix is content)", n, len(tt.prefix))
			}
		})
	}
	if n := newPrefixer(rules.Prefix{Kind: "auto"}).prefixLen([]byte(`127.0.0.1 - - [25/Nov/2026 21:44:27] "GET / HTTP/1.1" 200 -`)); n != 0 {
		t.Errorf("auto prefix found %d bytes of prefix on a plain access line", n)
	}
}

func TestAssembleFlushAfterQuiet(t *testing.T) {
	var a arena
	var got int
	asm := newLineAssembler(python(), nil, &a, func(*span) { got++ })
	t0 := time.Unix(100, 0)
	asm.push([]byte("Error on request:\n"), 18, t0)
	asm.tick(t0.Add(249 * time.Millisecond))
	if got != 0 {
		t.Fatal("a possible header was emitted before flush_after")
	}
	asm.tick(t0.Add(250 * time.Millisecond))
	if got != 1 {
		t.Fatal("a held header was not emitted after flush_after of quiet")
	}
}

func TestAssembleSplitLine(t *testing.T) {
	var a arena
	var events []string
	var truncated []bool
	asm := newLineAssembler(python(), nil, &a, func(s *span) {
		events = append(events, string(spanBytes(&a, *s)))
		truncated = append(truncated, s.truncated)
	})
	now := time.Unix(0, 0)
	asm.push([]byte("Error on request:\n"), 18, now)
	asm.push([]byte("AAAA"), 22, now) // first part of an over-long line
	asm.push([]byte("BB\n"), 25, now) // its end
	asm.push([]byte("Traceback (most recent call last):\n"), 60, now)
	asm.flush()
	if len(events) != 4 {
		t.Fatalf("got %d events, want 4 (header, two parts, traceback)", len(events))
	}
	if !truncated[1] || !truncated[2] {
		t.Error("parts of a split line are not marked truncated")
	}
	if events[1]+events[2] != "AAAABB\n" {
		t.Error("split parts do not concatenate to the original line")
	}
}

// spanBytes is an event's bytes, wherever the assembler put them.
func spanBytes(a *arena, s span) []byte {
	if s.raw != nil {
		return s.raw
	}
	return a.slice(s.start, s.end)
}

// lineAssembler feeds physical lines through a text record decoder into an
// assembler, as a Processor does.
type lineAssembler struct {
	dec *recordDecoder
	asm *assembler
	now time.Time
	fn  func(*logicalLine)
}

func newLineAssembler(ml rules.Multiline, p prefixer, a *arena, emit func(*span)) *lineAssembler {
	in := rules.Input{Format: "auto", Suffix: rules.Suffix{Kind: "none"}, Multiline: ml}
	la := &lineAssembler{asm: newAssembler(ml, a, emit)}
	la.dec = newRecordDecoder(in, p, &Stats{}, nil)
	la.fn = func(l *logicalLine) { la.asm.push(l, la.now) }
	return la
}

func (la *lineAssembler) push(line []byte, endOffset int64, now time.Time) {
	la.now = now
	la.dec.push(line, endOffset, now, la.fn)
}

func (la *lineAssembler) flush() {
	la.dec.flush(la.fn)
	la.asm.flush()
}

func (la *lineAssembler) tick(now time.Time) { la.asm.tick(now) }

// TestHasAccessMarker holds hasAccessMarker to what it stands for,
// bytes.Contains(c, " HTTP/"), on strings built from the pieces that
// could fool it.
func TestHasAccessMarker(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{" ", "HTTP/", "HTTP", "H", "/", "x", " HTTP/1.1", "HTTP/ "}
	for range 20000 {
		var c []byte
		for range r.IntN(6) {
			c = append(c, parts[r.IntN(len(parts))]...)
		}
		if got, want := hasAccessMarker(c), bytes.Contains(c, []byte(" HTTP/")); got != want {
			t.Fatalf("hasAccessMarker(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestAssembleViews checks the message view of held events, which is the
// event's bytes while every line's view is its raw bytes and is built line
// by line from the first line that has a prefix, a carriage return or a
// part split off: whichever lines carry them, the view is the lines'
// views joined.
func TestAssembleViews(t *testing.T) {
	const tb = "Traceback (most recent call last):"
	tests := []struct {
		name  string
		lines []string // each without its newline
		want  string   // the first event's view
	}{
		{"plain", []string{tb, `  File "x", line 1, in y`, "    z()", "ValueError: v"},
			tb + "\n  File \"x\", line 1, in y\n    z()\nValueError: v\n"},
		{"prefix from the second line", []string{tb, `web-1  |   File "x", line 1, in y`, "web-1  | ValueError: v"},
			tb + "\n  File \"x\", line 1, in y\nValueError: v\n"},
		{"prefix on the last line", []string{"Error on request:", tb, `  File "x", line 1, in y`, "web-1  | ValueError: v"},
			"Error on request:\n" + tb + "\n  File \"x\", line 1, in y\nValueError: v\n"},
		{"carriage return in the middle", []string{tb, "  File \"x\", line 1, in y\r", "ValueError: v"},
			tb + "\n  File \"x\", line 1, in y\nValueError: v\n"},
		{"prefix on the first line only", []string{"web-1  | " + tb, `  File "x", line 1, in y`, "ValueError: v"},
			tb + "\n  File \"x\", line 1, in y\nValueError: v\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a arena
			var views []string
			asm := newLineAssembler(python(), newPrefixer(rules.Prefix{Kind: "auto"}), &a, func(s *span) {
				views = append(views, string(s.view))
			})
			now := time.Unix(0, 0)
			var off int64
			for _, l := range append(tc.lines, "next record") {
				off += int64(len(l) + 1)
				asm.push([]byte(l+"\n"), off, now)
			}
			asm.flush()
			if len(views) == 0 || views[0] != tc.want {
				t.Errorf("views %q, want the first %q", views, tc.want)
			}
		})
	}
}
