package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/logsift/logsift/internal/promtest"
)

// freePort returns a loopback address for logsift to listen on. The port
// is closed again before logsift binds it, so it is taken below the
// kernel's ephemeral range: a port from that range (what listening on
// port 0 gives) can meanwhile become the source port of any connection a
// test makes, and logsift then fails with "address already in use".
func freePort(t *testing.T) string {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(low-10000))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// scrape fetches /metrics in the text format and returns the raw body and
// the parsed families.
func scrape(t *testing.T, addr string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	dec := expfmt.NewDecoder(strings.NewReader(string(body)), expfmt.ResponseFormat(resp.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return body, fams
		}
		if err != nil {
			t.Fatalf("parse scrape: %v", err)
		}
		fams[mf.GetName()] = mf
	}
}

// sum adds the values of a family's series whose labels include match.
func sum(fams map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	var total float64
	mf := fams[name]
	if mf == nil {
		return -1
	}
series:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range match {
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func httpStatus(addr, path string) (int, string) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsEndToEnd tails corpus file (a) from the beginning into an
// output FIFO, checks readiness flips once the FIFO has a reader, scrapes
// /metrics over HTTP for the known counts and the conservation of lines,
// lints the scrape with promtool, and has a real Prometheus server scrape
// logsift and answer a PromQL query.
func TestMetricsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(corpusDir, "a_werkzeug_threading_plain.log")
	input, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(corpusDir, "a_werkzeug_threading_plain.expected.log"))
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, input, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: webapp
    paths: [%q]
    start_at: beginning
outputs:
  - {type: file, name: filtered, path: %q}
metrics: {listen: %q}
`, logPath, fifo, addr))
	d := startDaemon(t, cfg)

	waitFor(t, "/healthz", 20*time.Second, func() bool { code, _ := httpStatus(addr, "/healthz"); return code == 200 })
	// Nobody reads the output FIFO yet, so logsift cannot open it.
	if code, body := httpStatus(addr, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d %q before the output is writable, want 503", code, body)
	} else {
		t.Logf("/readyz before: %d %s", code, strings.TrimSpace(body))
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	waitFor(t, "/readyz 200", 20*time.Second, func() bool { code, _ := httpStatus(addr, "/readyz"); return code == 200 })

	in := map[string]string{"input": "webapp"}
	var body []byte
	var fams map[string]*dto.MetricFamily
	waitFor(t, "all lines counted and released", 30*time.Second, func() bool {
		body, fams = scrape(t, addr)
		return sum(fams, "logsift_input_lines_total", in) == 7033 && sum(fams, "logsift_input_held_lines", in) == 0
	})
	read := sum(fams, "logsift_input_lines_total", in)
	fwd := sum(fams, "logsift_lines_forwarded_total", in)
	sup := sum(fams, "logsift_lines_suppressed_total", in)
	t.Logf("lines read %v = forwarded %v + suppressed %v", read, fwd, sup)
	if read != fwd+sup {
		t.Errorf("conservation broken: read %v != forwarded %v + suppressed %v", read, fwd, sup)
	}
	if fwd != float64(strings.Count(string(want), "\n")) {
		t.Errorf("lines forwarded = %v, want %d", fwd, strings.Count(string(want), "\n"))
	}
	if n := sum(fams, "logsift_events_suppressed_total", map[string]string{"input": "webapp", "rule": "werkzeug-ws-close"}); n != 540 {
		t.Errorf("events suppressed by werkzeug-ws-close = %v, want 540", n)
	}
	if n := sum(fams, "logsift_events_suppressed_total", in); n != 540 {
		t.Errorf("events suppressed in all = %v, want 540", n)
	}
	for _, rule := range []string{"eventlet-ws-close", "gunicorn-ws-close"} {
		if _, ok := fams["logsift_events_suppressed_total"]; !ok || sum(fams, "logsift_events_suppressed_total", map[string]string{"rule": rule}) != 0 {
			t.Errorf("rule %s has no zero series from start", rule)
		}
	}
	if n := sum(fams, "logsift_rule_last_match_timestamp_seconds", map[string]string{"rule": "werkzeug-ws-close"}); n < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last match timestamp = %v, want about now", n)
	}
	if n := sum(fams, "logsift_config_last_reload_successful", nil); n != 1 {
		t.Errorf("config_last_reload_successful = %v", n)
	}
	if n := sum(fams, "logsift_build_info", nil); n != 1 {
		t.Errorf("build_info = %v", n)
	}
	if problems := promtest.CheckMetrics(t, body); problems != "" {
		t.Errorf("promtool check metrics:\n%s", problems)
	}

	prom := promtest.StartPrometheus(t, addr, time.Second)
	prom.WaitForValue(t, `sum(logsift_events_suppressed_total)`, 540, 60*time.Second)
	prom.WaitForValue(t, `sum(logsift_lines_suppressed_total{input="webapp"}) + sum(logsift_lines_forwarded_total{input="webapp"}) - sum(logsift_input_lines_total{input="webapp"})`, 0, 30*time.Second)

	d.stop(t)
	if out := <-got; string(out) != string(want) {
		t.Errorf("forwarded output (%d bytes) differs from the expected output (%d bytes)", len(out), len(want))
	}
}
