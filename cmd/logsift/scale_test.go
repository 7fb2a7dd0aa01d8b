package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestThousandFiles: 1,000 followed files hold no more descriptors than
// files + 16 while idle, and lines appended to a random subset of them
// arrive exactly once, each file's in order.
func TestThousandFiles(t *testing.T) {
	const files, touched, perFile = 1000, 100, 20
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if err := os.WriteFile(filepath.Join(logs, fmt.Sprintf("app%04d.log", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out.log")
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: many, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, filepath.Join(logs, "*.log"), out, filepath.Join(dir, "positions.json"), addr))
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	if n := fds(); n > files+16 {
		t.Errorf("%d descriptors open for %d idle files, want at most %d", n, files, files+16)
	}

	// Line numbers: file i's j-th line is i*perFile+j.
	rng := rand.New(rand.NewPCG(1, 2))
	chosen := rng.Perm(files)[:touched]
	var want []int
	for _, i := range chosen {
		f, err := os.OpenFile(filepath.Join(logs, fmt.Sprintf("app%04d.log", i)), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(numberedLines(i*perFile, (i+1)*perFile)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for j := range perFile {
			want = append(want, i*perFile+j)
		}
	}
	slices.Sort(want)
	var got []int
	waitFor(t, "every appended line", 60*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		got, _, _ = numbers(data)
		return len(got) >= len(want)
	})
	// Order within each file, then exactly once overall.
	last := map[int]int{}
	for _, n := range got {
		file := n / perFile
		if prev, ok := last[file]; ok && n <= prev {
			t.Fatalf("file %d: line %d after %d", file, n, prev)
		}
		last[file] = n
	}
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Fatalf("%d lines out for %d appended: not each exactly once", len(got), len(want))
	}
	if n := fds(); n > files+16 {
		t.Errorf("%d descriptors open after the appends, want at most %d", n, files+16)
	}
	t.Logf("%d files, %d lines appended to %d of them; %d descriptors", files, len(want), touched, fds())
	d.stop(t)
}
