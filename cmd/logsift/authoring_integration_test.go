package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ruletestDir holds the rule test files and the golden reports of
// `logsift test`, shared with the ruletest package's own tests.
const ruletestDir = "../../ruletest"

// TestRuleTestGoldens runs `logsift test` on the ruletest package's test
// files and compares with the same goldens its unit tests use.
func TestRuleTestGoldens(t *testing.T) {
	for _, tc := range []struct {
		golden string
		files  []string
		code   int
	}{
		{"pass", []string{"testdata/pass.yaml"}, 0},
		{"fail", []string{"testdata/fail.yaml"}, 1},
		{"coverage", []string{"testdata/coverage.yaml"}, 0},
		{"config", []string{"testdata/config.yaml"}, 0},
		{"invalid", []string{"testdata/invalid.yaml"}, 1},
		{"several", []string{"testdata/pass.yaml", "testdata/coverage.yaml", "testdata/missing.yaml"}, 1},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(ruletestDir, "testdata", "golden", tc.golden+".out"))
			if err != nil {
				t.Fatal(err)
			}
			r := logsift(t, ruletestDir, nil, append([]string{"test"}, tc.files...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			if !bytes.Equal(r.stdout, want) {
				t.Errorf("output:\n%s\nwant:\n%s", r.stdout, want)
			}
		})
	}
}

// TestPackTests runs the test files of the built-in packs: every case
// passes and every rule of every pack is exercised.
func TestPackTests(t *testing.T) {
	files, err := filepath.Glob("../../testdata/packs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pack tests: %v", err)
	}
	r := logsift(t, "", nil, append([]string{"test"}, files...)...)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !bytes.Contains(r.stdout, []byte("rules exercised\n")) || bytes.Contains(r.stdout, []byte("not exercised")) {
		t.Errorf("some pack rule is not exercised:\n%s", r.stdout)
	}
}

