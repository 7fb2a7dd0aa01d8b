package inputs

import (
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/internal/testutil"
	"github.com/logsift/logsift/positions"
)

func openStore(t *testing.T) *positions.Store {
	t.Helper()
	s, err := positions.Open(filepath.Join(t.TempDir(), "positions.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func statKey(t *testing.T, path string) fileKey {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return keyOf(fi)
}

// begin saves a position for path as a run that read it to offset would.
func begin(t *testing.T, s *positions.Store, path string, offset int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	k := keyOf(fi)
	s.Begin(path, k.dev, k.ino, 0, f, fi.Size(), offset)
}

// run is one run of a file source whose consumer acknowledges every batch
// to a positions store, as the daemon does once the outputs wrote it. With
// stalled set, nothing is consumed until resume is called.
type run struct {
	t      *testing.T
	src    *FileSource
	mu     sync.Mutex
	lines  []string
	notify chan struct{}
	gate   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	logs   *testutil.SyncBuffer
	caught int
}

func startRun(t *testing.T, cfg FilesConfig, store *positions.Store, stalled bool) *run {
	t.Helper()
	if cfg.Input == "" {
		cfg.Input = "app"
	}
	if cfg.Rescan == 0 {
		cfg.Rescan = 20 * time.Millisecond
	}
	if store != nil {
		cfg.Progress = store
	}
	r := &run{t: t, notify: make(chan struct{}, 1), gate: make(chan struct{}), done: make(chan struct{}), logs: &testutil.SyncBuffer{}}
	cfg.OnCaughtUp = func(string, int64) {
		r.mu.Lock()
		r.caught++
		r.mu.Unlock()
	}
	if !stalled {
		close(r.gate)
	}
	r.src = NewFiles(cfg, slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	out := make(chan *event.LineBatch)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		if err := r.src.Run(ctx, out); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	go func() {
		defer close(r.done)
		<-r.gate
		for {
			select {
			case b := <-out:
				r.mu.Lock()
				for i := range b.Len() {
					r.lines = append(r.lines, string(b.Line(i)))
				}
				r.mu.Unlock()
				if store != nil {
					store.Ack(b.Path, b.File.Dev, b.File.Inode, b.File.Generation, b.EndOffset)
				}
				b.Release()
				select {
				case r.notify <- struct{}{}:
				default:
				}
			case <-runDone:
				return
			}
		}
	}()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("source logs:\n%s", r.logs.String())
		}
	})
	select {
	case <-r.src.Ready():
	case <-time.After(waitFor):
		t.Fatal("source not ready")
	}
	return r
}

func (r *run) resume() { close(r.gate) }

func (r *run) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

func (r *run) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(waitFor):
		r.t.Error("run did not stop")
	}
}

func (r *run) wait(n int) []string {
	r.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got := append([]string(nil), r.lines...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			r.t.Fatalf("got %d lines, want %d; last %q", len(got), n, got[max(0, len(got)-3):])
		}
	}
}

// checkSeq verifies that got is exactly line from..to, in order.
func checkSeq(t *testing.T, got []string, from, to int) {
	t.Helper()
	want := strings.SplitAfter(numbered(from, to), "\n")
	want = want[:len(want)-1]
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("line %d is %q, want %q (lost, repeated or out of order)", i, got[i], want[i])
		}
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func gzipFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func copyTruncate(t *testing.T, path, to string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(data))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

// rotateNumbered shifts app.log.N to app.log.N+1 and app.log to app.log.1,
// as RotatingFileHandler and logrotate's create do.
func rotateNumbered(t *testing.T, live string, keep int) {
	t.Helper()
	for i := keep - 1; i >= 1; i-- {
		from := fmt.Sprintf("%s.%d", live, i)
		if _, err := os.Stat(from); err == nil {
			rename(t, from, fmt.Sprintf("%s.%d", live, i+1))
		}
	}
	rename(t, live, live+".1")
}

