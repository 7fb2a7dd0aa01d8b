package inputs

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"

	"github.com/logsift/logsift/event"
)

const waitFor = 10 * time.Second

// rec is one received line with where it came from.
type rec struct {
	path string
	id   event.FileID
	line string
	end  int64
}

// collector receives batches, copies their lines and releases them.
type collector struct {
	mu      sync.Mutex
	recs    []rec
	batches int
	notify  chan struct{}
	done    chan struct{}
}

func collect(out <-chan *event.LineBatch) *collector {
	c := &collector{notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for b := range out {
			c.mu.Lock()
			c.batches++
			for i := range b.Len() {
				c.recs = append(c.recs, rec{path: b.Path, id: b.File, line: string(b.Line(i)), end: b.LineEndOffset(i)})
			}
			c.mu.Unlock()
			b.Release()
			select {
			case c.notify <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

func (c *collector) snapshot() []rec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recs)
}

// wait returns the received lines once there are at least n of them.
func (c *collector) wait(t *testing.T, n int) []rec {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		have := len(c.recs)
		c.mu.Unlock()
		if have >= n {
			return c.snapshot()
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			r := c.snapshot()
			t.Fatalf("got %d lines, want %d; last: %v", len(r), n, tailRecs(r))
		}
	}
}

// quiet asserts that no line arrives within d (used only to check that
// something does NOT happen; never to wait for something that should).
func (c *collector) quiet(t *testing.T, have int, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-c.notify:
			if r := c.snapshot(); len(r) > have {
				t.Fatalf("unexpected lines: %v", r[have:])
			}
		case <-timer.C:
			return
		}
	}
}

func tailRecs(r []rec) []rec {
	if len(r) > 5 {
		return r[len(r)-5:]
	}
	return r
}

func lines(r []rec) []string {
	var s []string
	for _, x := range r {
		s = append(s, x.line)
	}
	return s
}

type harness struct {
	src  *FileSource
	c    *collector
	logs *testutil.SyncBuffer
	stop func() error
}

// startFiles runs a FileSource until the test ends and waits until it is
// ready.
func startFiles(t *testing.T, cfg FilesConfig, setup ...func(*FileSource)) *harness {
	t.Helper()
	if cfg.Input == "" {
		cfg.Input = "app"
	}
	if cfg.Rescan == 0 {
		cfg.Rescan = 20 * time.Millisecond
	}
	logs := &testutil.SyncBuffer{}
	src := NewFiles(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, f := range setup {
		f(src)
	}
	out := make(chan *event.LineBatch)
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		runErr = src.Run(ctx, out)
	}()
	h := &harness{src: src, c: collect(out), logs: logs}
	var once sync.Once
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case <-runDone:
			case <-time.After(waitFor):
				t.Errorf("Run did not return after cancel")
				return
			}
			close(out)
			<-h.c.done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("source logs:\n%s", logs.String())
		}
	})
	select {
	case <-src.Ready():
	case <-time.After(waitFor):
		t.Fatal("source not ready")
	}
	return h
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %04d\n", i)
	}
	return b.String()
}

var watchers = []struct {
	name string
	poll bool
}{{"inotify", false}, {"poll", true}}

// checkOffsets verifies that every line's end offset is its position in
// the file given the file's content from offset start.
func checkOffsets(t *testing.T, r []rec, content string, start int64) {
	t.Helper()
	off := start
	for i, x := range r {
		off += int64(len(x.line))
		if x.end != off {
			t.Fatalf("line %d %q: end offset %d, want %d", i, x.line, x.end, off)
		}
		if got := content[off-int64(len(x.line)) : off]; got != x.line {
			t.Fatalf("line %d: %q is not the file's bytes %q at its offset", i, x.line, got)
		}
	}
}

func TestFilesStartAt(t *testing.T) {
	for _, w := range watchers {
		for _, startAt := range []string{StartAtBeginning, StartAtEnd} {
			t.Run(w.name+"/"+startAt, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "app.log")
				writeFile(t, path, "old 1\nold 2\n")
				h := startFiles(t, FilesConfig{Paths: []string{path}, StartAt: startAt, Poll: w.poll})
				appendFile(t, path, "new 1\n")
				want := []string{"old 1\n", "old 2\n", "new 1\n"}
				start := int64(0)
				if startAt == StartAtEnd {
					want, start = want[2:], 12
				}
				got := h.c.wait(t, len(want))
				if !slices.Equal(lines(got), want) {
					t.Fatalf("lines %q, want %q", lines(got), want)
				}
				checkOffsets(t, got, "old 1\nold 2\nnew 1\n", start)
				for _, x := range got {
					if x.path != path || x.id.Inode == 0 || x.id.Generation != 0 {
						t.Errorf("line from %q with id %+v", x.path, x.id)
					}
				}
			})
		}
	}
}

