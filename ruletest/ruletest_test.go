package ruletest

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/golden")

// goldenRuns are the reports kept in testdata/golden: the test files given
// to RunFiles and whether every case passes. cmd/logsift runs the same
// files through the real binary and compares with the same goldens.
var goldenRuns = []struct {
	name  string
	files []string
	ok    bool
}{
	{"pass", []string{"testdata/pass.yaml"}, true},
	{"fail", []string{"testdata/fail.yaml"}, false},
	{"config", []string{"testdata/config.yaml"}, true},
	{"overrides", []string{"testdata/overrides.yaml"}, true},
	{"coverage", []string{"testdata/coverage.yaml"}, true},
	{"invalid", []string{"testdata/invalid.yaml"}, false},
	{"unknown-rule", []string{"testdata/unknown-rule.yaml"}, false},
	{"formats", []string{"testdata/format-json.yaml", "testdata/format-docker-json.yaml", "testdata/format-cri.yaml"}, true},
	{"several", []string{"testdata/pass.yaml", "testdata/coverage.yaml", "testdata/missing.yaml"}, false},
}

func TestGoldenReports(t *testing.T) {
	for _, run := range goldenRuns {
		t.Run(run.name, func(t *testing.T) {
			var buf bytes.Buffer
			if ok := RunFiles(&buf, run.files); ok != run.ok {
				t.Errorf("RunFiles = %v, want %v", ok, run.ok)
			}
			golden := filepath.Join("testdata", "golden", run.name+".out")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("report differs from %s:\n%s", golden, unifiedDiff("want", "got", string(want), buf.String()))
			}
		})
	}
}

