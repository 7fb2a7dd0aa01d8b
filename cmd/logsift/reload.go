package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/logsift/logsift/daemon"
	"github.com/logsift/logsift/notify"
	"github.com/logsift/logsift/rules"
)

// pipeline is a daemon running under its own context, so a reload can stop
// it and start its successor while the process keeps going.
type pipeline struct {
	d      *daemon.Daemon
	cancel context.CancelFunc
	done   chan error
}

func startPipeline(d *daemon.Daemon) *pipeline {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{d: d, cancel: cancel, done: make(chan error, 1)}
	tightenGC()
	go func() { p.done <- d.Run(ctx) }()
	return p
}

// reloaded is what a reload that rebuilt the pipeline hands back.
type reloaded struct {
	pipeline *pipeline
	config   *rules.Config
}

// reload re-reads the configuration on SIGHUP. An invalid file leaves
// everything running as it is. A file that changes only rules is applied to
// the running pipeline at an event boundary. One that changes inputs,
// outputs or summaries gets a new pipeline: its outputs are opened first
// (a failure keeps the old pipeline), then the old one drains, flushes and
// acknowledges, and the new one continues every file from the saved
// positions, so nothing is lost or repeated.
func reload(logger *slog.Logger, n *notify.Notifier, cur *pipeline, current *rules.Config, opts daemon.Options, path string, drainTimeout time.Duration) *reloaded {
	m := opts.Metrics
	if path == "" {
		logger.Warn("SIGHUP ignored: running without -config")
		return nil
	}
	n.Reloading(time.Now())
	defer n.Ready()
	cfg, err := rules.Load(path)
	if err == nil {
		err = cfg.CheckRun()
	}
	if err != nil {
		logger.Error("reload failed; keeping the running configuration", "err", err)
		m.ReloadResult(false, time.Now())
		return nil
	}
	warnExpired(logger, cfg, time.Now())
	section := changedSection(current, cfg)
	if section == "" {
		cur.d.SetRules(cfg)
		m.ReloadResult(true, time.Now())
		logger.Info("configuration reloaded", "rules", len(cfg.Rules))
		return nil
	}
	if why := cannotRebuild(section, current, cfg, opts); why != "" {
		logger.Warn("reload applies rules only; restart to apply the change", "section", section, "reason", why)
		cur.d.SetRules(cfg)
		m.ReloadResult(true, time.Now())
		return nil
	}

	opts.Config = cfg
	next, err := daemon.New(opts)
	if err != nil {
		logger.Error("reload failed; keeping the running configuration", "err", err)
		m.ReloadResult(false, time.Now())
		return nil
	}
	cur.cancel()
	select {
	case err := <-cur.done:
		if err != nil {
			logger.Warn("previous pipeline ended with an error", "err", err)
		}
	case <-time.After(drainTimeout):
		logger.Error("previous pipeline did not drain in time; starting the new one, unacknowledged events will be read again", "timeout", drainTimeout.String())
	}
	logger.Info("configuration reloaded with a new pipeline", "changed", section, "inputs", len(cfg.Inputs), "outputs", len(cfg.Outputs), "rules", len(cfg.Rules))
	m.ReloadResult(true, time.Now())
	return &reloaded{pipeline: startPipeline(next), config: cfg}
}

// changedSection names a section other than the rules that differs
// between a and b, or "" when only rules changed.
func changedSection(a, b *rules.Config) string {
	switch {
	case fmt.Sprint(a.Inputs) != fmt.Sprint(b.Inputs):
		return "inputs"
	case fmt.Sprint(a.Outputs) != fmt.Sprint(b.Outputs):
		return "outputs"
	case a.Summary != b.Summary:
		return "summary"
	case a.Metrics != b.Metrics:
		return "metrics"
	case a.Positions != b.Positions:
		return "positions"
	}
	return ""
}

// cannotRebuild says why a changed section cannot be applied without a
// restart, or "" when a new pipeline can take over.
func cannotRebuild(section string, a, b *rules.Config, opts daemon.Options) string {
	switch {
	case section == "metrics" || section == "positions":
		return "the metrics server and the positions file are set up once per process"
	case readsStdin(a) || readsStdin(b):
		return "standard input cannot be handed from one pipeline to the next"
	case opts.Positions == nil:
		return "set positions.path so a new pipeline can continue files where the old one stopped"
	}
	return ""
}

func readsStdin(c *rules.Config) bool {
	for _, in := range c.Inputs {
		if len(in.Paths) == 1 && in.Paths[0] == "-" {
			return true
		}
	}
	return false
}
