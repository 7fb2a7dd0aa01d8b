// Package notify tells systemd about logsift's state through the sd_notify
// protocol: readiness, reloads, shutdown, free-form status and watchdog
// keep-alives. Outside systemd (no NOTIFY_SOCKET) every method is a no-op,
// so callers never need to know how the daemon was started.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// Notifier sends state changes to the service manager. It is safe for
// concurrent use: each message is one datagram on its own connection.
type Notifier struct {
	logger *slog.Logger
	// watchdog is the WatchdogSec interval systemd announced, or 0.
	watchdog time.Duration
}

// New returns a Notifier for the current process. It reads NOTIFY_SOCKET and
// WATCHDOG_USEC (honouring WATCHDOG_PID) but leaves them in the environment,
// because every later notification reads NOTIFY_SOCKET again.
func New(logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{logger: logger}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		logger.Warn("systemd watchdog disabled: invalid environment", "err", err)
	}
	n.watchdog = interval
	return n
}

// WatchdogInterval is the watchdog timeout systemd expects pings within, or 0
// when the watchdog is off.
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog }

// Ready reports that startup or a reload has finished and logs are flowing.
func (n *Notifier) Ready() {
	n.send(daemon.SdNotifyReady + "\nSTATUS=Processing logs")
}

// Reloading reports that a configuration reload started at now. systemd
// needs the CLOCK_MONOTONIC timestamp to tell this reload apart from an
// earlier one, which a wall-clock time cannot provide, so now only feeds the
// human-readable status. Ready must follow once the reload is done.
func (n *Notifier) Reloading(now time.Time) {
	msg := daemon.SdNotifyReloading
	if usec, err := monotonicUsec(); err != nil {
		n.logger.Debug("sd_notify: no monotonic clock", "err", err)
	} else {
		msg += "\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
	}
	msg += "\nSTATUS=Reloading configuration (requested " + now.Format(time.RFC3339) + ")"
	n.send(msg)
}

// Stopping reports that shutdown has begun: held events are being drained.
func (n *Notifier) Stopping() {
	n.send(daemon.SdNotifyStopping + "\nSTATUS=Draining and shutting down")
}

// Status sets the one-line status shown by `systemctl status`.
func (n *Notifier) Status(s string) {
	n.send("STATUS=" + s)
}

// RunWatchdog sends WATCHDOG=1 every half watchdog interval for as long as
// healthy reports true. While healthy reports false the ping is withheld, so
// that systemd kills and restarts a daemon whose pipeline is stuck instead of
// trusting a goroutine that merely still runs. It returns when ctx is done,
// and at once when systemd has not enabled the watchdog. A nil healthy counts
// as always healthy.
func (n *Notifier) RunWatchdog(ctx context.Context, healthy func() bool) {
	if n.watchdog <= 0 {
		return
	}
	period := n.watchdog / 2
	withheld := false
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if healthy != nil && !healthy() {
			// Once per stall, not on every tick: systemd acts on it soon.
			if !withheld {
				n.logger.Warn("unhealthy: withholding systemd watchdog pings",
					"watchdog", n.watchdog)
				withheld = true
			}
			continue
		}
		if withheld {
			n.logger.Info("healthy again: resuming systemd watchdog pings")
			withheld = false
		}
		n.send(daemon.SdNotifyWatchdog)
	}
}

// send delivers one notification. Failures are logged, never returned:
// losing a status message must not take the daemon down, and systemd itself
// reacts to missing READY or WATCHDOG messages.
func (n *Notifier) send(state string) {
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		n.logger.Warn("sd_notify failed", "state", state, "err", err)
		return
	}
	if sent {
		n.logger.Debug("sd_notify", "state", state)
	}
}

// monotonicUsec reads CLOCK_MONOTONIC in microseconds, the clock systemd
// compares MONOTONIC_USEC against.
func monotonicUsec() (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("clock_gettime(CLOCK_MONOTONIC): %w", err)
	}
	return ts.Nano() / 1000, nil
}
