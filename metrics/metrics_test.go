package metrics_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/logsift/logsift/metrics"
	"github.com/logsift/logsift/outputs"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var testBuild = metrics.BuildInfo{Version: "v1.2.3", Revision: "0123abcd", GoVersion: "go1.26.8"}

// logsiftNames are every metric of the documented contract apart from the Go and process
// collectors, whose values cannot be golden.
var logsiftNames = []string{
	"logsift_build_info",
	"logsift_input_lines_total",
	"logsift_input_bytes_total",
	"logsift_input_files",
	"logsift_input_lag_bytes",
	"logsift_events_total",
	"logsift_events_suppressed_total",
	"logsift_lines_suppressed_total",
	"logsift_lines_forwarded_total",
	"logsift_events_sampled_total",
	"logsift_events_unpaired_total",
	"logsift_rule_last_match_timestamp_seconds",
	"logsift_rule_expired",
	"logsift_events_forwarded_total",
	"logsift_output_errors_total",
	"logsift_multiline_truncated_total",
	"logsift_config_last_reload_successful",
	"logsift_config_last_reload_success_timestamp_seconds",
}

func newMetrics(t *testing.T) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg, testBuild)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, reg
}

// script is a small, plausible run: webapp read 10 lines, of which a
// websocket-close event (header + 6 traceback lines) was dropped.
func script(m *metrics.Metrics) {
	m.SetConfig([]string{"webapp", "worker"}, []string{"werkzeug-ws-close", "healthcheck"}, []string{"stdout", "archive"})
	m.ReloadResult(true, time.Unix(1700000000, 500_000_000))

	in := m.Input("webapp")
	in.Lines.Add(10)
	in.Bytes.Add(640)
	in.Events.Add(4)
	in.LinesForwarded.Add(3)
	in.Truncated.Inc()
	in.Files.Set(2)
	in.LagBytes.Set(128)

	ws := m.InputRule("webapp", "werkzeug-ws-close")
	ws.EventsSuppressed.Inc()
	ws.LinesSuppressed.Add(7)

	st := m.Rule("werkzeug-ws-close")
	st.LastMatch.Set(1700000100)
	st.Sampled.Inc()
	hc := m.Rule("healthcheck")
	hc.Expired.Set(1)
	hc.Unpaired.Add(2)

	m.Written("stdout", 3)
	m.Written("stdout", 0)
	m.Failed("archive", errors.New("disk full"))
	m.ReloadResult(false, time.Unix(1700000200, 0))
}

