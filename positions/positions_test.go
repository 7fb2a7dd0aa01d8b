package positions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	big := lines("big", 300) // several KiB
	small := lines("small", 3)
	bigPath, bigKey := f.logFile("big.log", big)
	smallPath, smallKey := f.logFile("small.log", small)
	emptyPath, emptyKey := f.logFile("empty.log", nil)

	f.ack(bigPath, 2000)
	f.clock.Advance(time.Second)
	f.ack(smallPath, int64(len(small)))
	f.ack(emptyPath, 0)
	f.save()
	want := []Entry{
		{Path: bigPath, Dev: bigKey.Dev, Inode: bigKey.Inode, Fingerprint: sha(big[:1024]), FingerprintSize: 1024,
			Offset: 2000, Updated: newClock().Now()},
		{Path: emptyPath, Dev: emptyKey.Dev, Inode: emptyKey.Inode, Offset: 0, Updated: newClock().Now().Add(time.Second)},
		{Path: smallPath, Dev: smallKey.Dev, Inode: smallKey.Inode, Fingerprint: sha(small), FingerprintSize: int64(len(small)),
			Offset: int64(len(small)), Updated: newClock().Now().Add(time.Second)},
	}
	assertEntries(t, f.store.Entries(), want)

	f.reopen()
	assertEntries(t, f.store.Entries(), want)
	for _, e := range want {
		if off, ok := f.lookup(e.Path); !ok || off != e.Offset {
			t.Errorf("Lookup(%s) after reopen = %d, %v; want %d, true", e.Path, off, ok, e.Offset)
		}
	}
	if w := f.logs.lines("level=WARN"); len(w) > 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
}

func assertEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Updated.Equal(w.Updated) {
			t.Errorf("entry %d (%s): Updated %v, want %v", i, w.Path, g.Updated, w.Updated)
		}
		g.Updated, w.Updated = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	f := newFixture(t)
	if n := len(f.store.Entries()); n != 0 {
		t.Fatalf("%d entries in a store without file", n)
	}
	if s := f.logs.String(); s != "" {
		t.Errorf("logged for a missing file: %s", s)
	}
	f.save()
	if _, err := os.Stat(f.path); !os.IsNotExist(err) {
		t.Errorf("Save of an untouched empty store wrote %s (stat: %v)", f.path, err)
	}
}

func TestOpenUnusableFile(t *testing.T) {
	valid := `{"version": 1, "files": [{"path": "/var/log/a.log", "dev": 1, "inode": 2, "fingerprint": "", "fingerprint_size": 0, "offset": 10, "updated": "2026-03-01T12:00:00Z"}]}`
	entry := func(fields string) string {
		return `{"version": 1, "files": [{"path": "/var/log/a.log", "dev": 1, "inode": 2, ` + fields + `, "updated": "2026-03-01T12:00:00Z"}]}`
	}
	tests := []struct {
		name    string
		content string
		reason  string // part of the logged error
	}{
		{"empty file", "", "empty"},
		{"only whitespace", " \n\t\n", "empty"},
		{"corrupt", `{"version": 1, "files": [}`, "not valid JSON"},
		{"truncated", valid[:len(valid)/2], "unexpected end of JSON input"},
		{"trailing garbage", valid + "\x00\x00", "not valid JSON"},
		{"binary", "\x7fELF\x02\x01", "not valid JSON"},
		{"foreign object", `{"positions": {"/var/log/a.log": 10}}`, `no \"version\" field`},
		{"array", `[{"path": "/var/log/a.log", "offset": 10}]`, "not a JSON object"},
		{"version not a number", `{"version": "1", "files": []}`, "not a number"},
		{"wrong version", `{"version": 2, "files": []}`, "unsupported positions file version 2"},
		{"version zero", `{"version": 0, "files": []}`, "unsupported positions file version 0"},
		{"no files", `{"version": 1}`, `no \"files\" field`},
		{"unknown top-level field", `{"version": 1, "files": [], "checksum": "x"}`, "unknown field"},
		{"unknown entry field", entry(`"fingerprint": "", "fingerprint_size": 0, "offset": 1, "pos": 3`), "unknown field"},
		{"files not a list", `{"version": 1, "files": {"a": 1}}`, "cannot unmarshal"},
		{"negative offset", entry(`"fingerprint": "", "fingerprint_size": 0, "offset": -5`), "negative offset"},
		{"bad fingerprint", entry(`"fingerprint": "abc", "fingerprint_size": 3, "offset": 1`), "not a hex SHA-256"},
		{"fingerprint size too large", entry(`"fingerprint": "` + sha([]byte("x")) + `", "fingerprint_size": 4096, "offset": 1`), "fingerprint_size 4096"},
		{"fingerprint without size", entry(`"fingerprint": "` + sha([]byte("x")) + `", "fingerprint_size": 0, "offset": 1`), "disagree"},
		{"empty path", strings.Replace(valid, "/var/log/a.log", "", 1), "empty path"},
		{"duplicate file", strings.Replace(valid, "}]}", "}, "+valid[strings.Index(valid, "[")+1:], 1), "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "positions.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			logs := &logBuffer{}
			s, err := Open(path, logs.logger(), newClock().Now)
			if err != nil {
				t.Fatalf("Open returned an error for unusable content: %v", err)
			}
			if n := len(s.Entries()); n != 0 {
				t.Errorf("store has %d entries, want none", n)
			}
			warn := logs.lines("level=WARN", "path="+path)
			if len(warn) != 1 {
				t.Fatalf("want one warning naming %s, got logs:\n%s", path, logs)
			}
			if !strings.Contains(warn[0], tt.reason) {
				t.Errorf("warning does not say %q:\n%s", tt.reason, warn[0])
			}
			// The unusable file is replaced by the first Save.
			if err := s.Save(); err != nil {
				t.Fatal(err)
			}
			logs2 := &logBuffer{}
			if _, err := Open(path, logs2.logger(), nil); err != nil {
				t.Fatal(err)
			}
			if w := logs2.lines("level=WARN"); len(w) > 0 {
				t.Errorf("file still unusable after Save: %q", w)
			}
		})
	}
}

