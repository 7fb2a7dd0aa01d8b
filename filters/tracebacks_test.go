package filters

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
)

var update = flag.Bool("update", false, "rewrite the golden .events files")

// TestTracebackShapes assembles the traceback shapes of Python 3.11-3.14
// (caret lines, exception groups, nested groups with chains, add_note()
// notes, chained exceptions, SyntaxError with and without its "Traceback"
// line) and compares the events with testdata/tracebacks/*.events: each
// traceback is one event, and the record after it is not part of it.
func TestTracebackShapes(t *testing.T) {
	logs, err := filepath.Glob("testdata/tracebacks/*.log")
	if err != nil || len(logs) == 0 {
		t.Fatalf("no traceback samples: %v", err)
	}
	for _, path := range logs {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".log"), func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			p := NewProcessor(defaultInput(), werkzeugRules(t))
			p.SetTrace(func(d Decision) {
				fmt.Fprintf(&got, "=== event: %d lines, %s\n%s", d.Lines, d.Verdict, d.Raw)
			})
			b := &event.LineBatch{Path: path}
			for _, l := range bytes.SplitAfter(in, []byte("\n")) {
				if len(l) > 0 {
					b.Append(l)
				}
			}
			b.EndOffset = int64(len(in))
			out := &event.OutBatch{}
			p.Process(b, out, time.Unix(1_800_000_000, 0))
			p.Close(out)
			golden := strings.TrimSuffix(path, ".log") + ".events"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("events differ from %s (run with -update to see):\n%s", golden, firstDiff(got.Bytes(), want))
			}
		})
	}
}
