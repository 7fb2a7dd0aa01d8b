package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/logsift/logsift/internal/promtest"
	"github.com/logsift/logsift/metrics"
)

// startServer serves m's registry, or the part of it that keep selects, on a
// loopback port until the test ends.
func startServer(t *testing.T, ready func() error, keep func(name string) bool) (string, *metrics.Metrics) {
	t.Helper()
	m, reg := newMetrics(t)
	script(m)
	var g prometheus.Gatherer = reg
	if keep != nil {
		g = prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
			mfs, err := reg.Gather()
			var out []*dto.MetricFamily
			for _, mf := range mfs {
				if keep(mf.GetName()) {
					out = append(out, mf)
				}
			}
			return out, err
		})
	}
	srv, err := metrics.NewServer("127.0.0.1:0", g, ready, nil)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown, want nil", err)
		}
	})
	return "http://" + srv.Addr(), m
}

func get(t *testing.T, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

// decode parses a scrape in whatever format the response declares.
func decode(t *testing.T, resp *http.Response, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	format := expfmt.ResponseFormat(resp.Header)
	dec := expfmt.NewDecoder(strings.NewReader(string(body)), format)
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode %s scrape: %v\n%s", format, err, body)
		}
		out[mf.GetName()] = mf
	}
}

func suppressed(t *testing.T, mfs map[string]*dto.MetricFamily, input, rule string) float64 {
	t.Helper()
	mf, ok := mfs["logsift_events_suppressed_total"]
	if !ok {
		// OpenMetrics names a counter family without its _total suffix.
		mf, ok = mfs["logsift_events_suppressed"]
	}
	if !ok {
		t.Fatal("logsift_events_suppressed_total missing from scrape")
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["input"] == input && labels["rule"] == rule {
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series {input=%q, rule=%q}", input, rule)
	return 0
}

func TestMetricsEndpointFormats(t *testing.T) {
	// The Go collector's go_memstats_alloc_bytes gauge and
	// go_memstats_alloc_bytes_total counter share one OpenMetrics family
	// name (client_golang issue 829). Prometheus ingests both, but a strict
	// parser rejects the scrape, so the strict parse looks at logsift's own
	// families; the full scrape is checked for format and framing.
	full, _ := startServer(t, nil, nil)
	own, _ := startServer(t, nil, func(name string) bool { return strings.HasPrefix(name, "logsift_") })
	const openMetrics = "application/openmetrics-text; version=1.0.0"
	tests := []struct {
		name       string
		base       string
		accept     string
		wantType   string
		wantSuffix string
		parse      bool
	}{
		{name: "text", base: full, wantType: "text/plain", wantSuffix: "\n", parse: true},
		{name: "openmetrics full", base: full, accept: openMetrics, wantType: "application/openmetrics-text", wantSuffix: "\n# EOF\n"},
		{name: "openmetrics own", base: own, accept: openMetrics, wantType: "application/openmetrics-text", wantSuffix: "\n# EOF\n", parse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.base+"/metrics", tt.accept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if !strings.HasSuffix(string(body), tt.wantSuffix) {
				t.Errorf("body does not end in %q", tt.wantSuffix)
			}
			if !strings.Contains(string(body), `logsift_build_info{goversion="go1.26.8",revision="0123abcd",version="v1.2.3"} 1`) {
				t.Error("logsift_build_info missing or wrong")
			}
			if !tt.parse {
				return
			}
			mfs := decode(t, resp, body)
			if got := suppressed(t, mfs, "webapp", "werkzeug-ws-close"); got != 1 {
				t.Errorf("suppressed{webapp, werkzeug-ws-close} = %v, want 1", got)
			}
			if got := suppressed(t, mfs, "worker", "healthcheck"); got != 0 {
				t.Errorf("suppressed{worker, healthcheck} = %v, want 0", got)
			}
		})
	}
}

func TestScrapePassesPromtool(t *testing.T) {
	base, _ := startServer(t, nil, nil)
	_, body := get(t, base+"/metrics", "text/plain")
	if problems := promtest.CheckMetrics(t, body); problems != "" {
		t.Errorf("promtool check metrics:\n%s", problems)
	}
}

func TestHealthAndIndex(t *testing.T) {
	base, _ := startServer(t, nil, nil)
	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/healthz", http.StatusOK, "ok\n"},
		{"/readyz", http.StatusOK, "ready\n"},
		{"/", http.StatusOK, `href="metrics"`},
		{"/nope", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, base+tt.path, "")
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q does not contain %q", body, tt.wantBody)
			}
		})
	}
}

func TestReadyzFollowsReadiness(t *testing.T) {
	var notReady atomic.Pointer[error]
	starting := errors.New("positions not loaded yet")
	notReady.Store(&starting)
	base, _ := startServer(t, func() error {
		if e := notReady.Load(); e != nil {
			return *e
		}
		return nil
	}, nil)

	resp, body := get(t, base+"/readyz", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before ready: status %d, want 503", resp.StatusCode)
	}
	if !strings.Contains(string(body), "positions not loaded yet") {
		t.Errorf("before ready: body %q does not give the reason", body)
	}

	notReady.Store(nil)
	resp, body = get(t, base+"/readyz", "")
	if resp.StatusCode != http.StatusOK || string(body) != "ready\n" {
		t.Errorf("after ready: %d %q, want 200 \"ready\\n\"", resp.StatusCode, body)
	}
}

func TestBindFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	_, reg := newMetrics(t)
	srv, err := metrics.NewServer(addr, reg, nil, nil)
	if err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatalf("NewServer on a taken port %s succeeded", addr)
	}
	if !strings.HasPrefix(err.Error(), "metrics.listen "+addr+": listen tcp "+addr+": ") {
		t.Errorf("error %q does not name the setting and address", err)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error %q is not address-in-use", err)
	}
}

func TestShutdownWithoutServeReleasesPort(t *testing.T) {
	_, reg := newMetrics(t)
	srv, err := metrics.NewServer("127.0.0.1:0", reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port %s still held after Shutdown: %v", addr, err)
	}
	ln.Close()
	if err := srv.Serve(); err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
}
