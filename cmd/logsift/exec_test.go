package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		skipOrFail(t, "python3 not installed")
	}
}

// TestExecStreams: a child writes a corpus capture to stderr and plain
// lines to stdout and exits 3. Each stream is filtered on its own and comes
// out on logsift's stream of the same name; logsift exits 3.
func TestExecStreams(t *testing.T) {
	requirePython(t)
	capture := "../../testdata/corpus/a_werkzeug_threading_plain.log"
	want, err := os.ReadFile("../../testdata/corpus/a_werkzeug_threading_plain.expected.log")
	if err != nil {
		t.Fatal(err)
	}
	child := `
import sys
data = open(sys.argv[1], "rb").read()
for i in range(3):
    sys.stdout.write("stdout line %d\n" % i)
    sys.stdout.flush()
sys.stderr.buffer.write(data)
sys.stdout.write("no newline at the end")
sys.exit(3)
`
	r := logsift(t, "", nil, "exec", "--", "python3", "-c", child, capture)
	if r.code != 3 {
		t.Errorf("exit %d, want the child's 3; stderr:\n%.500s", r.code, r.stderr)
	}
	if got, want := string(r.stdout), "stdout line 0\nstdout line 1\nstdout line 2\nno newline at the end"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if !bytes.Equal(r.stderr, want) {
		t.Errorf("stderr is not the capture's expected output (%d bytes, want %d): %s", len(r.stderr), len(want), firstLineDiff(string(r.stderr), string(want)))
	}
}

// TestExecSignals: SIGTERM to logsift reaches the child, whose last line
// still comes out, and logsift exits with the child's 0; a child killed by
// SIGKILL gives 128+9.
func TestExecSignals(t *testing.T) {
	requirePython(t)
	child := `
import signal, sys, time
def bye(*_):
    print("last line after SIGTERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("ready", flush=True)
while True:
    time.sleep(0.05)
`
	cmd := exec.Command(logsiftBin, "exec", "--", "python3", "-c", child)
	out := &testutil.SyncBuffer{}
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child's first line", 20*time.Second, func() bool { return strings.Contains(out.String(), "ready\n") })
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err != nil {
		t.Errorf("logsift: %v (want exit 0); stderr:\n%s", err, stderr.String())
	}
	if got := out.String(); got != "ready\nlast line after SIGTERM\n" {
		t.Errorf("stdout %q", got)
	}

	r := logsift(t, "", nil, "exec", "--", "sh", "-c", "kill -9 $$")
	if r.code != 137 {
		t.Errorf("child killed by SIGKILL: exit %d, want 137", r.code)
	}
	if r := logsift(t, "", nil, "exec", "--", "/nonexistent/command"); r.code != 127 {
		t.Errorf("missing command: exit %d, want 127", r.code)
	}
}

// TestExecToConfiguredOutputs: with outputs in -config, the command's
// filtered lines go there instead of logsift's own streams.
func TestExecToConfiguredOutputs(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "filtered.log")
	cfg := writeConfig(t, dir, fmt.Sprintf("inputs: [{paths: [\"-\"]}]\noutputs: [{type: file, path: %q}]\n", out))
	capture := "../../testdata/corpus/k_py313_plain.log"
	want, err := os.ReadFile("../../testdata/corpus/k_py313_plain.expected.log")
	if err != nil {
		t.Fatal(err)
	}
	child := "import sys; sys.stderr.buffer.write(open(sys.argv[1], 'rb').read()); sys.exit(5)"
	r := logsift(t, "", nil, "exec", "-config", cfg, "--", "python3", "-c", child, capture)
	if r.code != 5 {
		t.Errorf("exit %d, want 5; stderr:\n%.500s", r.code, r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output file is not the expected output (%d bytes, want %d): %s", len(got), len(want), firstLineDiff(string(got), string(want)))
	}
	if len(r.stderr) != 0 || len(r.stdout) != 0 {
		t.Errorf("logsift's own streams got %d and %d bytes", len(r.stdout), len(r.stderr))
	}
}
