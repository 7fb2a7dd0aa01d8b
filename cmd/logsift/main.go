// Command logsift filters known-harmless errors out of application logs as
// whole events, counts what it removed, and forwards everything else byte
// for byte.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logsift/logsift/daemon"
	"github.com/logsift/logsift/metrics"
	"github.com/logsift/logsift/notify"
	"github.com/logsift/logsift/outputs"
	"github.com/logsift/logsift/positions"
	"github.com/logsift/logsift/rules"
)

// Set with -ldflags "-X main.version=... -X main.revision=...".
var (
	version  = ""
	revision = ""
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `logsift filters known-harmless errors out of logs as whole events.

Usage:
  logsift                          stdin -> built-in rules -> stdout (pipeline stage)
  logsift run -config FILE         run the daemon described by FILE
  logsift -config FILE             same as run
  logsift check -config FILE       validate FILE; print every error as FILE:LINE:COL: message
  logsift exec -- COMMAND ARGS...  run COMMAND, filtering its stdout and stderr apart
  logsift test FILE...             run rule unit tests
  logsift replay [flags] LOG...    run logs through the rules offline and report
  logsift rules                    list the built-in rule packs
  logsift version                  print version information
  logsift help [COMMAND]           this overview, or one command's flags

Run 'logsift help COMMAND' (or 'logsift COMMAND -h') for a command's flags.
`

func main() {
	// Starting up (parsing rules, compiling regexps, registering
	// metrics) allocates a few MiB that stay: collecting on the way only
	// slows the start. tightenGC sets the working value once data flows.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// tightenGC sets the collector for work on data. logsift's steady state
// allocates little (batches are reused), so the heap is mostly data in
// flight: collecting at 25% growth instead of 100% keeps a 50 MiB line
// within 32 MiB RSS (48 at the default) at no measured cost in
// throughput. The change waits for the first collection, which happens
// at the start's 400: set at once, 25% of the start's few MiB would
// collect twice within the first milliseconds (3 ms of a 25 ms start),
// and by then the heap holds little but garbage. GOGC in the environment
// still decides.
func tightenGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	// Until then a soft memory limit bounds the heap, since a huge line
	// arriving first could otherwise grow it to the start's goal and
	// beyond before the cleanup below gets to run.
	ownLimit := os.Getenv("GOMEMLIMIT") == ""
	if ownLimit {
		debug.SetMemoryLimit(startMemoryLimit)
	}
	runtime.AddCleanup(new(gcSentinel), func(ownLimit bool) {
		debug.SetGCPercent(25)
		if ownLimit {
			debug.SetMemoryLimit(math.MaxInt64)
		}
	}, ownLimit)
}

// gcSentinel is allocated only to be collected: its cleanup marks the
// first collection after tightenGC. 16 bytes, so that the allocator does
// not pack it with other small objects (which would delay its cleanup
// until they are all garbage).
type gcSentinel struct{ _ [16]byte }

// startMemoryLimit is the Go memory limit until the first collection
// after tightenGC.
const startMemoryLimit = 16 << 20

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "run"
	named := len(args) > 0 && !strings.HasPrefix(args[0], "-")
	if named {
		cmd, args = args[0], args[1:]
	}
	if !named && len(args) == 1 && isHelp(args[0]) {
		// logsift -h: the overview of commands, which run's flags follow.
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	switch cmd {
	case "test", "replay":
		tightenGC()
	}
	switch cmd {
	case "run":
		return cmdRun(args, stdin, stdout, stderr)
	case "check":
		return cmdCheck(args, stdout, stderr)
	case "test":
		return cmdTest(args, stdout, stderr)
	case "replay":
		return cmdReplay(args, stdout, stderr)
	case "rules":
		return cmdRules(args, stdout, stderr)
	case "version":
		return cmdVersion(args, stdout, stderr)
	case "manpage":
		return cmdManpage(args, stdout, stderr)
	case "exec":
		return cmdExec(args, stdin, stdout, stderr)
	case "help":
		switch {
		case len(args) == 0:
			fmt.Fprint(stdout, usage)
			return exitOK
		case len(args) > 1:
			fmt.Fprintf(stderr, "logsift help: unexpected arguments: %s\n", strings.Join(args[1:], " "))
			return exitUsage
		case args[0] == "help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		if !isCommand(args[0]) {
			fmt.Fprintf(stderr, "logsift help: unknown command %q\n\n%s", args[0], usage)
			return exitUsage
		}
		// A command's own -h, on stdout: what was asked for.
		return run([]string{args[0], "-h"}, stdin, stdout, stdout)
	default:
		fmt.Fprintf(stderr, "logsift: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func isCommand(name string) bool {
	switch name {
	case "run", "check", "exec", "test", "replay", "rules", "version":
		return true
	}
	return false
}

// newFlagSet returns a flag set whose -h prints the command's usage and whose
// errors are usage errors.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n", synopsis)
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags > 0 {
			fmt.Fprintf(stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// noArgs rejects positional arguments a command does not take.
func noArgs(fs *flag.FlagSet, stderr io.Writer) (int, bool) {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "logsift %s: unexpected arguments: %s\n", fs.Name(), strings.Join(fs.Args(), " "))
		return exitUsage, false
	}
	return 0, true
}

// parse parses flags and returns the exit code to use when parsing ended the
// command (-h: 0, a bad flag: 2).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

type logFlags struct {
	format, level string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log.format", "text", "format of logsift's own logs on stderr: text or json")
	fs.StringVar(&l.level, "log.level", "info", "minimum level of logsift's own logs: debug, info, warn, error")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("-log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log.format: %q is not text or json", l.format)
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "logsift run [-config FILE] [-once]", stderr)
	configPath := fs.String("config", "", "configuration file (YAML); without it: stdin -> built-in rules -> stdout")
	once := fs.Bool("once", false, "read file inputs from their start to the end, then exit (batch mode)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file")
	shutdownTimeout := fs.Duration("shutdown.timeout", 10*time.Second, "on SIGTERM/SIGINT, longest wait for outputs to take the remaining events before exiting anyway (exit 1)")
	var lf logFlags
	lf.register(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "logsift run: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return exitUsage
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "logsift: %v\n", err)
		return exitUsage
	}

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "logsift: %v\n", err)
			return exitFailure
		}
		defer stop()
	}

	// The metrics are made beside the rules, on the other core: each takes
	// a millisecond or two of a start that a pipeline stage pays per run.
	reg := prometheus.NewRegistry()
	made := make(chan madeMetrics, 1)
	go func() {
		m, err := metrics.New(reg, metrics.ReadBuildInfo(version, revision))
		made <- madeMetrics{m, err}
	}()

	var cfg *rules.Config
	if *configPath == "" {
		cfg = rules.Default()
	} else {
		// Not the default as well: its packs would be compiled twice.
		if cfg, err = rules.Load(*configPath); err == nil {
			err = cfg.CheckRun()
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		for _, w := range cfg.Warnings() {
			logger.Warn(strings.TrimPrefix(w, cfg.File+": warning: "), "config", cfg.File)
		}
	}
	warnExpired(logger, cfg, time.Now())

	// A closed stdout must surface as EPIPE from write, not kill the
	// process, so held events on other outputs are still flushed.
	signal.Ignore(syscall.SIGPIPE)

	mm := <-made
	m := mm.m
	if mm.err != nil {
		logger.Error("metrics", "err", mm.err)
		return exitFailure
	}
	// The HTTP server starts first so /healthz answers and /readyz says
	// why logsift is not ready while outputs and inputs are being opened.
	var running atomic.Pointer[daemon.Daemon]
	ready := func() error {
		d := running.Load()
		if d == nil {
			return errors.New("starting: opening outputs")
		}
		if err := d.Ready(); err != nil {
			return err
		}
		// An input path whose directory does not exist is a typo: not
		// ready. A log not created yet is worth a note.
		if u, missing := d.Unmatched(); len(u) > 0 {
			msg := "no file matches " + strings.Join(u, "; ")
			if missing {
				return errors.New(msg)
			}
			return metrics.ReadyNote{Note: msg}
		}
		return nil
	}
	var srv *metrics.Server
	if cfg.Metrics.Listen != "" {
		srv, err = metrics.NewServer(cfg.Metrics.Listen, reg, ready, logger)
		if err != nil {
			logger.Error("start", "err", err)
			return exitFailure
		}
		go func() {
			if err := srv.Serve(); err != nil {
				logger.Error("metrics server", "err", err)
			}
		}()
	}

	var store *positions.Store
	if cfg.Positions.Path != "" {
		if store, err = positions.Open(cfg.Positions.Path, logger, time.Now); err != nil {
			logger.Error("start", "err", err)
			return exitFailure
		}
	}
	d, err := daemon.New(daemon.Options{
		Config:    cfg,
		Logger:    logger,
		Metrics:   m,
		Stdin:     stdin,
		Stdout:    stdout,
		Once:      *once,
		Positions: store,
	})
	if err != nil {
		logger.Error("start", "err", err)
		return exitFailure
	}
	running.Store(d)
	m.ReloadResult(true, time.Now())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notifier := notify.New(logger)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	// Positions are saved every second and once more after the pipeline
	// has drained, so a restart repeats at most the last second.
	saveCtx, stopSaving := context.WithCancel(context.Background())
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		if store != nil {
			store.Run(saveCtx, time.Second)
		}
	}()
	finishSaving := func() {
		stopSaving()
		<-saved
	}
	cur := startPipeline(d)
	go readyWhenOpen(ctx, d, notifier)
	go notifier.RunWatchdog(ctx, func() bool { return !running.Load().Stalled(notifier.WatchdogInterval()) })
	current := cfg
	opts := daemon.Options{Logger: logger, Metrics: m, Stdin: stdin, Stdout: stdout, Once: *once, Positions: store}

	var runErr error
	var shutdownDeadline <-chan time.Time
