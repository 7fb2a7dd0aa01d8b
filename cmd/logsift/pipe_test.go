package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStdoutClosedByReader is `app | logsift | head -1`: once the reader
// of stdout goes away, logsift ends promptly, quietly and successfully.
func TestStdoutClosedByReader(t *testing.T) {
	cmd := exec.Command(logsiftBin)
	cmd.Stdin = strings.NewReader(strings.Repeat(numberedLines(0, 1000), 200)) // ~15 MB
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "/items/0 ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	out.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v (stderr %q)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("logsift still running 10s after its stdout was closed")
	}
	if stderr.Len() > 0 {
		t.Errorf("not quiet: stderr %q", stderr.String())
	}
}
