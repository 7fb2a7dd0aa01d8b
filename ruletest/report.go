package ruletest

import (
	"fmt"
	"io"
	"strings"
)

// Coverage tracks which rules the cases of one or more files exercised: a
// rule is exercised when it matched at least one event of some case.
type Coverage struct {
	rules     []string // in first-seen order
	exercised map[string]bool
}

// Add records the rules of a file and the results of its cases.
func (c *Coverage) Add(f *File, results []Result) {
	if c.exercised == nil {
		c.exercised = make(map[string]bool)
	}
	for _, r := range f.Config.Rules {
		if _, seen := c.exercised[r.Name]; !seen {
			c.rules = append(c.rules, r.Name)
			c.exercised[r.Name] = false
		}
	}
	for _, res := range results {
		for name := range res.Matched {
			c.exercised[name] = true
		}
	}
}

// Missing lists the rules no case exercised, in the order they were seen.
func (c *Coverage) Missing() []string {
	var out []string
	for _, name := range c.rules {
		if !c.exercised[name] {
			out = append(out, name)
		}
	}
	return out
}

// String renders the coverage line: "coverage: 2/3 rules exercised; not
// exercised: gunicorn-ws-close".
func (c *Coverage) String() string {
	missing := c.Missing()
	s := fmt.Sprintf("coverage: %d/%d rules exercised", len(c.rules)-len(missing), len(c.rules))
	if len(missing) > 0 {
		s += "; not exercised: " + strings.Join(missing, ", ")
	}
	return s
}

// RunFiles loads and runs every test file, writing a report in the style
// of `promtool test rules` to w: "Unit Testing: FILE", then "  SUCCESS" or
// "  FAILED:" with the details of every failing case, and a coverage line
// at the end. It reports whether every case of every file passed.
func RunFiles(w io.Writer, paths []string) bool {
	ok := true
	var cov Coverage
	for i, path := range paths {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Unit Testing: %s\n", path)
		f, err := Load(path)
		if err != nil {
			ok = false
			fmt.Fprintln(w, "  FAILED:")
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
			continue
		}
		results := f.Run()
		cov.Add(f, results)
		var failed []*Result
		for i := range results {
			if !results[i].Pass() {
				failed = append(failed, &results[i])
			}
		}
		if len(failed) == 0 {
			fmt.Fprintln(w, "  SUCCESS")
			continue
		}
		ok = false
		fmt.Fprintln(w, "  FAILED:")
		for _, r := range failed {
			writeFailure(w, r)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, cov.String())
	return ok
}

// writeFailure explains one failing case: the diff of the forwarded text,
// the suppressed counts that differ, and how every event was settled.
func writeFailure(w io.Writer, r *Result) {
	fmt.Fprintf(w, "    test %q (%s):\n", r.Case.Name, r.Case.Pos)
	if !r.ForwardedOK() {
		fmt.Fprintln(w, "      forwarded text differs:")
		d := unifiedDiff("expected", "got", r.Case.Forwarded, r.Forwarded)
		for _, line := range strings.SplitAfter(strings.TrimSuffix(d, "\n"), "\n") {
			fmt.Fprintf(w, "        %s", line)
		}
		fmt.Fprintln(w)
	}
	for _, m := range r.SuppressedMismatches() {
		fmt.Fprintf(w, "      suppressed by %s: expected %s, got %d\n", m.Rule, plural(m.Expected, "event"), m.Got)
	}
	fmt.Fprintln(w, "      events:")
	if len(r.Events) == 0 {
		fmt.Fprintln(w, "        (no input)")
	}
	heads := make([]string, len(r.Events))
	width := 0
	for i, e := range r.Events {
		heads[i] = fmt.Sprintf("event %d (%s): %s", i+1, plural(e.Lines, "line"), e.Explain())
		width = max(width, len(heads[i]))
	}
	for i, e := range r.Events {
		fmt.Fprintf(w, "        %-*s  | %s\n", width, heads[i], visible(clip(e.First, 60)))
	}
}

// clip shortens s to about n bytes (on a rune boundary) with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
