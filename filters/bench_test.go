package filters

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/loggen"
	"github.com/logsift/logsift/rules"
)

// benchLog is a generated Werkzeug log with its expected output.
func benchLog(b *testing.B, lines int) (log, want []byte) {
	b.Helper()
	var l, w bytes.Buffer
	if _, err := loggen.Generate(loggen.Config{Lines: lines, Seed: 1}, &l, &w); err != nil {
		b.Fatal(err)
	}
	return l.Bytes(), w.Bytes()
}

// splitBatches cuts log into LineBatches of about 256 KiB.
func splitBatches(log []byte) []*event.LineBatch { return cutBatches(log, 256<<10) }

// cutBatches cuts log into LineBatches of about size bytes.
func cutBatches(log []byte, size int) []*event.LineBatch {
	var out []*event.LineBatch
	var off int64
	for len(log) > 0 {
		b := &event.LineBatch{Path: "-"}
		for len(log) > 0 && len(b.Data) < size {
			n := bytes.IndexByte(log, '\n') + 1
			if n == 0 {
				n = len(log)
			}
			b.Append(log[:n])
			log = log[n:]
			off += int64(n)
		}
		b.EndOffset = off
		out = append(out, b)
	}
	return out
}

func benchProcessor(b *testing.B, rs []*rules.Rule, log, want []byte) {
	benchBatches(b, rs, splitBatches(log), log, want, false)
}