loop:
	for {
		select {
		case runErr = <-cur.done:
			break loop
		case <-shutdownDeadline:
			// An output that never takes the rest must not keep the process
			// alive: what was not written is read again after a restart.
			logger.Error("shutdown timed out waiting for outputs; unacknowledged events will be read again at the next start", "timeout", shutdownTimeout.String())
			finishSaving()
			return exitFailure
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				if next := reload(logger, notifier, cur, current, opts, *configPath, *shutdownTimeout); next != nil {
					cur, current = next.pipeline, next.config
					running.Store(cur.d)
				}
			case syscall.SIGUSR1:
				logger.Info("reopening output files")
				cur.d.ReopenOutputs()
			default:
				logger.Info("shutting down", "signal", sig.String())
				notifier.Stopping()
				cancel()
				cur.cancel()
				if shutdownDeadline == nil {
					shutdownDeadline = time.After(*shutdownTimeout)
				}
			}
		}
	}
	finishSaving()
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		scancel()
	}
	if *once {
		for _, r := range cur.d.Report() {
			logger.Info("input done", "input", r.Input, "lines_read", r.Lines, "lines_forwarded", r.LinesForwarded)
			for _, rr := range r.Rules {
				logger.Info("rule", "input", r.Input, "rule", rr.Rule, "events_suppressed", rr.EventsSuppressed, "lines_suppressed", rr.LinesSuppressed, "unpaired", rr.Unpaired)
			}
		}
	}
	if runErr != nil {
		if errors.Is(runErr, outputs.ErrClosedPipe) {
			return exitOK
		}
		logger.Error("run", "err", runErr)
		return exitFailure
	}
	return exitOK
}

