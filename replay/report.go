package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people: totals, a table of the rules and
// the sample events of every rule that suppressed something.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "replayed %s: %s, %s, %s\n", count(len(r.Files), "file"),
		count(r.Lines, "line"), count(r.Bytes, "byte"), count(r.Events, "event"))
	fmt.Fprintf(bw, "suppressed: %s, %s (%.1f%%), %s (%.1f%%)\n",
		count(r.EventsSuppressed, "event"), count(r.LinesSuppressed, "line"), r.LinesSuppressedPercent,
		count(r.BytesSuppressed, "byte"), r.BytesSuppressedPercent)
	if r.Truncated > 0 {
		fmt.Fprintf(bw, "events cut by multiline max_lines/max_bytes: %d\n", r.Truncated)
	}
	if len(r.Rules) == 0 {
		fmt.Fprintln(bw, "\nno rules")
		return bw.Flush()
	}
	fmt.Fprintln(bw)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tEVENTS\tLINES\tBYTES\tMATCHED\tUNPAIRED\tSAMPLED")
	for _, rr := range r.Rules {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", rr.Name, rr.Events, rr.Lines, rr.Bytes, rr.Matched, rr.Unpaired, rr.Sampled)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, rr := range r.Rules {
		if len(rr.Samples) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s: %d of %s\n", rr.Name, len(rr.Samples), count(rr.Events, "suppressed event"))
		for _, s := range rr.Samples {
			fmt.Fprintf(bw, "  %s:%d (%s)\n", s.Path, s.Line, count(s.Lines, "line"))
			text := strings.TrimSuffix(s.Text, "\n")
			for _, line := range strings.Split(text, "\n") {
				fmt.Fprintf(bw, "    | %s\n", line)
			}
			if s.Truncated {
				fmt.Fprintf(bw, "    | [… cut at %d bytes]\n", MaxSampleBytes)
			}
		}
	}
	return bw.Flush()
}

func count[N int | uint64](n N, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
