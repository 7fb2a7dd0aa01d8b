package positions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestFormatGolden(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	entries := []Entry{
		{Path: "/var/log/webapp/worker.log", Dev: 2049, Inode: 131075, Offset: 0, Updated: at},
		{Path: "/var/log/webapp/app.log", Dev: 2049, Inode: 131090, Offset: 48213,
			Fingerprint: sha([]byte("app")), FingerprintSize: 1024, Updated: at.Add(time.Second)},
		{Path: "/var/log/webapp/app.log", Dev: 2049, Inode: 131072, Offset: 512,
			Fingerprint: sha([]byte("old app")), FingerprintSize: 512, Updated: at.Add(-time.Hour)},
	}
	sortEntries(entries)
	got, err := encode(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "positions.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoded positions differ from %s (run with -update to accept):\n%s", golden, got)
	}

	// The golden file loads back into the same entries.
	s, err := Open(golden, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertEntries(t, s.Entries(), entries)
}

func TestEncodeEmpty(t *testing.T) {
	got, err := encode(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"version\": 1,\n  \"files\": []\n}\n"; string(got) != want {
		t.Errorf("encode(nil) = %q, want %q", got, want)
	}
}

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestSaveReplacesAtomically(t *testing.T) {
	f := newFixture(t)
	logPath, _ := f.logFile("app.log", lines("a", 100))
	f.ack(logPath, 100)
	f.save()
	before := statKey(t, f.path)

	f.ack(logPath, 200)
	f.save()
	// A rename, not a rewrite in place: a reader (or a crash) sees the
	// old file or the new one, never a partial one.
	if statKey(t, f.path) == before {
		t.Error("Save rewrote the positions file in place instead of renaming a new one over it")
	}
	if names := dirNames(t, filepath.Dir(f.path)); len(names) != 1 || names[0] != "positions.json" {
		t.Errorf("directory holds %q, want only positions.json (no temporary files left)", names)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	var doc fileFormat
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("saved file is not valid JSON: %v", err)
	}
	if doc.Version != 1 || len(doc.Files) != 1 || doc.Files[0].Offset != 200 {
		t.Errorf("saved document %+v", doc)
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o644 {
		t.Errorf("positions file mode %v, want 0644", perm)
	}
}

func TestSaveFailureLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "positions.json")
	s, err := Open(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the positions file should be makes the final
	// rename fail after the temporary file was written.
	if err := os.MkdirAll(filepath.Join(path, "occupied"), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, lines("a", 10), 0o644); err != nil {
		t.Fatal(err)
	}
	k := statKey(t, logPath)
	s.Ack(logPath, k.Dev, k.Inode, 0, 5)
	err = s.Save()
	if err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("directory holds %q, want only app.log and positions.json (no temporary file)", names)
	}
	for _, name := range dirNames(t, dir) {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	// Still dirty: a later Save retries.
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("retry did not write: %v", err)
	}
}

func TestSaveSkipsUnchanged(t *testing.T) {
	f := newFixture(t)
	logPath, _ := f.logFile("app.log", lines("a", 300))
	f.ack(logPath, 1500)
	f.save()
	stamp := func() (Key, time.Time) {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := KeyOf(fi)
		return k, fi.ModTime()
	}
	k0, m0 := stamp()

	steps := []struct {
		name    string
		do      func()
		written bool
	}{
		{"nothing changed", func() {}, false},
		{"same offset acked again", func() { f.clock.Advance(time.Minute); f.ack(logPath, 1500) }, false},
		{"older offset acked", func() { f.ack(logPath, 1000) }, false},
		{"offset moved", func() { f.ack(logPath, 1600) }, true},
	}
	for _, st := range steps {
		st.do()
		f.save()
		k, m := stamp()
		if written := k != k0 || !m.Equal(m0); written != st.written {
			t.Errorf("%s: file written = %v, want %v", st.name, written, st.written)
		}
		k0, m0 = k, m
	}
}

func TestSavePermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: root bypasses directory permissions, so a read-only directory cannot make Save fail")
	}
	f := newFixture(t)
	logPath, _ := f.logFile("app.log", lines("a", 10))
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	f.ack(logPath, 5)
	err := f.store.Save()
	if err == nil {
		t.Fatal("Save into a read-only directory succeeded")
	}
	if !strings.Contains(err.Error(), f.path) || !errors.Is(err, os.ErrPermission) {
		t.Errorf("error %q: want a permission error naming %s", err, f.path)
	}
}

func TestOpenDirectory(t *testing.T) {
	// Not a content problem but a misconfiguration: reported.
	path := t.TempDir()
	if _, err := Open(path, nil, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(directory) = %v, want an error naming %s", err, path)
	}
}

func TestRunSavesPeriodically(t *testing.T) {
	f := newFixture(t)
	logPath, _ := f.logFile("app.log", lines("a", 300))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.store.Run(ctx, 5*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()

	f.ack(logPath, 1234)
	waitSaved(t, f.path, 1234)
	f.ack(logPath, 1500)
	waitSaved(t, f.path, 1500)
}

func TestRunSavesOnStop(t *testing.T) {
	f := newFixture(t)
	logPath, _ := f.logFile("app.log", lines("a", 300))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.store.Run(ctx, time.Hour) // no tick during the test
	}()
	f.ack(logPath, 1234)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := savedOffset(t, f.path); got != 1234 {
		t.Errorf("saved offset %d after stop, want 1234", got)
	}
}

// savedOffset reads the only entry's offset from the positions file, -1 if
// there is none yet.
func savedOffset(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := decode(data)
	if err != nil {
		t.Fatalf("reading a saved file: %v", err)
	}
	if len(entries) != 1 {
		return -1
	}
	return entries[0].Offset
}

// waitSaved polls until the positions file holds offset.
func waitSaved(t *testing.T, path string, offset int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for savedOffset(t, path) != offset {
		if time.Now().After(deadline) {
			t.Fatalf("offset %d not saved within 10s", offset)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

func TestSaveErrorsRateLimited(t *testing.T) {
	logs := &logBuffer{}
	c := newClock()
	s, err := Open(filepath.Join(t.TempDir(), "positions.json"), logs.logger(), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	fail := errors.New("save positions: disk full")
	var r saveReporter
	warnings := func() int { return len(logs.lines("level=WARN", "path="+s.Path(), "disk full")) }

	steps := []struct {
		advance  time.Duration
		err      error
		warnings int // total so far
		infos    int
	}{
		{0, fail, 1, 0},
		{time.Second, fail, 1, 0},
		{30 * time.Second, fail, 1, 0},
		{30 * time.Second, fail, 2, 0}, // a minute after the first
		{time.Second, nil, 2, 1},       // recovery is logged
		{time.Second, nil, 2, 1},       // once
		{time.Second, fail, 3, 1},      // a new failure is logged at once
	}
	for i, st := range steps {
		c.Advance(st.advance)
		r.report(s, st.err)
		if got := warnings(); got != st.warnings {
			t.Fatalf("step %d: %d warnings, want %d\n%s", i, got, st.warnings, logs)
		}
		if got := len(logs.lines("level=INFO", "saved again")); got != st.infos {
			t.Fatalf("step %d: %d recovery messages, want %d", i, got, st.infos)
		}
	}
	if !strings.Contains(logs.lines("level=WARN")[1], "failures_not_logged=2") {
		t.Errorf("second warning does not count the failures in between:\n%s", logs)
	}
}