// TestOptInPacksOnCorpus: on the real captures, the opt-in packs match
// nothing (the corpus holds near misses such as simple-websocket's and
// gevent's own broken pipes, but no harmless error of theirs), and the
// default pack still suppresses exactly what the ideal output removes.
func TestOptInPacksOnCorpus(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "packs.yaml")
	if err := os.WriteFile(cfg, []byte("use: [werkzeug, werkzeug-disconnects, gunicorn-noise]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := corpusLogs(t)
	r := logsift(t, "", nil, append([]string{"replay", "-json", "-samples", "0", "-config", cfg}, logs...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decodeReport(t, r.stdout)
	var expectedLines int64
	for _, log := range logs {
		want, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".expected.log")
		if err != nil {
			t.Fatal(err)
		}
		expectedLines += int64(bytes.Count(want, []byte("\n")))
	}
	if got := rep.Lines - rep.LinesSuppressed; got != expectedLines {
		t.Errorf("%d lines forwarded, the ideal outputs have %d", got, expectedLines)
	}
	for _, rr := range rep.Rules {
		if (rr.Name == "werkzeug-write-disconnect" || rr.Name == "gunicorn-tls-on-plain-http") && rr.Matched != 0 {
			t.Errorf("%s matched %d corpus events", rr.Name, rr.Matched)
		}
	}
	if len(rep.Rules) != 5 {
		t.Errorf("%d rules in use, want the 3 default ones and 2 opt-in ones", len(rep.Rules))
	}
}

func TestAuthoringUsage(t *testing.T) {
	log := filepath.Join(t.TempDir(), "a.log")
	os.WriteFile(log, []byte("x\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"test"}, 2, "no test files"},
		{[]string{"test", "-h"}, 0, "Usage: logsift test FILE..."},
		{[]string{"replay"}, 2, "no log files"},
		{[]string{"replay", "-h"}, 0, "lines_suppressed_percent"},
		{[]string{"replay", "-show", "all", log}, 2, "invalid -show"},
		{[]string{"replay", "-samples", "-1", log}, 2, "-samples"},
		{[]string{"replay", "-nope", log}, 2, "flag provided but not defined"},
		{[]string{"replay", "/nonexistent.log"}, 1, "/nonexistent.log"},
		{[]string{"replay", "-config", "/nonexistent.yaml", log}, 1, "/nonexistent.yaml"},
		{[]string{"help"}, 0, "logsift replay [flags] LOG..."},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := logsift(t, "", nil, tc.args...)
			all := string(r.stdout) + string(r.stderr)
			if r.code != tc.code || !strings.Contains(all, tc.out) {
				t.Errorf("exit %d (want %d), output:\n%s\nwant it to contain %q", r.code, tc.code, all, tc.out)
			}
		})
	}
}

// A generated block, werkzeug style, whose fate under the default rules is
// known by construction: the websocket access line and its traceback are
// suppressed together, everything else is forwarded.
const (
	genKept = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/27 HTTP/1.1" 200 -` + "\n" +
		"[2026-11-25 21:44:27,873] ERROR in app: Exception on /boom [GET]\n" +
		"Traceback (most recent call last):\n" +
		`  File "/srv/chatapp/app/app.py", line 87, in boom` + "\n" +
		"    return jsonify(price=PRICES[fruit])\n" +
		"KeyError: 'banana'\n"
	genSuppressed = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?transport=websocket&EIO=4 HTTP/1.1" 500 -` + "\n" +
		"Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi` + "\n" +
		"    execute(self.server.app)\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write` + "\n" +
		`    assert status_set is not None, "write() before start_response"` + "\n" +
		"AssertionError: write() before start_response\n"
	genBlock       = genKept + genSuppressed
	genBlockEvents = 4 // access line, app traceback, websocket access line, websocket traceback
)

// generated describes a generated log.
type generated struct {
	path   string
	blocks int64
}

// generateLog writes about size bytes of whole blocks to path, fast: one
// chunk of blocks is built once and written repeatedly.
func generateLog(t *testing.T, path string, size int64, compress bool) generated {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	var zw *gzip.Writer
	if compress {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	perChunk := max(1, min(size, 4<<20)/int64(len(genBlock)))
	chunk := bytes.Repeat([]byte(genBlock), int(perChunk))
	g := generated{path: path}
	for written := int64(0); written+int64(len(chunk)) <= size || g.blocks == 0; written += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		g.blocks += perChunk
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// replayJSON is the part of the -json report these tests check.
type replayJSON struct {
	Files []struct {
		Path       string `json:"path"`
		Compressed bool   `json:"compressed"`
		DiskBytes  int64  `json:"disk_bytes"`
		Lines      int64  `json:"lines"`
		Bytes      int64  `json:"bytes"`
	} `json:"files"`
	Lines                  int64   `json:"lines"`
	Bytes                  int64   `json:"bytes"`
	Events                 int64   `json:"events"`
	EventsSuppressed       int64   `json:"events_suppressed"`
	LinesSuppressed        int64   `json:"lines_suppressed"`
	BytesSuppressed        int64   `json:"bytes_suppressed"`
	LinesSuppressedPercent float64 `json:"lines_suppressed_percent"`
	BytesSuppressedPercent float64 `json:"bytes_suppressed_percent"`
	Rules                  []struct {
		Name     string `json:"name"`
		Events   int64  `json:"events"`
		Lines    int64  `json:"lines"`
		Bytes    int64  `json:"bytes"`
		Matched  int64  `json:"matched"`
		Unpaired int64  `json:"unpaired"`
		Samples  []struct {
			Path  string `json:"path"`
			Line  int64  `json:"line"`
			Lines int    `json:"lines"`
			Text  string `json:"text"`
		} `json:"samples"`
	} `json:"rules"`
}

// checkReport compares a -json report with the counts known by
// construction for blocks generated blocks in all.
func checkReport(t *testing.T, rep replayJSON, blocks int64) {
	t.Helper()
	lines := blocks * int64(strings.Count(genBlock, "\n"))
	supLines := blocks * int64(strings.Count(genSuppressed, "\n"))
	supBytes := blocks * int64(len(genSuppressed))
	if rep.Lines != lines || rep.Bytes != blocks*int64(len(genBlock)) || rep.Events != blocks*genBlockEvents ||
		rep.EventsSuppressed != blocks || rep.LinesSuppressed != supLines || rep.BytesSuppressed != supBytes {
		t.Errorf("totals: lines %d events %d suppressed %d events, %d lines, %d bytes; want %d, %d, %d, %d, %d",
			rep.Lines, rep.Events, rep.EventsSuppressed, rep.LinesSuppressed, rep.BytesSuppressed,
			lines, blocks*genBlockEvents, blocks, supLines, supBytes)
	}
	wantPct := 100 * float64(strings.Count(genSuppressed, "\n")) / float64(strings.Count(genBlock, "\n"))
	if d := rep.LinesSuppressedPercent - wantPct; d > 1e-6 || d < -1e-6 {
		t.Errorf("lines_suppressed_percent %v, want %v", rep.LinesSuppressedPercent, wantPct)
	}
	if len(rep.Rules) == 0 || rep.Rules[0].Name != "werkzeug-ws-close" {
		t.Fatalf("rules: %+v", rep.Rules)
	}
	ws := rep.Rules[0]
	if ws.Events != blocks || ws.Matched != blocks || ws.Lines != supLines || ws.Bytes != supBytes || ws.Unpaired != 0 {
		t.Errorf("werkzeug-ws-close: %+v", ws)
	}
	if len(ws.Samples) == 0 || ws.Samples[0].Line != int64(strings.Count(genKept, "\n")+2) ||
		ws.Samples[0].Text != genSuppressed[strings.Index(genSuppressed, "Error on request:"):] {
		t.Errorf("first sample: %+v", ws.Samples)
	}
}

func decodeReport(t *testing.T, data []byte) replayJSON {
	t.Helper()
	var rep replayJSON
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	return rep
}

// TestReplayJSON replays a plain and a gzip file together and checks the
// JSON report against the counts known by construction.
func TestReplayJSON(t *testing.T) {
	dir := t.TempDir()
	plain := generateLog(t, filepath.Join(dir, "app.log"), 2<<20, false)
	gz := generateLog(t, filepath.Join(dir, "app.log.1.gz"), 1<<20, true)
	r := logsift(t, "", nil, "replay", "-json", "-samples", "2", plain.path, gz.path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(r.stderr) != 0 {
		t.Errorf("stderr is not a terminal, yet: %q", r.stderr)
	}
	rep := decodeReport(t, r.stdout)
	checkReport(t, rep, plain.blocks+gz.blocks)
	if len(rep.Files) != 2 || rep.Files[0].Compressed || !rep.Files[1].Compressed ||
		rep.Files[1].Bytes != gz.blocks*int64(len(genBlock)) || rep.Files[1].DiskBytes >= rep.Files[1].Bytes {
		t.Errorf("files: %+v", rep.Files)
	}
	if n := len(rep.Rules[0].Samples); n != 2 {
		t.Errorf("%d samples, want 2", n)
	}
}

// TestReplayShow: -show writes the selected events byte for byte to
// stdout and the report to stderr.
func TestReplayShow(t *testing.T) {
	g := generateLog(t, filepath.Join(t.TempDir(), "app.log"), 64<<10, false)
	for _, tc := range []struct{ show, want string }{
		{"suppressed", strings.Repeat(genSuppressed, int(g.blocks))},
		{"forwarded", strings.Repeat(genKept, int(g.blocks))},
	} {
		t.Run(tc.show, func(t *testing.T) {
			r := logsift(t, "", nil, "replay", "-show", tc.show, g.path)
			if r.code != 0 || string(r.stdout) != tc.want {
				t.Fatalf("exit %d, %d bytes on stdout, want %d; stderr: %s", r.code, len(r.stdout), len(tc.want), r.stderr)
			}
			if !bytes.HasPrefix(r.stderr, []byte("replayed 1 file: ")) {
				t.Errorf("report not on stderr: %q", r.stderr)
			}
		})
	}
	r := logsift(t, "", nil, "replay", g.path)
	if r.code != 0 || !bytes.HasPrefix(r.stdout, []byte("replayed 1 file: ")) || len(r.stderr) != 0 {
		t.Errorf("-show none: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestReplayProgressOnTTY runs replay with stderr on a pseudo-terminal:
// a progress bar is drawn with carriage returns, rate and ETA, and ends
// at 100%.
func TestReplayProgressOnTTY(t *testing.T) {
	g := generateLog(t, filepath.Join(t.TempDir(), "app.log"), 8<<20, false)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, logsiftBin, "replay", "-json", g.path)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Reading ends with EIO once the child has closed the terminal.
		io.Copy(&screen, ptmx)
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("replay: %v", err)
	}
	wg.Wait()

	out := screen.String()
	for _, want := range []string{"\r", "100.0% [==============================]", "MB/s", "ETA 0s", "\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q: %q", want, out)
		}
	}
	checkReport(t, decodeReport(t, stdout.Bytes()), g.blocks)
}

// replayBinary returns a binary built without the race detector: the
// memory bound is a property of the product, and the race detector alone
// uses more than the bound.
var replayBinary = sync.OnceValues(func() (string, error) {
	if !raceEnabled {
		return logsiftBin, nil
	}
	path := filepath.Join(filepath.Dir(logsiftBin), "logsift-norace")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return path, nil
})

// replayBytes is the size of the log TestReplayBoundedMemory generates:
// LOGSIFT_REPLAY_BYTES, default 1 GiB.
func replayBytes(t *testing.T) int64 {
	s := os.Getenv("LOGSIFT_REPLAY_BYTES")
	if s == "" {
		return 1 << 30
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("LOGSIFT_REPLAY_BYTES=%q: want a positive number of bytes", s)
	}
	return n
}

// maxReplayRSS is the most memory replay may use, whatever the input size.
const maxReplayRSS = 64 << 20

// TestReplayBoundedMemory replays a generated log of about 1 GiB (see
// LOGSIFT_REPLAY_BYTES) and checks the peak resident memory of the process
// and the report's counts.
//
// The peak is read from /proc/PID/status (VmHWM) while the process is still
// alive: the child's rusage is no good here, as Linux counts in it the
// memory of the test process it was forked from. To catch it after the
// whole log, a FIFO is replayed last: once replay opens it, the log is
// done, and replay waits there until the test closes the FIFO.
func TestReplayBoundedMemory(t *testing.T) {
	bin, err := replayBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "end.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	size := replayBytes(t)
	start := time.Now()
	g := generateLog(t, filepath.Join(dir, "big.log"), size, false)
	generated := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "replay", "-json", g.path, fifo)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Opening the write end without blocking fails with ENXIO until replay
	// has opened the read end.
	var w *os.File
	for w == nil {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case err == nil:
			w = f
		case !errors.Is(err, syscall.ENXIO):
			t.Fatal(err)
		}
		if w != nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("replay ended before reaching the FIFO: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatal("replay did not reach the FIFO in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
	replayed := time.Since(start)
	hwm, err := peakRSS(cmd.Process.Pid)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	t.Logf("%d MiB generated in %v, replayed in %v; peak RSS %d MiB",
		g.blocks*int64(len(genBlock))>>20, generated.Round(time.Millisecond), replayed.Round(time.Millisecond), hwm>>20)
	if hwm > maxReplayRSS {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", hwm>>20, maxReplayRSS>>20)
	}
	checkReport(t, decodeReport(t, stdout.Bytes()), g.blocks)
}

// peakRSS reads a live process's peak resident memory (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