func TestOpenValidFileHasNoWarning(t *testing.T) {
	// Guards the table above: its base document is accepted.
	dir := t.TempDir()
	path := filepath.Join(dir, "positions.json")
	valid := `{"version": 1, "files": [{"path": "/var/log/a.log", "dev": 1, "inode": 2, "fingerprint": "", "fingerprint_size": 0, "offset": 10, "updated": "2026-03-01T12:00:00Z"}]}`
	if err := os.WriteFile(path, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	s, err := Open(path, logs.logger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Entries(); len(got) != 1 || got[0].Offset != 10 || got[0].Key() != (Key{1, 2}) {
		t.Errorf("entries %+v", got)
	}
	if logs.String() != "" {
		t.Errorf("logged: %s", logs)
	}
}

func TestOpenUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: root reads files regardless of their permissions, so none is unreadable")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "positions.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"files":[]}`), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of an unreadable file: %v; want an error naming %s", err, path)
	}
}

func TestLookup(t *testing.T) {
	big := lines("first", 200)
	tests := []struct {
		name    string
		content []byte
		acked   int64
		change  func(t *testing.T, path string) // after the restart
		want    int64
		found   bool
		logged  string // part of the info message, if any
	}{
		{name: "unchanged", content: big, acked: 1500, want: 1500, found: true},
		{name: "acked to the end", content: big, acked: int64(len(big)), want: int64(len(big)), found: true},
		{name: "same content grown", content: big, acked: 1500, want: 1500, found: true,
			change: func(t *testing.T, p string) { appendFile(t, p, lines("more", 50)) }},
		{name: "small file grown past the fingerprint length", content: []byte("hello\n"), acked: 6, want: 6, found: true,
			change: func(t *testing.T, p string) { appendFile(t, p, big) }},
		{name: "offset past EOF", content: big, acked: 1500, want: 0, found: true, logged: "beyond the end",
			change: func(t *testing.T, p string) { rewrite(t, p, big[:1200]) }},
		{name: "truncated below the fingerprint", content: big, acked: 500, want: 0, found: true, logged: "shorter than its fingerprinted start",
			change: func(t *testing.T, p string) { rewrite(t, p, big[:800]) }},
		{name: "inode reused with new content", content: big, acked: 1500, want: 0, found: true, logged: "different content",
			change: func(t *testing.T, p string) { rewrite(t, p, lines("other", 300)) }},
		{name: "new content differs only after the first bytes of a short file", content: []byte("hello\n"), acked: 6,
			want: 0, found: true, logged: "different content",
			change: func(t *testing.T, p string) { rewrite(t, p, []byte("HELLO\nworld\n")) }},
		{name: "empty file acked at 0", content: nil, acked: 0, want: 0, found: true,
			change: func(t *testing.T, p string) { appendFile(t, p, big) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path, key := f.logFile("app.log", tt.content)
			f.ack(path, tt.acked)
			f.save()
			f.reopen()
			if tt.change != nil {
				tt.change(t, path)
			}
			off, found := f.lookup(path)
			if off != tt.want || found != tt.found {
				t.Fatalf("Lookup = %d, %v; want %d, %v", off, found, tt.want, tt.found)
			}
			info := f.logs.lines("level=INFO", "path="+path)
			switch {
			case tt.logged == "" && len(info) > 0:
				t.Errorf("unexpected info log: %q", info)
			case tt.logged != "" && (len(info) != 1 || !strings.Contains(info[0], tt.logged)):
				t.Errorf("want one info log naming the file and saying %q, got %q", tt.logged, info)
			}
			if tt.logged == "" {
				return
			}
			// The stale entry is gone, so the new content's acks,
			// which start again from 0, are recorded.
			if _, ok := f.entry(key); ok {
				t.Errorf("stale entry kept after a mismatch")
			}
			f.ack(path, 10)
			if e, _ := f.entry(key); e.Offset != 10 {
				t.Errorf("ack after a mismatch recorded offset %d, want 10", e.Offset)
			}
		})
	}
}

func TestLookupNothingSaved(t *testing.T) {
	f := newFixture(t)
	saved, _ := f.logFile("saved.log", lines("a", 10))
	other, _ := f.logFile("other.log", lines("a", 10))
	f.ack(saved, 20)
	if off, found := f.lookup(other); off != 0 || found {
		t.Errorf("Lookup of a file with no position = %d, %v; want 0, false", off, found)
	}
	if off, found := f.lookup(saved); off != 20 || !found {
		t.Errorf("Lookup of the acked file = %d, %v; want 20, true", off, found)
	}
}

func TestLookupFollowsRename(t *testing.T) {
	// Positions belong to the inode: a rotated file keeps its offset
	// under its new name, the new file at the old name has none.
	f := newFixture(t)
	path, _ := f.logFile("app.log", lines("a", 100))
	f.ack(path, 300)
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	f.logFile("app.log", lines("b", 100))
	if off, found := f.lookup(rotated); off != 300 || !found {
		t.Errorf("Lookup(rotated) = %d, %v; want 300, true", off, found)
	}
	if off, found := f.lookup(path); off != 0 || found {
		t.Errorf("Lookup(new file) = %d, %v; want 0, false", off, found)
	}
}

func TestLookupLeavesFileOffset(t *testing.T) {
	f := newFixture(t)
	path, _ := f.logFile("app.log", lines("a", 300))
	f.ack(path, 1500)
	fd, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if _, err := fd.Seek(77, 0); err != nil {
		t.Fatal(err)
	}
	fi, err := fd.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if off, _ := f.store.Lookup(path, fd, fi); off != 1500 {
		t.Fatalf("Lookup = %d", off)
	}
	if pos, _ := fd.Seek(0, 1); pos != 77 {
		t.Errorf("Lookup moved the file offset to %d", pos)
	}
}

func TestAckOffsets(t *testing.T) {
	content := lines("a", 400)
	type step struct {
		truncateTo int64 // >0: truncate the file in place before this ack
		gen        uint64
		offset     int64
	}
	tests := []struct {
		name  string
		steps []step
		want  int64
	}{
		{"forward", []step{{offset: 100}, {offset: 250}, {offset: 900}}, 900},
		{"older ack ignored", []step{{offset: 900}, {offset: 250}}, 900},
		{"repeated ack", []step{{offset: 900}, {offset: 900}}, 900},
		{"negative ignored", []step{{offset: 900}, {offset: -1}}, 900},
		{"older ack after growth ignored", []step{{offset: 900}, {offset: 1000}, {offset: 950}}, 1000},
		{"truncated in place starts over", []step{{offset: 900}, {truncateTo: 100, gen: 1, offset: 40}}, 40},
		{"truncated then forward", []step{{offset: 900}, {truncateTo: 100, gen: 1, offset: 40}, {gen: 1, offset: 90}}, 90},
		{"older generation ignored", []step{{offset: 900}, {truncateTo: 100, gen: 1, offset: 40}, {offset: 950}}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path, key := f.logFile("app.log", content)
			for _, s := range tt.steps {
				if s.truncateTo > 0 {
					if err := os.Truncate(path, s.truncateTo); err != nil {
						t.Fatal(err)
					}
				}
				f.store.Ack(path, key.Dev, key.Inode, s.gen, s.offset)
			}
			e, ok := f.entry(key)
			if !ok || e.Offset != tt.want {
				t.Fatalf("offset %d (entry %v), want %d", e.Offset, ok, tt.want)
			}
			cur, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if wantFP := sha(cur[:min(len(cur), FingerprintBytes)]); e.Fingerprint != wantFP {
				t.Errorf("fingerprint %s does not match the file's start %s", e.Fingerprint, wantFP)
			}
		})
	}
}

func TestAckFingerprintOfGrowingFile(t *testing.T) {
	f := newFixture(t)
	first := []byte("starting up\n")
	path, key := f.logFile("app.log", first)
	f.ack(path, int64(len(first)))
	e, _ := f.entry(key)
	if e.FingerprintSize != int64(len(first)) || e.Fingerprint != sha(first) {
		t.Fatalf("first fingerprint %s/%d, want the whole short file", e.Fingerprint, e.FingerprintSize)
	}

	more := lines("more", 200)
	appendFile(t, path, more)
	all := append(first, more...)
	f.ack(path, 600)
	e, _ = f.entry(key)
	if e.FingerprintSize != FingerprintBytes || e.Fingerprint != sha(all[:FingerprintBytes]) {
		t.Fatalf("fingerprint after growth covers %d bytes, want the first %d", e.FingerprintSize, FingerprintBytes)
	}

	// Once full length, it is never taken again: a later change of the
	// start (not something a log does) does not alter it.
	rewrite(t, path, lines("changed", 300))
	f.ack(path, 700)
	if e2, _ := f.entry(key); e2.Fingerprint != e.Fingerprint || e2.Offset != 700 {
		t.Errorf("full fingerprint changed or offset not advanced: %+v", e2)
	}
}

func TestAckRotatedAway(t *testing.T) {
	// An ack for a file whose path already names its successor must not
	// take the successor's bytes as its fingerprint.
	f := newFixture(t)
	path, oldKey := f.logFile("app.log", []byte("old\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	f.logFile("app.log", lines("new", 100))

	f.store.Ack(path, oldKey.Dev, oldKey.Inode, 0, 4)
	e, ok := f.entry(oldKey)
	if !ok || e.Offset != 4 {
		t.Fatalf("ack not recorded: %+v", e)
	}
	if e.Fingerprint != "" || e.FingerprintSize != 0 {
		t.Errorf("fingerprint taken from another file: %+v", e)
	}
}

func TestConcurrentAck(t *testing.T) {
	f := newFixture(t)
	type file struct {
		path string
		key  Key
		size int64
	}
	var files []file
	// Two files with full fingerprints (the lock-only path) and two
	// short ones (fingerprinted on every ack).
	for i, content := range [][]byte{lines("a", 500), lines("b", 500), []byte("tiny\n"), nil} {
		p, k := f.logFile(fmt.Sprintf("f%d.log", i), content)
		files = append(files, file{p, k, int64(len(content))})
	}
	const workers, acks = 8, 200
	// offset spreads the acks of each file over its size, as real acks
	// never point past the end of the file.
	offset := func(fl file, w, i int) int64 { return int64(w*acks+i) * fl.size / (workers * acks) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range acks {
				fl := files[(w+i)%len(files)]
				f.store.Ack(fl.path, fl.key.Dev, fl.key.Inode, 0, offset(fl, w, i))
			}
		}()
	}
	wg.Add(1)
	saveErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		for range 20 {
			if err := f.store.Save(); err != nil {
				saveErr <- err
				return
			}
			f.store.Entries()
		}
	}()
	wg.Wait()
	select {
	case err := <-saveErr:
		t.Fatal(err)
	default:
	}
	// Every file's offset is the largest acked for it.
	for fi, fl := range files {
		var want int64
		for w := range workers {
			for i := range acks {
				if (w+i)%len(files) == fi {
					want = max(want, offset(fl, w, i))
				}
			}
		}
		if e, _ := f.entry(fl.key); e.Offset != want {
			t.Errorf("%s: offset %d, want %d", fl.path, e.Offset, want)
		}
	}
	f.save()
	f.reopen()
	if n := len(f.store.Entries()); n != len(files) {
		t.Errorf("%d entries after reopen, want %d", n, len(files))
	}
}

func TestForget(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration // since the last ack
		vanish  func(t *testing.T, path string)
		forgets bool
	}{
		{name: "vanished and old", age: 25 * time.Hour, vanish: remove, forgets: true},
		{name: "vanished, recently acked", age: 23 * time.Hour, vanish: remove},
		{name: "present and old", age: 100 * time.Hour},
		{name: "path now another file, old", age: 25 * time.Hour, forgets: true,
			vanish: func(t *testing.T, p string) {
				// Created before the old one is removed, so it cannot
				// reuse its inode.
				os.WriteFile(p+".new", []byte("new\n"), 0o644)
				remove(t, p)
				os.Rename(p+".new", p)
			}},
		{name: "renamed away and old", age: 25 * time.Hour, forgets: true,
			vanish: func(t *testing.T, p string) { os.Rename(p, p+".1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path, key := f.logFile("app.log", lines("a", 10))
			keep, keepKey := f.logFile("keep.log", lines("k", 10))
			f.ack(path, 5)
			f.ack(keep, 5)
			f.save()
			if tt.vanish != nil {
				tt.vanish(t, path)
			}
			f.clock.Advance(tt.age)
			f.ack(keep, 6) // recent, whatever happens to app.log
			f.save()
			f.reopen()
			if _, ok := f.entry(key); ok == tt.forgets {
				t.Errorf("entry kept = %v, want %v", ok, !tt.forgets)
			}
			if _, ok := f.entry(keepKey); !ok {
				t.Error("entry of a present file forgotten")
			}
		})
	}
}

func TestForgetTTL(t *testing.T) {
	f := newFixture(t)
	path, key := f.logFile("app.log", lines("a", 10))
	f.ack(path, 5)
	remove(t, path)
	f.store.SetTTL(time.Hour)
	f.clock.Advance(59 * time.Minute)
	if n := f.store.Forget(time.Hour); n != 0 {
		t.Fatalf("forgot %d entries before the TTL", n)
	}
	f.clock.Advance(2 * time.Minute)
	f.save()
	if _, ok := f.entry(key); ok {
		t.Error("Save kept an entry past the TTL set with SetTTL")
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestBeginSavedRefingerprint covers what a following input records: where
// it starts reading each file of a stream, found again by the stream's
// name, most recent first, and a fingerprint extended from the open file
// once the path leads elsewhere.
func TestBeginSavedRefingerprint(t *testing.T) {
	f := newFixture(t)
	live, oldKey := f.logFile("app.log", []byte("short\n"))
	fd, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	f.store.Begin(live, oldKey.Dev, oldKey.Inode, 3, fd, 6, 0)
	e, ok := f.entry(oldKey)
	if !ok || e.Offset != 0 || e.Generation != 3 || e.FingerprintSize != 6 || e.Fingerprint != sha([]byte("short\n")) {
		t.Fatalf("after Begin: %+v", e)
	}
	// An acknowledgement of an older generation is stale.
	f.store.Ack(live, oldKey.Dev, oldKey.Inode, 2, 6)
	if e, _ := f.entry(oldKey); e.Offset != 0 {
		t.Fatalf("stale generation applied: %+v", e)
	}
	f.store.Ack(live, oldKey.Dev, oldKey.Inode, 3, 6)

	// The file is rotated and grows under its new name.
	rotated := live + ".1"
	if err := os.Rename(live, rotated); err != nil {
		t.Fatal(err)
	}
	more := append([]byte("short\n"), lines("b", 200)...)
	if err := os.WriteFile(rotated, more, 0o644); err != nil {
		t.Fatal(err)
	}
	grown, err := os.Open(rotated)
	if err != nil {
		t.Fatal(err)
	}
	defer grown.Close()
	f.store.Refingerprint(oldKey.Dev, oldKey.Inode, grown, int64(len(more)))
	if e, _ := f.entry(oldKey); e.FingerprintSize != FingerprintBytes || e.Fingerprint != sha(more[:FingerprintBytes]) {
		t.Errorf("fingerprint not extended: %+v", e)
	}

	f.clock.Advance(time.Second)
	_, newKey := f.logFile("app.log", []byte("new\n"))
	nf, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer nf.Close()
	f.store.Begin(live, newKey.Dev, newKey.Inode, 4, nf, 4, 0)
	saved := f.store.Saved(live)
	if len(saved) != 2 || saved[0].Key() != newKey || saved[1].Key() != oldKey {
		t.Fatalf("Saved = %+v, want the new file first, then the old", saved)
	}
	if got := f.store.Saved(rotated); len(got) != 0 {
		t.Errorf("Saved(%s) = %+v: entries belong to the stream's name", rotated, got)
	}
}