// TestRotationCatchUp stops reading (a stopped logsift, or a stalled
// output) while the file is rotated twice or more, in every way rotators
// do it, and checks that every line still on disk comes out once, in write
// order, for the live path alone and for a glob matching the rotated names.
func TestRotationCatchUp(t *testing.T) {
	type scenario struct {
		name string
		// rotate rotates the live file while nothing reads it, writing
		// lines from..to in all; it returns how many lines are still on
		// disk to be read.
		rotate func(t *testing.T, live string)
	}
	scenarios := []scenario{
		{"numbered", func(t *testing.T, live string) {
			appendFile(t, live, numbered(11, 20))
			rotateNumbered(t, live, 5)
			writeFile(t, live, numbered(21, 30))
			rotateNumbered(t, live, 5)
			writeFile(t, live, numbered(31, 40))
		}},
		{"numbered, compressed while down", func(t *testing.T, live string) {
			appendFile(t, live, numbered(11, 20))
			rotateNumbered(t, live, 5)
			writeFile(t, live, numbered(21, 30))
			rotateNumbered(t, live, 5)
			writeFile(t, live, numbered(31, 40))
			gzipFile(t, live+".2") // compress, delaycompress: the older one
		}},
		{"dateext", func(t *testing.T, live string) {
			appendFile(t, live, numbered(11, 20))
			rename(t, live, live+"-20261201")
			writeFile(t, live, numbered(21, 30))
			rename(t, live, live+"-20261202")
			writeFile(t, live, numbered(31, 40))
			gzipFile(t, live+"-20261201")
		}},
		{"timed rotating", func(t *testing.T, live string) {
			appendFile(t, live, numbered(11, 20))
			rename(t, live, live+".2026-12-02_10-00-00")
			writeFile(t, live, numbered(21, 30))
			rename(t, live, live+".2026-12-02_10-00-01")
			writeFile(t, live, numbered(31, 40))
		}},
		{"copytruncate", func(t *testing.T, live string) {
			appendFile(t, live, numbered(11, 20))
			copyTruncate(t, live, live+".1")
			appendFile(t, live, numbered(21, 30))
			rotateNumbered2(t, live)
			copyTruncate(t, live, live+".1")
			appendFile(t, live, numbered(31, 40))
		}},
	}
	for _, sc := range scenarios {
		for _, mode := range []string{"restart", "stall"} {
			for _, glob := range []string{"app.log", "app.log*"} {
				t.Run(sc.name+"/"+mode+"/"+glob, func(t *testing.T) {
					dir := t.TempDir()
					live := filepath.Join(dir, "app.log")
					writeFile(t, live, numbered(1, 5))
					store := openStore(t)
					cfg := FilesConfig{Paths: []string{filepath.Join(dir, glob)}, StartAt: StartAtBeginning}
					if glob == "app.log*" {
						cfg.Exclude = []string{"*.gz"} // must not keep .gz out of catch-up
					}
					var r *run
					switch mode {
					case "restart":
						r1 := startRun(t, cfg, store, false)
						appendFile(t, live, numbered(6, 10))
						checkSeq(t, r1.wait(10), 1, 10)
						r1.stop()
						sc.rotate(t, live)
						r = startRun(t, cfg, store, false)
						checkSeq(t, r.wait(30), 11, 40)
					case "stall":
						r = startRun(t, cfg, store, true)
						appendFile(t, live, numbered(6, 10))
						time.Sleep(50 * time.Millisecond) // let the stream read and block; not a synchronisation
						sc.rotate(t, live)
						r.resume()
						checkSeq(t, r.wait(40), 1, 40)
					}
					n := r.count()
					appendFile(t, live, numbered(41, 45))
					got := r.wait(n + 5)
					if mode == "restart" {
						checkSeq(t, got, 11, 45)
					} else {
						checkSeq(t, got, 1, 45)
					}
				})
			}
		}
	}
}

// rotateNumbered2 makes room for a new copy at app.log.1.
func rotateNumbered2(t *testing.T, live string) {
	t.Helper()
	if _, err := os.Stat(live + ".1"); err == nil {
		rename(t, live+".1", live+".2")
	}
}

// TestRotationLateWriter renames the live file while its writer has not
// reopened yet: what it appends to the renamed file — completing a partial
// line — comes out, whole, before the new file's lines.
func TestRotationLateWriter(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			live := filepath.Join(dir, "app.log")
			writeFile(t, live, numbered(1, 10))
			r := startRun(t, FilesConfig{Paths: []string{live}, StartAt: StartAtBeginning, Poll: w.poll, RotateWait: time.Second}, nil, false)
			r.wait(10)
			old, err := os.OpenFile(live, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if _, err := old.WriteString("line 00"); err != nil {
				t.Fatal(err)
			}
			rename(t, live, live+".1")
			writeFile(t, live, "") // logrotate's create
			if _, err := old.WriteString("11\n" + numbered(12, 20)); err != nil {
				t.Fatal(err)
			}
			// The writer reopens: its next lines go to the new file.
			appendFile(t, live, numbered(21, 30))
			checkSeq(t, r.wait(30), 1, 30)
		})
	}
}

// TestRotationCopytruncateRunning checks that copytruncate while reading
// neither repeats the copy nor loses what was written before the copy.
func TestRotationCopytruncateRunning(t *testing.T) {
	for _, glob := range []string{"app.log", "app.log*"} {
		t.Run(glob, func(t *testing.T) {
			dir := t.TempDir()
			live := filepath.Join(dir, "app.log")
			writeFile(t, live, numbered(1, 10))
			r := startRun(t, FilesConfig{Paths: []string{filepath.Join(dir, glob)}, StartAt: StartAtBeginning}, nil, false)
			r.wait(10)
			for i := range 3 {
				from := 11 + 10*i
				appendFile(t, live, numbered(from, from+9))
				// The lines are read before the copy: a copy of lines
				// truncated unread is told apart by file times, too
				// coarse for a rotator that acts within microseconds.
				r.wait(from + 9)
				rotateNumbered2(t, live)
				copyTruncate(t, live, live+".1")
			}
			appendFile(t, live, numbered(41, 50))
			checkSeq(t, r.wait(50), 1, 50)
			time.Sleep(100 * time.Millisecond) // nothing more may come; not a synchronisation
			if n := r.count(); n != 50 {
				t.Errorf("%d lines, want 50", n)
			}
			r.stop()
		})
	}
}

// TestRotationLostIsReported deletes the file a saved position belongs to
// while nothing reads it: a warning names the file and offset, the loss is
// counted, and the family's other files are read.
func TestRotationLostIsReported(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	writeFile(t, live, numbered(1, 5))
	store := openStore(t)
	cfg := FilesConfig{Paths: []string{live}, StartAt: StartAtBeginning}
	r1 := startRun(t, cfg, store, false)
	r1.wait(5)
	r1.stop()
	appendFile(t, live, numbered(6, 10))
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	writeFile(t, live, numbered(11, 15))
	var lost []string
	cfg.OnLost = func(path string, offset int64) { lost = append(lost, fmt.Sprint(path, "@", offset)) }
	r := startRun(t, cfg, store, false)
	checkSeq(t, r.wait(5), 11, 15)
	if want := live + "@50"; len(lost) != 1 || lost[0] != want {
		t.Errorf("lost %v, want [%s]", lost, want)
	}
	if !strings.Contains(r.logs.String(), "level=WARN") {
		t.Errorf("no warning:\n%s", r.logs.String())
	}
}
