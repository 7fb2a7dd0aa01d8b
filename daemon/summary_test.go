package daemon

import (
	"testing"
	"time"

	"github.com/logsift/logsift/filters"
)

func TestSummarizer(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := &filters.Stats{Rules: make([]filters.RuleStats, 2)}
	names := []string{"werkzeug-ws-close", "other"}
	s := newSummarizer(time.Minute, "", t0)

	st.Rules[0].EventsSuppressed = 17
	if got := s.appendDue(nil, t0.Add(59*time.Second), st, names); len(got) != 0 {
		t.Fatalf("summary before the period ended: %q", got)
	}
	got := string(s.appendDue(nil, t0.Add(time.Minute), st, names))
	if want := "logsift: suppressed 17 events (rule werkzeug-ws-close) in the last 1m0s\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Nothing new: no line. Then one event of the other rule.
	if got := s.appendDue(nil, t0.Add(2*time.Minute), st, names); len(got) != 0 {
		t.Fatalf("summary without suppressions: %q", got)
	}
	st.Rules[1].EventsSuppressed = 1
	got = string(s.appendDue(nil, t0.Add(3*time.Minute), st, names))
	if want := "logsift: suppressed 1 event (rule other) in the last 1m0s\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	multi := newSummarizer(30*time.Second, "webapp", t0)
	st.Rules[0].EventsSuppressed = 20
	got = string(multi.appendDue(nil, t0.Add(31*time.Second), st, names))
	if want := "logsift: suppressed 20 events (rule werkzeug-ws-close, input webapp) in the last 31s\n" +
		"logsift: suppressed 1 event (rule other, input webapp) in the last 31s\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if newSummarizer(0, "", t0) != nil {
		t.Error("summary.every 0 must turn summaries off")
	}
}
