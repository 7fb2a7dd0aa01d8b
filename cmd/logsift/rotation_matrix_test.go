package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The rotation matrix: real writers (Python's own rotating handlers, and an
// application rotated by the real logrotate in each of its modes) × the
// situations logsift meets (running throughout, stopped with SIGTERM
// across two rotations, killed with SIGKILL, its output stalled) × the two
// ways users name the file (the live path, a glob matching the rotated
// names). Every line carries a sequence number; what is checked is what
// the issue promises: no line that was still on disk is lost, none is
// repeated (except the last second before a kill -9), none comes out of
// order, none is torn or merged.

type rotationWriter struct {
	name      string
	handler   string // testdata/rotation/writer.py --handler
	logrotate string // logrotate directives; "" when the writer rotates itself
}

var rotationWriters = []rotationWriter{
	{"python-rotating", "rotating", ""},
	{"python-timed", "timed", ""},
	{"logrotate-create", "watched", "create"},
	{"logrotate-copytruncate", "plain", "copytruncate"},
	{"logrotate-compress", "watched", "create\n\tcompress\n\tdelaycompress"},
	{"logrotate-dateext", "watched", "create\n\tdateext\n\tdateformat -%Y%m%d%H%M%S"},
	{"logrotate-postrotate", "reopen", "create\n\tpostrotate\n\t\tkill -USR1 $(cat PIDFILE)\n\tendscript"},
}

var rotationSituations = []string{"running", "sigterm", "kill9", "stall"}

// rotationLine is what every writer line looks like; anything else in the
// output is a torn or merged line.
var rotationLine = regexp.MustCompile(`^seq=(\d{10}) x{70}\n$`)

type matrixResult struct {
	written, onDisk, out, missing, dups, misordered, torn int
	firstMissing                                          []int
	firstMisorder                                         string
}

func TestRotationMatrix(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		skipOrFail(t, "python3 not installed")
	}
	if _, err := exec.LookPath("logrotate"); err != nil {
		if _, err := os.Stat("/usr/sbin/logrotate"); err != nil {
			skipOrFail(t, "logrotate not installed (apt-get install logrotate)")
		}
	}
	rate, seconds := 2000, 4.0
	if os.Getenv("LOGSIFT_SOAK") != "" {
		rate, seconds = 20000, 12.0
	}
	writer, err := filepath.Abs("../../testdata/rotation/writer.py")
	if err != nil {
		t.Fatal(err)
	}
	// The cases mostly wait on their writers: more of them run at once than
	// there are cores.
	slots := make(chan struct{}, 4)
	var mu sync.Mutex
	table := map[string]matrixResult{}
	t.Cleanup(func() {
		names := make([]string, 0, len(table))
		for n := range table {
			names = append(names, n)
		}
		slices.Sort(names)
		var b strings.Builder
		fmt.Fprintf(&b, "%-58s %8s %8s %8s %7s %5s %9s %5s\n", "case", "written", "on disk", "out", "missing", "dups", "misorder", "torn")
		for _, n := range names {
			r := table[n]
			fmt.Fprintf(&b, "%-58s %8d %8d %8d %7d %5d %9d %5d\n", n, r.written, r.onDisk, r.out, r.missing, r.dups, r.misordered, r.torn)
		}
		t.Logf("rotation matrix at %d lines/s:\n%s", rate, b.String())
	})
	for _, w := range rotationWriters {
		for _, sit := range rotationSituations {
			for _, glob := range []bool{false, true} {
				name := w.name + "/" + sit + "/path"
				if glob {
					name = w.name + "/" + sit + "/glob"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					slots <- struct{}{}
					defer func() { <-slots }()
					r := runRotationCase(t, writer, w, sit, glob, rate, seconds)
					mu.Lock()
					table[name] = r
					mu.Unlock()
					if r.missing > 0 || r.misordered > 0 || r.torn > 0 || (sit != "kill9" && r.dups > 0) {
						t.Errorf("%d lines missing of %d on disk, %d repeated, %d out of order, %d torn or merged",
							r.missing, r.onDisk, r.dups, r.misordered, r.torn)
					}
					// A kill -9 repeats what was not yet saved: positions
					// are saved every second, and what the outputs had not yet written
					// when the last save was taken comes on top.
					if sit == "kill9" && r.dups > rate*2 {
						t.Errorf("%d lines repeated after kill -9, more than 2s of writing", r.dups)
					}
				})
			}
		}
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func runRotationCase(t *testing.T, writer string, w rotationWriter, situation string, glob bool, rate int, seconds float64) matrixResult {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	pattern := live
	if glob {
		pattern = live + "*"
	}
	outPath := filepath.Join(dir, "out.log")
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, pattern, outPath, filepath.Join(dir, "positions.json"), addr))

	// A stalled output is a FIFO whose reader stops reading for a while.
	var fifo *fifoReader
	if situation == "stall" {
		if err := syscall.Mkfifo(outPath, 0o644); err != nil {
			t.Fatal(err)
		}
		fifo = readFIFO(t, outPath)
	}

	start := func() *daemonProc {
		d := startDaemon(t, cfg)
		waitFor(t, "logsift ready", 20*time.Second, func() bool { code, _ := httpStatus(addr, "/readyz"); return code == 200 })
		return d
	}
	d := start()

	pidfile := filepath.Join(dir, "writer.pid")
	wcmd := exec.Command("python3", writer, "--path", live, "--handler", w.handler,
		"--rate", strconv.Itoa(rate), "--seconds", fmt.Sprint(seconds), "--pidfile", pidfile,
		"--max-bytes", strconv.Itoa(rate*82*9/10))
	var wout bytes.Buffer
	wcmd.Stdout = &wout
	wcmd.Stderr = os.Stderr
	if err := wcmd.Start(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	writerDone := make(chan error, 1)
	go func() { writerDone <- wcmd.Wait() }()

	stopRotating := make(chan struct{})
	rotatorDone := make(chan struct{})
	var stopOnce sync.Once
	stopRotator := func() {
		stopOnce.Do(func() { close(stopRotating) })
		<-rotatorDone
	}
	defer stopRotator()
	if w.logrotate != "" {
		waitFor(t, "the writer's pid file", 10*time.Second, func() bool { _, err := os.Stat(pidfile); return err == nil })
		conf := filepath.Join(dir, "logrotate.conf")
		body := fmt.Sprintf("%s {\n\trotate 1000\n\tmissingok\n\tnomail\n\t%s\n}\n", live, strings.ReplaceAll(w.logrotate, "PIDFILE", pidfile))
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(rotatorDone)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stopRotating:
					return
				case <-tick.C:
					out, err := exec.Command("logrotate", "-f", "-s", filepath.Join(dir, "logrotate.state"), conf).CombinedOutput()
					if err != nil {
						t.Logf("logrotate: %v: %s", err, out)
					}
				}
			}
		}()
	} else {
		close(rotatorDone)
	}

	at := func(d time.Duration) <-chan time.Time { return time.After(time.Until(began.Add(d))) }
	switch situation {
	case "sigterm", "kill9":
		<-at(700 * time.Millisecond)
		if situation == "sigterm" {
			d.stop(t)
		} else {
			d.cmd.Process.Kill()
			<-d.done
		}
		<-at(2900 * time.Millisecond) // two rotations later
		d = start()
	case "stall":
		<-at(700 * time.Millisecond)
		fifo.pause()
		<-at(2900 * time.Millisecond)
		fifo.resume()
	}

	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	stopRotator()
	written, _ := strconv.Atoi(strings.TrimSpace(wout.String()))

	onDisk := seqsOnDisk(t, dir)
	read := func() []byte {
		if fifo != nil {
			return fifo.bytes()
		}
		b, _ := os.ReadFile(outPath)
		return b
	}
	// Done when every line still on disk is out (or after 60s, and the
	// check below says what is missing).
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if analyse(read(), onDisk).missing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a condition
	}
	d.stop(t)
	if fifo != nil {
		fifo.wait()
	}
	out := read()
	r := analyse(out, onDisk)
	r.written = written
	if r.missing > 0 || r.torn > 0 || r.misordered > 0 || (situation != "kill9" && r.dups > 0) {
		t.Logf("missing %v, first out of order %q; logsift's log:\n%s", r.firstMissing, r.firstMisorder, d.stderr.String())
		ls, _ := exec.Command("ls", "-l", dir).CombinedOutput()
		t.Logf("files:\n%s", ls)
	}
	return r
}

