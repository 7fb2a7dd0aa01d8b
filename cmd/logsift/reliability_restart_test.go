package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRestartAcrossRotation stops logsift with SIGTERM, rotates the log
// while it is down, starts it again, rotates once more while it runs, and
// restarts it a third time: every line comes out exactly once, each file's
// lines in order. The glob matches the rotated names, so the file rotated
// while logsift was down is found again by device and inode and continues
// at its saved position.
func TestRestartAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	cfg, outPath, addr := filesConfig(t, dir, []string{logPath + "*"}, "")
	rotate := func() {
		t.Helper()
		for i := 2; i >= 1; i-- {
			from := fmt.Sprintf("%s.%d", logPath, i)
			if _, err := os.Stat(from); err == nil {
				if err := os.Rename(from, fmt.Sprintf("%s.%d", logPath, i+1)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.Rename(logPath, logPath+".1"); err != nil {
			t.Fatal(err)
		}
	}

	appendFile(t, logPath, numberedLines(0, 5000))
	d := startDaemon(t, cfg)
	waitForOutput(t, d, outPath, numberedSize(0, 5000), 9000, 30*time.Second)
	appendFile(t, logPath, numberedLines(5000, 6000)) // may or may not be read before the stop
	checkLog(t, d.stopLog(t))

	// Down: the first file gets more lines and is rotated away.
	appendFile(t, logPath, numberedLines(6000, 7000))
	rotate()
	appendFile(t, logPath, numberedLines(7000, 9000))
	d = startDaemon(t, cfg)
	waitReady(t, addr)
	waitForOutput(t, d, outPath, numberedSize(0, 9000), 9000, 30*time.Second)

	// Up: a rotation while logsift follows both names.
	appendFile(t, logPath, numberedLines(9000, 10000))
	rotate()
	appendFile(t, logPath, numberedLines(10000, 11000))
	waitForOutput(t, d, outPath, numberedSize(0, 11000), 12000, 30*time.Second)
	checkLog(t, d.stopLog(t))

	appendFile(t, logPath, numberedLines(11000, 12000))
	d = startDaemon(t, cfg)
	waitForOutput(t, d, outPath, numberedSize(0, 12000), 12000, 30*time.Second)
	checkLog(t, d.stopLog(t))

	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	checkOnceEachInOrder(t, out, 12000, [2]int{0, 7000}, [2]int{7000, 10000}, [2]int{10000, 12000})
}

// savedPosition reads the offset saved for path from a positions file, or
// -1 if it holds none.
func savedPosition(t *testing.T, positionsPath, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(positionsPath)
	if os.IsNotExist(err) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			Path   string `json:"path"`
			Offset int64  `json:"offset"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("positions file after SIGKILL is not valid JSON (the save must be atomic): %v\n%s", err, data)
	}
	for _, f := range doc.Files {
		if f.Path == path {
			return f.Offset
		}
	}
	return -1
}

// sizeSampler records an output file's size over time.
type sizeSampler struct {
	path string
	mu   sync.Mutex
	at   []time.Time
	size []int64
	stop chan struct{}
	done chan struct{}
}

func sampleSize(path string) *sizeSampler {
	s := &sizeSampler{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var n int64
			if fi, err := os.Stat(path); err == nil {
				n = fi.Size()
			}
			s.mu.Lock()
			s.at, s.size = append(s.at, time.Now()), append(s.size, n)
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sizeSampler) close() {
	close(s.stop)
	<-s.done
}

// sizeAt returns the last size sampled at or before when.
func (s *sizeSampler) sizeAt(when time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.at), func(i int) bool { return s.at[i].After(when) })
	if i == 0 {
		return 0
	}
	return s.size[i-1]
}

// TestKillNineAtLeastOnce kills logsift with SIGKILL at five seeded random
// points while a writer appends, restarting it each time. Every line must
// come out at least once and in order (the output with repeats removed is
// exactly 0..n-1); each restart must continue exactly at the saved
// position; and what a restart repeats must be no more than what logsift
// forwarded in the last two seconds before the kill (positions are saved
// every second).
func TestKillNineAtLeastOnce(t *testing.T) {
	// The writer appends 15k lines/s until one second after the last
	// restart; maxLines bounds it.
	const maxLines, perTick, kills = 300_000, 150, 5
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	cfg, outPath, addr := filesConfig(t, dir, []string{logPath}, "")
	posPath := filepath.Join(dir, "positions.json")
	// ends[i] is the offset in the log just after line i-1.
	ends := make([]int64, maxLines+1)
	for i := range maxLines {
		ends[i+1] = ends[i] + numberedSize(i, i+1)
	}

	l, err := openAppLog(logPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	samples := sampleSize(outPath)
	defer samples.close()
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	pace, stopPacing := paced(perTick, func(int) bool { return false }, nil)
	defer stopPacing()
	stopWriting := make(chan struct{})
	errStopped := errors.New("stopped")
	hook := func(l *appLog) error {
		select {
		case <-stopWriting:
			return errStopped
		default:
			return pace(l)
		}
	}
	written := make(chan error, 1)
	go func() { written <- l.writeLines(maxLines, hook) }()

	type killPoint struct {
		after     time.Duration
		outSize   int64 // output size after the kill
		window    int64 // output bytes written in the 2s before the kill
		savedLine int   // first line not covered by the saved position
		torn      bool  // the output ended inside a line
	}
	rnd := rand.New(rand.NewPCG(2024, 11))
	var points []killPoint
	for range kills {
		// Each run lives long enough for at least one periodic save.
		after := 1100*time.Millisecond + time.Duration(rnd.IntN(1400))*time.Millisecond
		select {
		case <-time.After(after):
		case err := <-written:
			t.Fatalf("the writer finished before kill %d (%v): make the run longer", len(points)+1, err)
		}
		killed := time.Now()
		stderr := d.kill(t)
		checkLog(t, stderr)
		fi, err := os.Stat(outPath)
		if err != nil {
			t.Fatal(err)
		}
		p := killPoint{after: after, outSize: fi.Size(), window: fi.Size() - samples.sizeAt(killed.Add(-2*time.Second))}
		p.savedLine = 0
		if off := savedPosition(t, posPath, logPath); off >= 0 {
			i := sort.Search(len(ends), func(i int) bool { return ends[i] >= off })
			if i == len(ends) || ends[i] != off {
				t.Fatalf("kill %d: saved offset %d is not at a line boundary", len(points)+1, off)
			}
			p.savedLine = i
		}
		out, err := os.ReadFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		p.torn = len(out) > 0 && out[len(out)-1] != '\n'
		points = append(points, p)
		d = startDaemon(t, cfg)
	}
	// The last run follows the writer for a second, then the writer stops.
	select {
	case <-time.After(time.Second):
	case err := <-written:
		t.Fatalf("the writer finished before the last restart had run for a second (%v): raise maxLines", err)
	}
	close(stopWriting)
	if err := <-written; !errors.Is(err, errStopped) {
		t.Fatalf("writer: %v", err)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	total := l.next
	last := []byte(numberedLines(total-1, total))
	waitFor(t, "the last line after the last restart", 60*time.Second, func() bool { return endsWith(outPath, last) })
	checkLog(t, d.stopLog(t))

	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	// Split the output at the kills: run k wrote out[from:points[k].outSize].
	var firsts []int // per run after a kill: its first line
	var all []int
	from := int64(0)
	totalTorn := 0
	for k := 0; k <= len(points); k++ {
		to := int64(len(out))
		if k < len(points) {
			to = points[k].outSize
		}
		seg := out[from:to]
		if k < len(points) && points[k].torn {
			// SIGKILL can interrupt a write in the middle: the partial
			// line is repeated whole by the next run.
			seg = seg[:bytes.LastIndexByte(seg, '\n')+1]
			totalTorn++
		}
		nums, foreign, nf := numbers(seg)
		if nf > 0 {
			t.Fatalf("run %d wrote %d foreign lines, e.g. %v", k+1, nf, foreign)
		}
		if k > 0 {
			first := -1
			if len(nums) > 0 {
				first = nums[0]
			}
			firsts = append(firsts, first)
		}
		all = append(all, nums...)
		from = to
	}
	// With repeats removed (first occurrence kept) the output must be
	// 0..total-1 in order.
	seen := make([]bool, total)
	var dedup []int
	dups := 0
	for _, v := range all {
		if v >= total {
			t.Fatalf("line %d was never written", v)
		}
		if seen[v] {
			dups++
			continue
		}
		seen[v] = true
		dedup = append(dedup, v)
	}
	for i, v := range dedup {
		if v != i {
			t.Fatalf("lines lost or out of order across kills: %s", accounting(dedup, total))
		}
	}
	if len(dedup) != total {
		t.Fatalf("lines lost across kills: %s", accounting(dedup, total))
	}
	// Each restart continues at the saved position, and repeats no more
	// than the last two seconds of output before the kill.
	maxBefore := -1
	from = 0
	for k, p := range points {
		nums, _, _ := numbers(out[from:p.outSize])
		for _, v := range nums {
			maxBefore = max(maxBefore, v)
		}
		from = p.outSize
		repeated := maxBefore + 1 - p.savedLine
		windowLines := int(p.window / numberedSize(total-1, total))
		t.Logf("kill %d after %v: saved position at line %d, %d lines written before; restart repeats %d lines (2s window: ~%d lines); torn line: %v",
			k+1, p.after.Round(time.Millisecond), p.savedLine, maxBefore+1, repeated, windowLines, p.torn)
		if firsts[k] != p.savedLine {
			t.Errorf("run %d started at line %d, want the saved position's line %d", k+2, firsts[k], p.savedLine)
		}
		if repeated < 0 {
			t.Errorf("kill %d: the saved position (line %d) is beyond what was written (line %d): lines would be lost", k+1, p.savedLine, maxBefore)
		}
		if repeated > windowLines+1 {
			t.Errorf("kill %d: restart repeats %d lines, more than the %d forwarded in the 2s before the kill", k+1, repeated, windowLines)
		}
	}
	t.Logf("%d lines, %d kills: %d repeated lines in all, %d torn lines", total, kills, dups, totalTorn)
}

// endsWith reports whether the file at path ends with suffix.
func endsWith(path string, suffix []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < int64(len(suffix)) {
		return false
	}
	buf := make([]byte, len(suffix))
	if _, err := f.ReadAt(buf, fi.Size()-int64(len(suffix))); err != nil && err != io.EOF {
		return false
	}
	return bytes.Equal(buf, suffix)
}

// TestKillNineAfterRotationWithHeldEvent crashes logsift right after a
// rotation, while the new file's first event (a traceback header) is still
// held: the position saved for the new file must not be the old file's
// offset, or the restart would skip the new file's first lines.
func TestKillNineAfterRotationWithHeldEvent(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	other := filepath.Join(dir, "other.log")
	posPath := filepath.Join(dir, "positions.json")
	cfg, outPath, addr := filesConfig(t, dir, []string{logPath, other}, "")
	// Hold an event that may continue for 10s, longer than the test needs.
	body, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.Replace(body, []byte("start_at: beginning"), []byte("start_at: beginning\n    multiline: {flush_after: 10s}"), 1)
	if err := os.WriteFile(cfg, body, 0o644); err != nil {
		t.Fatal(err)
	}
	const header = "Error on request:\n"
	appendFile(t, logPath, numberedLines(0, 1000))
	appendFile(t, other, "")
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	waitForOutput(t, d, outPath, numberedSize(0, 1000), 3000, 30*time.Second)

	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath, header)
	in := map[string]string{"input": "app"}
	waitFor(t, "the new file's header to be read", 30*time.Second, func() bool {
		_, fams := scrape(t, addr)
		return sum(fams, "logsift_input_lines_total", in) == 1001
	})
	// Acknowledgements are saved in pipeline order: once other.log's line
	// is saved, whatever was acknowledged for the new app.log is too.
	appendFile(t, other, "other line\n")
	waitFor(t, "other.log's position to be saved", 30*time.Second, func() bool {
		return savedPosition(t, posPath, other) == int64(len("other line\n"))
	})
	fi, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if off := savedInode(t, posPath, fi); off > 0 {
		t.Errorf("position saved for the new file while its only line is held: %d, want none", off)
	}
	checkLog(t, d.kill(t))

	appendFile(t, logPath, numberedLines(1000, 3000))
	d = startDaemon(t, cfg)
	last := []byte(numberedLines(2999, 3000))
	waitFor(t, "the last line after the restart", 30*time.Second, func() bool { return endsWith(outPath, last) })
	checkLog(t, d.stopLog(t))
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, []byte(header)); n < 1 {
		t.Errorf("the new file's first line was lost")
	}
	nums, _, _ := numbers(out)
	seen := make([]bool, 3000)
	for _, v := range nums {
		if v < 3000 {
			seen[v] = true
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("line %d lost: %s", i, accounting(nums, 3000))
		}
	}
}

// savedInode reads the offset saved for fi's device and inode, or -1.
func savedInode(t *testing.T, positionsPath string, fi os.FileInfo) int64 {
	t.Helper()
	data, err := os.ReadFile(positionsPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			Dev    uint64 `json:"dev"`
			Inode  uint64 `json:"inode"`
			Offset int64  `json:"offset"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	for _, f := range doc.Files {
		if f.Dev == uint64(st.Dev) && f.Inode == st.Ino {
			return f.Offset
		}
	}
	return -1
}
