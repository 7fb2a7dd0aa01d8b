// Package promtest runs the real Prometheus tools from tests: promtool to
// lint expositions and check alert rules, and a Prometheus server that
// scrapes a test's metrics endpoint and answers PromQL queries.
//
// The tools come from the Debian package `prometheus`. Outside CI, tests
// that need them are skipped when they are missing; in CI (CI set in the
// environment) a missing tool fails the test, so coverage cannot silently
// disappear.
package promtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

// lookTool returns the path of a Prometheus binary or ends the test.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found in PATH (install the Debian package: apt-get install prometheus): %v", name, err)
	if os.Getenv("CI") == "" {
		t.Skip(msg)
	}
	t.Fatal(msg)
	return ""
}

// Promtool returns the path of promtool. It skips the test when promtool
// is absent and CI is unset, and fails it when CI is set.
func Promtool(t testing.TB) string {
	t.Helper()
	return lookTool(t, "promtool")
}

// CheckMetrics runs `promtool check metrics` on a text-format exposition
// and returns the lint problems it reports ("" when there are none). A
// promtool failure other than lint problems (such as a parse error) fails
// the test.
func CheckMetrics(t testing.TB, exposition []byte) string {
	t.Helper()
	cmd := exec.Command(Promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err == nil {
		return ""
	}
	// promtool exits 3 when it parsed the input and found lint problems.
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return out.String()
	}
	t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	return ""
}

// Prometheus is a Prometheus server started for one test.
type Prometheus struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL    string
	client *http.Client
}

// StartPrometheus starts the prometheus binary on a free loopback port,
// scraping scrapeTarget (host:port, path /metrics) every scrapeInterval,
// with its configuration and storage in t.TempDir(). It returns once the
// server reports ready and stops it (SIGTERM, then wait) when the test
// ends.
func StartPrometheus(t testing.TB, scrapeTarget string, scrapeInterval time.Duration) *Prometheus {
	t.Helper()
	bin := lookTool(t, "prometheus")
	dir := t.TempDir()

	interval := promDuration(scrapeInterval)
	cfg := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
  - job_name: logsift
    static_configs:
      - targets: [%[2]q]
`, interval, scrapeTarget)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("write prometheus config: %v", err)
	}

	addr := freeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	logs := &testutil.SyncBuffer{}
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})

	p := &Prometheus{URL: "http://" + addr, client: &http.Client{Timeout: 5 * time.Second}}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.ready() {
			return p
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited before becoming ready:\n%s", logs.String())
		case <-deadline.C:
			t.Fatalf("prometheus not ready after 30s:\n%s", logs.String())
		case <-tick.C:
		}
	}
}

func (p *Prometheus) ready() bool {
	resp, err := p.client.Get(p.URL + "/-/ready")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Query evaluates expr as an instant query now and returns the value of its
// single sample, or false when the result is empty (as it is before the
// first scrape). A result with more than one sample fails the test.
func (p *Prometheus) Query(t testing.TB, expr string) (float64, bool) {
	t.Helper()
	resp, err := p.client.Get(p.URL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		t.Fatalf("query %q: %v", expr, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("query %q: read response: %v", expr, err)
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("query %q: HTTP %d, decode %q: %v", expr, resp.StatusCode, body, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %q: %s: %s", expr, r.Status, r.Error)
	}

	var sample [2]json.RawMessage // [timestamp, "value"]
	switch r.Data.ResultType {
	case "scalar":
		if err := json.Unmarshal(r.Data.Result, &sample); err != nil {
			t.Fatalf("query %q: decode scalar: %v", expr, err)
		}
	case "vector":
		var vec []struct {
			Metric map[string]string  `json:"metric"`
			Value  [2]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
			t.Fatalf("query %q: decode vector: %v", expr, err)
		}
		switch len(vec) {
		case 0:
			return 0, false
		case 1:
			sample = vec[0].Value
		default:
			t.Fatalf("query %q: want one sample, got %d: %s", expr, len(vec), r.Data.Result)
		}
	default:
		t.Fatalf("query %q: unsupported result type %q", expr, r.Data.ResultType)
	}
	var s string
	if err := json.Unmarshal(sample[1], &s); err != nil {
		t.Fatalf("query %q: decode value %s: %v", expr, sample[1], err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %q: parse value %q: %v", expr, s, err)
	}
	return v, true
}

// WaitForValue polls expr until its single sample equals want, failing the
// test if that has not happened within timeout.
func (p *Prometheus) WaitForValue(t testing.TB, expr string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, ok := p.Query(t, expr)
		if ok && got == want {
			return
		}
		select {
		case <-deadline.C:
			if !ok {
				t.Fatalf("query %q: no sample after %v, want %v", expr, timeout, want)
			}
			t.Fatalf("query %q = %v after %v, want %v", expr, got, timeout, want)
		case <-tick.C:
		}
	}
}

// promDuration formats d as a Prometheus duration (whole milliseconds at least).
func promDuration(d time.Duration) string {
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// freeAddr returns a loopback address whose port was free a moment ago.
// Prometheus must bind it itself, so a small race with other processes
// taking the port in between remains.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("release port %s: %v", addr, err)
	}
	return addr
}