// TestFilesBytesAndOffsets appends tricky bytes in pieces, including a line
// split across writes, and checks that the batches reproduce the file.
func TestFilesBytesAndOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "")
	var splits atomic.Int32
	h := startFiles(t, FilesConfig{Paths: []string{path}, MaxLineBytes: 50, OnSplit: func() { splits.Add(1) }})
	pieces := []string{
		"plain\n",
		"crlf\r\n\r\n",
		"\x00nul\x00\n",
		"bad utf-8 \xff\xfe\xc3\x28\n",
		"\n",
		"half a li", "ne written twice\n",
		strings.Repeat("L", 120) + "\n",
		"\x1b[35mcolour\x1b[0m\n",
	}
	var content string
	for _, p := range pieces {
		appendFile(t, path, p)
		content += p
	}
	want := wantLines([]byte(content), 50)
	got := h.c.wait(t, len(want))
	for i := range want {
		if got[i].line != string(want[i]) {
			t.Fatalf("line %d: %q, want %q", i, got[i].line, want[i])
		}
	}
	checkOffsets(t, got, content, 0)
	if n := splits.Load(); n != 1 {
		t.Errorf("OnSplit called %d times, want 1", n)
	}
	// The partial line must not have been delivered on its own.
	h.c.quiet(t, len(want), 100*time.Millisecond)
}

func TestFilesGlobsAndExclude(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{ // path -> expected to be read
		filepath.Join(dir, "a.log"):        true,
		filepath.Join(dir, "b.txt"):        false,
		filepath.Join(dir, "c.log.gz"):     false,
		filepath.Join(dir, "old.log"):      false,
		filepath.Join(sub, "d.log"):        true,
		filepath.Join(sub, "skipped.log"):  false,
		filepath.Join(dir, "x.gz"):         false,
		filepath.Join(dir, "zz-dir.log"):   false, // a directory
		filepath.Join(dir, "second.match"): true,
	}
	for p := range files {
		if strings.HasSuffix(p, "zz-dir.log") {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, filepath.Base(p)+"\n")
	}
	h := startFiles(t, FilesConfig{
		Paths:   []string{filepath.Join(dir, "*.log*"), filepath.Join(sub, "*.log"), filepath.Join(dir, "*.match"), filepath.Join(dir, "a.log")},
		Exclude: []string{"*.gz", "old.*", filepath.Join(sub, "skipped.log")},
		StartAt: StartAtBeginning,
	})
	got := h.c.wait(t, 3)
	h.c.quiet(t, 3, 200*time.Millisecond)
	var paths []string
	for _, x := range got {
		paths = append(paths, x.path)
		if x.line != filepath.Base(x.path)+"\n" {
			t.Errorf("%s: line %q", x.path, x.line)
		}
	}
	slices.Sort(paths)
	want := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "second.match"), filepath.Join(sub, "d.log")}
	if !slices.Equal(paths, want) {
		t.Errorf("read %q, want %q", paths, want)
	}
}

func TestFilesLateFileFromBeginning(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtEnd, Poll: w.poll})
			path := filepath.Join(dir, "late.log")
			writeFile(t, path, "written before it was found\n")
			got := h.c.wait(t, 1)
			if got[0].line != "written before it was found\n" || got[0].path != path {
				t.Fatalf("got %+v", got[0])
			}
			appendFile(t, path, "and after\n")
			got = h.c.wait(t, 2)
			checkOffsets(t, got, "written before it was found\nand after\n", 0)
		})
	}
}

// checkExactlyOnce verifies that the lines are numbered 1..n, each once,
// and in order within each file incarnation.
func checkExactlyOnce(t *testing.T, got []rec, n int) {
	t.Helper()
	count := map[string]int{}
	last := map[event.FileID]int{}
	for _, x := range got {
		count[x.line]++
		var num int
		if _, err := fmt.Sscanf(x.line, "line %d\n", &num); err != nil {
			t.Fatalf("unexpected line %q", x.line)
		}
		if prev, ok := last[x.id]; ok && prev >= num {
			t.Errorf("out of order in %s %+v: %d after %d", x.path, x.id, num, prev)
		}
		last[x.id] = num
	}
	for i := 1; i <= n; i++ {
		l := fmt.Sprintf("line %04d\n", i)
		if count[l] != 1 {
			t.Errorf("%q received %d times", l, count[l])
		}
	}
	if len(got) != n {
		t.Errorf("received %d lines, want %d", len(got), n)
	}
}

