package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// paced returns a writeLines hook that limits the writer to perTick lines
// every 10ms (a busy application, 20k lines/s at 200) and calls rotate
// before every line number that at reports true.
func paced(perTick int, at func(next int) bool, rotate func(l *appLog) error) (func(*appLog) error, func()) {
	tick := time.NewTicker(10 * time.Millisecond)
	return func(l *appLog) error {
		if l.next%perTick == 0 {
			if err := l.flush(); err != nil {
				return err
			}
			<-tick.C
		}
		if l.next > 0 && at(l.next) {
			return rotate(l)
		}
		return nil
	}, tick.Stop
}

// caughtUp waits until the output at path holds size bytes: logsift has
// forwarded everything written so far.
func caughtUp(path string, size int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() >= size {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("logsift did not catch up with the writer within 30s (want %d bytes in %s)", size, path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// TestRotationModes runs a busy writer through each way logs are rotated
// while logsift follows the live path only, and checks that the output is
// every line exactly once, in order.
//
// copytruncate has a race no tailer can close: lines written between the
// copy and the truncation are in neither file, and lines the tailer had not
// read yet when the file was truncated are only in the copy, which the
// glob does not match (matching it would read every line twice). Like
// logrotate's own documentation says, copytruncate can lose lines. The
// test therefore has the writer pause until logsift has caught up, then
// copy and truncate, which is the only condition under which copytruncate
// is lossless; logsift must then notice the truncation and read the new
// content from its start, even when it grows past the old size.
func TestRotationModes(t *testing.T) {
	const total, perTick = 40_000, 200
	for _, tc := range []struct {
		name string
		// glob is the input's path pattern, relative to the test directory.
		glob string
		// at reports whether the writer rotates before line next.
		at func(next int) bool
		// rotate rotates l, whose output is at out; written is the
		// output size once logsift has forwarded every line written.
		rotate func(l *appLog, out string, written int64) error
	}{
		{
			name: "copytruncate",
			glob: "app.log",
			at:   func(next int) bool { return next%10_000 == 0 },
			rotate: func(l *appLog, out string, written int64) error {
				if err := caughtUp(out, written); err != nil {
					return err
				}
				if err := copyFile(l.path, fmt.Sprintf("%s.%d", l.path, l.next)); err != nil {
					return err
				}
				// The writer keeps its O_APPEND descriptor and goes on
				// writing at the new end, as applications do.
				return os.Truncate(l.path, 0)
			},
		},
		{
			// Truncation in place at irregular points, so the new content
			// sometimes grows past the size the file had before.
			name: "truncate",
			glob: "app.log",
			at:   truncationPoints(total, 2_000, 12_000),
			rotate: func(l *appLog, out string, written int64) error {
				if err := caughtUp(out, written); err != nil {
					return err
				}
				return os.Truncate(l.path, 0)
			},
		},
		{
			name: "delete-recreate",
			glob: "app.log",
			at:   func(next int) bool { return next%10_000 == 0 },
			rotate: func(l *appLog, _ string, _ int64) error {
				if err := l.close(); err != nil {
					return err
				}
				if err := os.Remove(l.path); err != nil {
					return err
				}
				return l.open()
			},
		},
		{
			// The glob matches a symlink that is re-pointed at a new file;
			// the old targets are not matched. A target that logsift never
			// opened before it was replaced would be lost to any tailer, so
			// the writer switches only once logsift has caught up.
			name: "symlink",
			glob: "current.log",
			// logsift notices a re-pointed symlink by its lag check only
			// (the tail watches the old target), 2-3s: fewer switches keep
			// the test short.
			at: func(next int) bool { return next%15_000 == 0 },
			rotate: func(l *appLog, out string, written int64) error {
				if err := caughtUp(out, written); err != nil {
					return err
				}
				if err := l.close(); err != nil {
					return err
				}
				dir := filepath.Dir(l.path)
				l.path = filepath.Join(dir, fmt.Sprintf("app-%d.log", l.next))
				if err := l.open(); err != nil {
					return err
				}
				return pointSymlink(filepath.Join(dir, "current.log"), filepath.Base(l.path))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "app.log")
			if tc.glob == "current.log" {
				logPath = filepath.Join(dir, "app-0.log")
			}
			l, err := openAppLog(logPath, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tc.glob == "current.log" {
				if err := pointSymlink(filepath.Join(dir, "current.log"), "app-0.log"); err != nil {
					t.Fatal(err)
				}
			}
			cfg, outPath, addr := filesConfig(t, dir, []string{filepath.Join(dir, tc.glob)}, "")
			d := startDaemon(t, cfg)
			waitReady(t, addr)

			rotations := 0
			hook, stop := paced(perTick, tc.at, func(l *appLog) error {
				rotations++
				if err := l.flush(); err != nil {
					return err
				}
				return tc.rotate(l, outPath, numberedSize(0, l.next))
			})
			defer stop()
			written := make(chan error, 1)
			go func() { written <- l.writeLines(total, hook) }()
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			took := waitForOutput(t, d, outPath, numberedSize(0, total), total, 60*time.Second)
			t.Logf("%d lines, %d rotations, all out %v after the writer finished", total, rotations, took.Round(time.Millisecond))
			checkLog(t, d.stopLog(t))
			out, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			checkExactlyOnce(t, out, total)
		})
	}
}

// truncationPoints returns an at function for writeLines that is true at
// seeded random points lo to hi lines apart.
func truncationPoints(total, lo, hi int) func(int) bool {
	rnd := rand.New(rand.NewPCG(7, 11))
	points := map[int]bool{}
	for p := lo + rnd.IntN(hi-lo); p < total; p += lo + rnd.IntN(hi-lo) {
		points[p] = true
	}
	return func(next int) bool { return points[next] }
}

// pointSymlink atomically makes link point at target.
func pointSymlink(link, target string) error {
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// TestLateFile starts logsift with start_at: end on a glob matching one
// file, then creates a second file with lines already in it: the existing
// content of the first file is skipped, the late file is read from its
// start, and both files' new lines come out exactly once, each file in
// order.
func TestLateFile(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(logs, "a.log")
	b := filepath.Join(logs, "b.log")
	appendFile(t, a, "old line, before logsift started\n")
	addr := freePort(t)
	outPath := filepath.Join(dir, "out.log")
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: app
    paths: [%q]
    start_at: end
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, filepath.Join(logs, "*.log"), outPath, filepath.Join(dir, "positions.json"), addr))
	d := startDaemon(t, cfg)
	waitReady(t, addr)

	appendFile(t, a, numberedLines(0, 1000))
	appendFile(t, b, numberedLines(1000, 3000)) // appears with content
	appendFile(t, a, numberedLines(3000, 4000))
	appendFile(t, b, numberedLines(4000, 5000))
	waitForOutput(t, d, outPath, numberedSize(0, 5000), 5000, 30*time.Second)
	checkLog(t, d.stopLog(t))
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	checkOnceEachInOrder(t, out, 5000, [2]int{0, 1000}, [2]int{3000, 4000}, [2]int{1000, 3000}, [2]int{4000, 5000})
}
