package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuarantineOutput runs a corpus capture with a forwarded and a
// suppressed ("quarantine") output: the first is the ideal output, and the
// two together hold every input line exactly once, in input order.
func TestQuarantineOutput(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(corpusDir, "a_werkzeug_threading_plain.log")
	abs, err := filepath.Abs(log)
	if err != nil {
		t.Fatal(err)
	}
	fwdPath, supPath, allPath := filepath.Join(dir, "fwd.log"), filepath.Join(dir, "sup.log"), filepath.Join(dir, "all.log")
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: a, paths: [%q], start_at: beginning}]
outputs:
  - {type: file, path: %q}
  - {type: file, path: %q, events: suppressed}
  - {type: file, path: %q, events: all}
metrics: {listen: ""}
`, abs, fwdPath, supPath, allPath))
	r := logsift(t, "", nil, "run", "-once", "-config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	input, _ := os.ReadFile(log)
	want, _ := os.ReadFile(filepath.Join(corpusDir, "a_werkzeug_threading_plain.expected.log"))
	fwd, _ := os.ReadFile(fwdPath)
	sup, _ := os.ReadFile(supPath)
	all, _ := os.ReadFile(allPath)
	if !bytes.Equal(fwd, want) {
		t.Errorf("forwarded output differs from the ideal output")
	}
	if !bytes.Equal(all, input) {
		t.Errorf("events: all output is not the input")
	}
	if len(fwd)+len(sup) != len(input) || strings.Count(string(sup), "AssertionError: write() before start_response\n") != 540 {
		t.Errorf("quarantine holds %d bytes (%d false-500 events); forwarded %d; input %d", len(sup), strings.Count(string(sup), "AssertionError: write() before start_response\n"), len(fwd), len(input))
	}
	// Merging the two by input order gives the input back.
	in := strings.SplitAfter(string(input), "\n")
	f, s := strings.SplitAfter(string(fwd), "\n"), strings.SplitAfter(string(sup), "\n")
	for _, line := range in {
		switch {
		case len(f) > 0 && f[0] == line:
			f = f[1:]
		case len(s) > 0 && s[0] == line:
			s = s[1:]
		default:
			t.Fatalf("line %q is in neither output at its place", line)
		}
	}
}

// TestExpiredRule: an expired rule still applies, `check` warns, the daemon
// warns at start and sets logsift_rule_expired.
func TestExpiredRule(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
rules:
  - name: old-noise
    description: a rule whose reason went away
    match: {contains: "NOISE"}
    expires: 2020-01-31
  - name: fresh
    match: {contains: "FRESH"}
    expires: 2999-12-31
outputs: [{type: file, path: %q}]
metrics: {listen: %q}
`, filepath.Join(dir, "app.log"), filepath.Join(dir, "out.log"), addr))
	appendFile(t, filepath.Join(dir, "app.log"), "keep\nNOISE\nkeep too\n")

	r := logsift(t, "", nil, "check", "-config", cfg)
	if r.code != 0 || !strings.Contains(string(r.stdout), `warning: rule "old-noise" expired on 2020-01-31`) || strings.Contains(string(r.stdout), `"fresh" expired`) {
		t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
	}

	d := startDaemon(t, cfg)
	waitFor(t, "output", 20*time.Second, fileContains(filepath.Join(dir, "out.log"), []byte("keep too\n")))
	_, fams := scrape(t, addr)
	if v := sum(fams, "logsift_rule_expired", map[string]string{"rule": "old-noise"}); v != 1 {
		t.Errorf("logsift_rule_expired{rule=old-noise} = %v, want 1", v)
	}
	if v := sum(fams, "logsift_rule_expired", map[string]string{"rule": "fresh"}); v != 0 {
		t.Errorf("logsift_rule_expired{rule=fresh} = %v, want 0", v)
	}
	if v := sum(fams, "logsift_events_suppressed_total", map[string]string{"rule": "old-noise"}); v != 1 {
		t.Errorf("expired rule no longer applied: suppressed %v", v)
	}
	d.stop(t)
	if !strings.Contains(d.stderr.String(), "rule has expired") || !strings.Contains(d.stderr.String(), "rule=old-noise") {
		t.Errorf("no expiry warning at start:\n%s", d.stderr)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "out.log"))
	if string(out) != "keep\nkeep too\n" {
		t.Errorf("output %q", out)
	}
}