func TestFilesRenameRotation(t *testing.T) {
	for _, w := range watchers {
		for _, glob := range []string{"app.log", "app.log*"} {
			t.Run(w.name+"/"+glob, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "app.log")
				rotated := path + ".1"
				writeFile(t, path, numbered(1, 50))
				h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, glob)}, StartAt: StartAtBeginning, Poll: w.poll})
				h.c.wait(t, 50)

				// Lines written right before the rename are typically not
				// read yet when the tail notices it.
				appendFile(t, path, numbered(51, 100))
				if err := os.Rename(path, rotated); err != nil {
					t.Fatal(err)
				}
				writeFile(t, path, numbered(101, 150))
				got := h.c.wait(t, 150)
				if glob == "app.log*" {
					// A writer that has not reopened its log yet keeps
					// appending to the rotated file.
					appendFile(t, rotated, numbered(151, 160))
					h.c.wait(t, 160)
					h.c.quiet(t, 160, 300*time.Millisecond)
					got = h.c.snapshot()
					checkExactlyOnce(t, got, 160)
				} else {
					h.c.quiet(t, 150, 100*time.Millisecond)
					checkExactlyOnce(t, got, 150)
				}
				old, cur := map[event.FileID]bool{}, map[event.FileID]bool{}
				for _, x := range got {
					switch {
					case x.line <= "line 0100\n":
						old[x.id] = true
					case x.line <= "line 0150\n":
						cur[x.id] = true
						if x.path != path || x.id.Generation != 1 {
							t.Errorf("new file line %q from %s %+v, want generation 1", x.line, x.path, x.id)
						}
					}
				}
				if len(cur) != 1 || len(old) != 1 {
					t.Fatalf("old file ids %v, new %v: want one each", old, cur)
				}
				for id := range cur {
					if old[event.FileID{Dev: id.Dev, Inode: id.Inode}] {
						t.Errorf("new file has the old file's inode")
					}
				}
			})
		}
	}
}

func TestFilesTruncation(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, numbered(1, 20))
			h := startFiles(t, FilesConfig{Paths: []string{path}, StartAt: StartAtBeginning, Poll: w.poll})
			h.c.wait(t, 20)
			// Like copytruncate: same inode, content starts over and is
			// shorter than before.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			appendFile(t, path, "after 1\nafter 2\n")
			got := h.c.wait(t, 22)
			after := got[20:]
			if !slices.Equal(lines(after), []string{"after 1\n", "after 2\n"}) {
				t.Fatalf("after truncation: %q", lines(after))
			}
			checkOffsets(t, after, "after 1\nafter 2\n", 0)
			if g := after[0].id; g.Generation != got[0].id.Generation+1 || g.Inode != got[0].id.Inode {
				t.Errorf("id after truncation %+v, before %+v: want same inode, next generation", g, got[0].id)
			}
		})
	}
}

// TestFilesVanishedFileIsDrained deletes a followed file: lines written just
// before are still delivered, the follower stops, and a file created later
// under the same name is read from its beginning.
func TestFilesVanishedFileIsDrained(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			writeFile(t, path, numbered(1, 10))
			h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtBeginning, Poll: w.poll})
			h.c.wait(t, 10)
			appendFile(t, path, numbered(11, 20))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			h.c.wait(t, 20)
			writeFile(t, path, numbered(21, 30))
			got := h.c.wait(t, 30)
			checkExactlyOnce(t, got, 30)
			checkOffsets(t, got[20:], numbered(21, 30), 0)
		})
	}
}

func TestFilesOpenFailureIsRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "hello\n")
	var attempts atomic.Int32
	h := startFiles(t, FilesConfig{Paths: []string{path}, StartAt: StartAtBeginning}, func(s *FileSource) {
		s.open = func(p string) (*os.File, error) {
			if attempts.Add(1) <= 3 {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
			}
			return os.Open(p)
		}
	})
	// Ready does not wait for an unreadable file.
	got := h.c.wait(t, 1)
	if got[0].line != "hello\n" {
		t.Fatalf("got %q", got[0].line)
	}
	if attempts.Load() < 4 {
		t.Errorf("%d open attempts", attempts.Load())
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, path) || !strings.Contains(logs, "permission denied") {
		t.Errorf("open failure not reported with path and error:\n%s", logs)
	}
	if n := strings.Count(logs, "cannot open file, retrying"); n != 1 {
		t.Errorf("failure reported %d times, want once", n)
	}
}