func TestExpositionGolden(t *testing.T) {
	m, reg := newMetrics(t)
	script(m)

	golden := filepath.Join("testdata", "exposition.txt")
	if *update {
		got, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, logsiftNames...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(reg, f, logsiftNames...); err != nil {
		t.Error(err)
	}
}

func TestExposesEverySpecMetric(t *testing.T) {
	m, reg := newMetrics(t)
	script(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range append(logsiftNames, "go_goroutines", "process_start_time_seconds") {
		if !have[name] {
			t.Errorf("metric %s is not exposed", name)
		}
	}
}

func TestLint(t *testing.T) {
	m, reg := newMetrics(t)
	script(m)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// series returns every logsift sample as "name{labels}" -> value.
func series(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "logsift_") || mf.GetName() == "logsift_build_info" {
			continue
		}
		for _, s := range mf.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case s.Counter != nil:
				out[key] = s.GetCounter().GetValue()
			case s.Gauge != nil:
				out[key] = s.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestSetConfig(t *testing.T) {
	m, reg := newMetrics(t)

	// A handle taken before configuration, for a name the configuration
	// does not contain, must not leave series behind.
	m.Input("stray").Lines.Inc()

	m.SetConfig([]string{"webapp", "worker"}, []string{"ws-close", "health"}, []string{"stdout"})
	got := series(t, reg)
	want := map[string]float64{
		"logsift_input_lines_total{input=webapp}":                     0,
		"logsift_input_lines_total{input=worker}":                     0,
		"logsift_input_bytes_total{input=webapp}":                     0,
		"logsift_input_bytes_total{input=worker}":                     0,
		"logsift_input_files{input=webapp}":                           0,
		"logsift_input_files{input=worker}":                           0,
		"logsift_input_lag_bytes{input=webapp}":                       0,
		"logsift_input_lag_bytes{input=worker}":                       0,
		"logsift_events_total{input=webapp}":                          0,
		"logsift_events_total{input=worker}":                          0,
		"logsift_input_held_lines{input=webapp}":                      0,
		"logsift_input_held_lines{input=worker}":                      0,
		"logsift_input_catchup_files_total{input=webapp}":             0,
		"logsift_input_catchup_files_total{input=worker}":             0,
		"logsift_input_catchup_bytes_total{input=webapp}":             0,
		"logsift_input_catchup_bytes_total{input=worker}":             0,
		"logsift_input_lost_files_total{input=webapp}":                0,
		"logsift_input_lost_files_total{input=worker}":                0,
		"logsift_lines_forwarded_total{input=webapp}":                 0,
		"logsift_lines_forwarded_total{input=worker}":                 0,
		"logsift_multiline_truncated_total{input=webapp}":             0,
		"logsift_multiline_truncated_total{input=worker}":             0,
		"logsift_events_suppressed_total{input=webapp,rule=ws-close}": 0,
		"logsift_events_suppressed_total{input=webapp,rule=health}":   0,
		"logsift_events_suppressed_total{input=worker,rule=ws-close}": 0,
		"logsift_events_suppressed_total{input=worker,rule=health}":   0,
		"logsift_lines_suppressed_total{input=webapp,rule=ws-close}":  0,
		"logsift_lines_suppressed_total{input=webapp,rule=health}":    0,
		"logsift_lines_suppressed_total{input=worker,rule=ws-close}":  0,
		"logsift_lines_suppressed_total{input=worker,rule=health}":    0,
		"logsift_events_sampled_total{rule=ws-close}":                 0,
		"logsift_events_sampled_total{rule=health}":                   0,
		"logsift_events_unpaired_total{rule=ws-close}":                0,
		"logsift_events_unpaired_total{rule=health}":                  0,
		"logsift_rule_last_match_timestamp_seconds{rule=ws-close}":    0,
		"logsift_rule_last_match_timestamp_seconds{rule=health}":      0,
		"logsift_rule_expired{rule=ws-close}":                         0,
		"logsift_rule_expired{rule=health}":                           0,
		"logsift_events_forwarded_total{output=stdout}":               0,
		"logsift_output_errors_total{output=stdout}":                  0,
		"logsift_config_last_reload_successful{}":                     0,
		"logsift_config_last_reload_success_timestamp_seconds{}":      0,
	}
	compareSeries(t, "after first SetConfig", got, want)

	// Counts before a reload survive it for names that stay.
	webapp := m.Input("webapp")
	webapp.Lines.Add(5)
	m.InputRule("webapp", "ws-close").EventsSuppressed.Add(2)
	m.Rule("ws-close").LastMatch.Set(42)
	m.Written("stdout", 3)

	// Reload: worker, health and stdout go; batch, new-rule and file come.
	m.SetConfig([]string{"webapp", "batch"}, []string{"ws-close", "new-rule"}, []string{"file"})
	got = series(t, reg)
	want = map[string]float64{
		"logsift_input_lines_total{input=webapp}":                     5,
		"logsift_input_lines_total{input=batch}":                      0,
		"logsift_input_bytes_total{input=webapp}":                     0,
		"logsift_input_bytes_total{input=batch}":                      0,
		"logsift_input_files{input=webapp}":                           0,
		"logsift_input_files{input=batch}":                            0,
		"logsift_input_lag_bytes{input=webapp}":                       0,
		"logsift_input_lag_bytes{input=batch}":                        0,
		"logsift_input_held_lines{input=webapp}":                      0,
		"logsift_input_held_lines{input=batch}":                       0,
		"logsift_input_catchup_files_total{input=webapp}":             0,
		"logsift_input_catchup_files_total{input=batch}":              0,
		"logsift_input_catchup_bytes_total{input=webapp}":             0,
		"logsift_input_catchup_bytes_total{input=batch}":              0,
		"logsift_input_lost_files_total{input=webapp}":                0,
		"logsift_input_lost_files_total{input=batch}":                 0,
		"logsift_events_total{input=webapp}":                          0,
		"logsift_events_total{input=batch}":                           0,
		"logsift_lines_forwarded_total{input=webapp}":                 0,
		"logsift_lines_forwarded_total{input=batch}":                  0,
		"logsift_multiline_truncated_total{input=webapp}":             0,
		"logsift_multiline_truncated_total{input=batch}":              0,
		"logsift_events_suppressed_total{input=webapp,rule=ws-close}": 2,
		"logsift_events_suppressed_total{input=webapp,rule=new-rule}": 0,
		"logsift_events_suppressed_total{input=batch,rule=ws-close}":  0,
		"logsift_events_suppressed_total{input=batch,rule=new-rule}":  0,
		"logsift_lines_suppressed_total{input=webapp,rule=ws-close}":  0,
		"logsift_lines_suppressed_total{input=webapp,rule=new-rule}":  0,
		"logsift_lines_suppressed_total{input=batch,rule=ws-close}":   0,
		"logsift_lines_suppressed_total{input=batch,rule=new-rule}":   0,
		"logsift_events_sampled_total{rule=ws-close}":                 0,
		"logsift_events_sampled_total{rule=new-rule}":                 0,
		"logsift_events_unpaired_total{rule=ws-close}":                0,
		"logsift_events_unpaired_total{rule=new-rule}":                0,
		"logsift_rule_last_match_timestamp_seconds{rule=ws-close}":    42,
		"logsift_rule_last_match_timestamp_seconds{rule=new-rule}":    0,
		"logsift_rule_expired{rule=ws-close}":                         0,
		"logsift_rule_expired{rule=new-rule}":                         0,
		"logsift_events_forwarded_total{output=file}":                 0,
		"logsift_output_errors_total{output=file}":                    0,
		"logsift_config_last_reload_successful{}":                     0,
		"logsift_config_last_reload_success_timestamp_seconds{}":      0,
	}
	compareSeries(t, "after reload", got, want)

	// A handle kept across the reload still feeds the exported series.
	webapp.Lines.Inc()
	if v := series(t, reg)["logsift_input_lines_total{input=webapp}"]; v != 6 {
		t.Errorf("webapp lines after reload via old handle = %v, want 6", v)
	}
}

func compareSeries(t *testing.T, when string, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: missing series %s", when, k)
		case g != w:
			t.Errorf("%s: %s = %v, want %v", when, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected series %s", when, k)
		}
	}
}

func TestReloadResult(t *testing.T) {
	tests := []struct {
		name      string
		results   []bool
		wantOK    float64
		wantStamp float64
	}{
		{name: "never reported", wantOK: 0, wantStamp: 0},
		{name: "success", results: []bool{true}, wantOK: 1, wantStamp: 1001},
		{name: "failure after success keeps the timestamp", results: []bool{true, false}, wantOK: 0, wantStamp: 1001},
		{name: "success after failure", results: []bool{true, false, true}, wantOK: 1, wantStamp: 1003},
		{name: "failure only", results: []bool{false}, wantOK: 0, wantStamp: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t)
			for i, ok := range tt.results {
				m.ReloadResult(ok, time.Unix(int64(1001+i), 0))
			}
			s := series(t, reg)
			if got := s["logsift_config_last_reload_successful{}"]; got != tt.wantOK {
				t.Errorf("successful = %v, want %v", got, tt.wantOK)
			}
			if got := s["logsift_config_last_reload_success_timestamp_seconds{}"]; got != tt.wantStamp {
				t.Errorf("timestamp = %v, want %v", got, tt.wantStamp)
			}
		})
	}
}

