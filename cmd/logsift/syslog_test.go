package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSyslogToRsyslog: a corpus capture tailed by logsift reaches a real
// rsyslog as exactly the forwarded events, one message each (a traceback
// with its header is one message), with the app name and the level's
// severity, over TCP and over TLS with a test CA.
func TestSyslogToRsyslog(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			var certs *testCerts
			tlsConf := ""
			if transport == "tls" {
				certs = newTestCerts(t)
				tlsConf = fmt.Sprintf("tls: {ca_file: %q}", certs.ca)
			}
			rs := newRsyslog(t, certs)
			dir := t.TempDir()
			in := filepath.Join(dir, "app.log")
			capture, err := os.ReadFile(filepath.Join(corpusDir, "b_werkzeug_threading_basicconfig.log"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(in, capture, 0o644)
			addr := freePort(t)
			cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: webapp, paths: [%q], start_at: beginning}]
outputs:
  - {type: syslog, address: %q, transport: %s, app_name: webapp, facility: local3, %s}
positions: {path: %q}
metrics: {listen: %q}
`, in, rs.addr, transport, tlsConf, filepath.Join(dir, "positions.json"), addr))
			d := startDaemon(t, cfg)
			waitReady(t, addr)
			want := readExpected(t, "b_werkzeug_threading_basicconfig.expected.log")
			var ms []syslogMsg
			waitForEvents(t, "rsyslog", want, func() string { ms = rs.messages(); return joinMessages(ms) })
			multi := 0
			for _, m := range ms {
				if strings.Contains(m.msg, "\n") {
					multi++
				}
				level, _, _ := strings.Cut(m.msg, ":")
				sev := map[string]string{"ERROR": "3", "WARNING": "4", "INFO": "6"}[level]
				if m.app != "webapp" || (sev != "" && m.severity != sev) {
					t.Fatalf("message %.60q: app %q severity %s, want webapp and %s", m.msg, m.app, m.severity, sev)
				}
			}
			if multi == 0 {
				t.Error("no multi-line message")
			}
			d.stop(t)
			checkLog(t, d.stderr.String())
			t.Logf("%d messages, %d multi-line", len(ms), multi)
		})
	}
}

// TestSyslogRsyslogRestart: rsyslog is restarted while lines arrive at
// 2,000 a second; logsift reconnects and everything after the restart
// arrives. What plain syslog over TCP cannot deliver is documented: the
// messages rsyslog had in its socket buffer when it stopped (one short run
// at the stop, a few dozen lines here); anything more is a failure.
func TestSyslogRsyslogRestart(t *testing.T) {
	rs := newRsyslog(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	app, err := openAppLog(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer app.close()
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: syslog, address: %q}]
positions: {path: %q}
metrics: {listen: %q}
`, path, rs.addr, filepath.Join(dir, "positions.json"), addr))
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	const total = 16000
	wrote := paceLines(app, total, 20)
	time.Sleep(2 * time.Second)
	rs.stop()
	time.Sleep(2 * time.Second)
	rs.start()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	// Wait for the last line, then account.
	var nums []int
	waitFor(t, "the last line at rsyslog", 60*time.Second, func() bool {
		nums, _, _ = numbers([]byte(joinMessages(rs.messages())))
		return len(nums) > 0 && slices.Contains(nums[max(0, len(nums)-50):], total-1)
	})
	seen := make([]bool, total)
	for _, n := range nums {
		if n < total {
			seen[n] = true
		}
	}
	var runs [][2]int
	for i := 0; i < total; i++ {
		if !seen[i] {
			j := i
			for j+1 < total && !seen[j+1] {
				j++
			}
			runs = append(runs, [2]int{i, j})
			i = j
		}
	}
	lost := 0
	for _, r := range runs {
		lost += r[1] - r[0] + 1
	}
	t.Logf("%s; lost at the restart: %d lines in runs %v", accounting(nums, total), lost, runs)
	if len(runs) > 1 || lost > 400 {
		t.Fatalf("lost %d lines in %d runs %v: more than the in-flight messages at the receiver's stop", lost, len(runs), runs)
	}
	d.stop(t)
}
