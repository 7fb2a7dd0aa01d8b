package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func numberedLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "127.0.0.1 - - [25/Nov/2026 21:44:28] \"GET /items/%d HTTP/1.1\" 200 -\n", i)
	}
	return b.String()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestRestartExactlyOnce stops logsift with SIGTERM mid-stream and starts
// it again: with positions saved at shutdown, every line comes out exactly
// once, in order.
func TestRestartExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	outPath := filepath.Join(dir, "out.log")
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: ""}
`, logPath, outPath, filepath.Join(dir, "state", "positions.json")))

	appendFile(t, logPath, numberedLines(0, 5000))
	d := startDaemon(t, cfg)
	waitFor(t, "first part", 20*time.Second, fileContains(outPath, []byte("/items/4999 ")))
	appendFile(t, logPath, numberedLines(5000, 6000))
	d.stop(t)

	appendFile(t, logPath, numberedLines(6000, 9000))
	d = startDaemon(t, cfg)
	waitFor(t, "second part", 20*time.Second, fileContains(outPath, []byte("/items/8999 ")))
	d.stop(t)

	got, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := numberedLines(0, 9000); string(got) != want {
		t.Fatalf("output after restart is not every line exactly once: %d bytes, want %d\n%s", len(got), len(want), firstLineDiff(string(got), want))
	}
}

func firstLineDiff(got, want string) string {
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(g), len(w))
}
