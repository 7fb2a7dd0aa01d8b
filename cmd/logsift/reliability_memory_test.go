package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

const miB = 1 << 20

// plainBinary builds, once, a logsift binary without the race detector:
// its shadow memory multiplies RSS several times, so memory bounds are
// measured on the binary users run. Under a plain `go test` it is
// logsiftBin itself.
var plainBinary = sync.OnceValues(func() (string, error) {
	if !raceEnabled {
		return logsiftBin, nil
	}
	bin := filepath.Join(filepath.Dir(logsiftBin), "logsift-norace")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building logsift without -race: %v\n%s", err, out)
	}
	return bin, nil
})

func plainBin(t *testing.T) string {
	t.Helper()
	bin, err := plainBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// hwm is the peak resident set size (VmHWM) of the running process pid.
// It must be read while the process runs: the rusage of an exited child is
// no use, as it counts the test's own memory, shared with the child
// between fork and exec.
func hwm(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := peakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBlockedOutputBoundsMemory has a reader open the output FIFO, take the
// first line and then stop reading for 5s while 1M lines (72 MB, more than
// the bound) are appended to the input. logsift must apply backpressure:
// its RSS stays under 64 MiB. Then the reader drains the FIFO and every
// line arrives, exactly once and in order.
func TestBlockedOutputBoundsMemory(t *testing.T) {
	const total = 1_000_000
	const limit = 64 * miB
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath, numberedLines(0, 1))
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
metrics: {listen: ""}
`, logPath, fifo))
	d := startCmd(t, exec.Command(plainBin(t), "run", "-config", cfg))

	// The reader: opening the FIFO lets logsift open its output. It takes
	// one line, waits, then reads as much as the input holds, then the
	// rest until logsift exits (which must be nothing).
	want := numberedLines(0, total)
	resume := make(chan struct{})
	first := make(chan error, 1)
	got := make(chan []byte, 1)
	extra := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			first <- err
			return
		}
		defer f.Close()
		r := bufio.NewReaderSize(f, 64<<10)
		line, err := r.ReadBytes('\n')
		first <- err
		<-resume
		buf := make([]byte, len(want)-len(line))
		n, _ := io.ReadFull(r, buf)
		got <- append(line, buf[:n]...)
		rest, _ := io.ReadAll(r)
		extra <- rest
	}()
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the first line did not come through the FIFO")
	}

	// Nobody reads for 5s while the input grows by 72 MB.
	pause := time.After(5 * time.Second)
	appendFile(t, logPath, numberedLines(1, total))
	<-pause
	blocked := hwm(t, d.cmd.Process.Pid)
	t.Logf("after 5s of a blocked output with %d MB of input: peak RSS %.1f MiB", numberedSize(0, total)/1e6, float64(blocked)/miB)
	if blocked > limit {
		t.Errorf("peak RSS %.1f MiB while the output was blocked, want < %d MiB", float64(blocked)/miB, limit/miB)
	}

	close(resume)
	var out []byte
	select {
	case out = <-got:
	case <-time.After(90 * time.Second):
		stderr := d.kill(t)
		nums, _, _ := numbers(<-got)
		t.Fatalf("not every line came out within 90s of the reader resuming: %s\n%s", accounting(nums, total), tailOf(stderr, 20))
	}
	peak := hwm(t, d.cmd.Process.Pid)
	d.stop(t)
	if string(out) != want {
		nums, _, _ := numbers(out)
		t.Fatalf("after the reader resumed: %s", accounting(nums, total))
	}
	if rest := <-extra; len(rest) > 0 {
		t.Fatalf("%d bytes more than the input came out: %.100q", len(rest), rest)
	}
	t.Logf("peak RSS over the whole run: %.1f MiB", float64(peak)/miB)
	checkLog(t, d.stderr.String())
}

// hugeLine is a line of n bytes (newline included) whose content shows
// where a byte was misplaced.
func hugeLine(n int) []byte {
	b := make([]byte, 0, n)
	for i := 0; len(b) < n-1; i++ {
		b = fmt.Appendf(b, "%09d ", i)
	}
	b = b[:n-1]
	return append(b, '\n')
}

// TestHugeLine sends a 50 MiB line, between ordinary lines, through stdin
// and through a followed file. It is split into max_bytes parts that
// concatenate to the original, and the output equals the input byte for
// byte. On stdin logsift reads in bounded chunks: peak RSS stays under
// 64 MiB. A followed file is read by the tail library, which holds a whole
// line in memory before logsift sees it, twice at its peak (bufio's
// fragments and the string built from them); with the garbage collector
// letting the heap grow to twice what is live, the bound is four times the
// line plus the 64 MiB everything else may take. (Measured: about 3.3x the
// line in all; logsift's own copy of the line is only ever one batch.)
func TestHugeLine(t *testing.T) {
	const size = 50 * miB
	input := []byte(numberedLines(0, 3))
	input = append(input, hugeLine(size)...)
	input = append(input, numberedLines(3, 6)...)

	t.Run("stdin", func(t *testing.T) {
		dir := t.TempDir()
		outPath := filepath.Join(dir, "out.log")
		out, err := os.Create(outPath)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		// stdin stays open until the output is complete, so the peak can
		// be read from the running process.
		cmd := exec.Command(plainBin(t))
		cmd.Stdout = out
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		d := startCmd(t, cmd)
		fed := make(chan error, 1)
		go func() {
			_, err := stdin.Write(input)
			fed <- err
		}()
		waitForOutput(t, d, outPath, int64(len(input)), 6, 60*time.Second)
		if err := <-fed; err != nil {
			t.Fatal(err)
		}
		peak := hwm(t, cmd.Process.Pid)
		stdin.Close()
		if err := <-d.done; err != nil {
			t.Fatalf("%v: %s", err, d.stderr)
		}
		t.Logf("stdin, %d MiB line: peak RSS %.1f MiB", size/miB, float64(peak)/miB)
		checkSame(t, outPath, input)
		if peak > 64*miB {
			t.Errorf("peak RSS %.1f MiB, want < 64 MiB", float64(peak)/miB)
		}
	})

	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		logPath := filepath.Join(dir, "app.log")
		if err := os.WriteFile(logPath, input, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, outPath, _ := filesConfig(t, dir, []string{logPath}, "")
		d := startCmd(t, exec.Command(plainBin(t), "run", "-config", cfg))
		waitForOutput(t, d, outPath, int64(len(input)), 6, 60*time.Second)
		peak := hwm(t, d.cmd.Process.Pid)
		d.stop(t)
		checkLog(t, d.stderr.String())
		t.Logf("followed file, %d MiB line: peak RSS %.1f MiB (%.1fx the line)", size/miB, float64(peak)/miB, float64(peak)/size)
		checkSame(t, outPath, input)
		if limit := int64(4*size + 64*miB); peak > limit {
			t.Errorf("peak RSS %.1f MiB, want < 4x the line + 64 MiB (%d MiB)", float64(peak)/miB, limit/miB)
		}
	})
}

// checkSame fails unless the file at path holds want.
func checkSame(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("output (%d bytes) differs from the input (%d bytes) at byte %d: %.40q vs %.40q",
			len(got), len(want), i, got[i:min(len(got), i+40)], want[i:min(len(want), i+40)])
	}
}
