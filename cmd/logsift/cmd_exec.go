package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logsift/logsift/daemon"
	"github.com/logsift/logsift/metrics"
	"github.com/logsift/logsift/notify"
	"github.com/logsift/logsift/rules"
)

const execSynopsis = "logsift exec [-config FILE] [-forward SIGNALS] [-reload-on-hup] [-notify start|child] -- COMMAND [ARG...]"

// forwardable are the signals exec can pass on to its command, by name.
var forwardable = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "QUIT": syscall.SIGQUIT,
}

// cmdExec runs a command with its stdout and stderr on two pipes, each
// filtered as its own stream and written to logsift's own stdout and
// stderr, so that under systemd the unit's journal gets the filtered lines
// with the right stream, the command gets the signals, and systemd sees the
// command's exit status.
func cmdExec(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("exec", execSynopsis, stderr)
	configPath := fs.String("config", "", "rules, packs and record settings (its first input's) to filter with; default: the built-in rules")
	forward := fs.String("forward", "TERM,INT,HUP,USR1,USR2,QUIT", "signals passed on to the command")
	reloadHUP := fs.Bool("reload-on-hup", false, "SIGHUP also reloads the rules from -config")
	notifyMode := fs.String("notify", "start", "sd_notify READY: start (logsift reports it once the command started) or child (the command reports it; needs NotifyAccess=all)")
	var lf logFlags
	lf.register(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintf(stderr, "logsift exec: no command given\nUsage: %s\n", execSynopsis)
		return exitUsage
	}
	var sigs []os.Signal
	for _, name := range strings.Split(*forward, ",") {
		name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
		if name == "" {
			continue
		}
		sig, ok := forwardable[name]
		if !ok {
			fmt.Fprintf(stderr, "logsift exec: -forward: unknown signal %q (known: TERM, INT, HUP, USR1, USR2, QUIT)\n", name)
			return exitUsage
		}
		sigs = append(sigs, sig)
	}
	if *notifyMode != "start" && *notifyMode != "child" {
		fmt.Fprintf(stderr, "logsift exec: -notify: %q is not start or child\n", *notifyMode)
		return exitUsage
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "logsift: %v\n", err)
		return exitUsage
	}
	base := rules.Default()
	if *configPath != "" {
		if base, err = rules.Load(*configPath); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		logger.Error("exec", "err", err)
		return exitFailure
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		logger.Error("exec", "err", err)
		return exitFailure
	}
	child := exec.Command(argv[0], argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = stdin, outW, errW
	// Signals are taken over before the command starts, so none between
	// the start and the first forward is lost.
	caught := make(chan os.Signal, 8)
	signal.Notify(caught, append(sigs, syscall.SIGHUP)...)
	defer signal.Stop(caught)
	signal.Ignore(syscall.SIGPIPE)
	if err := child.Start(); err != nil {
		fmt.Fprintf(stderr, "logsift exec: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	outW.Close()
	errW.Close()
	// The command inherits NOTIFY_SOCKET: with NotifyAccess=all its own
	// READY and WATCHDOG messages reach systemd. Otherwise its start is
	// the service's readiness.
	if *notifyMode == "start" {
		notify.New(logger).Ready()
	}

	streams := []struct {
		name string
		r    *os.File
		w    io.Writer
	}{{"stdout", outR, stdout}, {"stderr", errR, stderr}}
	pipes := make([]*daemon.Daemon, len(streams))
	done := make(chan error, len(streams))
	for i, st := range streams {
		cfg := streamConfig(base, st.name)
		m, err := metrics.New(prometheus.NewRegistry(), metrics.ReadBuildInfo(version, revision))
		if err != nil {
			logger.Error("exec", "err", err)
			return exitFailure
		}
		d, err := daemon.New(daemon.Options{Config: cfg, Logger: logger.With("stream", st.name), Metrics: m, Stdin: st.r, Stdout: st.w})
		if err != nil {
			logger.Error("exec", "err", err)
			return exitFailure
		}
		pipes[i] = d
		tightenGC()
		go func() { done <- d.Run(context.Background()) }()
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()

	forwarded := map[os.Signal]bool{}
	for _, s := range sigs {
		forwarded[s] = true
	}
wait:
	for {
		select {
		case <-exited:
			break wait
		case sig := <-caught:
			if sig == syscall.SIGHUP && *reloadHUP && *configPath != "" {
				if cfg, err := rules.Load(*configPath); err != nil {
					logger.Error("reload failed; keeping the running rules", "err", err)
				} else {
					for i, d := range pipes {
						d.SetRules(streamConfig(cfg, streams[i].name))
					}
					logger.Info("rules reloaded", "rules", len(cfg.Rules))
				}
			}
			if forwarded[sig] {
				_ = child.Process.Signal(sig)
			}
		}
	}
	// Every byte the command wrote is read and written out: the pipelines
	// end when the pipes do (the command and whatever inherited them).
	for range streams {
		if err := <-done; err != nil {
			logger.Error("exec: filtering failed", "err", err)
		}
	}
	return exitStatus(child.ProcessState)
}

// streamConfig is the configuration of one of the command's streams: the
// rules of base, with its first input's record settings, reading the pipe
// and writing to logsift's stream of the same name, or to base's outputs
// when it names some.
func streamConfig(base *rules.Config, name string) *rules.Config {
	cfg := *base
	in := base.Inputs[0] // a configuration without inputs reads stdin
	in.Name, in.Type, in.Paths, in.Exclude = name, rules.InputFiles, []string{"-"}, nil
	cfg.Inputs = []rules.Input{in}
	if !base.OutputsGiven {
		cfg.Outputs = []rules.OutputSpec{{Name: name, Type: "stdout", Events: "forwarded"}}
	}
	cfg.Positions = rules.Positions{}
	cfg.Metrics = rules.Metrics{}
	return &cfg
}

// exitStatus is the shell's convention: the command's exit code, or
// 128+N when signal N killed it.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return exitFailure
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := ps.ExitCode(); code >= 0 {
		return code
	}
	return exitFailure
}
