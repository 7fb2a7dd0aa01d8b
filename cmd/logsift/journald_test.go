package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// journaldMu keeps tests that need a journal from running one each at the
// same time: there is one /run/systemd/journal per machine.
var journaldMu sync.Mutex

// startJournald runs a real systemd-journald as a child of the test for as
// long as the test runs. It needs root; without it the test is skipped, or
// fails when CI is set.
func startJournald(t *testing.T) {
	t.Helper()
	const bin = "/lib/systemd/systemd-journald"
	if os.Geteuid() != 0 {
		skipOrFail(t, "systemd-journald needs root")
	}
	if _, err := os.Stat(bin); err != nil {
		skipOrFail(t, "systemd-journald not installed (apt-get install systemd)")
	}
	journaldMu.Lock()
	t.Cleanup(journaldMu.Unlock)
	if err := os.MkdirAll("/run/systemd/journal", 0o755); err != nil {
		t.Fatal(err)
	}
	// A runtime drop-in (removed afterwards): no rate limit, since the
	// tests write whole captures at once, and a volatile journal, so
	// tests leave nothing in /var/log/journal.
	const dropIn = "/run/systemd/journald.conf.d/50-logsift-test.conf"
	if err := os.MkdirAll("/run/systemd/journald.conf.d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dropIn, []byte("[Journal]\nRateLimitBurst=0\nStorage=volatile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dropIn) })
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, "journald's socket", 10*time.Second, func() bool {
		return exec.Command("systemd-cat", "-t", "logsift-probe", "true").Run() == nil
	})
}

// journalEntries returns the MESSAGE and PRIORITY of the entries with the
// identifier, in order.
func journalEntries(t *testing.T, ident string) (msgs, prios []string) {
	t.Helper()
	out, err := exec.Command("journalctl", "--no-pager", "-o", "json", "-t", ident).Output()
	if err != nil {
		return nil, nil
	}
	for _, e := range parseJournalJSON(t, out) {
		msgs = append(msgs, e["MESSAGE"])
		prios = append(prios, e["PRIORITY"])
	}
	return msgs, prios
}

// parseJournalJSON reads journalctl -o json output: one object per entry,
// fields that are not valid UTF-8 as arrays of bytes.
func parseJournalJSON(t *testing.T, out []byte) []map[string]string {
	t.Helper()
	var entries []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("journalctl -o json: %v: %s", err, line)
		}
		m := make(map[string]string, len(e))
		for k, v := range e {
			switch v := v.(type) {
			case string:
				m[k] = v
			case []any:
				b := make([]byte, len(v))
				for i, c := range v {
					f, _ := c.(float64)
					b[i] = byte(f)
				}
				m[k] = string(b)
			default:
				m[k] = fmt.Sprint(v)
			}
		}
		entries = append(entries, m)
	}
	return entries
}

// TestJournaldOutput: what logsift forwards from a corpus capture is in
// the journal, one entry per event (a traceback and its header are one
// entry), with the configured identifier and the record's priority.
func TestJournaldOutput(t *testing.T) {
	startJournald(t)
	capture, err := os.ReadFile("../../testdata/corpus/b_werkzeug_threading_basicconfig.log")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../testdata/corpus/b_werkzeug_threading_basicconfig.expected.log")
	if err != nil {
		t.Fatal(err)
	}
	ident := fmt.Sprintf("logsift-test-%d", time.Now().UnixNano())
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{paths: ["-"]}]
outputs: [{type: journald, identifier: %s}]
metrics: {listen: ""}
`, ident))
	if r := logsift(t, "", capture, "-config", cfg); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var msgs, prios []string
	waitFor(t, "the entries", 20*time.Second, func() bool {
		msgs, prios = journalEntries(t, ident)
		return strings.Join(msgs, "\n")+"\n" == string(want)
	})
	multi, levelled := 0, 0
	for i, m := range msgs {
		if strings.Contains(m, "\n") {
			multi++
		}
		first, _, _ := strings.Cut(m, "\n")
		want := ""
		switch {
		case strings.HasPrefix(first, "ERROR:"):
			want = "3"
		case strings.HasPrefix(first, "WARNING:"):
			want = "4"
		case strings.HasPrefix(first, "INFO:"):
			want = "6"
		}
		if want != "" {
			levelled++
			if prios[i] != want {
				t.Errorf("entry %q has priority %s, want %s", first, prios[i], want)
			}
		}
	}
	if multi == 0 || levelled == 0 {
		t.Errorf("%d multi-line and %d levelled entries among %d", multi, levelled, len(msgs))
	}
	t.Logf("%d entries, %d multi-line, %d with a level", len(msgs), multi, levelled)
}
