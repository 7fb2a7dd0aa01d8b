package outputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"

	"github.com/logsift/logsift/event"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// run starts f.Run and returns the channel its result arrives on.
func run(ctx context.Context, f *Fanout, in <-chan *event.OutBatch, done func(*event.OutBatch)) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx, in, done) }()
	return errc
}

func result(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// acks records acknowledged batches; safe for concurrent use.
type acks struct {
	mu    sync.Mutex
	order []*event.OutBatch
}

func (a *acks) done(b *event.OutBatch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.order = append(a.order, b)
}

func (a *acks) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.order)
}

// counts is an Observer that tallies calls.
type counts struct {
	mu      sync.Mutex
	written map[string]int
	failed  map[string]int
}

func newCounts() *counts {
	return &counts{written: map[string]int{}, failed: map[string]int{}}
}

func (c *counts) Written(output string, events int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[output] += events
}

func (c *counts) Failed(output string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed[output]++
}

func (c *counts) get(m map[string]int, output string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[output]
}

// TestFanoutDoneInOrder sends many batches through two outputs and checks
// every batch is acknowledged exactly once, in order, after both outputs
// received exactly their events.
func TestFanoutDoneInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.log")
	file, err := NewFile("all", path, SelectAll)
	if err != nil {
		t.Fatal(err)
	}
	var stdout testutil.SyncBuffer
	obs := newCounts()
	f := NewFanout([]Output{NewWriter("stdout", &stdout, SelectForwarded), file}, obs, nil)

	const n = 300
	batches := make([]*event.OutBatch, n)
	var wantFwd, wantAll strings.Builder
	for i := range batches {
		evs := []ev{
			{fmt.Sprintf("line %d\n", i), fwd},
			{fmt.Sprintf("dropped %d\n", i), sup},
			{fmt.Sprintf("line %d again\r\n", i), fwd},
		}
		batches[i] = batchOf(evs...)
		wantFwd.WriteString(expected(SelectForwarded, evs...))
		wantAll.WriteString(expected(SelectAll, evs...))
	}

	var a acks
	in := make(chan *event.OutBatch, 8)
	errc := run(context.Background(), f, in, a.done)
	for _, b := range batches {
		in <- b
	}
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(a.order) != n {
		t.Fatalf("done called %d times, want %d", len(a.order), n)
	}
	for i, b := range a.order {
		if b != batches[i] {
			t.Fatalf("done call %d got another batch", i)
		}
	}
	if got := stdout.String(); got != wantFwd.String() {
		t.Errorf("stdout differs at byte %d", firstDiff(got, wantFwd.String()))
	}
	if got := readFile(t, path); got != wantAll.String() {
		t.Errorf("file differs at byte %d", firstDiff(got, wantAll.String()))
	}
	if got := obs.get(obs.written, "stdout"); got != 2*n {
		t.Errorf("Written(stdout) total %d, want %d", got, 2*n)
	}
	if got := obs.get(obs.written, "all"); got != 3*n {
		t.Errorf("Written(all) total %d, want %d", got, 3*n)
	}
}