func TestTwoInstancesSideBySide(t *testing.T) {
	m1, reg1 := newMetrics(t)
	m2, reg2 := newMetrics(t)
	m1.Input("webapp").Lines.Add(7)
	m2.Input("webapp").Lines.Add(1)

	if got := series(t, reg1)["logsift_input_lines_total{input=webapp}"]; got != 7 {
		t.Errorf("registry 1: lines = %v, want 7", got)
	}
	if got := series(t, reg2)["logsift_input_lines_total{input=webapp}"]; got != 1 {
		t.Errorf("registry 2: lines = %v, want 1", got)
	}
}

func TestNewTwiceOnOneRegistryFails(t *testing.T) {
	_, reg := newMetrics(t)
	if _, err := metrics.New(reg, testBuild); err == nil {
		t.Fatal("second New on the same registry succeeded; want a duplicate registration error")
	}
}

func TestNewToleratesExistingRuntimeCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	if _, err := metrics.New(reg, testBuild); err != nil {
		t.Fatalf("New on a registry that already has the Go collector: %v", err)
	}
}

func TestReadBuildInfo(t *testing.T) {
	bi := metrics.ReadBuildInfo("v9.9.9", "feedface")
	if bi.Version != "v9.9.9" || bi.Revision != "feedface" {
		t.Errorf("explicit values not kept: %+v", bi)
	}
	if bi.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", bi.GoVersion, runtime.Version())
	}
	blank := metrics.ReadBuildInfo("", "")
	if blank.Version == "" || blank.Revision == "" || blank.GoVersion == "" {
		t.Errorf("blanks not filled: %+v", blank)
	}
}

// Metrics is what the output fan-out reports writes and failures to.
var _ outputs.Observer = (*metrics.Metrics)(nil)