// TestFailureReport pins the parts of a failure report that users rely on,
// independent of the goldens.
func TestFailureReport(t *testing.T) {
	var buf bytes.Buffer
	RunFiles(&buf, []string{"testdata/fail.yaml"})
	out := buf.String()
	for _, want := range []string{
		"Unit Testing: testdata/fail.yaml\n  FAILED:\n",
		`test "websocket close" (testdata/fail.yaml:18:5):`,
		"--- expected\n",
		"+++ got\n",
		"-127.0.0.1 - - [25/Nov/2026 21:44:29] \"GET /items/3 HTTP/1.1\" 200 -\n",
		"suppressed by werkzeug-ws-close: expected 2 events, got 1\n",
		"event 2 (1 line): suppressed as partner of werkzeug-ws-close",
		"event 3 (5 lines): suppressed by werkzeug-ws-close",
		"event 5 (1 line): forwarded (no rule)",
		"coverage: 2/4 rules exercised; not exercised: eventlet-ws-close, gunicorn-ws-close\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `test "health checks are hidden"`) {
		t.Errorf("a passing case is reported as failed:\n%s", out)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"t.yaml:1:1: empty test file: tests is required"}},
		{"no tests", "use: [werkzeug]\n", []string{"t.yaml:1:1: tests is required (a list of test cases)"}},
		{"not a mapping", "- a\n", []string{"t.yaml:1:1: expected a mapping, got a list"}},
		{"flow mapping", "{tests: []}\n", []string{"t.yaml:1:1: a test file must be a block mapping (one key per line), not {...}"}},
		{"unknown top key", "test: []\n", []string{
			`t.yaml:1:1: unknown top-level key "test"; did you mean "tests"?`,
			"t.yaml:1:1: tests is required (a list of test cases)",
		}},
		{"no cases", "tests: []\n", []string{"t.yaml:1:8: tests: needs at least one test case"}},
		{"config and rules", "config: x.yaml\nuse: []\ntests: [{name: a, input: '', expect: {}}]\n",
			[]string{"t.yaml:2:1: use: cannot be combined with config (the rules under test come from one place)"}},
		{"missing config", "config: nope.yaml\ntests: [{name: a, input: '', expect: {}}]\n",
			[]string{"t.yaml:1:9: config: load config: open nope.yaml: no such file or directory"}},
		{"case errors", "tests:\n  - name: a\n    expect: {forwarded: [x]}\n  - input: x\n    expect: 3\n",
			[]string{
				`t.yaml:2:5: test "a": input is required`,
				`t.yaml:3:25: test "a": forwarded: expected a string, got a list`,
				`t.yaml:4:5: test 2: name is required`,
				`t.yaml:5:13: test 2: expect: expected a mapping, got "3"`,
			}},
		{"bad count", "tests:\n  - name: a\n    input: x\n    expect: {suppressed: {werkzeug-ws-close: many}}\n",
			[]string{`t.yaml:4:46: test "a": suppressed: werkzeug-ws-close: expected a count of events (0 or more), got "many"`}},
		{"rule errors keep their position", "rules:\n  - name: x\n    match: {}\ntests:\n  - {name: a, input: x, expect: {}}\n",
			[]string{`t.yaml:3:12: rule "x": match: needs at least one of contains, regex, field, not, any or all`}},
		{"syntax", "tests: [\n", []string{"t.yaml:2:1: YAML syntax error: did not find expected node content"}},
		// Merge keys stay unsupported: at the top level they would hide
		// configuration keys from the inline configuration.
		{"merge key", "tests:\n  - <<: {name: a}\n    input: x\n    expect: {}\n", []string{
			`t.yaml:2:5: test 1: keys must be plain strings, got "<<"`,
			`t.yaml:2:5: test 1: name is required`,
		}},
		// A case repeated through an alias is still a duplicate; its own
		// errors are reported once.
		{"aliased case", "tests:\n  - &a {name: x, input: y, expect: {forwarded: [x]}}\n  - *a\n", []string{
			`t.yaml:2:5: test "x": name already used by the test at t.yaml:2:5`,
			`t.yaml:2:48: test "x": forwarded: expected a string, got a list`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.src))
			var errs rules.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v (%T), want rules.Errors", err, err)
			}
			if got := strings.Join(errs, "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestInlineConfig: the configuration keys of a test file are the
// configuration, whatever surrounds them; with none, the default packs
// apply.
func TestInlineConfig(t *testing.T) {
	src := `# comment
tests:
  - name: a
    input: "x\n"
    expect: {}
inputs:
  - paths: ["-"]
    prefix: docker-compose
    multiline: {preset: none}
use: []
rules:
  - name: xs
    match: {contains: x}
`
	f, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if in := f.Config.Inputs[0]; in.Prefix.Kind != "docker-compose" || in.Multiline.Preset != "none" {
		t.Errorf("input = %+v", in)
	}
	if len(f.Config.Rules) != 1 || f.Config.Rules[0].Name != "xs" || f.Config.Rules[0].Pos != "t.yaml:12:5" {
		t.Errorf("rules = %+v", f.Config.Rules)
	}
	if len(f.Cases) != 1 || f.Cases[0].Pos != "t.yaml:3:5" || f.Cases[0].CheckForwarded {
		t.Errorf("cases = %+v", f.Cases)
	}

	f, err = Parse("t.yaml", []byte("tests: [{name: a, input: '', expect: {}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := rules.Default().Rules; len(f.Config.Rules) != len(want) {
		t.Errorf("without rules: %d rules, want the %d of the default packs", len(f.Config.Rules), len(want))
	}
}

func TestRunCase(t *testing.T) {
	cfg, err := rules.Parse("c.yaml", []byte(`use: []
rules:
  - {name: keep-important, match: {contains: important}, action: keep}
  - {name: drop-noise, match: {contains: noise}}
  - {name: every-second, match: {contains: tick}, sample: 2}
  - name: paired
    match: {contains: child}
    pair: {match: {contains: parent}, within: 2, direction: before}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := &Case{Input: "important noise\nnoise\ntick\ntick\nparent\nchild\nchild\nlast line without newline"}
	res := RunCase(cfg.Inputs[0], cfg.Rules, c)
	if want := "important noise\ntick\nchild\nlast line without newline"; res.Forwarded != want {
		t.Errorf("forwarded %q, want %q", res.Forwarded, want)
	}
	wantSup := map[string]int{"drop-noise": 1, "every-second": 1, "paired": 1}
	if !equalCounts(res.Suppressed, wantSup) {
		t.Errorf("suppressed %v, want %v", res.Suppressed, wantSup)
	}
	wantMatched := map[string]int{"keep-important": 1, "drop-noise": 1, "every-second": 2, "paired": 2}
	if !equalCounts(res.Matched, wantMatched) {
		t.Errorf("matched %v, want %v", res.Matched, wantMatched)
	}
	var got []string
	for _, e := range res.Events {
		got = append(got, e.Explain())
	}
	want := []string{
		"forwarded (kept by keep-important)",
		"suppressed by drop-noise",
		"suppressed by every-second",
		"forwarded (sampled: every-second)",
		"suppressed as partner of paired",
		"suppressed by paired",
		"forwarded (unpaired: paired)",
		"forwarded (no rule)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	empty := RunCase(cfg.Inputs[0], cfg.Rules, &Case{})
	if empty.Forwarded != "" || len(empty.Events) != 0 {
		t.Errorf("empty input: %+v", empty)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestExplain(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{}, "forwarded (no rule)"},
		{Event{Verdict: event.Suppressed, Rule: "r"}, "suppressed by r"},
		{Event{Verdict: event.Suppressed, Rule: "r", Partner: true}, "suppressed as partner of r"},
		{Event{Rule: "r", Partner: true}, "forwarded as partner of r"},
		{Event{Rule: "r", Unpaired: true}, "forwarded (unpaired: r)"},
		{Event{Rule: "r", Sampled: true}, "forwarded (sampled: r)"},
		{Event{Rule: "r", Kept: true}, "forwarded (kept by r)"},
	}
	for _, tt := range tests {
		if got := tt.e.Explain(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"from nothing", "", "a\nb\n", "--- w\n+++ g\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"to nothing", "a\n", "", "--- w\n+++ g\n@@ -1 +0,0 @@\n-a\n"},
		{"one change", "a\nb\nc\n", "a\nx\nc\n", "--- w\n+++ g\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n"},
		{"missing newline", "a\nb\n", "a\nb", "--- w\n+++ g\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"},
		{"escapes", "a\r\n", "a\n", "--- w\n+++ g\n@@ -1 +1 @@\n-a\\x0d\n+a\n"},
		{"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n",
			"--- w\n+++ g\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n"},
		{"merged hunk",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"1\nX\n3\n4\n5\n6\n7\n8\nY\n",
			"--- w\n+++ g\n@@ -1,9 +1,9 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+Y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unifiedDiff("w", "g", tt.want, tt.got); got != tt.diff {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.diff)
			}
		})
	}
}

// TestMyersIsMinimalAndCorrect checks random line lists: the script turns
// a into b, and it is as short as the longest common subsequence allows.
func TestMyersIsMinimalAndCorrect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		a := randomLines(rng)
		b := randomLines(rng)
		script := myers(a, b)
		var gotA, gotB []string
		edits := 0
		for _, e := range script {
			switch e.kind {
			case opEqual:
				if a[e.a] != b[e.b] {
					t.Fatalf("equal edit pairs %q with %q", a[e.a], b[e.b])
				}
				gotA, gotB = append(gotA, a[e.a]), append(gotB, b[e.b])
			case opDelete:
				gotA = append(gotA, a[e.a])
				edits++
			case opInsert:
				gotB = append(gotB, b[e.b])
				edits++
			}
		}
		if strings.Join(gotA, "") != strings.Join(a, "") || strings.Join(gotB, "") != strings.Join(b, "") {
			t.Fatalf("script does not rebuild the inputs: %q %q", a, b)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("%d edits for %q -> %q, want %d", edits, a, b, want)
		}
	}
}

func randomLines(rng *rand.Rand) []string {
	n := rng.IntN(12)
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a'+rng.IntN(4))) + "\n"
	}
	return out
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestDiffTooDifferent: past the edit budget the diff is still correct,
// only not minimal.
func TestDiffTooDifferent(t *testing.T) {
	var a, b strings.Builder
	for i := range maxEditDistance {
		a.WriteString("a" + string(rune('0'+i%10)) + "\n")
		b.WriteString("b" + string(rune('0'+i%10)) + "\n")
	}
	d := unifiedDiff("w", "g", a.String(), b.String())
	if n := strings.Count(d, "\n-"); n != maxEditDistance {
		t.Errorf("%d removed lines, want %d", n, maxEditDistance)
	}
	if n := strings.Count(d, "\n+"); n != maxEditDistance+1 { // +1: the "+++ g" header
		t.Errorf("%d added lines, want %d", n-1, maxEditDistance)
	}
}
