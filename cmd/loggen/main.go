// Command loggen writes a deterministic, realistic Flask/Werkzeug server log
// and the exact output an ideal logsift filter produces for it.
//
//	loggen -lines 1000000 -seed 1 -style werkzeug -out X.log -expected X.expected.log
//
// It prints the statistics of the generated log on stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/logsift/logsift/loggen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "loggen:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks errors in the command line (exit status 2).
type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loggen.Config
	fs.IntVar(&cfg.Lines, "lines", 1_000_000, "approximate number of log lines (stops at the next event boundary)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "pseudo-random seed; the same flags always produce the same bytes")
	fs.StringVar(&cfg.Format, "format", loggen.FormatText, "record format: "+strings.Join(loggen.Formats(), ", "))
	fs.StringVar(&cfg.Style, "style", loggen.StyleWerkzeug, "server style: "+strings.Join(loggen.Styles(), ", "))
	fs.Float64Var(&cfg.FalseShare, "false-share", loggen.DefaultFalseShare, "share of events that are false-500 blocks (negative: none)")
	out := fs.String("out", "", "log file to write (required)")
	expected := fs.String("expected", "", "file for the expected filter output (required)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loggen -out FILE -expected FILE [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %v", fs.Args())}
	}
	if *out == "" || *expected == "" {
		fs.Usage()
		return usageError{errors.New("-out and -expected are required")}
	}
	if cfg.FalseShare == 0 {
		cfg.FalseShare = -1 // an explicit 0 means none, not the default
	}

	stats, err := generate(cfg, *out, *expected)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lines=%d events=%d false_events=%d suppressed_lines=%d expected_lines=%d\n",
		stats.Lines, stats.Events, stats.FalseEvents, stats.SuppressedLines, stats.ExpectedLines())
	return nil
}

func generate(cfg loggen.Config, outPath, expPath string) (_ loggen.Stats, err error) {
	logf, err := os.Create(outPath)
	if err != nil {
		return loggen.Stats{}, err
	}
	defer closeInto(logf, &err)
	expf, err := os.Create(expPath)
	if err != nil {
		return loggen.Stats{}, err
	}
	defer closeInto(expf, &err)
	return loggen.Generate(cfg, logf, expf)
}

// closeInto closes f and reports a close error unless an earlier one is
// already being returned: a failed close can mean lost writes.
func closeInto(f *os.File, err *error) {
	if cerr := f.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
