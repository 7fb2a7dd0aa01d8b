package ruletest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/filters"
	"github.com/logsift/logsift/rules"
)

// Result is the outcome of one case.
type Result struct {
	Case      *Case
	Forwarded string
	// Suppressed counts the matched events each rule suppressed (rules
	// with none are left out).
	Suppressed map[string]int
	// Matched counts every event each rule matched, whatever came of it
	// (kept, sampled, unpaired): what coverage is based on.
	Matched map[string]int
	Events  []Event // every event, in input order
}

// Event is how one event of a case's input was settled.
type Event struct {
	Lines    int
	First    string // the event's first line, without its newline
	Verdict  event.Verdict
	Rule     string // the rule that matched it or claimed it as a partner
	Partner  bool
	Sampled  bool
	Unpaired bool
	Kept     bool // matched a rule with action keep
}

// Explain says in words what happened to the event, as failure reports
// show it.
func (e Event) Explain() string {
	switch {
	case e.Partner && e.Verdict == event.Suppressed:
		return "suppressed as partner of " + e.Rule
	case e.Partner:
		return "forwarded as partner of " + e.Rule
	case e.Verdict == event.Suppressed:
		return "suppressed by " + e.Rule
	case e.Unpaired:
		return "forwarded (unpaired: " + e.Rule + ")"
	case e.Sampled:
		return "forwarded (sampled: " + e.Rule + ")"
	case e.Kept:
		return "forwarded (kept by " + e.Rule + ")"
	}
	return "forwarded (no rule)"
}

// Pass reports whether the result meets the case's expectations.
func (r *Result) Pass() bool {
	return r.ForwardedOK() && len(r.SuppressedMismatches()) == 0
}

// ForwardedOK reports whether the forwarded text is as expected (always
// true when the case does not check it).
func (r *Result) ForwardedOK() bool {
	return !r.Case.CheckForwarded || r.Forwarded == r.Case.Forwarded
}

// Mismatch is a rule whose suppressed count differs from the expected one.
type Mismatch struct {
	Rule          string
	Expected, Got int
}

// SuppressedMismatches lists the rules whose counts differ, by name.
func (r *Result) SuppressedMismatches() []Mismatch {
	names := slices.Sorted(maps.Keys(r.Case.Suppressed))
	for name := range r.Suppressed {
		if _, listed := r.Case.Suppressed[name]; !listed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []Mismatch
	for _, name := range names {
		if want, got := r.Case.Suppressed[name], r.Suppressed[name]; want != got {
			out = append(out, Mismatch{Rule: name, Expected: want, Got: got})
		}
	}
	return out
}

// caseTime stamps every line of a case: the input arrives at once, so pair
// max_wait never runs out and only `within` limits pairing.
var caseTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Run runs every case of f.
func (f *File) Run() []Result {
	out := make([]Result, len(f.Cases))
	for i := range f.Cases {
		out[i] = RunCase(f.Config.Inputs[0], f.Config.Rules, &f.Cases[i])
	}
	return out
}

// RunCase runs one case's input through rs with in's prefix and multiline
// settings, as one source read from start to end.
func RunCase(in rules.Input, rs []*rules.Rule, c *Case) Result {
	res := Result{Case: c, Suppressed: map[string]int{}, Matched: map[string]int{}}
	p := filters.NewProcessor(in, rs)
	keep := make(map[string]bool)
	for _, r := range rs {
		keep[r.Name] = r.Action == rules.Keep
	}
	p.SetTrace(func(d filters.Decision) {
		first, _, _ := strings.Cut(string(d.Raw), "\n")
		res.Events = append(res.Events, Event{
			Lines:    d.Lines,
			First:    strings.TrimSuffix(first, "\r"),
			Verdict:  d.Verdict,
			Rule:     d.Rule,
			Partner:  d.Partner,
			Sampled:  d.Sampled,
			Unpaired: d.Unpaired,
			Kept:     d.Rule != "" && !d.Partner && keep[d.Rule],
		})
	})

	var fwd strings.Builder
	out := &event.OutBatch{}
	collect := func() {
		out.Each(func(data []byte, s event.Segment) {
			if s.Verdict == event.Forwarded {
				fwd.Write(data)
			}
		})
		out.Reset()
	}
	b := &event.LineBatch{Input: in.Name, Path: "-"}
	rest := c.Input
	for len(rest) > 0 {
		n := strings.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		b.Append([]byte(rest[:n]))
		rest = rest[n:]
	}
	b.EndOffset = int64(len(c.Input))
	if b.Len() > 0 {
		p.Process(b, out, caseTime)
		collect()
	}
	p.Close(out)
	collect()

	res.Forwarded = fwd.String()
	for i, st := range p.Stats().Rules {
		name := rs[i].Name
		if st.EventsSuppressed > 0 {
			res.Suppressed[name] = int(st.EventsSuppressed)
		}
		if st.Matched > 0 {
			res.Matched[name] = int(st.Matched)
		}
	}
	return res
}

// plural renders "1 line", "2 lines".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
