package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logsift/logsift/rules"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// The parts of a generated block, werkzeug style: what each one is and so
// what the default rules must do with it is known by construction.
const (
	keptAccess = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/27 HTTP/1.1" 200 -` + "\n"
	wsAccess   = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?transport=websocket&EIO=4 HTTP/1.1" 500 -` + "\n"
	wsBlock    = "Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi` + "\n" +
		"    execute(self.server.app)\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write` + "\n" +
		`    assert status_set is not None, "write() before start_response"` + "\n" +
		"AssertionError: write() before start_response\n"
	appError = "[2026-11-25 21:44:27,873] ERROR in app: Exception on /boom [GET]\n" +
		"Traceback (most recent call last):\n" +
		`  File "/srv/chatapp/app/app.py", line 87, in boom` + "\n" +
		"    return jsonify(price=PRICES[fruit])\n" +
		"KeyError: 'banana'\n"
	appAccess = `127.0.0.1 - - [25/Nov/2026 21:44:27] "GET /boom?fruit=banana HTTP/1.1" 500 -` + "\n"
)

var (
	block      = keptAccess + wsAccess + wsBlock + appError + appAccess
	blockKept  = keptAccess + appError + appAccess
	blockLines = strings.Count(block, "\n")
	supLines   = strings.Count(wsAccess+wsBlock, "\n")
)

// blockEvents is the number of events in one block: two access lines, the
// websocket traceback, the application traceback, its access line.
const blockEvents = 5

