package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"

	"golang.org/x/sys/unix"
)

// listen binds a notification socket the way systemd does and points
// NOTIFY_SOCKET at it for the duration of the test.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return conn
}

// recv reads one datagram or fails after timeout.
func recv(t *testing.T, conn *net.UnixConn, timeout time.Duration) string {
	t.Helper()
	msg, err := tryRecv(conn, timeout)
	if err != nil {
		t.Fatalf("no notification within %v: %v", timeout, err)
	}
	return msg
}

func tryRecv(conn *net.UnixConn, timeout time.Duration) (string, error) {
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// fields splits a notification into its KEY=VALUE assignments.
func fields(msg string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(msg, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok {
			m[k] = v
		}
	}
	return m
}

func monotonicNow(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

func TestStateMessages(t *testing.T) {
	reloadAt := time.Date(2026, 11, 25, 21, 44, 27, 0, time.UTC)
	tests := []struct {
		name string
		call func(*Notifier)
		want map[string]string // exact values; "" means present, any value
	}{
		{"ready", (*Notifier).Ready, map[string]string{"READY": "1", "STATUS": ""}},
		{"stopping", (*Notifier).Stopping, map[string]string{"STOPPING": "1", "STATUS": ""}},
		{"status", func(n *Notifier) { n.Status("tailing 3 files") }, map[string]string{"STATUS": "tailing 3 files"}},
		{"reloading", func(n *Notifier) { n.Reloading(reloadAt) }, map[string]string{
			"RELOADING":      "1",
			"MONOTONIC_USEC": "",
			"STATUS":         "Reloading configuration (requested 2026-11-25T21:44:27Z)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := listen(t)
			n := New(nil)
			tt.call(n)
			got := fields(recv(t, conn, 5*time.Second))
			for k, v := range tt.want {
				g, ok := got[k]
				if !ok {
					t.Errorf("%s missing from %q", k, got)
					continue
				}
				if v != "" && g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got fields %q, want exactly the keys of %q", got, tt.want)
			}
			// The environment stays in place for the next notification.
			if os.Getenv("NOTIFY_SOCKET") == "" {
				t.Error("NOTIFY_SOCKET was unset")
			}
		})
	}
}

func TestReloadingMonotonicClock(t *testing.T) {
	conn := listen(t)
	n := New(nil)
	before := monotonicNow(t)
	n.Reloading(time.Now())
	after := monotonicNow(t)
	got := fields(recv(t, conn, 5*time.Second))
	usec, err := strconv.ParseInt(got["MONOTONIC_USEC"], 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC %q: %v", got["MONOTONIC_USEC"], err)
	}
	if usec < before || usec > after {
		t.Errorf("MONOTONIC_USEC = %d, want within [%d, %d] (CLOCK_MONOTONIC µs)", usec, before, after)
	}
}

func TestNoSystemdIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	var logs bytes.Buffer
	n := New(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	n.Ready()
	n.Reloading(time.Now())
	n.Status("x")
	n.Stopping()
	if n.WatchdogInterval() != 0 {
		t.Errorf("WatchdogInterval = %v, want 0", n.WatchdogInterval())
	}
	done := make(chan struct{})
	go func() {
		n.RunWatchdog(context.Background(), nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunWatchdog without WATCHDOG_USEC did not return")
	}
	if logs.Len() != 0 {
		t.Errorf("no-op notifier logged:\n%s", logs.String())
	}
}

func TestSendFailureIsLogged(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "missing.sock"))
	var logs bytes.Buffer
	n := New(slog.New(slog.NewTextHandler(&logs, nil)))
	n.Ready()
	if !strings.Contains(logs.String(), "sd_notify failed") {
		t.Errorf("log = %q, want an sd_notify failure", logs.String())
	}
}

func TestWatchdogEnvironment(t *testing.T) {
	tests := []struct {
		name, usec, pid string
		want            time.Duration
	}{
		{"unset", "", "", 0},
		{"set", "30000000", "", 30 * time.Second},
		{"our pid", "2000000", strconv.Itoa(os.Getpid()), 2 * time.Second},
		{"other pid", "2000000", strconv.Itoa(os.Getpid() + 1), 0},
		{"garbage", "soon", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			if got := New(nil).WatchdogInterval(); got != tt.want {
				t.Errorf("WatchdogInterval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWatchdogPingsAtHalfInterval(t *testing.T) {
	const interval = 200 * time.Millisecond
	conn := listen(t)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))
	n := New(nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.RunWatchdog(ctx, func() bool { return true })
		close(done)
	}()

	start := time.Now()
	var stamps []time.Duration
	for range 4 {
		if msg := recv(t, conn, 5*time.Second); msg != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", msg)
		}
		stamps = append(stamps, time.Since(start))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunWatchdog did not return after cancel")
	}

	// Four pings at interval/2 take 2*interval. A ticker never fires early,
	// so less means a shorter period; a full-interval period would take
	// 4*interval, which the upper bound rejects while leaving room for a
	// loaded machine.
	if got := stamps[3]; got < 2*interval-interval/10 || got >= 7*interval/2 {
		t.Errorf("4 pings after %v (at %v), want about %v: one per half interval", got, stamps, 2*interval)
	}
}

func TestWatchdogWithheldWhileUnhealthy(t *testing.T) {
	const interval = 100 * time.Millisecond
	conn := listen(t)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))

	var logs testutil.SyncBuffer
	n := New(slog.New(slog.NewTextHandler(&logs, nil)))

	var healthy atomic.Bool
	checked := make(chan bool, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		n.RunWatchdog(ctx, func() bool {
			h := healthy.Load()
			select {
			case checked <- h:
			default:
			}
			return h
		})
		close(done)
	}()

	// Several health checks fail; none may produce a ping.
	for i := 0; i < 3; {
		select {
		case h := <-checked:
			if !h {
				i++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("health check not called")
		}
	}
	if msg, err := tryRecv(conn, interval); err == nil {
		t.Fatalf("got %q while unhealthy, want no ping", msg)
	} else if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	if !strings.Contains(logs.String(), "withholding systemd watchdog ping") {
		t.Errorf("skipped pings not logged; log = %q", logs.String())
	}

	// Recovery resumes the pings.
	healthy.Store(true)
	if msg := recv(t, conn, 5*time.Second); msg != "WATCHDOG=1" {
		t.Fatalf("after recovery got %q, want WATCHDOG=1", msg)
	}
	cancel()
	<-done
}
