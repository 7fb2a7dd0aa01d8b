package rules

import (
	"strings"
	"testing"
)

// compileMatch compiles a match form written as YAML flow.
func compileMatch(t testing.TB, form string) Matcher {
	t.Helper()
	cfg, err := parseString(t, "use: []\nrules: [{name: r, match: "+form+"}]")
	if err != nil {
		t.Fatalf("match %s: %v", form, err)
	}
	return cfg.Rules[0].Match
}

const wsClose = "Error on request:\n" +
	"Traceback (most recent call last):\n" +
	"  File \"/usr/lib/python3/dist-packages/werkzeug/serving.py\", line 335, in run_wsgi\n" +
	"    execute(self.server.app)\n" +
	"AssertionError: write() before start_response\n"

func TestMatchSemantics(t *testing.T) {
	tests := []struct {
		name  string
		form  string
		event string
		want  bool
	}{
		{"contains hit", `{contains: "before start_response"}`, wsClose, true},
		{"contains miss", `{contains: "Headers already set"}`, wsClose, false},
		{"contains is case sensitive", `{contains: "assertionerror"}`, wsClose, false},
		{"contains list any", `{contains: [nope, "run_wsgi"]}`, wsClose, true},
		{"contains list none", `{contains: [nope, nada]}`, wsClose, false},
		{"regex hit", `{regex: 'line \d+, in run_wsgi'}`, wsClose, true},
		{"regex miss", `{regex: 'line \d+, in handle'}`, wsClose, false},
		{"regex per-line anchors", `{regex: '(?m)^AssertionError: write\(\) before start_response\(?\)?$'}`, wsClose, true},
		{"regex anchors need (?m)", `{regex: '^AssertionError'}`, wsClose, false},
		{"regex whole event", `{regex: '\AError on request:\n(?s:.*)start_response\n\z'}`, wsClose, true},
		{"regex case-insensitive", `{regex: '(?i)assertionerror: WRITE'}`, wsClose, true},
		{"regex alternation", `{regex: 'Headers already set|before start_response'}`, wsClose, true},
		{"regex alternation miss", `{regex: 'Headers already set|after start_response'}`, wsClose, false},
		{"regex without literal", `{regex: '^\S'}`, wsClose, true},
		{"not true", `{not: {contains: "Headers already set"}}`, wsClose, true},
		{"not false", `{not: {contains: AssertionError}}`, wsClose, false},
		{"any one", `{any: [{contains: nope}, {regex: 'run_\w+'}]}`, wsClose, true},
		{"any none", `{any: [{contains: nope}, {regex: 'run_\d+'}]}`, wsClose, false},
		{"all both", `{all: [{contains: Traceback}, {regex: 'write\(\)'}]}`, wsClose, true},
		{"all one", `{all: [{contains: Traceback}, {regex: 'read\(\)'}]}`, wsClose, false},
		{"keys all hold", `{contains: Traceback, regex: 'serving\.py', not: {contains: flask}}`, wsClose, true},
		{"keys one fails", `{contains: Traceback, regex: 'serving\.py', not: {contains: werkzeug}}`, wsClose, false},
		{"nested", `{any: [{all: [{contains: Traceback}, {not: {any: [{contains: werkzeug}, {contains: flask}]}}]}, {contains: "Exception on"}]}`, wsClose, false},
		{"nested hit", `{any: [{all: [{contains: Traceback}, {not: {any: [{contains: gunicorn}, {contains: flask}]}}]}, {contains: "Exception on"}]}`, wsClose, true},
		{"double not", `{not: {not: {contains: Traceback}}}`, wsClose, true},
		{"empty event", `{not: {contains: x}}`, "", true},
		{"invalid utf-8", `{regex: 'a.b'}`, "a\xffb\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compileMatch(t, tt.form)
			if got := MatchText(m, []byte(tt.event)); got != tt.want {
				t.Errorf("%s.Match(%q) = %v, want %v", tt.form, tt.event, got, tt.want)
			}
		})
	}
}

// TestRegexPrefilterUsed checks that regex matchers carry the literals the
// prefilter needs; without them every event would run the regexp.
func TestRegexPrefilterUsed(t *testing.T) {
	m := compileMatch(t, `{regex: '(?m)^AssertionError: write\(\) before start_response\(?\)?$'}`)
	rm, ok := m.(regexMatcher)
	if !ok {
		t.Fatalf("matcher is %T", m)
	}
	want := "AssertionError: write() before start_response"
	if len(rm.literals) != 1 || string(rm.literals[0]) != want {
		t.Errorf("literals = %q, want [%q]", rm.literals, want)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so regexp machines get reallocated")
	}
	event := []byte(strings.Repeat("INFO:werkzeug:127.0.0.1 - - \"GET / HTTP/1.1\" 200 -\n", 3) + wsClose)
	for _, form := range []string{
		`{contains: [nope, "before start_response"]}`,
		`{regex: '(?m)^AssertionError: write\(\) before start_response\(?\)?$'}`,
		`{regex: '(?m)^Headers already set$'}`,
		`{regex: '\S+\s'}`,
		`{not: {any: [{contains: x}, {regex: 'line \d+'}]}}`,
		`{all: [{contains: Traceback}, {regex: 'serving\.py", line \d+'}]}`,
	} {
		m := compileMatch(t, form)
		ev := &Event{Text: event}
		m.Match(ev) // warm the regexp's machine pool
		if n := testing.AllocsPerRun(100, func() { m.Match(ev) }); n != 0 {
			t.Errorf("%s: %v allocations per Match", form, n)
		}
	}
}
