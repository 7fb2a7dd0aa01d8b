package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

// daemonProc is a logsift daemon started by a test.
type daemonProc struct {
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
	done   chan error
}

func startDaemon(t *testing.T, config string, extra ...string) *daemonProc {
	t.Helper()
	return startCmd(t, exec.Command(logsiftBin, append([]string{"run", "-config", config}, extra...)...))
}

// startCmd starts cmd with its stderr captured, and kills it at the end of
// the test if it is still running.
func startCmd(t *testing.T, cmd *exec.Cmd) *daemonProc {
	t.Helper()
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, stderr: stderr, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemonProc) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("logsift exited with %v; stderr:\n%s", err, d.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("logsift did not exit within 20s of SIGTERM; stderr:\n%s", d.stderr)
	}
}

// waitFor polls cond until it holds or the deadline passes, and returns how
// long it took.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func fileContains(path string, want []byte) func() bool {
	return func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, want)
	}
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "logsift.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFollowLatency appends to a followed file and measures how long each
// line takes to come out: a plain line at once, a possible traceback header
// after flush_after of quiet.
func TestFollowLatency(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	outPath := filepath.Join(dir, "out.log")
	if err := os.WriteFile(logPath, []byte("existing line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: app
    paths: [%q]
    start_at: beginning
    multiline: {flush_after: 250ms}
outputs:
  - {type: file, path: %q}
metrics: {listen: ""}
`, logPath, outPath))
	d := startDaemon(t, cfg)
	waitFor(t, "the existing line", 10*time.Second, fileContains(outPath, []byte("existing line\n")))

	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const flushAfter = 250 * time.Millisecond
	// Generous bound for a loaded CI machine under -race; the numbers are logged.
	limit := flushAfter + 100*time.Millisecond
	if raceEnabled {
		limit += 400 * time.Millisecond
	}
	for _, line := range []string{
		`127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/3 HTTP/1.1" 200 -`,
		"Error on request:", // held: a traceback may follow
		"[2026-11-25 21:44:27,873] INFO in app: plain",
	} {
		start := time.Now()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, line, 10*time.Second, fileContains(outPath, []byte(line+"\n")))
		took := time.Since(start)
		t.Logf("%-60q out after %v", line, took.Round(time.Millisecond))
		if took > limit {
			t.Errorf("%q took %v to come out, more than flush_after + 100ms (%v)", line, took, limit)
		}
	}
	d.stop(t)
}