func TestFilesPositions(t *testing.T) {
	for _, once := range []bool{false, true} {
		t.Run(fmt.Sprint("once=", once), func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
			writeFile(t, a, "skip\nkeep a\n")
			writeFile(t, b, "short\n")
			store := openStore(t)
			begin(t, store, a, 5)
			begin(t, store, b, 0)
			kb := statKey(t, b)
			store.Ack(b, kb.dev, kb.ino, 0, 100) // beyond the end: truncated since saved
			h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtEnd, Progress: store, Once: once})
			got := h.c.wait(t, 2)
			h.c.quiet(t, 2, 100*time.Millisecond)
			slices.SortFunc(got, func(x, y rec) int { return strings.Compare(x.path, y.path) })
			if got[0].path != a || got[0].line != "keep a\n" || got[0].end != 12 {
				t.Errorf("a.log: %+v", got[0])
			}
			if got[1].path != b || got[1].line != "short\n" || got[1].end != 6 {
				t.Errorf("b.log: %+v", got[1])
			}
		})
	}
}

func TestFilesOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	writeFile(t, a, "a1\r\na2\n")
	writeFile(t, b, "b1\nno newline at the end")
	h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtBeginning, Once: true})
	h.c.wait(t, 4)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	got := h.c.snapshot()
	want := []rec{
		{path: a, line: "a1\r\n", end: 4},
		{path: a, line: "a2\n", end: 7},
		{path: b, line: "b1\n", end: 3},
		{path: b, line: "no newline at the end", end: 24},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].path != want[i].path || got[i].line != want[i].line || got[i].end != want[i].end || got[i].id.Inode == 0 {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFilesOnceReturnsAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	writeFile(t, path, numbered(1, 1000))
	src := NewFiles(FilesConfig{Input: "app", Paths: []string{path, filepath.Join(filepath.Dir(path), "missing-*.log")}, StartAt: StartAtBeginning, Once: true}, nil)
	out := make(chan *event.LineBatch)
	c := collect(out)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(context.Background(), out) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	close(out)
	<-c.done
	checkExactlyOnce(t, c.snapshot(), 1000)
}

func TestFilesConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  FilesConfig
		want string
	}{
		{"no paths", FilesConfig{}, "no paths"},
		{"bad start_at", FilesConfig{Paths: []string{"/x"}, StartAt: "middle"}, "start_at"},
		{"bad glob", FilesConfig{Paths: []string{"/x/[a"}}, "pattern"},
		{"bad exclude", FilesConfig{Paths: []string{"/x"}, Exclude: []string{"[z"}}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewFiles(tt.cfg, nil).Run(context.Background(), make(chan *event.LineBatch))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestFilesStopsCleanly checks that Run leaves no goroutine behind.
func TestFilesStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	run := func(poll bool) {
		for i := range 4 {
			writeFile(t, filepath.Join(dir, fmt.Sprintf("f%d.log", i)), numbered(1, 5))
		}
		h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtBeginning, Poll: poll})
		h.c.wait(t, 20)
		if err := os.Rename(filepath.Join(dir, "f0.log"), filepath.Join(dir, "f0.old")); err != nil {
			t.Fatal(err)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	}
	// The tail library keeps one process-wide inotify goroutine; start it
	// before counting.
	run(false)
	base := runtime.NumGoroutine()
	run(false)
	run(true)
	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising
	}
}

func TestFilesSameFileUnderTwoNames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, "once\n")
	if err := os.Link(path, filepath.Join(dir, "b.log")); err != nil {
		t.Skip("hard links unsupported:", err)
	}
	h := startFiles(t, FilesConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: StartAtBeginning})
	h.c.wait(t, 1)
	h.c.quiet(t, 1, 200*time.Millisecond)
}

// TestFilesBatchesReadyLines checks that lines the tail already has are
// sent together rather than one batch per line.
func TestFilesBatchesReadyLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "")
	h := startFiles(t, FilesConfig{Paths: []string{path}, StartAt: StartAtBeginning})
	const n = 20_000
	appendFile(t, path, numbered(1, n))
	got := h.c.wait(t, n)
	checkExactlyOnce(t, got, n)
	checkOffsets(t, got, numbered(1, n), 0)
	h.c.mu.Lock()
	batches := h.c.batches
	h.c.mu.Unlock()
	if batches*3 > n {
		t.Errorf("%d lines came in %d batches", n, batches)
	}
}
