package daemon

import (
	"fmt"
	"time"

	"github.com/logsift/logsift/filters"
)

// summarizer writes, every `summary.every`, one line per rule that
// suppressed something in the period:
//
//	logsift: suppressed 17 events (rule werkzeug-ws-close) in the last 1m0s
//
// With more than one input the input is named too:
//
//	logsift: suppressed 17 events (rule werkzeug-ws-close, input webapp) in the last 1m0s
//
// The lines go to the forwarded outputs, so whoever reads the filtered log
// sees that something was removed. The format is stable.
type summarizer struct {
	every     time.Duration
	input     string // "" when there is a single input
	next      time.Time
	last      time.Time
	suppliers []uint64 // events suppressed per rule at the last summary
}

func newSummarizer(every time.Duration, input string, now time.Time) *summarizer {
	if every <= 0 {
		return nil
	}
	return &summarizer{every: every, input: input, next: now.Add(every), last: now}
}

// reset forgets per-rule counts, after the rule set changed.
func (s *summarizer) reset(st *filters.Stats) {
	s.suppliers = s.suppliers[:0]
	for _, r := range st.Rules {
		s.suppliers = append(s.suppliers, r.EventsSuppressed)
	}
}

// appendDue appends the summary lines to dst when a period has ended.
func (s *summarizer) appendDue(dst []byte, now time.Time, st *filters.Stats, names []string) []byte {
	if s == nil || now.Before(s.next) {
		return dst
	}
	for len(s.suppliers) < len(st.Rules) {
		s.suppliers = append(s.suppliers, 0)
	}
	// Ticks arrive a little late: "in the last 5s", not 5.003s.
	period := now.Sub(s.last).Round(time.Millisecond)
	if period >= time.Second {
		period = period.Round(time.Second)
	}
	for i, r := range st.Rules {
		n := r.EventsSuppressed - s.suppliers[i]
		s.suppliers[i] = r.EventsSuppressed
		if n == 0 {
			continue
		}
		noun := "events"
		if n == 1 {
			noun = "event"
		}
		where := "rule " + names[i]
		if s.input != "" {
			where += ", input " + s.input
		}
		dst = fmt.Appendf(dst, "logsift: suppressed %d %s (%s) in the last %s\n", n, noun, where, period)
	}
	s.last = now
	for !s.next.After(now) {
		s.next = s.next.Add(s.every)
	}
	return dst
}