// TestFanoutFlushesWithoutClosing checks written events reach the file
// while Run keeps going, both when it flushes because no batch is waiting
// and by the periodic flush alone.
func TestFanoutFlushesWithoutClosing(t *testing.T) {
	for _, idle := range []bool{true, false} {
		t.Run(fmt.Sprintf("flushWhenIdle=%v", idle), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.log")
			file, err := NewFile("out", path, SelectForwarded)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			f := NewFanout([]Output{file}, nil, nil)
			f.flushWhenIdle = idle
			var a acks
			in := make(chan *event.OutBatch)
			errc := run(context.Background(), f, in, a.done)
			start := time.Now()
			in <- batchOf(ev{"hello\n", fwd})
			waitFor(t, "the event in the file", func() bool { return readFile(t, path) == "hello\n" })
			waitFor(t, "the acknowledgement", func() bool { return a.len() == 1 })
			if !idle && time.Since(start) < flushEvery {
				t.Errorf("periodic flush after %v, before its %v period", time.Since(start), flushEvery)
			}
			close(in)
			if err := result(t, errc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFanoutClosedPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	f := NewFanout([]Output{NewWriter("stdout", w, SelectForwarded)}, nil, nil)
	var a acks
	in := make(chan *event.OutBatch, 1)
	in <- batchOf(ev{"nobody reads this\n", fwd})
	err = result(t, run(context.Background(), f, in, a.done))
	if !errors.Is(err, ErrClosedPipe) || !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Run returned %v, want ErrClosedPipe wrapping EPIPE", err)
	}
	if a.len() != 0 {
		t.Error("a batch that was not written was acknowledged")
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	entered chan struct{} // closed when the first Write starts
	release chan struct{}
	once    sync.Once
	buf     testutil.SyncBuffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return w.buf.Write(p)
}

func TestFanoutBackpressureAndStall(t *testing.T) {
	w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	f := NewFanout([]Output{NewWriter("stdout", w, SelectForwarded)}, nil, nil)
	if f.Stalled(time.Now().Add(time.Hour), time.Second) {
		t.Error("stalled before any write")
	}
	var a acks
	in := make(chan *event.OutBatch)
	errc := run(context.Background(), f, in, a.done)
	in <- batchOf(ev{"first\n", fwd})
	<-w.entered

	if !f.Stalled(time.Now().Add(time.Hour), time.Minute) {
		t.Error("not stalled an hour into a blocked write")
	}
	if f.Stalled(time.Now(), time.Hour) {
		t.Error("stalled before the limit passed")
	}
	select {
	case in <- batchOf(ev{"second\n", fwd}):
		t.Fatal("Run took another batch while its output was blocked")
	case <-time.After(50 * time.Millisecond):
	}
	if a.len() != 0 {
		t.Fatal("acknowledged while the write is blocked")
	}

	close(w.release)
	in <- batchOf(ev{"second\n", fwd})
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatal(err)
	}
	if got := w.buf.String(); got != "first\nsecond\n" {
		t.Errorf("writer got %q", got)
	}
	if a.len() != 2 {
		t.Errorf("%d batches acknowledged, want 2", a.len())
	}
	if f.Stalled(time.Now().Add(time.Hour), time.Minute) {
		t.Error("still stalled after the write finished")
	}
}

// flakyWriter fails its first failures writes, taking partial bytes of
// each, until release is closed (if set).
type flakyWriter struct {
	mu       sync.Mutex
	failures int
	partial  int // bytes accepted by each failing write
	release  chan struct{}
	buf      bytes.Buffer
}

var errDiskFull = errors.New("no space left on device (test)")

func (w *flakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	blocked := false
	if w.release != nil {
		select {
		case <-w.release:
		default:
			blocked = true
		}
	}
	if w.failures > 0 || blocked {
		w.failures--
		n := min(w.partial, len(p))
		w.buf.Write(p[:n])
		return n, errDiskFull
	}
	return w.buf.Write(p)
}

func (w *flakyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestFanoutRetriesFailingWriter checks a failing output is retried until
// it succeeds, without losing or repeating bytes, with every failure
// counted, and acknowledgement only after success.
func TestFanoutRetriesFailingWriter(t *testing.T) {
	big := strings.Repeat("traceback line\n", bufferSize/8) // larger than the buffer
	tests := []struct {
		name     string
		failures int
		partial  int
		evs      []ev
	}{
		{"one failure", 1, 0, []ev{{"a\n", fwd}, {"b\n", sup}}},
		{"several failures", 4, 0, []ev{{"a\n", fwd}, {"c\r\n", fwd}}},
		{"partial writes", 5, 3, []ev{{"0123456789\n", fwd}, {"x\n", sup}, {"abcdef\n", fwd}}},
		{"write-through", 3, 1000, []ev{{"head\n", fwd}, {big, fwd}, {"x\n", sup}, {"tail\n", fwd}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &flakyWriter{failures: tt.failures, partial: tt.partial}
			obs := newCounts()
			f := NewFanout([]Output{NewWriter("stdout", w, SelectForwarded)}, obs, nil)
			f.backoffMin, f.backoffMax = time.Millisecond, 2*time.Millisecond
			var a acks
			in := make(chan *event.OutBatch, 1)
			in <- batchOf(tt.evs...)
			close(in)
			if err := result(t, run(context.Background(), f, in, a.done)); err != nil {
				t.Fatal(err)
			}
			if got, want := w.String(), expected(SelectForwarded, tt.evs...); got != want {
				t.Errorf("destination got %q, want %q", abbrev(got), abbrev(want))
			}
			if got := obs.get(obs.failed, "stdout"); got != tt.failures {
				t.Errorf("Failed called %d times, want %d", got, tt.failures)
			}
			if got, want := obs.get(obs.written, "stdout"), SelectForwarded.Count(batchOf(tt.evs...)); got != want {
				t.Errorf("Written total %d, want %d", got, want)
			}
			if a.len() != 1 {
				t.Errorf("done called %d times, want 1", a.len())
			}
			if err := f.Healthy(); err != nil {
				t.Errorf("Healthy after recovery: %v", err)
			}
		})
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s...(%d bytes)", s[:40], len(s))
	}
	return s
}

// TestFanoutHealthyWhileFailing checks the error is reported while an
// output fails, nothing is acknowledged meanwhile, and health returns
// once the output recovers.
func TestFanoutHealthyWhileFailing(t *testing.T) {
	w := &flakyWriter{release: make(chan struct{})}
	f := NewFanout([]Output{NewWriter("stdout", w, SelectForwarded)}, nil, nil)
	f.backoffMin, f.backoffMax = time.Millisecond, 5*time.Millisecond
	var a acks
	in := make(chan *event.OutBatch)
	errc := run(context.Background(), f, in, a.done)
	in <- batchOf(ev{"eventually\n", fwd})
	waitFor(t, "Healthy to report the failure", func() bool { return errors.Is(f.Healthy(), errDiskFull) })
	if a.len() != 0 {
		t.Fatal("acknowledged a batch that was not written")
	}
	close(w.release)
	waitFor(t, "the acknowledgement", func() bool { return a.len() == 1 })
	if err := f.Healthy(); err != nil {
		t.Errorf("Healthy after recovery: %v", err)
	}
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatal(err)
	}
	if got := w.String(); got != "eventually\n" {
		t.Errorf("destination got %q", got)
	}
}

// TestFanoutCancelWhileRetrying checks ctx ends the retries and nothing
// unwritten is acknowledged.
func TestFanoutCancelWhileRetrying(t *testing.T) {
	w := &flakyWriter{release: make(chan struct{})}
	f := NewFanout([]Output{NewWriter("stdout", w, SelectForwarded)}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var a acks
	in := make(chan *event.OutBatch, 1)
	in <- batchOf(ev{"never written\n", fwd})
	errc := run(ctx, f, in, a.done)
	waitFor(t, "the failure", func() bool { return f.Healthy() != nil })
	cancel()
	if err := result(t, errc); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if a.len() != 0 {
		t.Error("acknowledged a batch that was not written")
	}
}

// TestFanoutReopenAfterRename checks SIGUSR1-style reopening: batches sent
// after Reopen go to a new file at the path, earlier ones stay in the
// rotated file, none lost.
func TestFanoutReopenAfterRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	file, err := NewFile("out", path, SelectAll)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFanout([]Output{file}, nil, nil)
	var a acks
	in := make(chan *event.OutBatch)
	errc := run(context.Background(), f, in, a.done)

	in <- batchOf(ev{"one\n", fwd})
	in <- batchOf(ev{"two\n", sup})
	waitFor(t, "two acknowledgements", func() bool { return a.len() == 2 })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	f.Reopen()
	in <- batchOf(ev{"three\n", fwd})
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path+".1"); got != "one\ntwo\n" {
		t.Errorf("rotated file holds %q", got)
	}
	if got := readFile(t, path); got != "three\n" {
		t.Errorf("new file holds %q", got)
	}
}

// TestFanoutReopenRecoversMissingDirectory checks a Reopen request
// interrupts the retry backoff: with the directory recreated, the reopened
// file takes the pending events long before the next retry would.
func TestFanoutReopenRecoversMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.log")
	file, err := NewFile("out", path, SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	obs := newCounts()
	f := NewFanout([]Output{file}, obs, nil)
	f.backoffMin, f.backoffMax = time.Hour, time.Hour
	var a acks
	in := make(chan *event.OutBatch)
	errc := run(context.Background(), f, in, a.done)

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	f.Reopen() // fails: the directory is gone
	in <- batchOf(ev{"kept\n", fwd})
	waitFor(t, "the failed flush", func() bool { return obs.get(obs.failed, "out") >= 2 })
	if a.len() != 0 {
		t.Fatal("acknowledged a batch that was not written")
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	f.Reopen()
	waitFor(t, "the acknowledgement", func() bool { return a.len() == 1 })
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "kept\n" {
		t.Errorf("file holds %q", got)
	}
	if err := f.Healthy(); err != nil {
		t.Errorf("Healthy after recovery: %v", err)
	}
}

// BenchmarkFanoutWrite measures one batch of 64 events through two
// outputs; the steady state must not allocate.
func BenchmarkFanoutWrite(b *testing.B) {
	batch := &event.OutBatch{}
	line := []byte(`127.0.0.1 - - [25/Nov/2024 21:44:27] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 200 -` + "\n")
	for i := range 64 {
		v := fwd
		if i%8 == 7 {
			v = sup
		}
		batch.Add(line, v)
	}
	f := NewFanout([]Output{
		NewWriter("stdout", io.Discard, SelectForwarded),
		NewWriter("audit", io.Discard, SelectAll),
	}, nopObserver{}, nil)
	in := make(chan *event.OutBatch, 1)
	free := make(chan *event.OutBatch, 1)
	free <- batch
	errc := make(chan error, 1)
	go func() { errc <- f.Run(context.Background(), in, func(b *event.OutBatch) { free <- b }) }()

	b.SetBytes(int64(len(batch.Data)))
	b.ReportAllocs()
	for b.Loop() {
		in <- <-free
	}
	close(in)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// TestFanoutReopenFailureThenHealthy checks a failed reopen marks the
// output unhealthy until a later write succeeds without another reopen.
func TestFanoutReopenFailureThenHealthy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.log")
	file, err := NewFile("out", path, SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	obs := newCounts()
	f := NewFanout([]Output{file}, obs, nil)
	var a acks
	in := make(chan *event.OutBatch)
	errc := run(context.Background(), f, in, a.done)

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	f.Reopen()
	waitFor(t, "the failed reopen", func() bool { return obs.get(obs.failed, "out") == 1 })
	if err := f.Healthy(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Healthy after a failed reopen: %v", err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	in <- batchOf(ev{"after\n", fwd})
	close(in)
	if err := result(t, errc); err != nil {
		t.Fatal(err)
	}
	if err := f.Healthy(); err != nil {
		t.Errorf("Healthy after a successful write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "after\n" {
		t.Errorf("file holds %q", got)
	}
}

type tolerantOutput struct {
	Output
	tolerates time.Duration
}

func (o tolerantOutput) Tolerates() time.Duration { return o.tolerates }

// TestHealthyToleratesBriefRemoteFailures: a network output that has just
// started failing is not reported; one failing past what it tolerates is,
// and so is any other output at once.
func TestHealthyToleratesBriefRemoteFailures(t *testing.T) {
	plain := NewWriter("file", io.Discard, SelectForwarded)
	for _, tc := range []struct {
		name string
		out  Output
		want bool
	}{
		{"plain output", plain, true},
		{"remote within tolerance", tolerantOutput{plain, time.Hour}, false},
		{"remote past tolerance", tolerantOutput{plain, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFanout([]Output{tc.out}, nil, nil)
			f.failed(0, errors.New("connection refused"))
			if got := f.Healthy() != nil; got != tc.want {
				t.Errorf("unhealthy = %v, want %v", got, tc.want)
			}
			f.recovered(0)
			if err := f.Healthy(); err != nil {
				t.Errorf("after recovering: %v", err)
			}
		})
	}
}
