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

// TestCheckRunGoldens: configurations that parse but cannot run as meant —
// no inputs, a feedback loop, a directory as a path — are errors of
// `check` (and of `run`), one line each naming the file.
func TestCheckRunGoldens(t *testing.T) {
	dir, err := filepath.Abs("testdata/check")
	if err != nil {
		t.Fatal(err)
	}
	cfgs, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(cfgs) < 6 {
		t.Fatalf("found %d configs in %s", len(cfgs), dir)
	}
	for _, cfg := range cfgs {
		name := filepath.Base(cfg)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(cfg, ".yaml") + ".out")
			if err != nil {
				t.Fatal(err)
			}
			r := logsift(t, dir, nil, "check", "-config", name)
			got := strings.ReplaceAll(string(r.stdout), dir, "DIR")
			if r.code != 1 || got != string(want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 1 and:\n%s", r.code, got, want)
			}
			// run refuses it the same way.
			r = logsift(t, dir, nil, "run", "-config", name)
			if r.code != 1 || !strings.Contains(strings.ReplaceAll(string(r.stderr), dir, "DIR"), strings.TrimSpace(string(want))) {
				t.Errorf("run: exit %d, stderr:\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestCheckWarningsAndResolvedPaths: a path that matches nothing is a
// warning (exit 0, or 1 with -strict); -v shows globs resolved against the
// configuration file's directory, whatever the working directory.
func TestCheckWarningsAndResolvedPaths(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `
inputs: [{name: app, paths: ["logs/*.log"]}, {name: typo, paths: ["/nonexistent/dir/*.log"]}]
metrics: {listen: ""}
`)
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := logsift(t, t.TempDir(), nil, "check", "-v", "-config", cfg)
	out := string(r.stdout)
	for _, want := range []string{
		`warning: input "app": "` + filepath.Join(dir, "logs/*.log") + `" matches no file (no file matches it yet)`,
		`warning: input "typo": "/nonexistent/dir/*.log" matches no file (its directory /nonexistent/dir does not exist)`,
		"input app: " + filepath.Join(dir, "logs/*.log"),
		": ok (2 inputs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
	if r := logsift(t, "", nil, "check", "-strict", "-config", cfg); r.code != 1 {
		t.Errorf("-strict: exit %d, want 1", r.code)
	}
}

// TestCommandLineHelp: -h shows the commands, help COMMAND a command's
// flags, extra arguments are refused by name.
func TestCommandLineHelp(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		stdout   string // substring of stdout
		stderr   string // substring of stderr
		notInAll string
	}{
		{[]string{"-h"}, 0, "logsift check -config FILE", "", "Flags:"},
		{[]string{"--help"}, 0, "logsift replay", "", ""},
		{[]string{"help"}, 0, "logsift rules", "", ""},
		{[]string{"help", "check"}, 0, "-strict", "", ""},
		{[]string{"help", "run"}, 0, "-shutdown.timeout", "", ""},
		{[]string{"help", "nope"}, 2, "", `unknown command "nope"`, ""},
		{[]string{"rules", "extra"}, 2, "", "logsift rules: unexpected arguments: extra", ""},
		{[]string{"version", "extra", "more"}, 2, "", "logsift version: unexpected arguments: extra more", ""},
		{[]string{"check", "-config", "a.yaml", "b.yaml"}, 2, "", "unexpected arguments: b.yaml", ""},
		{[]string{"run", "stray"}, 2, "", "unexpected arguments: stray", ""},
		{[]string{"version", "-h"}, 0, "", "Usage: logsift version", "Flags:"},
		{[]string{"rules", "-config", "../../testdata/keep-access-overrides.yaml"}, 0, "werkzeug-ws-close (pack werkzeug)\n    overridden: pair.drop_partner: false\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := logsift(t, "", nil, tt.args...)
			if r.code != tt.code || !bytes.Contains(r.stdout, []byte(tt.stdout)) || !bytes.Contains(r.stderr, []byte(tt.stderr)) ||
				(tt.notInAll != "" && bytes.Contains(append(r.stdout, r.stderr...), []byte(tt.notInAll))) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestOwnOutputIsNeverFollowed: the output file is also reachable under a
// name the input glob matches (a hard link or a symlink in the input
// directory), which no check of the configuration can see. logsift
// recognises it by device and inode and does not read it: one appended
// line comes out exactly once.
func TestOwnOutputIsNeverFollowed(t *testing.T) {
	for _, link := range []string{"hard", "symbolic"} {
		t.Run(link, func(t *testing.T) {
			dir := t.TempDir()
			in, outDir := filepath.Join(dir, "in"), filepath.Join(dir, "out")
			for _, d := range []string{in, outDir} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(outDir, "filtered.log")
			appendFile(t, out, "")
			mk := os.Link
			if link == "symbolic" {
				mk = os.Symlink
			}
			if err := mk(out, filepath.Join(in, "filtered.log")); err != nil {
				t.Skip("no such links here:", err)
			}
			cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
metrics: {listen: ""}
`, filepath.Join(in, "*.log"), out))
			d := startDaemon(t, cfg)
			appendFile(t, filepath.Join(in, "app.log"), "one line\n")
			waitFor(t, "the line", 20*time.Second, fileContains(out, []byte("one line\n")))
			// Long enough for several rescans and reads of a looping file.
			time.Sleep(1500 * time.Millisecond)
			d.stop(t)
			if b, _ := os.ReadFile(out); string(b) != "one line\n" {
				t.Fatalf("output %q, want the line exactly once", b)
			}
		})
	}
}

// TestUnmatchedInputIsReported: an input whose directory does not exist
// is named in a warning at start and by /readyz.
func TestUnmatchedInputIsReported(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	missing := filepath.Join(dir, "no-such-dir", "*.log")
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q]}]
outputs: [{type: stdout}]
metrics: {listen: %q}
`, missing, addr))
	d := startDaemon(t, cfg)
	waitFor(t, "/readyz past the start", 20*time.Second, func() bool {
		_, body := httpStatus(addr, "/readyz")
		return strings.Contains(body, "no file matches")
	})
	code, body := httpStatus(addr, "/readyz")
	if code != 503 || !strings.Contains(body, "input app: "+missing) {
		t.Errorf("/readyz: %d %q, want 503 naming %s", code, body, missing)
	}
	waitFor(t, "the warning", 20*time.Second, func() bool {
		s := d.stderr.String()
		return strings.Contains(s, "level=WARN") && strings.Contains(s, "match no file") && strings.Contains(s, missing)
	})
	d.stop(t)
}

// TestReadmeExampleConfig copies the README's example configuration
// verbatim: it passes check, and replayed over every corpus capture it
// gives exactly the capture's expected output.
func TestReadmeExampleConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Configuration\n\n```yaml\n")
	if !ok {
		t.Fatal("README has no example configuration under ## Configuration")
	}
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README's example configuration does not end")
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, example)
	if r := logsift(t, "", nil, "check", "-config", cfg); r.code != 0 {
		t.Fatalf("check: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	logs, _ := filepath.Glob("../../testdata/corpus/*.log")
	n := 0
	for _, log := range logs {
		if strings.Contains(log, ".expected") {
			continue
		}
		n++
		t.Run(filepath.Base(log), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".expected.log")
			if err != nil {
				t.Fatal(err)
			}
			r := logsift(t, "", nil, "replay", "-config", cfg, "-show", "forwarded", log)
			if r.code != 0 || !bytes.Equal(r.stdout, want) {
				t.Errorf("exit %d, %d bytes forwarded, want %d: %s", r.code, len(r.stdout), len(want), firstLineDiff(string(r.stdout), string(want)))
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d corpus captures", n)
	}
}

// TestCommandLineGoldens pins the overview, a command's help and an extra
// argument's message.
func TestCommandLineGoldens(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		golden string
		stderr bool
	}{
		{[]string{"-h"}, 0, "testdata/cli/h.out", false},
		{[]string{"help", "check"}, 0, "testdata/cli/help-check.out", false},
		{[]string{"rules", "extra"}, 2, "testdata/cli/rules-extra.err", true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			want, err := os.ReadFile(tc.golden)
			if err != nil {
				t.Fatal(err)
			}
			r := logsift(t, "", nil, tc.args...)
			got := r.stdout
			if tc.stderr {
				got = r.stderr
			}
			if r.code != tc.code || !bytes.Equal(got, want) {
				t.Errorf("exit %d (want %d), output:\n%s\nwant (%s):\n%s", r.code, tc.code, got, tc.golden, want)
			}
		})
	}
}