func writeFile(t *testing.T, name string, data []byte, compress bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if compress {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func defaultOptions() Options {
	cfg := rules.Default()
	return Options{Input: cfg.Inputs[0], Rules: cfg.Rules, Samples: DefaultSamples}
}

func TestCountsByConstruction(t *testing.T) {
	const blocks = 2000
	input := []byte(strings.Repeat(block, blocks))
	for _, compress := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "gzip"}[compress]
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, "app.log", input, compress)
			var read atomic.Int64
			opts := defaultOptions()
			opts.Read = &read
			rep, err := Run(context.Background(), []string{path}, opts)
			if err != nil {
				t.Fatal(err)
			}
			want := Report{
				Lines:            uint64(blocks * blockLines),
				Bytes:            uint64(len(input)),
				Events:           blocks * blockEvents,
				EventsSuppressed: blocks,
				LinesSuppressed:  uint64(blocks * supLines),
				BytesSuppressed:  uint64(blocks * len(wsAccess+wsBlock)),
			}
			got := *rep
			if got.Lines != want.Lines || got.Bytes != want.Bytes || got.Events != want.Events ||
				got.EventsSuppressed != want.EventsSuppressed || got.LinesSuppressed != want.LinesSuppressed ||
				got.BytesSuppressed != want.BytesSuppressed {
				t.Errorf("totals %+v\nwant  %+v", got, want)
			}
			if p := 100 * float64(supLines) / float64(blockLines); !near(got.LinesSuppressedPercent, p) {
				t.Errorf("lines suppressed %.3f%%, want %.3f%%", got.LinesSuppressedPercent, p)
			}
			ws := rep.Rules[0]
			if ws.Name != "werkzeug-ws-close" || ws.Pack != "werkzeug" || ws.Events != blocks || ws.Matched != blocks ||
				ws.Lines != uint64(blocks*supLines) || ws.Unpaired != 0 {
				t.Errorf("werkzeug-ws-close: %+v", ws)
			}
			for _, rr := range rep.Rules[1:] {
				if rr.Events != 0 || rr.Matched != 0 || rr.Lines != 0 || len(rr.Samples) != 0 {
					t.Errorf("%s: %+v, want nothing", rr.Name, rr)
				}
			}
			st, _ := os.Stat(path)
			f := rep.Files[0]
			if f.Path != path || f.Compressed != compress || f.DiskBytes != st.Size() || f.Lines != want.Lines || f.Bytes != want.Bytes {
				t.Errorf("file report %+v (size on disk %d)", f, st.Size())
			}
			if read.Load() != st.Size() {
				t.Errorf("progress counter %d, want %d", read.Load(), st.Size())
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestShow(t *testing.T) {
	input := strings.Repeat(block, 50)
	path := writeFile(t, "app.log", []byte(input), false)
	for _, tc := range []struct {
		show Show
		want string
	}{
		{ShowSuppressed, strings.Repeat(wsAccess+wsBlock, 50)},
		{ShowForwarded, strings.Repeat(blockKept, 50)},
		{ShowNone, ""},
	} {
		t.Run(tc.show.String(), func(t *testing.T) {
			var out bytes.Buffer
			opts := defaultOptions()
			opts.Show, opts.Events = tc.show, &out
			if _, err := Run(context.Background(), []string{path}, opts); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("shown %d bytes, want %d", out.Len(), len(tc.want))
			}
		})
	}
}

// TestCorpus replays a real capture: what replay shows as forwarded is
// byte for byte the ideal output.
func TestCorpus(t *testing.T) {
	const base = "../testdata/corpus/b_werkzeug_threading_basicconfig"
	want, err := os.ReadFile(base + ".expected.log")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts := defaultOptions()
	opts.Show, opts.Events = ShowForwarded, &out
	rep, err := Run(context.Background(), []string{base + ".log"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("forwarded output differs from %s.expected.log", base)
	}
	if rep.Rules[0].Events != 540 || rep.Lines != 8197 || rep.LinesSuppressed != rep.Lines-uint64(bytes.Count(want, []byte("\n"))) {
		t.Errorf("report: %d events suppressed, %d lines, %d lines suppressed", rep.Rules[0].Events, rep.Lines, rep.LinesSuppressed)
	}
}

// TestFilesAreSeparateSources: a traceback at the start of one file does
// not pair with the access line at the end of the previous one.
func TestFilesAreSeparateSources(t *testing.T) {
	a := writeFile(t, "a.log", []byte(keptAccess+wsAccess), false)
	b := writeFile(t, "b.log", []byte(wsBlock+keptAccess), true)
	rep, err := Run(context.Background(), []string{a, b}, defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ws := rep.Rules[0]; ws.Events != 0 || ws.Matched != 1 || ws.Unpaired != 1 {
		t.Errorf("werkzeug-ws-close across files: %+v", ws)
	}
	if len(rep.Files) != 2 || rep.Files[0].Lines != 2 || rep.Files[1].Lines != uint64(strings.Count(wsBlock, "\n")+1) {
		t.Errorf("files: %+v", rep.Files)
	}
	// Together in one file they pair.
	one := writeFile(t, "one.log", []byte(keptAccess+wsAccess+wsBlock+keptAccess), false)
	rep, err = Run(context.Background(), []string{one}, defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ws := rep.Rules[0]; ws.Events != 1 {
		t.Errorf("werkzeug-ws-close in one file: %+v", ws)
	}
}

func TestSamples(t *testing.T) {
	path := writeFile(t, "app.log", []byte(strings.Repeat(block, 10)), false)
	for _, n := range []int{0, 2, 50} {
		opts := defaultOptions()
		opts.Samples = n
		rep, err := Run(context.Background(), []string{path}, opts)
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Rules[0].Samples
		if len(s) != min(n, 10) {
			t.Fatalf("samples=%d: kept %d", n, len(s))
		}
		for i, sm := range s {
			// The traceback starts on the third line of each block.
			if want := uint64(i*blockLines + 3); sm.Line != want || sm.Path != path || sm.Text != wsBlock ||
				sm.Lines != strings.Count(wsBlock, "\n") || sm.Truncated {
				t.Errorf("sample %d: %+v, want line %d", i, sm, want)
			}
		}
	}

	// An event larger than MaxSampleBytes is cut.
	huge := "Error on request:\nTraceback (most recent call last):\n" +
		strings.Repeat(`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write`+"\n    x\n", 400) +
		"AssertionError: write() before start_response\n"
	path = writeFile(t, "huge.log", []byte(wsAccess+huge), false)
	rep, err := Run(context.Background(), []string{path}, defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Rules[0].Samples; len(s) != 1 || !s[0].Truncated || len(s[0].Text) != MaxSampleBytes {
		t.Errorf("huge sample: %d samples, truncated %v", len(s), len(s) > 0 && s[0].Truncated)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.log.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Repeat(block, 100)))
	zw.Close()
	data := buf.Bytes()
	os.WriteFile(corrupt, data[:len(data)/2], 0o644)

	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.log"), "no such file"},
		{"truncated gzip", corrupt, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), []string{tc.path}, defaultOptions())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %v, want one naming %s and %q", err, tc.path, tc.want)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := writeFile(t, "app.log", []byte(strings.Repeat(block, 1000)), false)
	if _, err := Run(ctx, []string{path}, defaultOptions()); err == nil {
		t.Error("a cancelled replay succeeded")
	}
}

func TestParseShow(t *testing.T) {
	for _, s := range []string{"none", "suppressed", "forwarded"} {
		v, err := ParseShow(s)
		if err != nil || v.String() != s {
			t.Errorf("ParseShow(%q) = %v, %v", s, v, err)
		}
	}
	if _, err := ParseShow("all"); err == nil {
		t.Error("ParseShow(all) succeeded")
	}
}

// TestReportGolden pins the text and JSON forms of a small report.
func TestReportGolden(t *testing.T) {
	path := filepath.Join("testdata", "small.log")
	rep, err := Run(context.Background(), []string{path}, defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file string
		got  []byte
	}{{"small.txt", text.Bytes()}, {"small.json", js.Bytes()}} {
		golden := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(golden, g.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(g.got, want) {
			t.Errorf("%s differs:\n%s", golden, g.got)
		}
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Lines != rep.Lines || len(back.Rules) != len(rep.Rules) {
		t.Errorf("JSON does not round-trip: %v", err)
	}
}

func TestRenderBar(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 1000e6, 0, "  0.0% [>                             ] 0.0/1000.0 MB  0.0 MB/s  ETA --"},
		{420e6, 1000e6, 5 * time.Second, " 42.0% [============>                 ] 420.0/1000.0 MB  84.0 MB/s  ETA 7s"},
		{1000e6, 1000e6, 10 * time.Second, "100.0% [==============================] 1000.0/1000.0 MB  100.0 MB/s  ETA 0s"},
		{5, 0, time.Second, "100.0% [==============================] 0.0/0.0 MB  0.0 MB/s  ETA 0s"},
	}
	for _, tt := range tests {
		if got := renderBar(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("renderBar(%d, %d, %v)\n got %q\nwant %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestProgressRedraws(t *testing.T) {
	out := &syncBuffer{mu: make(chan struct{}, 1)}
	var read atomic.Int64
	p := NewProgress(out, 100, &read, nil)
	p.Start()
	read.Store(50)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), " 50.0%") {
		if time.Now().After(deadline) {
			t.Fatalf("no redraw at 50%%: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	read.Store(100)
	p.Stop()
	p.Stop() // idempotent
	s := out.String()
	last := s[strings.LastIndex(s, "\r"):]
	if !strings.HasPrefix(s, "\r") || strings.Count(s, "\n") != 1 ||
		!strings.HasPrefix(last, "\r100.0% [") || !strings.HasSuffix(last, "ETA 0s\x1b[K\n") {
		t.Errorf("progress output %q", s)
	}
}
