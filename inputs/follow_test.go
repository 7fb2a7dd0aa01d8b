package inputs

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
)

// TestTailNoteFormats guards the coupling to the tail library's log
// formats: if an upgrade changes them, reopen notes would silently stop.
func TestTailNoteFormats(t *testing.T) {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nxadm/tail").Output()
	if err != nil {
		t.Skipf("cannot locate the tail module: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "tail.go"))
	if err != nil {
		t.Skipf("cannot read the tail module: %v", err)
	}
	for _, tt := range []struct {
		format string
		want   note
	}{
		{"Re-opening moved/deleted file %s ...", noteMoved},
		{"Re-opening truncated file %s ...", noteTruncated},
		{"Successfully reopened %s", noteReopened},
		{"Successfully reopened truncated %s", noteReopened},
		{"Waiting for %s to appear...", 0},
	} {
		if got := noteOf(tt.format); got != tt.want {
			t.Errorf("noteOf(%q) = %d, want %d", tt.format, got, tt.want)
		}
		if !bytes.Contains(src, []byte(`Printf("`+tt.format+`"`)) {
			t.Errorf("tail.go no longer logs %q", tt.format)
		}
	}
}

func TestTailLoggerNeverExits(t *testing.T) {
	var buf bytes.Buffer
	notes := make(chan note, 1)
	l := &tailLogger{log: slog.New(slog.NewTextHandler(&buf, nil)), notes: notes, quit: make(chan struct{})}
	l.Fatalf("failed to create Watcher: %v", "too many open files")
	l.Panicln("boom")
	if s := buf.String(); strings.Count(s, "level=ERROR") != 2 || !strings.Contains(s, "too many open files") {
		t.Errorf("logs:\n%s", s)
	}
	l.Printf("Successfully reopened %s", "/x")
	if n := <-notes; n != noteReopened {
		t.Errorf("note %d", n)
	}
	// Once the follower is gone, a note does not block the tail.
	quit := make(chan struct{})
	close(quit)
	(&tailLogger{log: slog.New(slog.DiscardHandler), notes: make(chan note), quit: quit}).Printf("Re-opening truncated file %s ...", "/x")
}

func TestMissedChange(t *testing.T) {
	const content = "first line\nsecond line\n"
	tests := []struct {
		name      string
		delivered int64
		change    func(t *testing.T, path string)
		want      bool
	}{
		{name: "up to date", delivered: int64(len(content)), want: false},
		{name: "partial line pending", delivered: int64(len(content)), change: func(t *testing.T, p string) { appendFile(t, p, "no newline yet") }, want: false},
		{name: "complete line pending", delivered: 11, want: true},
		{name: "truncated", delivered: int64(len(content)), change: func(t *testing.T, p string) { os.Truncate(p, 3) }, want: true},
		{name: "rotated", delivered: int64(len(content)), change: func(t *testing.T, p string) {
			if err := os.Rename(p, p+".1"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, "")
		}, want: true},
		{name: "deleted", delivered: int64(len(content)), change: func(t *testing.T, p string) { os.Remove(p) }, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, content)
			fd, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fd.Close()
			fi, _ := fd.Stat()
			f := &follower{path: path, fd: fd, fi: fi, w: newBatcher(newBatchPool(), "app", path, 0, nil)}
			f.w.reset(event.FileID{}, tt.delivered)
			if tt.change != nil {
				tt.change(t, path)
			}
			now := time.Now()
			f.checkedOffset = tt.delivered
			if f.missedChange(now) {
				t.Fatal("reported at once, want a grace period")
			}
			if got := f.missedChange(now.Add(missedChangeAfter)); got != tt.want {
				t.Fatalf("after the grace period: %v, want %v", got, tt.want)
			}
			if tt.want {
				// Progress in between means the tail is keeping up.
				f.changedSince = time.Time{}
				f.missedChange(now)
				f.w.appendLine("x")
				if f.missedChange(now.Add(2 * missedChangeAfter)) {
					t.Error("reported although lines were delivered meanwhile")
				}
			}
		})
	}
}

func TestRegistryResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	head := strings.Repeat("h", headBytes+10)
	writeFile(t, path, head+"tail\n")
	fd, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	k := fileKey{dev: 1, ino: 2}
	size := int64(len(head) + 5)

	r := newRegistry()
	if _, seen := r.resume(k, fd, size); seen {
		t.Fatal("unknown file reported as seen")
	}
	r.claim(k)
	if !r.isLive(k) {
		t.Fatal("claimed file not live")
	}
	r.leave(k, size-5, fd)
	if r.isLive(k) {
		t.Fatal("left file still live")
	}
	if off, seen := r.resume(k, fd, size); !seen || off != size-5 {
		t.Errorf("resume = %d, %v; want %d, true", off, seen, size-5)
	}
	if off, seen := r.resume(k, fd, 3); !seen || off != 0 {
		t.Errorf("shorter file: resume = %d, %v; want 0, true", off, seen)
	}
	other, err := os.Open(writeTemp(t, dir, strings.Repeat("x", len(head)+5)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if off, seen := r.resume(k, other, size); !seen || off != 0 {
		t.Errorf("different content under a reused inode: resume = %d, %v; want 0, true", off, seen)
	}

	// A left file no scan sees any more is forgotten, but not one left
	// while the scan was running.
	scan := r.beginScan()
	r.prune(scan, map[fileKey]bool{})
	if _, seen := r.resume(k, fd, size); seen {
		t.Error("left file not pruned")
	}
	r.claim(k)
	scan = r.beginScan()
	r.leave(k, 1, fd)
	r.prune(scan, map[fileKey]bool{})
	if _, seen := r.resume(k, fd, size); !seen {
		t.Error("file left during the scan was pruned")
	}
}

func writeTemp(t *testing.T, dir, data string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
