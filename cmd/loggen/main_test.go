package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunWritesFilesAndPrintsStats(t *testing.T) {
	dir := t.TempDir()
	logPath, expPath := filepath.Join(dir, "x.log"), filepath.Join(dir, "x.expected.log")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-lines", "2000", "-seed", "3", "-style", "gunicorn", "-out", logPath, "-expected", expPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr: %s)", err, stderr.String())
	}
	var lines, events, falseEvents, suppressed, expected int
	if _, err := fmt.Sscanf(stdout.String(), "lines=%d events=%d false_events=%d suppressed_lines=%d expected_lines=%d\n",
		&lines, &events, &falseEvents, &suppressed, &expected); err != nil {
		t.Fatalf("stats line %q: %v", stdout.String(), err)
	}
	if got := countLines(t, logPath); got != lines {
		t.Errorf("log has %d lines, stats say %d", got, lines)
	}
	if got := countLines(t, expPath); got != expected || expected != lines-suppressed {
		t.Errorf("expected output has %d lines, stats say %d (lines %d - suppressed %d)", got, expected, lines, suppressed)
	}
	if falseEvents == 0 || events <= falseEvents {
		t.Errorf("implausible stats: events=%d false_events=%d", events, falseEvents)
	}
	log, _ := os.ReadFile(logPath)
	if !strings.Contains(string(log), "[INFO] Starting gunicorn") {
		t.Error("-style gunicorn did not produce a gunicorn log")
	}
}

func TestRunFalseShareZeroMeansNone(t *testing.T) {
	dir := t.TempDir()
	logPath, expPath := filepath.Join(dir, "x.log"), filepath.Join(dir, "x.expected.log")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-lines", "500", "-false-share", "0", "-out", logPath, "-expected", expPath}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), " false_events=0 ") {
		t.Errorf("-false-share 0 still generated false events: %s", stdout.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out, exp := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"missing outputs", []string{"-lines", "10"}, true},
		{"bad flag", []string{"-nope"}, true},
		{"extra argument", []string{"-out", out, "-expected", exp, "extra"}, true},
		{"unknown style", []string{"-style", "iis", "-out", out, "-expected", exp}, false},
		{"unwritable output", []string{"-out", filepath.Join(dir, "missing", "x"), "-expected", exp}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.args, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			var u usageError
			if errors.As(err, &u) != tt.usage {
				t.Errorf("error %v: usage error = %v, want %v", err, !tt.usage, tt.usage)
			}
		})
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}
