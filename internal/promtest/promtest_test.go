package promtest_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logsift/logsift/internal/promtest"
	"github.com/logsift/logsift/metrics"
)

// TestPrometheusScrapesServer proves the helper end to end: a real
// Prometheus scrapes a metrics.Server and PromQL sees exactly the
// suppressions the test counted.
func TestPrometheusScrapesServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.BuildInfo{Version: "test", Revision: "abc", GoVersion: "go"})
	if err != nil {
		t.Fatal(err)
	}
	m.SetConfig([]string{"webapp", "worker"}, []string{"werkzeug-ws-close", "healthcheck"}, []string{"stdout"})
	m.InputRule("webapp", "werkzeug-ws-close").EventsSuppressed.Add(3)
	m.InputRule("worker", "werkzeug-ws-close").EventsSuppressed.Add(4)
	m.InputRule("webapp", "healthcheck").EventsSuppressed.Add(5)

	srv, err := metrics.NewServer("127.0.0.1:0", reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	p := promtest.StartPrometheus(t, srv.Addr(), 200*time.Millisecond)
	p.WaitForValue(t, "sum(logsift_events_suppressed_total)", 12, 30*time.Second)

	got, ok := p.Query(t, `sum by (rule) (logsift_events_suppressed_total{rule="werkzeug-ws-close"})`)
	if !ok || got != 7 {
		t.Errorf("werkzeug-ws-close suppressed = %v (present %v), want 7", got, ok)
	}
	if _, ok := p.Query(t, `logsift_events_suppressed_total{rule="no-such-rule"}`); ok {
		t.Error("query for a rule that does not exist returned a sample")
	}
	if got, ok := p.Query(t, "1 + 1"); !ok || got != 2 {
		t.Errorf("scalar query 1 + 1 = %v (present %v), want 2", got, ok)
	}
}

func TestCheckMetrics(t *testing.T) {
	tests := []struct {
		name        string
		exposition  string
		wantProblem bool
	}{
		{
			name:       "clean",
			exposition: "# HELP a_total Things.\n# TYPE a_total counter\na_total 1\n",
		},
		{
			name:        "counter without _total",
			exposition:  "# HELP a Things.\n# TYPE a counter\na 1\n",
			wantProblem: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := promtest.CheckMetrics(t, []byte(tt.exposition))
			if (problems != "") != tt.wantProblem {
				t.Errorf("problems = %q, want problems: %v", problems, tt.wantProblem)
			}
		})
	}
}

// The skip-or-fail decision is what keeps CI honest: with PATH emptied,
// a missing promtool must skip locally and fail under CI.
func TestPromtoolMissingFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		promtest.Promtool(ft)
	}()
	<-done
	if !ft.fataled || ft.skipped {
		t.Errorf("with CI set and no promtool: fatal=%v skip=%v, want fatal only", ft.fataled, ft.skipped)
	}

	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	done = make(chan struct{})
	go func() {
		defer close(done)
		promtest.Promtool(ft)
	}()
	<-done
	if ft.fataled || !ft.skipped {
		t.Errorf("with CI unset and no promtool: fatal=%v skip=%v, want skip only", ft.fataled, ft.skipped)
	}
}

// fakeTB records Skip and Fatal instead of acting on the real test; it
// ends the calling goroutine the way testing does.
type fakeTB struct {
	testing.TB
	fataled, skipped bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = true
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.fataled = true
	runtime.Goexit()
}
