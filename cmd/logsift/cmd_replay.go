package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/logsift/logsift/record"
	"github.com/logsift/logsift/replay"
	"github.com/logsift/logsift/rules"
)

const replaySynopsis = `logsift replay [-config FILE] [-format auto|text|json|docker-json|cri] [-show suppressed|forwarded|none] [-json] [-samples N] LOG...

Runs log files (plain or gzip-compressed) through the rules offline and
reports per-rule counts (suppressed events, lines, bytes), the share of
lines and bytes suppressed, and up to -samples suppressed events per rule.
Each file is its own source; the first input of -config supplies the
record format, prefix, suffix and multiline settings, and -format overrides
its format. Without -config: the default packs, format auto.

With -show suppressed or forwarded, those events are written to stdout,
byte for byte, and the report goes to stderr. On a terminal, stderr shows
a progress bar.

-json prints the report as one JSON object:
  files[]: {path, compressed, disk_bytes, lines, bytes}
  lines, bytes, events                 totals read (bytes uncompressed)
  events_suppressed                    matched events suppressed
  lines_suppressed, bytes_suppressed   every line/byte removed, pair partners included
  lines_suppressed_percent, bytes_suppressed_percent
  events_truncated                     events cut by multiline max_lines/max_bytes
  rules[]: {name, pack, events, lines, bytes, matched, sampled, unpaired,
            samples[]: {path, line, lines, text, truncated}}`

func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", replaySynopsis, stderr)
	configPath := fs.String("config", "", "configuration file whose rules and first input's prefix/multiline apply (default: the default packs)")
	showFlag := fs.String("show", "none", "events to print to stdout while replaying: suppressed, forwarded or none")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	samples := fs.Int("samples", replay.DefaultSamples, "sample events to keep per rule")
	format := fs.String("format", "", "record format of the logs: "+strings.Join(record.Formats(), ", ")+" (default: the input's format, auto)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	show, err := replay.ParseShow(*showFlag)
	if err != nil {
		fmt.Fprintf(stderr, "logsift replay: %v\n", err)
		return exitUsage
	}
	if *samples < 0 {
		fmt.Fprintf(stderr, "logsift replay: -samples must not be negative\n")
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "logsift replay: no log files given")
		fs.Usage()
		return exitUsage
	}

	cfg := rules.Default()
	if *configPath != "" {
		if cfg, err = rules.Load(*configPath); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
	}
	in := cfg.Inputs[0]
	if *format != "" {
		if !slices.Contains(record.Formats(), *format) {
			fmt.Fprintf(stderr, "logsift replay: -format %q: want one of %s\n", *format, strings.Join(record.Formats(), ", "))
			return exitUsage
		}
		in.Format = *format
	}
	var total int64
	for _, path := range fs.Args() {
		st, err := os.Stat(path)
		if err != nil {
			fmt.Fprintf(stderr, "logsift replay: %v\n", err)
			return exitFailure
		}
		total += st.Size()
	}

	var read atomic.Int64
	var bar *replay.Progress
	if f, ok := stderr.(*os.File); ok && replay.IsTerminal(f) {
		bar = replay.NewProgress(stderr, total, &read, nil)
		bar.Start()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := replay.Run(ctx, fs.Args(), replay.Options{
		Input:   in,
		Rules:   cfg.Rules,
		Samples: *samples,
		Show:    show,
		Events:  stdout,
		Read:    &read,
	})
	if bar != nil {
		bar.Stop()
	}
	if err != nil {
		fmt.Fprintf(stderr, "logsift %v\n", err)
		return exitFailure
	}

	// The report must not mix with events written to stdout.
	out := stdout
	if show != replay.ShowNone {
		out = stderr
	}
	if *asJSON {
		err = report.WriteJSON(out)
	} else {
		err = report.WriteText(out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "logsift replay: %v\n", err)
		return exitFailure
	}
	return exitOK
}
