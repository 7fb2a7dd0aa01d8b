package positions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

// newClock is the settable time source the tests start from.
func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// logBuffer collects log output from any goroutine.
type logBuffer struct{ testutil.SyncBuffer }

// lines returns the logged lines containing all of subs.
func (b *logBuffer) lines(subs ...string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		ok := l != ""
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fixture is a store in a temporary directory with a fake clock and
// captured logs.
type fixture struct {
	t     *testing.T
	dir   string
	path  string // the positions file
	clock *testutil.Clock
	logs  *logBuffer
	store *Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, path: filepath.Join(dir, "state", "positions.json"), clock: newClock(), logs: &logBuffer{}}
	f.reopen()
	return f
}

// reopen loads the positions file into a new store, as a restart does.
func (f *fixture) reopen() {
	f.t.Helper()
	s, err := Open(f.path, f.logs.logger(), f.clock.Now)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.store = s
}

func (f *fixture) save() {
	f.t.Helper()
	if err := f.store.Save(); err != nil {
		f.t.Fatalf("Save: %v", err)
	}
}

// logFile creates a log file with content and returns its path and key.
func (f *fixture) logFile(name string, content []byte) (string, Key) {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p, statKey(f.t, p)
}

// ack acknowledges offset for the file now at path.
func (f *fixture) ack(path string, offset int64) {
	f.t.Helper()
	k := statKey(f.t, path)
	f.store.Ack(path, k.Dev, k.Inode, 0, offset)
}

// entry returns the store's entry for k.
func (f *fixture) entry(k Key) (Entry, bool) {
	for _, e := range f.store.Entries() {
		if e.Key() == k {
			return e, true
		}
	}
	return Entry{}, false
}

// lookup opens path and looks it up in the store.
func (f *fixture) lookup(path string) (int64, bool) {
	f.t.Helper()
	fd, err := os.Open(path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		f.t.Fatal(err)
	}
	return f.store.Lookup(path, fd, fi)
}

func statKey(t *testing.T, path string) Key {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := KeyOf(fi)
	if !ok {
		t.Skip("files have no device and inode on this platform")
	}
	return k
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	fd, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fd.Close(); err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces a file's content in place, keeping its inode, as a new
// file that reused the inode would look.
func rewrite(t *testing.T, path string, data []byte) {
	t.Helper()
	before := statKey(t, path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if statKey(t, path) != before {
		t.Fatal("rewrite changed the inode")
	}
}

// lines returns n numbered log lines.
func lines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.WriteString(prefix)
		b.WriteString(" line ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	return b.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