// benchBatches processes batches, which hold log, b.N times with a new
// processor each time. marked: the batches carry the marks of the
// processor's Marker, made outside the timer, as the daemon makes them on
// another goroutine.
func benchBatches(b *testing.B, rs []*rules.Rule, batches []*event.LineBatch, log, want []byte, marked bool) {
	lines := bytes.Count(log, []byte("\n"))
	out := &event.OutBatch{}
	now := time.Unix(0, 0)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if marked {
			b.StopTimer()
		}
		p := NewProcessor(defaultInput(), rs)
		if marked {
			m := p.Marker()
			for _, lb := range batches {
				m.Mark(lb)
			}
			b.StartTimer()
		}
		var fwd int
		count := func(data []byte, s event.Segment) {
			if s.Verdict == event.Forwarded {
				fwd += len(data)
			}
		}
		for _, lb := range batches {
			p.Process(lb, out, now)
			out.Each(count)
			out.Reset()
		}
		p.Close(out)
		out.Each(count)
		out.Reset()
		if want != nil && fwd != len(want) {
			b.Fatalf("forwarded %d bytes, want %d", fwd, len(want))
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkProcessorWerkzeug runs the built-in pack over a generated log.
func BenchmarkProcessorWerkzeug(b *testing.B) {
	log, want := benchLog(b, 200_000)
	benchProcessor(b, rules.Default().Rules, log, want)
}

// BenchmarkProcessorUserRegex runs a user rule written as a bare regex (no
// contains:) in front of the pack: the literal prefilter must keep it cheap.
func BenchmarkProcessorUserRegex(b *testing.B) {
	log, want := benchLog(b, 200_000)
	user := &rules.Rule{Name: "user-regex", Match: mustRegexMatcher(b, `(?m)^TimeoutError: upstream timed out after \d+s$`)}
	benchProcessor(b, append([]*rules.Rule{user}, rules.Default().Rules...), log, want)
}

func mustRegexMatcher(b *testing.B, re string) rules.Matcher {
	b.Helper()
	cfg, err := rules.Parse("bench.yaml", []byte("use: []\nrules:\n  - name: r\n    match: {regex: '"+re+"'}\n"))
	if err != nil {
		b.Fatal(err)
	}
	return cfg.Rules[0].Match
}

// BenchmarkRunsPlainLines measures the fast path: b.N lines that no rule
// and no multiline state cares about (access lines, app log lines), in
// batches of about 256 KiB as the inputs make them. Run with -benchmem:
// allocs/op is allocations per plain line.
func BenchmarkRunsPlainLines(b *testing.B) {
	var log bytes.Buffer
	for i := 0; log.Len() < 250<<10; i++ {
		fmt.Fprintf(&log, "127.0.0.1 - - [25/Nov/2026 21:44:%02d] \"GET /items/%d HTTP/1.1\" 200 -\n", i%60, i)
		if i%7 == 0 {
			fmt.Fprintf(&log, "INFO:app:cache refreshed in %d ms\n", i)
		}
	}
	batch := splitBatches(log.Bytes())[0]
	p := NewProcessor(defaultInput(), rules.Default().Rules)
	out := &event.OutBatch{}
	now := time.Unix(0, 0)
	p.Process(batch, out, now) // grows the buffers once
	out.Reset()
	if st := p.Stats(); st.RunLines < st.Lines-2 {
		// The first line settles the source's format (auto); the last
		// may head a traceback in the next batch.
		b.Fatalf("%d of %d lines went in runs, want all but the first and the last", st.RunLines, st.Lines)
	}
	b.SetBytes(int64(len(batch.Data) / batch.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch.Len() {
		p.Process(batch, out, now)
		out.Reset()
	}
}

// BenchmarkAssemblePlainLine measures assembly of lines that stand alone.
func BenchmarkAssemblePlainLine(b *testing.B) {
	var a arena
	asm := newLineAssembler(python(), nil, &a, func(s *span) { a.release(s.end) })
	line := []byte(`127.0.0.1 - - [25/Nov/2026 21:44:27] "GET /items/34 HTTP/1.1" 200 -` + "\n")
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for range b.N {
		asm.push(line, 0, now)
	}
}

// BenchmarkAssembleTraceback measures assembly of a whole false-500 block.
func BenchmarkAssembleTraceback(b *testing.B) {
	var a arena
	asm := newLineAssembler(python(), nil, &a, func(s *span) { a.release(s.end) })
	lines := bytes.SplitAfter([]byte(wzBlock), []byte("\n"))
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for range b.N {
		for _, l := range lines {
			if len(l) > 0 {
				asm.push(l, 0, now)
			}
		}
	}
}

// BenchmarkPrefix measures prefix recognition per line.
func BenchmarkPrefix(b *testing.B) {
	for _, tc := range []struct{ kind, line string }{
		{"auto-plain", `127.0.0.1 - - [25/Nov/2026 21:44:27] "GET /items/34 HTTP/1.1" 200 -`},
		{"auto-docker", `web-1  | 127.0.0.1 - - [25/Nov/2026 21:44:27] "GET /items/34 HTTP/1.1" 200 -`},
		{"auto-journald", `Nov 25 21:44:27 corpus-host app[4891]: 127.0.0.1 - - "GET /items/34 HTTP/1.1" 200 -`},
	} {
		b.Run(tc.kind, func(b *testing.B) {
			p := newPrefixer(rules.Prefix{Kind: "auto"})
			line := []byte(tc.line)
			b.ReportAllocs()
			for range b.N {
				p.prefixLen(line)
			}
		})
	}
}

// BenchmarkProcessorCorpus runs the built-in packs over real captures (a,
// e, f and k of testdata/corpus, as make bench's corpus log strings them
// together) in 64 KiB batches marked as the daemon marks them: the cost per
// traceback event, where BenchmarkProcessorWerkzeug is mostly plain lines.
// Marking is not timed; it runs on its own goroutine in the daemon.
func BenchmarkProcessorCorpus(b *testing.B) {
	var log, want []byte
	for _, name := range corpusBenchCaptures {
		log = append(log, readCorpus(b, name+".log")...)
		want = append(want, readCorpus(b, name+".expected.log")...)
	}
	benchBatches(b, rules.Default().Rules, cutBatches(log, 64<<10), log, want, true)
}

// corpusBenchCaptures are the captures make bench strings together into
// its corpus log.
var corpusBenchCaptures = []string{"a_werkzeug_threading_plain", "e_eventlet_wsgi_threading", "f_gunicorn_gthread_threading", "k_py313_plain"}

func readCorpus(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkMarkCorpus measures the marker over the captures of
// BenchmarkProcessorCorpus.
func BenchmarkMarkCorpus(b *testing.B) {
	var log []byte
	for _, name := range corpusBenchCaptures {
		log = append(log, readCorpus(b, name+".log")...)
	}
	batches := cutBatches(log, 64<<10)
	m := NewProcessor(defaultInput(), rules.Default().Rules).Marker()
	b.SetBytes(int64(len(log)))
	b.ResetTimer()
	for range b.N {
		for _, lb := range batches {
			m.Mark(lb)
		}
	}
}
