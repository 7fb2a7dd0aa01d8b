package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// journalCat writes a capture to the journal with systemd-cat, one entry
// per line, as a service's stdout would be.
func journalCat(t *testing.T, ident, capture string) {
	t.Helper()
	data, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-cat", "-t", ident)
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-cat: %v: %s", err, out)
	}
}

func readExpected(t *testing.T, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(corpusDir, n))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// TestJournaldInput: a capture written to the journal line by line comes
// out filtered as from its file; logsift stopped, more written, started
// again: every entry comes out exactly once, continuing at the saved
// cursor.
func TestJournaldInput(t *testing.T) {
	startJournald(t)
	ident := fmt.Sprintf("logsift-in-%d", time.Now().UnixNano())
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: units
    type: journald
    identifiers: [%s]
    start_at: beginning
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, ident, out, filepath.Join(dir, "positions.json"), addr))

	journalCat(t, ident, filepath.Join(corpusDir, "k_py313_plain.log"))
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	want := readExpected(t, "k_py313_plain.expected.log")
	waitOutput(t, d, out, want)
	d.stop(t)
	positions, _ := os.ReadFile(filepath.Join(dir, "positions.json"))
	if !strings.Contains(string(positions), `"journals"`) {
		t.Fatalf("no cursor saved:\n%s", positions)
	}

	journalCat(t, ident, filepath.Join(corpusDir, "e_eventlet_wsgi_threading.log"))
	d = startDaemon(t, cfg)
	want += readExpected(t, "e_eventlet_wsgi_threading.expected.log")
	waitOutput(t, d, out, want)
	// Nothing more comes: no entry read twice.
	journalCat(t, ident, filepath.Join(corpusDir, "c_gunicorn_eventlet.log"))
	want += readExpected(t, "c_gunicorn_eventlet.expected.log")
	waitOutput(t, d, out, want)
	d.stop(t)
	checkLog(t, d.stderr.String())
}

// waitOutput waits until the output file holds exactly want; a file that
// grows past it fails at once.
func waitOutput(t *testing.T, d *daemonProc, path, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, _ := os.ReadFile(path)
		if string(got) == want {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("output (%d bytes) is not the expected %d bytes; first difference at line %d\nlogsift's stderr:\n%s",
				len(got), len(want), firstDiffLine(string(got), want), tailOf(d.stderr.String(), 20))
		}
		time.Sleep(5 * time.Millisecond) // polling a file another process writes
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestJournaldThroughJournald: the journal filtered into the journal. The
// forwarded entries keep the writer's identifier, PID and level, a
// traceback is one entry, and logsift never reads its own entries back,
// though they carry the identifier its input selects.
func TestJournaldThroughJournald(t *testing.T) {
	startJournald(t)
	ident := fmt.Sprintf("logsift-loop-%d", time.Now().UnixNano())
	dir := t.TempDir()
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: units, type: journald, identifiers: [%s], start_at: beginning}]
outputs: [{name: filtered, type: journald}]
metrics: {listen: %q}
`, ident, addr))
	journalCat(t, ident, filepath.Join(corpusDir, "b_werkzeug_threading_basicconfig.log"))
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	want := readExpected(t, "b_werkzeug_threading_basicconfig.expected.log")
	var msgs []string
	waitFor(t, "the forwarded entries", 60*time.Second, func() bool {
		msgs = forwardedEntries(t, ident)

		return strings.Join(msgs, "\n")+"\n" == want
	})
	d.stop(t)
	if got := forwardedEntries(t, ident); len(got) != len(msgs) {
		t.Errorf("%d forwarded entries after stopping, %d before: logsift read its own entries back", len(got), len(msgs))
	}
	multi := 0
	for _, m := range msgs {
		if strings.Contains(m, "\n") {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no multi-line entry: tracebacks were not assembled from the writer's lines")
	}
	checkLog(t, d.stderr.String())
}

// forwardedEntries are the MESSAGEs of the entries a logsift output wrote
// under ident.
func forwardedEntries(t *testing.T, ident string) []string {
	t.Helper()
	out, err := exec.Command("journalctl", "--no-pager", "-o", "json", "-t", ident, "LOGSIFT_OUTPUT=filtered").Output()
	if err != nil {
		return nil
	}
	var msgs []string
	for _, e := range parseJournalJSON(t, out) {
		if e["SYSLOG_PID"] == "" {
			t.Fatalf("forwarded entry without SYSLOG_PID: %v", e)
		}
		msgs = append(msgs, e["MESSAGE"])
	}
	return msgs
}

// TestReadmeJournalConfig: the README's journald input example passes
// check, and check -v shows the journalctl selection it makes.
func TestReadmeJournalConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## The journal in and out\n")
	if !ok {
		t.Fatal("README has no section on the journal")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("the journal section has no example")
	}
	example, _, _ := strings.Cut(rest, "```")
	dir := t.TempDir()
	example = strings.ReplaceAll(example, "/var/lib/logsift/", dir+"/")
	cfg := writeConfig(t, dir, example)
	r := logsift(t, "", nil, "check", "-v", "-config", cfg)
	if r.code != 0 {
		t.Fatalf("check: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := "_SYSTEMD_UNIT=webapp.service _TRANSPORT=stdout + _SYSTEMD_UNIT=worker.service _TRANSPORT=stdout + SYSLOG_IDENTIFIER=api _TRANSPORT=stdout"
	if !strings.Contains(string(r.stdout), want) {
		t.Errorf("check -v does not show the selection %q:\n%s", want, r.stdout)
	}
}
