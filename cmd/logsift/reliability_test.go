package main

// The reliability suite: the real binary on real files, checking that every
// input line is forwarded or counted as suppressed, exactly once in normal
// operation and at least once across crashes, in order. Lines are numbered
// (numberedLines) so that losses, repeats and reordering can be told apart.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// appLog is an application's log file that a test appends numbered lines to
// and rotates. Writes go through a small buffer, so the file often ends in
// the middle of a line, as it does with a real application; rotations
// always happen at a line boundary.
type appLog struct {
	path string
	f    *os.File
	w    *bufio.Writer
	next int // number of the next line
}

func openAppLog(path string, next int) (*appLog, error) {
	l := &appLog{path: path, next: next}
	return l, l.open()
}

func (l *appLog) open() error {
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	l.f, l.w = f, bufio.NewWriterSize(f, 4096)
	return nil
}

// write appends the next n lines.
func (l *appLog) write(n int) error {
	_, err := l.w.WriteString(numberedLines(l.next, l.next+n))
	l.next += n
	return err
}

func (l *appLog) flush() error { return l.w.Flush() }

func (l *appLog) close() error {
	if l.f == nil {
		return nil
	}
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// rotateRename moves the file to `to` and continues in a new file at the
// path (logrotate's default, or an application rotating its own log).
func (l *appLog) rotateRename(to string) error {
	if err := l.close(); err != nil {
		return err
	}
	if err := os.Rename(l.path, to); err != nil {
		return err
	}
	return l.open()
}

// writeLines appends lines up to total, one at a time, calling between(l)
// (a rotation or a pause), if set, before every line. It closes the file at
// the end. Run it in a goroutine and collect the error.
func (l *appLog) writeLines(total int, between func(*appLog) error) error {
	for l.next < total {
		if between != nil {
			if err := between(l); err != nil {
				return err
			}
		}
		if err := l.write(1); err != nil {
			return err
		}
	}
	return l.close()
}

// numberedSize is the length in bytes of numberedLines(from, to).
func numberedSize(from, to int) int64 {
	var n int64
	for i := from; i < to; i++ {
		n += int64(len(`127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/ HTTP/1.1" 200 -`)+1) + int64(len(strconv.Itoa(i)))
	}
	return n
}

// lineNumber returns the number of a line written by numberedLines, or -1.
func lineNumber(line []byte) int {
	const pre = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/`
	const post = ` HTTP/1.1" 200 -` + "\n"
	if !bytes.HasPrefix(line, []byte(pre)) || !bytes.HasSuffix(line, []byte(post)) {
		return -1
	}
	n, err := strconv.Atoi(string(line[len(pre) : len(line)-len(post)]))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// numbers parses out as numbered lines. Lines that are not numbered lines
// are returned separately (at most 5 kept), with their count.
func numbers(out []byte) (nums []int, foreign []string, nForeign int) {
	for len(out) > 0 {
		i := bytes.IndexByte(out, '\n')
		line := out
		if i >= 0 {
			line = out[:i+1]
		}
		out = out[len(line):]
		if n := lineNumber(line); n >= 0 {
			nums = append(nums, n)
			continue
		}
		nForeign++
		if len(foreign) < 5 {
			foreign = append(foreign, fmt.Sprintf("%.120q", line))
		}
	}
	return nums, foreign, nForeign
}

// accounting describes how nums differs from 0..n-1 exactly once in order.
func accounting(nums []int, n int) string {
	seen := make([]int, n)
	var dups, outside, backwards int
	firstDup, firstBack := -1, -1
	prev := -1
	for i, v := range nums {
		if v >= n {
			outside++
			continue
		}
		if seen[v]++; seen[v] > 1 {
			dups++
			if firstDup < 0 {
				firstDup = v
			}
		}
		if v <= prev && firstBack < 0 {
			firstBack = i
		}
		if v <= prev {
			backwards++
		}
		prev = v
	}
	var missing, firstMissing int
	firstMissing = -1
	var runs []string
	for i := 0; i < n; i++ {
		if seen[i] > 0 {
			continue
		}
		missing++
		if firstMissing < 0 {
			firstMissing = i
		}
		if j := i; len(runs) < 5 {
			for j+1 < n && seen[j+1] == 0 {
				j++
			}
			runs = append(runs, fmt.Sprintf("%d-%d", i, j))
			missing += j - i
			i = j
		}
	}
	s := fmt.Sprintf("%d lines out for %d in: %d missing (first runs %v), %d repeated (first %d), %d out of order, %d beyond the input",
		len(nums), n, missing, runs, dups, firstDup, backwards, outside)
	if firstBack >= 0 {
		lo := max(0, firstBack-3)
		s += fmt.Sprintf("; order breaks at output line %d: ...%v", firstBack, nums[lo:min(len(nums), firstBack+3)])
	}
	return s
}

// checkExactlyOnce fails unless out is lines 0..n-1, each once, in order.
func checkExactlyOnce(t *testing.T, out []byte, n int) {
	t.Helper()
	if string(out) == numberedLines(0, n) {
		return
	}
	nums, foreign, nf := numbers(out)
	msg := accounting(nums, n)
	if nf > 0 {
		msg += fmt.Sprintf("; %d foreign lines, e.g. %v", nf, foreign)
	}
	t.Fatalf("output is not every line exactly once in order: %s", msg)
}

// checkOnceEachInOrder fails unless out holds every line of 0..n-1 exactly
// once and, within each of the given groups of line numbers (one per input
// file, in that file's order), in order. Lines of different files may
// interleave.
func checkOnceEachInOrder(t *testing.T, out []byte, n int, groups ...[2]int) {
	t.Helper()
	nums, foreign, nf := numbers(out)
	if nf > 0 {
		t.Fatalf("%d foreign lines in the output, e.g. %v", nf, foreign)
	}
	seen := make([]bool, n)
	bad := 0
	for _, v := range nums {
		if v >= n || seen[v] {
			bad++
			continue
		}
		seen[v] = true
	}
	if bad > 0 || len(nums) != n {
		t.Fatalf("not every line exactly once: %s", accounting(nums, n))
	}
	for _, g := range groups {
		prev := -1
		for _, v := range nums {
			if v < g[0] || v >= g[1] {
				continue
			}
			if v <= prev {
				t.Fatalf("lines %d..%d (one file) out of order: %d after %d", g[0], g[1]-1, v, prev)
			}
			prev = v
		}
	}
}

// waitForOutput waits until the file at path holds size bytes. On timeout
// it kills d and reports what the output holds and what logsift logged.
func waitForOutput(t *testing.T, d *daemonProc, path string, size int64, n int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		fi, err := os.Stat(path)
		if err == nil && fi.Size() >= size {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stderr := d.kill(t)
	out, _ := os.ReadFile(path)
	nums, _, nf := numbers(out)
	t.Fatalf("timed out after %v waiting for %d bytes of output: %s (%d foreign lines)\nlogsift's log (tail):\n%s",
		timeout, size, accounting(nums, n), nf, tailOf(stderr, 40))
	return 0
}

// kill ends the daemon with SIGKILL and returns its stderr.
func (d *daemonProc) kill(t *testing.T) string {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("logsift did not die within 20s of SIGKILL")
	}
	return d.stderr.String()
}

// stopLog stops the daemon with SIGTERM and returns its stderr.
func (d *daemonProc) stopLog(t *testing.T) string {
	t.Helper()
	d.stop(t)
	return d.stderr.String()
}

// tailOf returns the last n lines of s.
func tailOf(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// checkLog fails if logsift's own log shows a panic, a data race or an
// error other than those expected (substrings of the message).
func checkLog(t *testing.T, stderr string, allowedErrors ...string) {
	t.Helper()
	for _, bad := range []string{"panic:", "WARNING: DATA RACE", "fatal error:"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("logsift's log contains %q:\n%s", bad, tailOf(stderr, 60))
		}
	}
lines:
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "level=ERROR") {
			continue
		}
		for _, ok := range allowedErrors {
			if strings.Contains(line, ok) {
				continue lines
			}
		}
		t.Errorf("unexpected error in logsift's log: %s", line)
	}
}

