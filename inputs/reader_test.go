package inputs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/logsift/logsift/event"
)

// runReader runs src to completion and returns every batch it sent, not
// yet released, so that reuse of a held batch would corrupt the result.
func runReader(t *testing.T, src *ReaderSource) ([]*event.LineBatch, error) {
	t.Helper()
	out := make(chan *event.LineBatch)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(context.Background(), out) }()
	var batches []*event.LineBatch
	for {
		select {
		case b := <-out:
			batches = append(batches, b)
		case err := <-errc:
			return batches, err
		case <-time.After(10 * time.Second):
			t.Fatal("reader did not finish")
		}
	}
}

// wantLines splits data the way the spec describes: at every newline, and
// after max content bytes when no newline follows; a final fragment stays
// without newline.
func wantLines(data []byte, max int) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		switch {
		case i >= 0 && i <= max:
			lines = append(lines, data[:i+1])
			data = data[i+1:]
		case len(data) > max:
			lines = append(lines, data[:max])
			data = data[max:]
		default:
			lines = append(lines, data)
			data = nil
		}
	}
	return lines
}

// checkBatches verifies that batches hold exactly want, line by line, with
// consistent metadata and offsets counted from start.
func checkBatches(t *testing.T, batches []*event.LineBatch, want [][]byte, input, path string, start int64) {
	t.Helper()
	var got [][]byte
	off := start
	for bi, b := range batches {
		if b.Len() == 0 {
			t.Errorf("batch %d is empty", bi)
		}
		if b.Input != input || b.Path != path {
			t.Errorf("batch %d: input %q path %q, want %q %q", bi, b.Input, b.Path, input, path)
		}
		for i := range b.Len() {
			line := b.Line(i)
			off += int64(len(line))
			if got := b.LineEndOffset(i); got != off {
				t.Fatalf("batch %d line %d: end offset %d, want %d", bi, i, got, off)
			}
			got = append(got, line)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d: got %q, want %q", i, trunc(got[i]), trunc(want[i]))
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

func randomLog(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var buf bytes.Buffer
	for buf.Len() < n {
		switch r.IntN(6) {
		case 0:
			buf.WriteString("\r\n")
		case 1:
			buf.WriteByte(0)
		case 2:
			buf.Write([]byte{0xff, 0xfe, 0xc3, 0x28})
		case 3:
			buf.WriteByte('\n')
		default:
			buf.WriteString(strings.Repeat("x", r.IntN(300)))
		}
	}
	return buf.Bytes()
}

func TestReaderRoundTrip(t *testing.T) {
	const small = 64
	tests := []struct {
		name string
		in   []byte
		max  int
		wrap func(io.Reader) io.Reader
	}{
		{name: "empty", in: nil},
		{name: "one newline", in: []byte("\n")},
		{name: "plain", in: []byte("a\nbb\nccc\n")},
		{name: "final line without newline", in: []byte("a\nlast")},
		{name: "only a fragment", in: []byte("no newline at all")},
		{name: "crlf", in: []byte("GET / 200\r\nGET /x 500\r\n\r\n")},
		{name: "bare carriage returns", in: []byte("a\rb\r\rc\n")},
		{name: "nul bytes", in: []byte("\x00\x00\n\x00a\x00\n\x00")},
		{name: "invalid utf-8", in: []byte("\xff\xfe\n\xc3\x28 caf\xe9\n\xed\xa0\x80\n")},
		{name: "ansi colours", in: []byte("INFO:werkzeug:\x1b[35m\x1b[1mGET / HTTP/1.1\x1b[0m\" 500 -\n")},
		{name: "empty lines", in: bytes.Repeat([]byte("\n"), 3*batchLines+5)},
		{name: "line of exactly max", in: append(bytes.Repeat([]byte("y"), small), '\n'), max: small},
		{name: "line of max plus one", in: append(bytes.Repeat([]byte("y"), small+1), '\n'), max: small},
		{name: "long line split in parts", in: []byte(strings.Repeat("z", 5*small+3) + "\nafter\n"), max: small},
		{name: "long final fragment", in: bytes.Repeat([]byte("q"), 3*small), max: small},
		{name: "default max 1MiB line", in: append(bytes.Repeat([]byte{0xff}, DefaultMaxLineBytes), '\n')},
		{name: "default max 1MiB+1 line", in: append(bytes.Repeat([]byte("w"), DefaultMaxLineBytes+1), "\r\n"...)},
		{name: "random one byte reads", in: randomLog(20_000, 1), max: small, wrap: iotest.OneByteReader},
		{name: "random half reads", in: randomLog(200_000, 2), max: 100, wrap: iotest.HalfReader},
		{name: "random data with EOF", in: randomLog(2<<20, 3), wrap: iotest.DataErrReader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.in)
			if tt.wrap != nil {
				r = tt.wrap(r)
			}
			max := tt.max
			if max == 0 {
				max = DefaultMaxLineBytes
			}
			batches, err := runReader(t, NewReader("app", "-", r, ReaderOptions{MaxLineBytes: tt.max}))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkBatches(t, batches, wantLines(tt.in, max), "app", "-", 0)
			var all []byte
			for _, b := range batches {
				all = append(all, b.Data...)
			}
			if !bytes.Equal(all, tt.in) {
				t.Fatal("concatenated batches differ from input")
			}
		})
	}
}

func TestReaderSplitsLongLines(t *testing.T) {
	const max = 1000
	in := strings.Repeat("a", 2500) + "\n" + "short\n" + strings.Repeat("b", 1001) + "\n" + strings.Repeat("c", 1000) + "\n"
	splits := 0
	batches, err := runReader(t, NewReader("app", "-", strings.NewReader(in), ReaderOptions{
		MaxLineBytes: max,
		ReadBytes:    300, // parts straddle reads: the open line must carry over
		OnSplit:      func() { splits++ },
	}))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range batches {
		for i := range b.Len() {
			sizes = append(sizes, len(b.Line(i)))
		}
	}
	want := []int{1000, 1000, 501, 6, 1000, 2, 1001}
	if !equalInts(sizes, want) {
		t.Errorf("line sizes %v, want %v", sizes, want)
	}
	if splits != 2 {
		t.Errorf("OnSplit called %d times, want 2", splits)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderOffsetAndFile(t *testing.T) {
	id := event.FileID{Dev: 7, Inode: 42, Generation: 3}
	in := []byte("one\ntwo\nthree")
	batches, err := runReader(t, NewReader("web", "/var/log/x.log", bytes.NewReader(in), ReaderOptions{Offset: 1000, File: id}))
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, batches, wantLines(in, DefaultMaxLineBytes), "web", "/var/log/x.log", 1000)
	last := batches[len(batches)-1]
	if last.EndOffset != 1000+int64(len(in)) {
		t.Errorf("EndOffset %d, want %d", last.EndOffset, 1000+len(in))
	}
	for _, b := range batches {
		if b.File != id {
			t.Errorf("File %+v, want %+v", b.File, id)
		}
	}
}

func TestReaderReadErrorKeepsData(t *testing.T) {
	in := "complete\npartial"
	r := iotest.TimeoutReader(strings.NewReader(in)) // second Read fails
	batches, err := runReader(t, NewReader("app", "-", r, ReaderOptions{}))
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("Run error %v, want %v", err, iotest.ErrTimeout)
	}
	checkBatches(t, batches, wantLines([]byte(in), DefaultMaxLineBytes), "app", "-", 0)
}

// TestReaderSendsPromptly checks that a line is forwarded as soon as it is
// read, while the writer keeps the stream open.
func TestReaderSendsPromptly(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := make(chan *event.LineBatch)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- NewReader("app", "-", pr, ReaderOptions{}).Run(ctx, out) }()

	expect := func(want string) {
		t.Helper()
		select {
		case b := <-out:
			if string(b.Data) != want {
				t.Fatalf("got %q, want %q", b.Data, want)
			}
			b.Release()
		case <-time.After(5 * time.Second):
			t.Fatalf("no batch for %q", want)
		}
	}
	if _, err := pw.Write([]byte("first\nsec")); err != nil {
		t.Fatal(err)
	}
	expect("first\n")
	if _, err := pw.Write([]byte("ond\n")); err != nil {
		t.Fatal(err)
	}
	expect("second\n")

	// Cancelling ends Run even though a Read is blocked on the pipe.
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestReaderRecyclesBatches(t *testing.T) {
	in := randomLog(8<<20, 4)
	out := make(chan *event.LineBatch)
	errc := make(chan error, 1)
	go func() {
		errc <- NewReader("app", "-", bytes.NewReader(in), ReaderOptions{}).Run(context.Background(), out)
	}()
	seen := map[*event.LineBatch]bool{}
	var got []byte
	n := 0
	for done := false; !done; {
		select {
		case b := <-out:
			seen[b] = true
			got = append(got, b.Data...)
			b.Release()
			n++
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		}
	}
	if !bytes.Equal(got, in) {
		t.Fatal("data differs")
	}
	// Released batches come back: far fewer distinct batches than sends
	// (one being read into, one handed over, one being sent, one with
	// the consumer, one on its way back).
	if n < 20 || len(seen) > 6 {
		t.Errorf("%d sends used %d distinct batches, want reuse", n, len(seen))
	}
}

// lineReader produces n identical lines without allocating.
type lineReader struct {
	line []byte
	n    int
	pos  int
}

func (r *lineReader) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) && r.n > 0 {
		c := copy(p[w:], r.line[r.pos:])
		w += c
		r.pos += c
		if r.pos == len(r.line) {
			r.pos = 0
			r.n--
		}
	}
	if w == 0 {
		return 0, io.EOF
	}
	return w, nil
}

