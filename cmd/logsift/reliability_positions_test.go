package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// positionsEntry is one entry of a positions file as a test writes it.
type positionsEntry struct {
	Path            string    `json:"path"`
	Dev             uint64    `json:"dev"`
	Inode           uint64    `json:"inode"`
	Fingerprint     string    `json:"fingerprint"`
	FingerprintSize int64     `json:"fingerprint_size"`
	Offset          int64     `json:"offset"`
	Updated         time.Time `json:"updated"`
}

// entryFor describes the file at path with the given offset and a
// fingerprint of its first KiB (or of other bytes, when fp is not nil).
func entryFor(t *testing.T, path string, offset int64, fp []byte) positionsEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fp == nil {
		fp = data[:min(len(data), 1024)]
	}
	sum := sha256.Sum256(fp)
	return positionsEntry{Path: path, Dev: uint64(st.Dev), Inode: st.Ino, Fingerprint: hex.EncodeToString(sum[:]),
		FingerprintSize: int64(len(fp)), Offset: offset, Updated: time.Now().UTC()}
}

func positionsJSON(t *testing.T, entries ...positionsEntry) []byte {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{"version": 1, "files": entries}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestPositionsFileDamage starts logsift on a file whose saved position is
// unusable in each way it can be: logsift must neither crash nor skip
// lines, must read the file from where it should (its start, under
// start_at: beginning) and must say why in its log. A valid position is
// the control: it is applied.
func TestPositionsFileDamage(t *testing.T) {
	const n, half = 1000, 500
	for _, tc := range []struct {
		name string
		// positions returns the positions file's content for the log.
		positions func(t *testing.T, log string) []byte
		from      int    // first line expected out
		logs      string // substring of logsift's log
	}{
		{
			name: "valid",
			positions: func(t *testing.T, log string) []byte {
				return positionsJSON(t, entryFor(t, log, numberedSize(0, half), nil))
			},
			from: half,
		},
		{
			name:      "corrupt",
			positions: func(*testing.T, string) []byte { return []byte("\x00\x17\xffgarbage}{\x00 not json\n") },
			logs:      `level=WARN msg="ignoring unusable positions file`,
		},
		{
			name: "truncated",
			positions: func(t *testing.T, log string) []byte {
				b := positionsJSON(t, entryFor(t, log, numberedSize(0, half), nil))
				return b[:len(b)/2]
			},
			logs: "corrupt or truncated",
		},
		{
			name: "empty",
			positions: func(*testing.T, string) []byte {
				return nil
			},
			logs: "the file is empty",
		},
		{
			name: "offset past EOF",
			positions: func(t *testing.T, log string) []byte {
				return positionsJSON(t, entryFor(t, log, numberedSize(0, n)+4096, nil))
			},
			logs: "beyond the end of the file",
		},
		{
			// The file's device and inode are those saved, but it starts
			// with other bytes: the inode was reused by a new file.
			name: "inode reused",
			positions: func(t *testing.T, log string) []byte {
				return positionsJSON(t, entryFor(t, log, numberedSize(0, half), []byte("the first KiB of a file deleted since\n")))
			},
			logs: "starts with different content",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "app.log")
			posPath := filepath.Join(dir, "positions.json")
			appendFile(t, logPath, numberedLines(0, n))
			if err := os.WriteFile(posPath, tc.positions(t, logPath), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, outPath, _ := filesConfig(t, dir, []string{logPath}, "")
			d := startDaemon(t, cfg)
			waitForOutput(t, d, outPath, numberedSize(tc.from, n), n, 30*time.Second)
			stderr := d.stopLog(t)
			checkLog(t, stderr)
			if tc.logs != "" && !strings.Contains(stderr, tc.logs) {
				t.Errorf("logsift's log does not say %q:\n%s", tc.logs, stderr)
			}
			if tc.logs != "" && !strings.Contains(stderr, posPath) && !strings.Contains(stderr, logPath) {
				t.Errorf("logsift's log names neither the positions file nor the log:\n%s", stderr)
			}
			out, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if want := numberedLines(tc.from, n); string(out) != want {
				nums, _, _ := numbers(out)
				t.Fatalf("output is not lines %d..%d exactly once: %d lines, from %v", tc.from, n-1, len(nums), nums[:min(3, len(nums))])
			}
			// The damaged file was replaced by a valid one at shutdown.
			if off := savedPosition(t, posPath, logPath); off != numberedSize(0, n) {
				t.Errorf("position saved at shutdown = %d, want %d (the end of the log)", off, numberedSize(0, n))
			}
		})
	}
}

// TestPositionsFileUnreadable points positions.path at a directory: that
// is an operator error logsift reports by path and exits 1 for, without a
// panic.
func TestPositionsFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	appendFile(t, logPath, numberedLines(0, 10))
	cfg, _, _ := filesConfig(t, dir, []string{logPath}, "")
	posPath := filepath.Join(dir, "positions.json")
	if err := os.Mkdir(posPath, 0o755); err != nil {
		t.Fatal(err)
	}
	r := logsift(t, "", nil, "run", "-config", cfg)
	if r.code != 1 || !strings.Contains(string(r.stderr), posPath) || strings.Contains(string(r.stderr), "panic") {
		t.Fatalf("exit %d (want 1), stderr (want it to name %s):\n%s", r.code, posPath, r.stderr)
	}
}