// filesConfig is a daemon configuration with one file input ("app", from
// the beginning), one file output and a positions file, all in dir, and a
// metrics server on a free port.
func filesConfig(t *testing.T, dir string, paths []string, extra string) (cfg, out, addr string) {
	t.Helper()
	out = filepath.Join(dir, "out.log")
	addr = freePort(t)
	var quoted []string
	for _, p := range paths {
		quoted = append(quoted, strconv.Quote(p))
	}
	cfg = writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: app
    paths: [%s]
    start_at: beginning
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
%s`, strings.Join(quoted, ", "), out, filepath.Join(dir, "positions.json"), addr, extra))
	return cfg, out, addr
}

// waitReady waits until the daemon serving metrics on addr reports ready:
// every input file is open.
func waitReady(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, "/readyz", 30*time.Second, func() bool { code, _ := httpStatus(addr, "/readyz"); return code == 200 })
}

// TestRotationUnderLoad has a writer append lines as fast as it can while
// rotating its file by rename every 10k lines; logsift must forward every
// line exactly once, each file's lines in order.
//
// The glob matches the rotated names too (app.log*), as it must: a writer
// this fast rotates files away before any tailer has opened them, and a
// file the glob does not match is then never read. Lines of different
// files may interleave (order is kept per file), which the second
// case checks by shifting names like logrotate without dateext.
func TestRotationUnderLoad(t *testing.T) {
	total := 200_000
	if raceEnabled {
		// The race detector slows logsift down about fivefold; 100k lines
		// and 10 rotations still rotate under a backlog.
		total = 100_000
	}
	const every = 10_000
	for _, tc := range []struct {
		name   string
		rotate func(l *appLog, k int) error
	}{
		{"dateext", func(l *appLog, k int) error {
			return l.rotateRename(fmt.Sprintf("%s.%03d", l.path, k))
		}},
		{"shift", func(l *appLog, k int) error {
			for i := k - 1; i >= 1; i-- {
				if err := os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1)); err != nil {
					return err
				}
			}
			return l.rotateRename(l.path + ".1")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "app.log")
			cfg, outPath, addr := filesConfig(t, dir, []string{logPath + "*"}, "")
			l, err := openAppLog(logPath, 0)
			if err != nil {
				t.Fatal(err)
			}
			d := startDaemon(t, cfg)
			waitReady(t, addr)

			written := make(chan error, 1)
			var groups [][2]int
			go func() {
				written <- l.writeLines(total, func(l *appLog) error {
					if l.next == 0 || l.next%every != 0 {
						return nil
					}
					groups = append(groups, [2]int{l.next - every, l.next})
					return tc.rotate(l, len(groups))
				})
			}()
			start := time.Now()
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			groups = append(groups, [2]int{groups[len(groups)-1][1], total})
			wrote := time.Since(start)
			took := waitForOutput(t, d, outPath, numberedSize(0, total), total, 60*time.Second)
			t.Logf("%d lines, %d rotations: written in %v, all out %v later", total, len(groups)-1, wrote.Round(time.Millisecond), took.Round(time.Millisecond))
			checkLog(t, d.stopLog(t))
			out, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			checkOnceEachInOrder(t, out, total, groups...)
		})
	}
}

// TestRotationPathOnly follows only the live path (app.log) while a busy
// writer (20k lines/s) rotates it by rename every 10k lines: logsift reads
// each old file to its end before the new one, so the output is every line
// exactly once in global order.
func TestRotationPathOnly(t *testing.T) {
	const total, every, perTick = 100_000, 10_000, 200
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	cfg, outPath, addr := filesConfig(t, dir, []string{logPath}, "")
	l, err := openAppLog(logPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfg)
	waitReady(t, addr)

	written := make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		written <- l.writeLines(total, func(l *appLog) error {
			if l.next%perTick == 0 {
				if err := l.flush(); err != nil {
					return err
				}
				<-tick.C
			}
			if l.next == 0 || l.next%every != 0 {
				return nil
			}
			return l.rotateRename(fmt.Sprintf("%s.%d", l.path, l.next/every))
		})
	}()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	took := waitForOutput(t, d, outPath, numberedSize(0, total), total, 60*time.Second)
	t.Logf("all out %v after the writer finished", took.Round(time.Millisecond))
	checkLog(t, d.stopLog(t))
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, out, total)
}
