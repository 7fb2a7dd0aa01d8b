package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// markedEvent returns event i of the reload test's stream: mostly access
// lines; every tenth a line marked DROPME; every tenth, offset by five, a
// four-line traceback event whose last line is marked DROPME.
func markedEvent(i int) string {
	switch i % 10 {
	case 0:
		return fmt.Sprintf("127.0.0.1 - - [25/Nov/2026 21:44:28] \"GET /items/%d?DROPME HTTP/1.1\" 200 -\n", i)
	case 5:
		return fmt.Sprintf("[2026-11-25 21:44:27,873] ERROR in app: Exception on /items/%d [GET]\n"+
			"Traceback (most recent call last):\n"+
			"  File \"/srv/app/app.py\", line 87, in view_%d\n"+
			"ValueError: DROPME %d\n", i, i, i)
	}
	return numberedLines(i, i+1)
}

func markedEvents(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(markedEvent(i))
	}
	return b.String()
}

var eventNumber = regexp.MustCompile(`/items/([0-9]+)[? ]|view_([0-9]+)\n|DROPME ([0-9]+)\n|^Traceback`)

// markedOutput parses the reload test's output into event numbers, in
// order, checking that every event is whole (a traceback's four lines
// together, in order).
func markedOutput(t *testing.T, out []byte) []int {
	t.Helper()
	var evs []int
	rest := string(out)
	for len(rest) > 0 {
		m := eventNumber.FindStringSubmatch(rest[:strings.IndexByte(rest, '\n')+1])
		if m == nil {
			t.Fatalf("unexpected line in the output: %.120q", rest)
		}
		n := -1
		for _, g := range m[1:] {
			if g != "" {
				n, _ = strconv.Atoi(g)
			}
		}
		if n < 0 {
			t.Fatalf("line without an event number in the output: %.120q", rest)
		}
		ev := markedEvent(n)
		if !strings.HasPrefix(rest, ev) {
			t.Fatalf("event %d is not whole in the output: %.200q", n, rest)
		}
		evs = append(evs, n)
		rest = rest[len(ev):]
	}
	return evs
}

// marked reports whether event n contains DROPME, so that the rule the
// reload adds drops it.
func marked(n int) bool { return n%10 == 0 || n%10 == 5 }