func consume(tb testing.TB, src *ReaderSource) int {
	out := make(chan *event.LineBatch, 4)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(context.Background(), out); close(out) }()
	lines := 0
	for b := range out {
		lines += b.Len()
		b.Release()
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
	return lines
}

var benchLine = []byte(`127.0.0.1 - - [25/Nov/2024 21:44:27] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -` + "\n")

// BenchmarkReader reports per line: run with -benchmem to see 0 allocs/op.
func BenchmarkReader(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	src := NewReader("app", "-", &lineReader{line: benchLine, n: b.N}, ReaderOptions{})
	if got := consume(b, src); got != b.N {
		b.Fatalf("read %d lines, want %d", got, b.N)
	}
}

// TestReaderSteadyStateAllocs guards the zero-allocation property: a
// hundred times more lines must not cost measurably more allocations.
func TestReaderSteadyStateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count needs a quiet process")
	}
	line := []byte("GET / 200\n")
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(2, func() {
			consume(t, NewReader("app", "-", &lineReader{line: line, n: n}, ReaderOptions{}))
		})
	}
	// Both runs are long enough for the free list to reach its steady
	// state; any per-line or per-batch allocation shows as thousands.
	small, large := allocs(100_000), allocs(1_000_000)
	if large-small > 100 {
		t.Errorf("allocations grow with input: %.0f for 100k lines, %.0f for 1M lines", small, large)
	}
}
