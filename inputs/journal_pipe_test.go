package inputs

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
)

// TestJournalSendsWhatIsAtHand: every line read is sent while journalctl
// still runs, however the entries fall into batches.
func TestJournalSendsWhatIsAtHand(t *testing.T) {
	for _, n := range []int{1, 5, batchLines - 1, batchLines, batchLines + 1, 2*batchLines + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var in strings.Builder
			for i := range n {
				in.WriteString(exportEntry("__CURSOR", fmt.Sprint("c", i), "_PID", "1", "SYSLOG_IDENTIFIER", "a", "MESSAGE", fmt.Sprint("line ", i)))
			}
			r, w := io.Pipe()
			s := NewJournal(JournalConfig{Input: "j"}, nil)
			out := make(chan *event.LineBatch, 64)
			done := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { done <- s.pump(ctx, r, out) }()
			go w.Write([]byte(in.String()))
			got := 0
			for got < n {
				b := <-out
				got += b.Len()
				b.Release()
			}
			w.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestJournalSkippedEntriesLast: lines before entries logsift skips (its
// own forwarded entries) are sent although no line follows them.
func TestJournalSkippedEntriesLast(t *testing.T) {
	in := exportEntry("__CURSOR", "c1", "_PID", "1", "SYSLOG_IDENTIFIER", "a", "MESSAGE", "real") +
		exportEntry("__CURSOR", "c2", "_PID", "2", "SYSLOG_IDENTIFIER", "a", "LOGSIFT_OUTPUT", "o", "MESSAGE", "ours")
	r, w := io.Pipe()
	s := NewJournal(JournalConfig{Input: "j"}, nil)
	out := make(chan *event.LineBatch, 4)
	go s.pump(context.Background(), r, out)
	go w.Write([]byte(in))
	var b *event.LineBatch
	select {
	case b = <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("the line before the skipped entry was not sent")
	}
	if got := string(b.Line(0)); got != "real\n" {
		t.Errorf("line %q", got)
	}
	w.Close()
}

// TestJournalIdleStreamsDropped: a writer's stream idle for StreamIdle and
// written out is dropped when a new writer appears; one with lines not yet
// acknowledged is kept.
func TestJournalIdleStreamsDropped(t *testing.T) {
	s := NewJournal(JournalConfig{Input: "j"}, nil)
	out := make(chan *event.LineBatch, 16)
	in := exportEntry("__CURSOR", "c1", "_PID", "1", "SYSLOG_IDENTIFIER", "cron", "MESSAGE", "done") +
		exportEntry("__CURSOR", "c2", "_PID", "2", "SYSLOG_IDENTIFIER", "web", "MESSAGE", "busy")
	if err := s.pump(context.Background(), strings.NewReader(in), out); err != nil {
		t.Fatal(err)
	}
	s.Acknowledge(event.Ack{Path: "/cron[1]", Offset: 5})
	for _, st := range s.streams {
		st.seen = time.Now().Add(-StreamIdle - time.Second)
	}
	s.swept = time.Time{}
	next := exportEntry("__CURSOR", "c3", "_PID", "3", "SYSLOG_IDENTIFIER", "cron", "MESSAGE", "again")
	if err := s.pump(context.Background(), strings.NewReader(next), out); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.byPath["/cron[1]"]; ok {
		t.Error("the finished, idle stream was kept")
	}
	if _, ok := s.byPath["/web[2]"]; !ok {
		t.Error("the stream with unacknowledged lines was dropped")
	}
	if _, ok := s.byPath["/cron[3]"]; !ok {
		t.Error("the new stream is missing")
	}
}