// readyWhenOpen tells systemd the daemon is ready once every input is open.
func readyWhenOpen(ctx context.Context, d *daemon.Daemon, n *notify.Notifier) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if d.Ready() == nil {
			n.Ready()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func warnExpired(logger *slog.Logger, cfg *rules.Config, now time.Time) {
	for _, r := range cfg.Rules {
		if !r.Expires.IsZero() && now.After(r.Expires) {
			logger.Warn("rule has expired: check whether it is still needed", "rule", r.Name, "expires", r.Expires.Format(time.DateOnly), "at", r.Pos)
		}
	}
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "logsift check [-strict] [-v] -config FILE", stderr)
	configPath := fs.String("config", "", "configuration file to validate")
	strict := fs.Bool("strict", false, "exit 1 on warnings too (inputs that match no file, expired rules)")
	verbose := fs.Bool("v", false, "print every input's globs as resolved (relative paths are taken from the file's directory)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	rest := fs.Args()
	if *configPath == "" && len(rest) > 0 {
		*configPath, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "logsift check: unexpected arguments: %s (one configuration file at a time)\n", strings.Join(rest, " "))
		return exitUsage
	}
	if *configPath == "" {
		fs.Usage()
		return exitUsage
	}
	cfg, err := rules.Load(*configPath)
	if err == nil {
		err = cfg.CheckRun()
	}
	if err != nil {
		fmt.Fprintln(stdout, err)
		return exitFailure
	}
	warnings := cfg.Warnings()
	now := time.Now()
	for _, r := range cfg.Rules {
		if !r.Expires.IsZero() && now.After(r.Expires) {
			warnings = append(warnings, fmt.Sprintf("%s: warning: rule %q expired on %s", r.Pos, r.Name, r.Expires.Format(time.DateOnly)))
		}
	}
	for _, w := range warnings {
		fmt.Fprintln(stdout, w)
	}
	if *verbose {
		for _, in := range cfg.Inputs {
			if in.Type == rules.InputJournald {
				fmt.Fprintf(stdout, "input %s: %s (journalctl %s)\n", in.Name, in.Journal, strings.Join(in.Journal.JournalctlArgs(), " "))
				continue
			}
			fmt.Fprintf(stdout, "input %s: %s\n", in.Name, strings.Join(in.Paths, " "))
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%d inputs, %d rules, %d outputs)\n", *configPath, len(cfg.Inputs), len(cfg.Rules), len(cfg.Outputs))
	if *strict && len(warnings) > 0 {
		return exitFailure
	}
	return exitOK
}

func cmdRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", "logsift rules [-config FILE]", stderr)
	configPath := fs.String("config", "", "also show which pack rules FILE uses, disables and overrides, and its own rules")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if code, ok := noArgs(fs, stderr); !ok {
		return code
	}
	if *configPath != "" {
		cfg, err := rules.Load(*configPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "rules of %s, in evaluation order:\n", *configPath)
		for _, r := range cfg.Rules {
			from := "this file"
			if r.Pack != "" {
				from = "pack " + r.Pack
			}
			fmt.Fprintf(stdout, "  %s (%s)\n", r.Name, from)
			for _, o := range r.Overridden {
				fmt.Fprintf(stdout, "    overridden: %s\n", o)
			}
		}
		for _, name := range cfg.Disable {
			fmt.Fprintf(stdout, "  %s: disabled\n", name)
		}
		fmt.Fprintln(stdout)
	}
	for _, p := range rules.Packs() {
		state := "opt-in (use: [" + p.Name + "])"
		if p.Default {
			state = "on by default"
		}
		fmt.Fprintf(stdout, "pack %s — %s\n", p.Name, state)
		fmt.Fprintf(stdout, "  %s\n", wrap(p.Description, "  "))
		for _, r := range p.Rules {
			fmt.Fprintf(stdout, "\n  rule %s\n    %s\n", r.Name, wrap(r.Description, "    "))
		}
		fmt.Fprintln(stdout)
	}
	return exitOK
}

// wrap folds text at about 78 columns, indenting continuation lines.
func wrap(text, indent string) string {
	var b strings.Builder
	col := len(indent)
	for i, w := range strings.Fields(text) {
		if i > 0 && col+1+len(w) > 78 {
			b.WriteString("\n" + indent)
			col = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "logsift version", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if code, ok := noArgs(fs, stderr); !ok {
		return code
	}
	bi := metrics.ReadBuildInfo(version, revision)
	fmt.Fprintf(stdout, "logsift %s (revision %s, %s, %s/%s)\n", bi.Version, bi.Revision, bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// madeMetrics is the outcome of metrics.New.
type madeMetrics struct {
	m   *metrics.Metrics
	err error
}

// startCPUProfile profiles the process until the returned function runs.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
