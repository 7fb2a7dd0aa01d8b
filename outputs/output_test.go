package outputs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logsift/logsift/event"
)

// ev is one event of a test batch.
type ev struct {
	raw string
	v   event.Verdict
}

const (
	fwd = event.Forwarded
	sup = event.Suppressed
)

func batchOf(evs ...ev) *event.OutBatch {
	b := &event.OutBatch{}
	for _, e := range evs {
		b.Add([]byte(e.raw), e.v)
	}
	return b
}

// expected concatenates the events sel selects.
func expected(sel Selection, evs ...ev) string {
	var sb strings.Builder
	for _, e := range evs {
		if sel.Selects(e.v) {
			sb.WriteString(e.raw)
		}
	}
	return sb.String()
}

// mixed has runs of both verdicts and bytes that must pass untouched:
// CRLF, NUL, invalid UTF-8, a missing final newline and an event larger
// than the write buffer.
var mixed = []ev{
	{"127.0.0.1 - - [25/Nov/2024 21:44:27] \"GET / HTTP/1.1\" 200 -\r\n", fwd},
	{"second forwarded\x00with NUL\n", fwd},
	{"Error on request:\nTraceback (most recent call last):\n  File \"x.py\", line 1\nAssertionError: write() before start_response\n", sup},
	{"invalid utf-8 \xff\xfe\xc3\x28\n", sup},
	{"huge " + strings.Repeat("é\xff", bufferSize) + "\n", fwd},
	{"suppressed again\r\n", sup},
	{"last line without newline", fwd},
}

func TestParseSelection(t *testing.T) {
	tests := []struct {
		in      string
		want    Selection
		wantErr bool
	}{
		{"", SelectForwarded, false},
		{"forwarded", SelectForwarded, false},
		{"suppressed", SelectSuppressed, false},
		{"all", SelectAll, false},
		{"All", 0, true},
		{"dropped", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSelection(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSelection(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && tt.in != "" && got.String() != tt.in {
			t.Errorf("ParseSelection(%q).String() = %q", tt.in, got.String())
		}
	}
	var s Selection
	if err := s.UnmarshalText([]byte("suppressed")); err != nil || s != SelectSuppressed {
		t.Errorf("UnmarshalText(suppressed) = %v, %v", s, err)
	}
}

func TestSelectionCount(t *testing.T) {
	b := batchOf(mixed...)
	for sel, want := range map[Selection]int{SelectForwarded: 4, SelectSuppressed: 3, SelectAll: 7} {
		if got := sel.Count(b); got != want {
			t.Errorf("%v.Count = %d, want %d", sel, got, want)
		}
	}
}

// TestSelectionWritesExactBytes checks both output kinds write exactly the
// selected events' bytes, in order.
func TestSelectionWritesExactBytes(t *testing.T) {
	kinds := []struct {
		name string
		open func(t *testing.T, sel Selection) (Output, func() string)
	}{
		{"writer", func(t *testing.T, sel Selection) (Output, func() string) {
			var buf bytes.Buffer
			return NewWriter("stdout", &buf, sel), buf.String
		}},
		{"file", func(t *testing.T, sel Selection) (Output, func() string) {
			path := filepath.Join(t.TempDir(), "out.log")
			o, err := NewFile("archive", path, sel)
			if err != nil {
				t.Fatal(err)
			}
			return o, func() string { return readFile(t, path) }
		}},
	}
	for _, k := range kinds {
		for _, sel := range []Selection{SelectForwarded, SelectSuppressed, SelectAll} {
			t.Run(k.name+"/"+sel.String(), func(t *testing.T) {
				o, contents := k.open(t, sel)
				// Twice, so the second batch lands after buffered bytes.
				for range 2 {
					if err := o.Write(batchOf(mixed...)); err != nil {
						t.Fatal(err)
					}
				}
				if err := o.Close(); err != nil {
					t.Fatal(err)
				}
				want := strings.Repeat(expected(sel, mixed...), 2)
				if got := contents(); got != want {
					t.Errorf("wrote %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
				}
			})
		}
	}
}

// callRecorder records the size of every Write it receives.
type callRecorder struct {
	bytes.Buffer
	calls []int
}

func (r *callRecorder) Write(p []byte) (int, error) {
	r.calls = append(r.calls, len(p))
	return r.Buffer.Write(p)
}

// TestSegmentIsOneWrite checks a segment larger than the buffer reaches the
// destination in one Write, after the bytes buffered before it.
func TestSegmentIsOneWrite(t *testing.T) {
	huge := strings.Repeat("x", 3*bufferSize) + "\n"
	evs := []ev{{"small\n", fwd}, {"hidden\n", sup}, {huge, fwd}, {"tail\n", fwd}}
	var rec callRecorder
	o := NewWriter("stdout", &rec, SelectForwarded)
	if err := o.Write(batchOf(evs...)); err != nil {
		t.Fatal(err)
	}
	if want := []int{len("small\n"), len(huge) + len("tail\n")}; !slices.Equal(rec.calls, want) {
		t.Errorf("destination writes %v, want %v", rec.calls, want)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.String(), expected(SelectForwarded, evs...); got != want {
		t.Errorf("got %q..., want %q...", got[:10], want[:10])
	}
	if len(rec.calls) != 2 {
		t.Errorf("flush of an empty buffer wrote: %v", rec.calls)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