// TestReloadMidStream reloads the configuration with SIGHUP while a writer
// appends: a valid reload adding a rule that drops events containing
// DROPME switches rules at an event boundary (marked events before the
// switch point are forwarded, after it dropped, every other event exactly
// once, multi-line events whole), and an invalid reload keeps the running
// rules and sets logsift_config_last_reload_successful to 0.
func TestReloadMidStream(t *testing.T) {
	const total, perTick = 40_000, 100 // 10k events/s for 4s
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	base, outPath, addr := filesConfig(t, dir, []string{logPath}, "")
	v1, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	v2 := append(bytes.Clone(v1), []byte(`
rules:
  - name: dropme
    description: events a test marks for dropping
    match: {contains: DROPME}
    action: drop
`)...)
	invalid := append(bytes.Clone(v2), []byte("    frobnicate: true\n")...)

	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := startDaemon(t, base)
	waitReady(t, addr)

	// The writer appends whole events at a steady pace; the test reads
	// how far it got through progress.
	progress := make(chan int, 1)
	written := make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < total; i += perTick {
			if _, err := f.WriteString(markedEvents(i, i+perTick)); err != nil {
				written <- err
				return
			}
			select {
			case <-progress:
			default:
			}
			progress <- i + perTick
			<-tick.C
		}
		written <- nil
	}()
	waitWritten := func(n int) int {
		for {
			select {
			case got := <-progress:
				if got >= n {
					return got
				}
			case err := <-written:
				t.Fatalf("the writer ended before event %d: %v", n, err)
			}
		}
	}
	reloadMetrics := func() (ok, at float64) {
		_, fams := scrape(t, addr)
		return sum(fams, "logsift_config_last_reload_successful", nil), sum(fams, "logsift_config_last_reload_success_timestamp_seconds", nil)
	}
	_, startedAt := reloadMetrics()

	waitWritten(total / 4)
	if err := os.WriteFile(base, v2, 0o644); err != nil {
		t.Fatal(err)
	}
	hupAt := waitWritten(0)
	d.cmd.Process.Signal(syscall.SIGHUP)
	var reloadedAt int
	waitFor(t, "the valid reload", 20*time.Second, func() bool {
		ok, at := reloadMetrics()
		return ok == 1 && at > startedAt
	})
	reloadedAt = waitWritten(0)

	invalidAt := waitWritten(total / 2)
	if err := os.WriteFile(base, invalid, 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the invalid reload to be reported", 20*time.Second, func() bool {
		ok, _ := reloadMetrics()
		return ok == 0
	})
	if err := <-written; err != nil {
		t.Fatal(err)
	}

	// Every event not marked comes out; the last one may be a held
	// traceback, flushed after flush_after.
	unmarked := 0
	var wantSize int64
	for i := range total {
		if !marked(i) {
			unmarked++
			wantSize += int64(len(markedEvent(i)))
		}
	}
	waitForOutput(t, d, outPath, wantSize, total, 30*time.Second)
	// Once everything is read and released, the metrics must add up.
	in := map[string]string{"input": "app"}
	var read, fwd, sup float64
	waitFor(t, "every line counted", 20*time.Second, func() bool {
		_, fams := scrape(t, addr)
		read, fwd, sup = sum(fams, "logsift_input_lines_total", in), sum(fams, "logsift_lines_forwarded_total", in), sum(fams, "logsift_lines_suppressed_total", map[string]string{"input": "app", "rule": "dropme"})
		return sum(fams, "logsift_input_held_lines", in) == 0 && read == fwd+sup && read > 0
	})
	stderr := d.stopLog(t)
	checkLog(t, stderr, "reload failed")
	if !strings.Contains(stderr, "reload failed") || !strings.Contains(stderr, "frobnicate") {
		t.Errorf("the invalid reload's error is not logged with its cause:\n%s", tailOf(stderr, 20))
	}

	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	evs := markedOutput(t, out)
	// Events in order, each at most once; unmarked ones all there; marked
	// ones forwarded up to a switch point and dropped after it.
	switchAt := -1
	next := 0
	for _, n := range evs {
		if n < next {
			t.Fatalf("event %d out of order or repeated (after %d)", n, next-1)
		}
		for ; next < n; next++ {
			if !marked(next) {
				t.Fatalf("unmarked event %d is missing", next)
			}
			if switchAt < 0 {
				switchAt = next
			}
		}
		if marked(n) && switchAt >= 0 {
			t.Fatalf("marked event %d forwarded after the switch to dropping at event %d", n, switchAt)
		}
		next = n + 1
	}
	for ; next < total; next++ {
		if !marked(next) {
			t.Fatalf("unmarked event %d is missing", next)
		}
		if switchAt < 0 {
			switchAt = next
		}
	}
	t.Logf("SIGHUP sent after event %d was written, reload confirmed after %d; rules switched at event %d", hupAt, reloadedAt, switchAt)
	if switchAt < 0 || switchAt >= invalidAt {
		t.Errorf("rules switched at event %d, want before %d (written when the second, invalid reload was sent)", switchAt, invalidAt)
	}
	wantLines := 0
	for i := range total {
		wantLines += strings.Count(markedEvent(i), "\n")
	}
	if read != float64(wantLines) {
		t.Errorf("input_lines_total = %v, want %d", read, wantLines)
	}
	if outLines := bytes.Count(out, []byte("\n")); fwd != float64(outLines) {
		t.Errorf("lines_forwarded_total = %v, but the output holds %d lines", fwd, outLines)
	}
	t.Logf("lines read %v = forwarded %v + suppressed %v", read, fwd, sup)
}

// TestReopenOutputMidStream moves the output file away three times while a
// writer appends, each time followed by SIGUSR1: the moved files and the
// final one together hold every line exactly once, in order, and lines
// written after each reopen land in the new file.
func TestReopenOutputMidStream(t *testing.T) {
	const total, perTick = 40_000, 100
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	cfg, outPath, addr := filesConfig(t, dir, []string{logPath}, "")
	l, err := openAppLog(logPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfg)
	waitReady(t, addr)

	rotations := make(chan int, 3) // lines written when the output was moved
	hook, stop := paced(perTick, func(next int) bool { return next%10_000 == 0 }, func(l *appLog) error {
		k := l.next / 10_000
		if err := os.Rename(outPath, fmt.Sprintf("%s.%d", outPath, k)); err != nil {
			return err
		}
		if err := d.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			return err
		}
		rotations <- l.next
		return nil
	})
	defer stop()
	written := make(chan error, 1)
	go func() { written <- l.writeLines(total, hook) }()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	close(rotations)
	// The final file starts after the last reopen: its size tells when
	// every line is out.
	var moved []string
	var movedSize int64
	for at := range rotations {
		moved = append(moved, fmt.Sprintf("%s.%d", outPath, at/10_000))
	}
	waitFor(t, "every line out", 30*time.Second, func() bool {
		movedSize = 0
		for _, p := range moved {
			if fi, err := os.Stat(p); err == nil {
				movedSize += fi.Size()
			}
		}
		fi, err := os.Stat(outPath)
		return err == nil && movedSize+fi.Size() >= numberedSize(0, total)
	})
	stderr := d.stopLog(t)
	checkLog(t, stderr)
	if n := strings.Count(stderr, "reopening output files"); n != len(moved) {
		t.Errorf("logged %d reopens, want %d", n, len(moved))
	}
	var all []byte
	var parts []int
	for _, p := range append(moved, outPath) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		nums, _, _ := numbers(b)
		parts = append(parts, len(nums))
	}
	t.Logf("lines per output file, oldest first: %v", parts)
	checkExactlyOnce(t, all, total)
	for i, n := range parts {
		if n == 0 {
			t.Errorf("output file %d is empty: the reopen did not switch files, or not in time", i)
		}
	}
}
