package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadRebuildsPipeline changes inputs and outputs with SIGHUP while
// lines keep coming: a new pipeline takes over from the saved positions,
// so the old output holds every line exactly once, in order, and the new
// output and input start working. An invalid file afterwards changes
// nothing.
func TestReloadRebuildsPipeline(t *testing.T) {
	dir := t.TempDir()
	app, extra := filepath.Join(dir, "app.log"), filepath.Join(dir, "extra.log")
	outA, outB := filepath.Join(dir, "a.out"), filepath.Join(dir, "b.out")
	positions := filepath.Join(dir, "positions.json")
	first := fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, name: a, path: %q}]
positions: {path: %q}
metrics: {listen: ""}
`, app, outA, positions)
	second := fmt.Sprintf(`
inputs:
  - {name: app, paths: [%q], start_at: beginning}
  - {name: extra, paths: [%q], start_at: beginning}
outputs:
  - {type: file, name: a, path: %q}
  - {type: file, name: b, path: %q}
positions: {path: %q}
metrics: {listen: ""}
`, app, extra, outA, outB, positions)
	cfg := writeConfig(t, dir, first)
	appendFile(t, app, numberedLines(0, 3000))
	d := startDaemon(t, cfg)
	waitFor(t, "first part", 20*time.Second, fileContains(outA, []byte("/items/2999 ")))

	// Lines keep arriving while the configuration changes.
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := 3000; i < 6000; i += 100 {
			appendFile(t, app, numberedLines(i, i+100))
		}
	}()
	writeConfig(t, dir, second)
	appendFile(t, extra, "extra line one\nextra line two\n")
	d.cmd.Process.Signal(syscall.SIGHUP)
	<-writing
	// The old pipeline may have read every line written so far before it
	// stopped; lines written after the reload are the new output's.
	waitFor(t, "the reload", 20*time.Second, func() bool {
		return strings.Contains(d.stderr.String(), "reloaded with a new pipeline")
	})
	appendFile(t, app, numberedLines(6000, 6050))
	waitFor(t, "the new output", 20*time.Second, fileContains(outB, []byte("/items/6049 ")))
	waitFor(t, "the new input", 20*time.Second, fileContains(outA, []byte("extra line two\n")))
	waitFor(t, "the rest", 20*time.Second, fileContains(outA, []byte("/items/6049 ")))

	// An invalid file keeps the new pipeline running.
	writeConfig(t, dir, second+"bogus_key: 1\n")
	d.cmd.Process.Signal(syscall.SIGHUP)
	appendFile(t, app, numberedLines(6050, 6100))
	waitFor(t, "lines after the invalid reload", 20*time.Second, fileContains(outB, []byte("/items/6099 ")))
	d.stop(t)

	a, _ := os.ReadFile(outA)
	var appLines, extraLines []string
	for _, l := range strings.SplitAfter(string(a), "\n") {
		switch {
		case strings.HasPrefix(l, "extra"):
			extraLines = append(extraLines, l)
		case l != "":
			appLines = append(appLines, l)
		}
	}
	if got, want := strings.Join(appLines, ""), numberedLines(0, 6100); got != want {
		t.Fatalf("output a: app lines are not every line exactly once, in order: %s", firstLineDiff(got, want))
	}
	if strings.Join(extraLines, "") != "extra line one\nextra line two\n" {
		t.Errorf("output a: extra lines %q", extraLines)
	}
	b, _ := os.ReadFile(outB)
	var bApp []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "extra") {
			bApp = append(bApp, l)
		}
	}
	// Output b exists from the reload on: a contiguous tail of the lines.
	if len(bApp) == 0 || !strings.HasSuffix(numberedLines(0, 6100), strings.Join(bApp, "")) {
		t.Errorf("output b is not a contiguous tail of the input (%d lines)", len(bApp))
	}
	stderr := d.stderr.String()
	for _, want := range []string{"reloaded with a new pipeline", "reload failed; keeping the running configuration", "bogus_key"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestStartAtEndThenRestart: with start_at: end, the skipped content is
// recorded as done, so lines written while logsift is down after a start in
// which nothing new arrived are not skipped on the next start.
func TestStartAtEndThenRestart(t *testing.T) {
	dir := t.TempDir()
	app, out := filepath.Join(dir, "app.log"), filepath.Join(dir, "out.log")
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: end}]
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, app, out, filepath.Join(dir, "positions.json"), addr))
	appendFile(t, app, numberedLines(0, 100)) // old content: skipped
	d := startDaemon(t, cfg)
	waitFor(t, "ready", 20*time.Second, func() bool { code, _ := httpStatus(addr, "/readyz"); return code == 200 })
	d.stop(t)

	appendFile(t, app, numberedLines(100, 200)) // written while down
	d = startDaemon(t, cfg)
	waitFor(t, "lines written while down", 20*time.Second, fileContains(out, []byte("/items/199 ")))
	d.stop(t)
	got, _ := os.ReadFile(out)
	if want := numberedLines(100, 200); string(got) != want {
		t.Fatalf("output: %s", firstLineDiff(string(got), want))
	}
}
