package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a fake systemd: it receives sd_notify datagrams.
type notifySocket struct {
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) (*notifySocket, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{conn: conn, msgs: make(chan string, 1024)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(s.msgs)
				return
			}
			s.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s, path
}

// expect waits for a datagram containing want, returning it.
func (s *notifySocket) expect(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-s.msgs:
			if strings.Contains(m, want) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %q from logsift within %v", want, timeout)
		}
	}
}

// count drains datagrams for d and counts those containing want.
func (s *notifySocket) count(want string, d time.Duration) int {
	n := 0
	deadline := time.After(d)
	for {
		select {
		case m := <-s.msgs:
			if strings.Contains(m, want) {
				n++
			}
		case <-deadline:
			return n
		}
	}
}

// TestSystemdNotify starts the real binary as systemd would (NOTIFY_SOCKET,
// WATCHDOG_USEC) and follows the protocol: READY=1 once inputs are open,
// WATCHDOG=1 pings, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on
// SIGTERM — and no pings while the output is blocked.
func TestSystemdNotify(t *testing.T) {
	sock, sockPath := newNotifySocket(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, []byte("first line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Open the FIFO's read end without reading: logsift can open it, and
	// its writes block once the pipe buffer is full.
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
metrics: {listen: ""}
`, logPath, fifo))

	cmd := exec.Command(logsiftBin, "run", "-config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sockPath, "WATCHDOG_USEC=1000000")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})

	sock.expect(t, "READY=1", 10*time.Second)
	if n := sock.count("WATCHDOG=1", 2*time.Second); n < 2 {
		t.Fatalf("%d watchdog pings in 2s with WATCHDOG_USEC=1s, want about 4", n)
	}

	cmd.Process.Signal(syscall.SIGHUP)
	msg := sock.expect(t, "RELOADING=1", 5*time.Second)
	if !strings.Contains(msg, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 without MONOTONIC_USEC: %q", msg)
	}
	sock.expect(t, "READY=1", 5*time.Second)

	// Block the output: fill the input with far more than a pipe holds.
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("a line that nobody will read for a while\n", 100_000)
	if _, err := f.WriteString(big); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Once a write has been stuck for the watchdog interval the pings stop.
	sock.count("WATCHDOG=1", 2500*time.Millisecond)
	if n := sock.count("WATCHDOG=1", 2*time.Second); n != 0 {
		t.Fatalf("%d watchdog pings while the output was blocked, want 0", n)
	}
	// Drain the FIFO: the pipeline moves again and so do the pings.
	go func() {
		buf := make([]byte, 1<<16)
		syscall.SetNonblock(int(reader.Fd()), false)
		for {
			if _, err := reader.Read(buf); err != nil {
				return
			}
		}
	}()
	sock.expect(t, "WATCHDOG=1", 5*time.Second)

	cmd.Process.Signal(syscall.SIGTERM)
	sock.expect(t, "STOPPING=1", 5*time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20s of SIGTERM")
	}
}
