package rules_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logsift/logsift/rules"
)

// matcherOf compiles a match form written as YAML flow.
func matcherOf(t *testing.T, form string) rules.Matcher {
	t.Helper()
	cfg, err := rules.Parse("needs.yaml", []byte("use: []\nrules: [{name: r, match: "+form+"}]"))
	if err != nil {
		t.Fatalf("match %s: %v", form, err)
	}
	return cfg.Rules[0].Match
}

// TestNeedsOfLine checks the condition derived for each match form: its
// shape (never, any line, the clauses) and, on sample lines, that it
// holds where the matcher may and rules out what it should.
func TestNeedsOfLine(t *testing.T) {
	tests := []struct {
		name string
		form string
		// want is the condition's String(): "never", "any line" or its
		// clauses; "some" is any condition with clauses (a regexp's
		// literals are the analysis's choice, tested in prefilter_test).
		want string
		// holds are lines (without their newline) the condition must
		// hold on; fails are lines it must rule out.
		holds, fails []string
	}{
		{
			name:  "contains",
			form:  `{contains: "Broken pipe"}`,
			want:  "(Broken pipe)",
			holds: []string{"BrokenPipeError: [Errno 32] Broken pipe", "web-1  | Broken pipe (taskName=None)"},
			fails: []string{"broken pipe", "Broken  pipe"},
		},
		{
			name:  "contains with a trailing newline is trimmed",
			form:  `{contains: "AssertionError: write() before start_response\n"}`,
			want:  "(AssertionError: write() before start_response)",
			holds: []string{"AssertionError: write() before start_response", "x AssertionError: write() before start_response (taskName=None)"},
			fails: []string{"AssertionError: write() before start"},
		},
		{
			name:  "contains list",
			form:  `{contains: ["?transport=websocket", "&transport=websocket\n"]}`,
			want:  "(?transport=websocket OR &transport=websocket)",
			holds: []string{`"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`, "/?transport=websocket"},
			fails: []string{"transport=polling"},
		},
		{
			name:  "contains with an inner newline never occurs in one line",
			form:  `{contains: "Error on request:\nTraceback"}`,
			want:  "never",
			fails: []string{"Error on request:", "Traceback (most recent call last):", "Error on request:Traceback"},
		},
		{
			name:  "contains with a leading newline never occurs in one line",
			form:  `{contains: "\nTraceback"}`,
			want:  "never",
			fails: []string{"Traceback"},
		},
		{
			name:  "contains list drops the needles spanning lines",
			form:  `{contains: ["a\nb", "child retry\n"]}`,
			want:  "(child retry)",
			holds: []string{"child retry"},
			fails: []string{"a", "b", "ab"},
		},
		{
			name:  "contains of a bare newline holds on every line",
			form:  `{contains: "\n"}`,
			want:  "any line",
			holds: []string{"", "anything"},
		},
		{
			name:  "regex with a required literal",
			form:  `{regex: 'Invalid request from ip=[0-9.]+'}`,
			want:  "some",
			holds: []string{"[WARNING] Invalid request from ip=127.0.0.1: x"},
			fails: []string{"Invalid request from 127.0.0.1"},
		},
		{
			name:  "regex alternatives",
			form:  `{regex: '(?:BrokenPipe|ConnectionReset)Error'}`,
			want:  "some",
			holds: []string{"BrokenPipeError: [Errno 32]", "ConnectionResetError: [Errno 104]"},
			fails: []string{"OSError: [Errno 9]"},
		},
		{
			name:  "regex with conjuncts: every piece required",
			form:  `{regex: 'HTTP/1\.[01]" 500 [0-9]+ [0-9.]+\n'}`,
			want:  "some",
			holds: []string{`"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 467 0.239292`},
			fails: []string{`"GET / HTTP/1.1" 200 22 0.1`, `" 500 467 0.2`},
		},
		{
			name:  "regex whose literal spans lines never holds on one",
			form:  `{regex: '\A[^\n]*Error on request:\nTraceback \(most recent call last\):\n'}`,
			want:  "never",
			fails: []string{"Error on request:", "Traceback (most recent call last):"},
		},
		{
			name:  "regex without a literal",
			form:  `{regex: '^[0-9]+$'}`,
			want:  "any line",
			holds: []string{"12345", "anything"},
		},
		{
			name:  "regex with a character class only",
			form:  `{regex: '\b[0-9]{3}[-.][0-9]{4}\b'}`,
			want:  "any line",
			holds: []string{"call 555-1234 now"},
		},
		{
			name:  "case-folded regex keeps only the bytes that must match exactly",
			form:  `{regex: '(?i)disk full'}`,
			want:  "some",
			holds: []string{"DISK FULL", "Disk Full on /dev/sda", "disk full"},
			fails: []string{"diskfull"},
		},
		{
			name:  "not",
			form:  `{not: {contains: ok}}`,
			want:  "any line",
			holds: []string{"", "ok", "quota"},
		},
		{
			name:  "field: a text event has no fields",
			form:  `{field: {name: level, equals: debug}}`,
			want:  "never",
			fails: []string{`{"level":"debug"}`, "level=debug"},
		},
		{
			name:  "all: the members' clauses together",
			form:  `{all: [{contains: "GET /socket.io/?"}, {contains: ["?transport=websocket", "&transport=websocket"]}, {contains: "\" 500 -\n"}]}`,
			want:  `(GET /socket.io/?) AND (?transport=websocket OR &transport=websocket) AND (" 500 -)`,
			holds: []string{`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`},
			fails: []string{
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 200 -`,
				`127.0.0.1 - - [x] "GET /socket.io/?EIO=4&transport=polling HTTP/1.1" 500 -`,
				`127.0.0.1 - - [x] "GET /items/?transport=websocket HTTP/1.1" 500 -`,
			},
		},
		{
			name:  "a mapping of several keys is an all",
			form:  `{contains: "Invalid request from ip=", regex: '\[(?:WARNING|DEBUG)\] Invalid'}`,
			want:  "some",
			holds: []string{"[WARNING] Invalid request from ip=1.2.3.4"},
			fails: []string{"[WARNING] Invalid request", "Invalid request from ip=1.2.3.4"},
		},
		{
			name:  "all with a not: the not adds nothing",
			form:  `{all: [{contains: quota}, {not: {contains: ok}}]}`,
			want:  "(quota)",
			holds: []string{"quota exceeded", "quota ok"},
			fails: []string{"disk ok"},
		},
		{
			name:  "all with a member that never holds",
			form:  `{all: [{contains: quota}, {field: {name: level, exists: true}}]}`,
			want:  "never",
			fails: []string{"quota"},
		},
		{
			name:  "all of members without literals",
			form:  `{all: [{not: {contains: a}}, {regex: '^[0-9]+$'}]}`,
			want:  "any line",
			holds: []string{"123"},
		},
		{
			name:  "any: one clause with every member's literals",
			form:  `{any: [{contains: noise}, {regex: 'DEBUG:[a-z]+:'}, {contains: [tock, "tick\n"]}]}`,
			want:  "(noise OR DEBUG: OR tock OR tick)",
			holds: []string{"noise", "DEBUG:app: x", "tick", "tock"},
			fails: []string{"debug:app:", "quiet"},
		},
		{
			name:  "any takes one clause of a member with several",
			form:  `{any: [{all: [{contains: upload}, {contains: failed}]}, {contains: "upload done"}]}`,
			want:  "some",
			holds: []string{"upload failed", "upload done"},
			fails: []string{"download ok"},
		},
		{
			name:  "any with a member that may hold anywhere",
			form:  `{any: [{contains: upload}, {not: {contains: a}}]}`,
			want:  "any line",
			holds: []string{"xyz", "upload"},
		},
		{
			name:  "any skips members that never hold",
			form:  `{any: [{field: {name: level, equals: debug}}, {contains: "child retry"}, {contains: "a\nb"}]}`,
			want:  "(child retry)",
			holds: []string{"child retry"},
			fails: []string{"level debug", "a"},
		},
		{
			name:  "any of members that never hold",
			form:  `{any: [{field: {name: level, equals: debug}}, {contains: "a\nb"}]}`,
			want:  "never",
			fails: []string{"a", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := matcherOf(t, tc.form)
			n := rules.NeedsOfLine(m)
			switch tc.want {
			case "never":
				if !n.Never || n.Any() || n.String() != "never" {
					t.Errorf("NeedsOfLine(%s) = %s (Never %v, Any() %v), want never", tc.form, n, n.Never, n.Any())
				}
			case "any line":
				if n.Never || !n.Any() || n.String() != "any line" {
					t.Errorf("NeedsOfLine(%s) = %s (Never %v, Any() %v), want any line", tc.form, n, n.Never, n.Any())
				}
			case "some":
				if n.Never || n.Any() {
					t.Errorf("NeedsOfLine(%s) = %s, want a condition with clauses", tc.form, n)
				}
			default:
				if n.Never || n.Any() || n.String() != tc.want {
					t.Errorf("NeedsOfLine(%s) = %s, want %s", tc.form, n, tc.want)
				}
			}
			for _, l := range tc.holds {
				if !n.Holds([]byte(l + "\n")) {
					t.Errorf("%s does not hold on %q", n, l)
				}
			}
			for _, l := range tc.fails {
				if n.Holds([]byte(l + "\n")) {
					t.Errorf("%s holds on %q", n, l)
				}
			}
			// The condition is necessary on the sample lines too.
			for _, l := range append(append([]string(nil), tc.holds...), tc.fails...) {
				checkNeeds(t, tc.form, m, n, []byte(l+"\n"), []byte(l+"\n"))
			}
		})
	}
}

// checkNeeds fails when m holds on the one-line event view while its
// condition n rules out the line raw the view came from.
func checkNeeds(t *testing.T, what string, m rules.Matcher, n rules.LineNeeds, raw, view []byte) bool {
	t.Helper()
	if rules.MatchText(m, view) && !n.Holds(raw) {
		t.Errorf("%s matches the one-line event %q, but its condition %s rules out its line %q", what, view, n, raw)
		return false
	}
	return true
}

// TestNeedsOfLineSound checks, for every rule of the packs and its pair
// matcher, that the condition holds on every line of the corpus the
// matcher holds on as a one-line event: the line itself, and for the
// prefixed captures also the line without its prefix (the view a prefix
// leaves of its line).
func TestNeedsOfLineSound(t *testing.T) {
	type named struct {
		name string
		m    rules.Matcher
	}
	var ms []named
	add := func(rs []*rules.Rule) {
		for _, r := range rs {
			ms = append(ms, named{r.Name + " match", r.Match})
			if r.Pair != nil {
				ms = append(ms, named{r.Name + " pair.match", r.Pair.Match})
			}
		}
	}
	add(rules.Default().Rules)
	var packs []string
	for _, p := range rules.Packs() {
		packs = append(packs, p.Name)
	}
	all, err := rules.Parse("all.yaml", []byte("use: ["+strings.Join(packs, ", ")+"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	add(all.Rules)
	if len(ms) == 0 {
		t.Fatal("no rules")
	}
	needs := make([]rules.LineNeeds, len(ms))
	for i, m := range ms {
		needs[i] = rules.NeedsOfLine(m.m)
	}

	logs, err := filepath.Glob("../testdata/corpus/*.log")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	matched := make([]int, len(ms))
	for _, log := range logs {
		if strings.Contains(filepath.Base(log), ".expected") {
			// The expected outputs are the logs' lines minus some.
			continue
		}
		files++
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		// The end of the prefix of the prefixed captures.
		sep := ""
		switch {
		case strings.HasSuffix(log, ".docker.log"):
			sep = "  | "
		case strings.HasSuffix(log, ".journald.log"):
			sep = "]: "
		}
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if line[len(line)-1] != '\n' {
				line = append(line[:len(line):len(line)], '\n')
			}
			views := [][]byte{line}
			if i := bytes.Index(line, []byte(sep)); sep != "" && i >= 0 && i < 80 {
				views = append(views, line[i+len(sep):])
			}
			for i, m := range ms {
				for _, v := range views {
					if rules.MatchText(m.m, v) {
						matched[i]++
					}
					if !checkNeeds(t, m.name, m.m, needs[i], line, v) {
						t.FailNow()
					}
				}
			}
		}
	}
	if files < 8 {
		t.Fatalf("only %d corpus logs", files)
	}
	// The check is not vacuous: the access-line partners of the packs
	// occur in the corpus as one-line events.
	total := 0
	for i, n := range matched {
		total += n
		t.Logf("%s: %s; %d one-line events matched", ms[i].name, needs[i], n)
	}
	if total == 0 {
		t.Fatal("no rule matched any corpus line as a one-line event")
	}
}

func TestOneLineRules(t *testing.T) {
	cfg, err := rules.Parse("one.yaml", []byte(`use: []
rules:
  - name: two-lines
    match: {regex: '\AError:\nTraceback'}
  - name: one-line
    match: {regex: 'timeout after [0-9]+s'}
  - name: newline-class
    match: {regex: '\Aa[\n]b[\n]'}
  - name: either
    match: {regex: '\A(?:x\ny\n|z)'}
  - name: repeated
    match: {regex: '(?:[^\n]*\n){3}'}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := rules.OneLineRules(cfg.Rules)
	want := []int{1, 3}
	if !slices.Equal(got, want) {
		t.Errorf("OneLineRules = %v, want %v", got, want)
	}
	// The pack rules all match whole tracebacks.
	if got := rules.OneLineRules(rules.Default().Rules); len(got) != 0 {
		t.Errorf("pack rules that can match one line: %v", got)
	}
}
