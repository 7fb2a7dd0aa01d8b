package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

// logsiftBin is the real binary, built once for every integration test.
var logsiftBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "logsift-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logsiftBin = filepath.Join(dir, "logsift")
	args := []string{"build", "-o", logsiftBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building logsift:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr []byte
	code           int
}

// logsift runs the binary with args and stdin, in dir (when not empty).
func logsift(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, logsiftBin, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running logsift %v: %v", args, err)
	}
	return result{out.Bytes(), errb.Bytes(), code}
}

const corpusDir = "../../testdata/corpus"

func corpusLogs(t *testing.T) []string { return testutil.CorpusLogs(t, corpusDir) }

// TestZeroConfigCorpus pipes every corpus log through `logsift` with no
// arguments and compares with the ideal output byte for byte; then does the
// same with the pack's rules re-declared with drop_partner: false.
func TestZeroConfigCorpus(t *testing.T) {
	for _, log := range corpusLogs(t) {
		base := strings.TrimSuffix(log, ".log")
		input, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			args   []string
			golden string
		}{
			{"zero-config", nil, base + ".expected.log"},
			{"keep-access", []string{"-config", "../../testdata/keep-access.yaml"}, base + ".expected-keep-access.log"},
			{"keep-access-overrides", []string{"-config", "../../testdata/keep-access-overrides.yaml"}, base + ".expected-keep-access.log"},
		} {
			t.Run(filepath.Base(base)+"/"+tc.name, func(t *testing.T) {
				want, err := os.ReadFile(tc.golden)
				if err != nil {
					t.Fatal(err)
				}
				r := logsift(t, "", input, tc.args...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if !bytes.Equal(r.stdout, want) {
					t.Fatalf("output differs from %s (%d vs %d bytes)", tc.golden, len(r.stdout), len(want))
				}
			})
		}
	}
}

func TestBytesForwardedUnchanged(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	cases := map[string][]byte{
		"invalid utf-8":    []byte("caf\xe9 \xff\xfe\xc3\x28\n"),
		"crlf":             []byte("GET /a\r\nTraceback (most recent call last):\r\n  File \"x\"\r\nKeyError: 1\r\n"),
		"nul bytes":        []byte("a\x00b\n\x00\x00\n"),
		"1 MiB line":       append(append([]byte("start "), big...), '\n'),
		"1 MiB no newline": append([]byte("x\n"), big...),
		"no final newline": []byte("first\nlast line without newline"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			r := logsift(t, "", in)
			if r.code != 0 || !bytes.Equal(r.stdout, in) {
				t.Fatalf("exit %d, %d bytes out for %d in; stderr: %s", r.code, len(r.stdout), len(in), r.stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	invalid, err := filepath.Glob("../../rules/testdata/invalid/*.yaml")
	if err != nil || len(invalid) < 12 {
		t.Fatalf("want at least 12 invalid configs, found %d (%v)", len(invalid), err)
	}
	for _, cfg := range invalid {
		name := strings.TrimSuffix(filepath.Base(cfg), ".yaml")
		t.Run("invalid/"+name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(cfg, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			// The goldens name files relative to the rules package.
			r := logsift(t, "../../rules", nil, "check", "-config", "testdata/invalid/"+name+".yaml")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if got := strings.TrimSpace(string(r.stdout)); got != strings.TrimSpace(string(want)) {
				t.Errorf("check output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	valid, _ := filepath.Glob("../../rules/testdata/valid/*.yaml")
	valid = append(valid, "../../testdata/keep-access.yaml", "../../testdata/keep-access-overrides.yaml")
	for _, cfg := range valid {
		if b, _ := os.ReadFile(cfg); !bytes.Contains(b, []byte("inputs:")) {
			continue // valid YAML for the schema, but nothing to run: TestCheckRunGoldens
		}
		t.Run("valid/"+filepath.Base(cfg), func(t *testing.T) {
			r := logsift(t, "", nil, "check", "-config", cfg)
			if r.code != 0 || !bytes.Contains(r.stdout, []byte(": ok")) {
				t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{[]string{"rules"}, 0, "rule werkzeug-ws-close"},
		{[]string{"version"}, 0, "logsift "},
		{[]string{"-h"}, 0, "Usage"},
		{[]string{"run", "-h"}, 0, "-config"},
		{[]string{"check", "-h"}, 0, "-config"},
		{[]string{"rules", "-h"}, 0, "Usage"},
		{[]string{"version", "-h"}, 0, "Usage"},
		{[]string{"check"}, 2, "Usage"},
		{[]string{"run", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"-config", "/nonexistent/logsift.yaml"}, 1, "/nonexistent/logsift.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := logsift(t, "", nil, tt.args...)
			all := string(r.stdout) + string(r.stderr)
			if r.code != tt.code || !strings.Contains(all, tt.out) {
				t.Errorf("exit %d (want %d), output:\n%s\nwant it to contain %q", r.code, tt.code, all, tt.out)
			}
		})
	}
	// Every pack rule is listed with its description.
	r := logsift(t, "", nil, "rules")
	for _, name := range []string{"werkzeug-ws-close", "eventlet-ws-close", "gunicorn-ws-close", "python-engineio#457"} {
		if !bytes.Contains(r.stdout, []byte(name)) {
			t.Errorf("logsift rules does not mention %s", name)
		}
	}
}