// seqsOnDisk returns the sequence numbers in every file of the family.
func seqsOnDisk(t *testing.T, dir string) map[int]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "app.log*"))
	seqs := map[int]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if m := rotationLine.FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				seqs[n] = true
			}
		}
	}
	return seqs
}

// analyse counts what the output got wrong. A line is misordered when it
// is new but below a line already out; a repeated line is a dup (a
// restart reading again from the saved position).
func analyse(out []byte, onDisk map[int]bool) matrixResult {
	r := matrixResult{onDisk: len(onDisk)}
	seen := map[int]bool{}
	top := 0
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if l == "" {
			continue
		}
		r.out++
		m := rotationLine.FindStringSubmatch(l)
		if m == nil {
			r.torn++
			continue
		}
		n, _ := strconv.Atoi(m[1])
		switch {
		case seen[n]:
			r.dups++
		case n < top:
			if r.misordered == 0 {
				r.firstMisorder = fmt.Sprintf("%d after %d (line %d of the output)", n, top, r.out)
			}
			r.misordered++
		}
		seen[n] = true
		top = max(top, n)
	}
	for n := range onDisk {
		if !seen[n] {
			r.missing++
			if len(r.firstMissing) < 5 {
				r.firstMissing = append(r.firstMissing, n)
			}
		}
	}
	slices.Sort(r.firstMissing)
	return r
}

// fifoReader reads a FIFO into memory; pause stops reading (the writer
// blocks once the pipe buffer is full), resume reads on.
type fifoReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	gate chan struct{}
	done chan struct{}
}

func readFIFO(t *testing.T, path string) *fifoReader {
	f := &fifoReader{gate: make(chan struct{}), done: make(chan struct{})}
	close(f.gate)
	go func() {
		defer close(f.done)
		fd, err := os.Open(path) // blocks until logsift opens it for writing
		if err != nil {
			t.Error(err)
			return
		}
		defer fd.Close()
		r := bufio.NewReaderSize(fd, 4096)
		chunk := make([]byte, 4096)
		for {
			f.mu.Lock()
			gate := f.gate
			f.mu.Unlock()
			<-gate
			n, err := r.Read(chunk)
			f.mu.Lock()
			f.buf.Write(chunk[:n])
			f.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return f
}

func (f *fifoReader) pause() {
	f.mu.Lock()
	f.gate = make(chan struct{})
	f.mu.Unlock()
}

func (f *fifoReader) resume() {
	f.mu.Lock()
	close(f.gate)
	f.mu.Unlock()
}

func (f *fifoReader) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.buf.Bytes())
}

func (f *fifoReader) wait() { <-f.done }
