package record

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSuffixLen(t *testing.T) {
	tests := []struct {
		in     string
		suffix string // the expected suffix, "" for none
	}{
		// Python extras.
		{"2026-12-01 22:04:09,239 INFO werkzeug: Press CTRL+C to quit (taskName=None)", " (taskName=None)"},
		{"INFO app: chat connect sid=R1LWveR3-9hloGk7AAAD (taskName=None, sid=R1LWveR3-9hloGk7AAAD)", " (taskName=None, sid=R1LWveR3-9hloGk7AAAD)"},
		{"ERROR app: write() before start_response detected in legacy adapter for rid=r0000, falling back to buffered mode (taskName=None, rid=r0000)", " (taskName=None, rid=r0000)"},
		{"KeyError: 'banana' (taskName='Task-1')", " (taskName='Task-1')"},
		{"AssertionError: write() before start_response (taskName=None)", " (taskName=None)"},
		{" * Running on http://127.0.0.1:5311 (taskName=None)", " (taskName=None)"},
		{"msg   (a=1)", "   (a=1)"},
		{"msg (a=)", " (a=)"},
		{"msg (a=b (c=d)", " (c=d)"},
		{"call f(x) done (taskName=None)", " (taskName=None)"},
		// JSON objects.
		{`request done {"taskName": null}`, ` {"taskName": null}`},
		{`request done {"taskName": null, "request_id": "7f3a"}`, ` {"taskName": null, "request_id": "7f3a"}`},
		{`request done {"a": {"b": [1, {"c": 2}]}}`, ` {"a": {"b": [1, {"c": 2}]}}`},
		{`set {x} to {"a": 1}`, ` {"a": 1}`},
		{`text  {}`, `  {}`},
		{"deep " + strings.Repeat(`{"a": `, 40) + "1" + strings.Repeat("}", 40), ""}, // more nested " {" than maxJSONStarts
		{"deep" + strings.Repeat(` {"a":`, 20) + "1" + strings.Repeat("}", 20), strings.Repeat(` {"a":`, 20) + "1" + strings.Repeat("}", 20)},
		// Flask.
		{"ERROR in app: Exception on /boom [GET] [in /srv/app/views.py:42]", " [in /srv/app/views.py:42]"},
		{"msg [in C:\\app\\views.py:7]", " [in C:\\app\\views.py:7]"},
		// logfmt.
		{"request handled status=200 dur=12ms", " status=200 dur=12ms"},
		{`request handled user="bob smith" id=5`, ` user="bob smith" id=5`},
		{`request handled q="say \"hi\""`, ` q="say \"hi\""`},
		{`request handled q=""`, ` q=""`},
		{"request handled log.level=info trace-id=abc", " log.level=info trace-id=abc"},
		{"call (x) done a=b", " a=b"},
		{"called x=f(a)", " x=f(a)"},
		{"got list=[1,2]", " list=[1,2]"},
		{"chat connect sid=R1LWveR3-9hloGk7AAAD", " sid=R1LWveR3-9hloGk7AAAD"},
		// Must not be a suffix.
		{`127.0.0.1 - - [01/Dec/2026 22:04:10] "GET /x?a=b HTTP/1.1" 500 -`, ""},
		{`127.0.0.1 - - [01/Dec/2026 22:04:10] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 467 0.237667`, ""},
		{"Traceback (most recent call last):", ""},
		{"Traceback (most recent call last)", ""},
		{"ERROR in app: Exception on /boom [GET]", ""},
		{"Exception in thread Thread-3 (_thread):", ""},
		{"Exception in thread Thread-3 (_thread)", ""},
		{"(taskName=None)", ""},
		{"   (taskName=None)", ""},
		{"a=b", ""},
		{"a=b c=d", ""},
		{`time=2026 level=info msg="hello world"`, ""},
		{"  a=b", ""},
		{`{"a": 1}`, ""},
		{` {"a": 1}`, ""},
		{`text {"a": 1,}`, ""},
		{`text {"a": 1} x`, ""},
		{"text{}", ""},
		{"text(a=b)", ""},
		{"text [in x:1]", " [in x:1]"},
		{"text [in x:y]", ""},
		{"text [in :1]", ""},
		{"text [in x:]", ""},
		{"[in x:1]", ""},
		{"text (1=2)", ""},
		{"text ( a=b)", ""},
		{"text (a b=c)", ""},
		{"text [a b=c]", ""},
		{"text {a b=c}", ""},
		{"path=/x?a= b=c", ""},
		{"text a=", ""},
		{"text =b", ""},
		{"text 9a=b", ""},
		{"text x:a=b", ""},
		{`text a="b`, ""},
		{`text a=b"c`, ""},
		{`text a="b\"`, ""},
		{"text\ta=b", ""},
		{"", ""},
		{" ", ""},
		{")", ""},
		{"}", ""},
		{"]", ""},
	}
	for _, tt := range tests {
		n := SuffixLen([]byte(tt.in))
		if got := tt.in[len(tt.in)-n:]; got != tt.suffix {
			t.Errorf("SuffixLen(%q) = %d (%q), want %q", tt.in, n, got, tt.suffix)
		}
	}
}

// TestSuffixCorpus checks that every record of the extras log that carries
// the formatter's suffix has it recognised.
func TestSuffixCorpus(t *testing.T) {
	f, err := os.Open(corpusDir + "/i_py313_extras.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	marked, found := 0, 0
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.LastIndex(line, []byte(" (taskName=None"))
		if i < 0 {
			continue
		}
		marked++
		if n := SuffixLen(line); n == len(line)-i {
			found++
		} else {
			t.Errorf("SuffixLen(%q) = %d, want %d", line, n, len(line)-i)
		}
	}
	if marked < 1000 || found != marked {
		t.Errorf("%d of %d suffixes found", found, marked)
	}
}

// TestSuffixLenLinear guards against quadratic behaviour on hostile lines:
// each must take well under the time a quadratic scan of 1 MB would.
func TestSuffixLenLinear(t *testing.T) {
	tests := map[string]string{
		"nested objects":  "x" + strings.Repeat(` {"a":`, 200000) + "}",
		"open objects":    "x" + strings.Repeat(` {"a": 1,`, 100000) + "}",
		"objects":         "x" + strings.Repeat(` {"a": 1}`, 100000) + "}",
		"parens":          "x" + strings.Repeat(" (a", 300000) + ")",
		"open quotes":     "x" + strings.Repeat(` a="`, 300000),
		"pairs":           "x" + strings.Repeat(` a=b`, 300000),
		"escaped quotes":  "x" + strings.Repeat(` a="\"`, 300000),
		"flask":           "x" + strings.Repeat(" [in ", 200000) + "]",
		"backslash quote": strings.Repeat(`\"`, 300000) + `"`,
	}
	for name, s := range tests {
		start := time.Now()
		SuffixLen([]byte(s))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}
