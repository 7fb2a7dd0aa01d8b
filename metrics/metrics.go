// Package metrics owns logsift's Prometheus metrics and serves them, with
// the health and readiness endpoints, over HTTP.
//
// Every series carries only labels taken from configuration names (input,
// rule, output), never from log content, so cardinality is bounded by the
// configuration.
package metrics

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "logsift"

// Metrics owns every logsift metric. Its methods are safe for concurrent
// use. The handles it returns (InputMetrics, RuleMetrics, RuleStatus) are
// meant to be resolved once per pipeline and used on the hot path without
// further label lookups.
type Metrics struct {
	inputLines     *prometheus.CounterVec
	inputBytes     *prometheus.CounterVec
	inputFiles     *prometheus.GaugeVec
	inputLag       *prometheus.GaugeVec
	catchUpFiles   *prometheus.CounterVec
	catchUpBytes   *prometheus.CounterVec
	lostFiles      *prometheus.CounterVec
	heldLines      *prometheus.GaugeVec
	events         *prometheus.CounterVec
	linesForwarded *prometheus.CounterVec
	truncated      *prometheus.CounterVec
	parseErrors    *prometheus.CounterVec
	sources        *prometheus.GaugeVec

	eventsSuppressed *prometheus.CounterVec
	linesSuppressed  *prometheus.CounterVec

	sampled   *prometheus.CounterVec
	unpaired  *prometheus.CounterVec
	lastMatch *prometheus.GaugeVec
	expired   *prometheus.GaugeVec

	outputEvents *prometheus.CounterVec
	outputErrors *prometheus.CounterVec

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge

	// Remote are the metrics of network outputs.
	Remote *Remote

	mu sync.Mutex
	// Label values that may have series, so SetConfig knows what to delete
	// when a reload removes an input, rule or output.
	inputs, rules, outputs map[string]struct{}
}

// New creates every logsift metric and registers it, together with the Go
// runtime and process collectors, on reg. reg is never the global registry
// unless the caller passes it; tests use one registry each.
func New(reg prometheus.Registerer, bi BuildInfo) (*Metrics, error) {
	inputVec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, []string{"input"})
	}
	m := &Metrics{
		inputLines: inputVec("input_lines_total",
			"Lines read by the input, including lines later suppressed."),
		inputBytes: inputVec("input_bytes_total",
			"Bytes read by the input, including bytes later suppressed."),
		inputFiles: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "input_files",
			Help: "Files the input is currently following."}, []string{"input"}),
		heldLines: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "input_held_lines",
			Help: "Lines read but not yet released: in an unfinished multiline event or waiting for a pair partner. Closes the conservation input_lines_total = lines_forwarded_total + sum(lines_suppressed_total) + input_held_lines."}, []string{"input"}),
		inputLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "input_lag_bytes",
			Help: "Bytes written to the input's files but not yet acknowledged by every output (file size minus saved position, summed over files)."}, []string{"input"}),
		catchUpFiles: inputVec("input_catchup_files_total",
			"Rotated files read to their end as catch-up: after a start, a stalled output, or more than one rotation between two reads."),
		catchUpBytes: inputVec("input_catchup_bytes_total",
			"Bytes read from files counted in input_catchup_files_total."),
		lostFiles: inputVec("input_lost_files_total",
			"Files whose unread rest was deleted (by their rotator) before the input could read it; each is logged at warning level with its offset."),
		events: inputVec("events_total",
			"Events (a line, or a header with its traceback) assembled from the input's lines."),
		linesForwarded: inputVec("lines_forwarded_total",
			"Lines of the input passed on as forwarded events."),
		truncated: inputVec("multiline_truncated_total",
			"Events or lines of the input cut because they exceeded multiline max_lines or max_bytes."),

		parseErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "input_parse_errors_total",
			Help: "Lines of the input that were not a valid record of their source's format (forwarded unchanged and matched as text)."}, []string{"input", "format"}),
		sources: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "input_sources",
			Help: "Sources (files or stdin) of the input currently read in each record format, as chosen by format: auto or set in the config."}, []string{"input", "format"}),

		eventsSuppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_suppressed_total",
			Help: "Events of the input dropped because they matched the rule (dropped pair partners are not counted here)."}, []string{"input", "rule"}),
		linesSuppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "lines_suppressed_total",
			Help: "Lines of the input removed by the rule, including the lines of dropped pair partners."}, []string{"input", "rule"}),

		sampled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_sampled_total",
			Help: "Events that matched the rule but were forwarded anyway by its sample setting."}, []string{"rule"}),
		unpaired: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_unpaired_total",
			Help: "Events that matched the rule but were forwarded because no pair partner arrived within its window."}, []string{"rule"}),
		lastMatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "rule_last_match_timestamp_seconds",
			Help: "Unix time the rule last matched an event, 0 if it has not matched."}, []string{"rule"}),
		expired: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "rule_expired",
			Help: "1 if the rule's expires date has passed (the rule is still applied), else 0."}, []string{"rule"}),

		outputEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_forwarded_total",
			Help: "Events the output has written to its destination."}, []string{"output"}),
		outputErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "output_errors_total",
			Help: "Failed writes or flushes of the output."}, []string{"output"}),

		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "config_last_reload_successful",
			Help: "1 if the last configuration load or reload succeeded, 0 if it failed and the previous configuration is still running."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload."}),

		inputs:  make(map[string]struct{}),
		rules:   make(map[string]struct{}),
		outputs: make(map[string]struct{}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help:        "Always 1; its labels tell which logsift version, commit and Go version are running.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion}})
	build.Set(1)

	own := []prometheus.Collector{
		build,
		m.inputLines, m.inputBytes, m.inputFiles, m.inputLag, m.catchUpFiles, m.catchUpBytes, m.lostFiles, m.heldLines, m.events, m.linesForwarded, m.truncated,
		m.parseErrors, m.sources,
		m.eventsSuppressed, m.linesSuppressed,
		m.sampled, m.unpaired, m.lastMatch, m.expired,
		m.outputEvents, m.outputErrors,
		m.reloadOK, m.reloadTime,
	}
	remote, err := NewRemote(reg)
	if err != nil {
		return nil, err
	}
	m.Remote = remote
	for _, c := range own {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register logsift metrics: %w", err)
		}
	}
	// A registry shared with an embedding program may already carry the
	// standard collectors; one copy of them is all that is needed.
	std := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for _, c := range std {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("register runtime collectors: %w", err)
			}
		}
	}
	return m, nil
}

// InputMetrics are one input's series.
type InputMetrics struct {
	Lines          prometheus.Counter // logsift_input_lines_total
	Bytes          prometheus.Counter // logsift_input_bytes_total
	Events         prometheus.Counter // logsift_events_total
	LinesForwarded prometheus.Counter // logsift_lines_forwarded_total
	Truncated      prometheus.Counter // logsift_multiline_truncated_total
	Files          prometheus.Gauge   // logsift_input_files
	LagBytes       prometheus.Gauge   // logsift_input_lag_bytes
	HeldLines      prometheus.Gauge   // logsift_input_held_lines
	CatchUpFiles   prometheus.Counter // logsift_input_catchup_files_total
	CatchUpBytes   prometheus.Counter // logsift_input_catchup_bytes_total
	LostFiles      prometheus.Counter // logsift_input_lost_files_total

	parseErrors *prometheus.CounterVec
	sources     *prometheus.GaugeVec
	name        string
}

// ParseErrors returns logsift_input_parse_errors_total for the input's
// records of format. Format names come from the configuration schema.
func (im *InputMetrics) ParseErrors(format string) prometheus.Counter {
	return im.parseErrors.WithLabelValues(im.name, format)
}

// Sources returns logsift_input_sources for the input's sources of format.
func (im *InputMetrics) Sources(format string) prometheus.Gauge {
	return im.sources.WithLabelValues(im.name, format)
}

// Input returns the series of input name, creating them if needed. Handles
// of an input that stays configured across SetConfig remain valid.
func (m *Metrics) Input(name string) *InputMetrics {
	m.remember(m.inputs, name)
	return &InputMetrics{
		Lines:          m.inputLines.WithLabelValues(name),
		Bytes:          m.inputBytes.WithLabelValues(name),
		Events:         m.events.WithLabelValues(name),
		LinesForwarded: m.linesForwarded.WithLabelValues(name),
		Truncated:      m.truncated.WithLabelValues(name),
		Files:          m.inputFiles.WithLabelValues(name),
		LagBytes:       m.inputLag.WithLabelValues(name),
		HeldLines:      m.heldLines.WithLabelValues(name),
		CatchUpFiles:   m.catchUpFiles.WithLabelValues(name),
		CatchUpBytes:   m.catchUpBytes.WithLabelValues(name),
		LostFiles:      m.lostFiles.WithLabelValues(name),
		parseErrors:    m.parseErrors,
		sources:        m.sources,
		name:           name,
	}
}

// RuleMetrics are the series of one rule applied to one input.
type RuleMetrics struct {
	EventsSuppressed prometheus.Counter // logsift_events_suppressed_total
	LinesSuppressed  prometheus.Counter // logsift_lines_suppressed_total
}

// InputRule returns the series of rule on input, creating them if needed.
func (m *Metrics) InputRule(input, rule string) *RuleMetrics {
	m.remember(m.inputs, input)
	m.remember(m.rules, rule)
	return &RuleMetrics{
		EventsSuppressed: m.eventsSuppressed.WithLabelValues(input, rule),
		LinesSuppressed:  m.linesSuppressed.WithLabelValues(input, rule),
	}
}

// RuleStatus are the series of one rule across all inputs.
type RuleStatus struct {
	Sampled   prometheus.Counter // logsift_events_sampled_total
	Unpaired  prometheus.Counter // logsift_events_unpaired_total
	LastMatch prometheus.Gauge   // logsift_rule_last_match_timestamp_seconds
	Expired   prometheus.Gauge   // logsift_rule_expired
}

// Rule returns the series of rule, creating them if needed.
func (m *Metrics) Rule(rule string) *RuleStatus {
	m.remember(m.rules, rule)
	return &RuleStatus{
		Sampled:   m.sampled.WithLabelValues(rule),
		Unpaired:  m.unpaired.WithLabelValues(rule),
		LastMatch: m.lastMatch.WithLabelValues(rule),
		Expired:   m.expired.WithLabelValues(rule),
	}
}

// Written counts events an output has written. Together with Failed it
// lets Metrics observe outputs.
func (m *Metrics) Written(output string, events int) {
	if events <= 0 {
		return
	}
	m.outputEvents.WithLabelValues(output).Add(float64(events))
}

// Failed counts a failed write or flush of output. The error itself is
// for logs, not for labels: its text is unbounded.
func (m *Metrics) Failed(output string, _ error) {
	m.outputErrors.WithLabelValues(output).Inc()
}

// SetConfig aligns the series with a (re)loaded configuration: every
// input, (input, rule) pair, rule and output gets its series at 0 if it had
// none, so alerts and dashboards see a rule before its first match, and
// series of inputs, rules and outputs no longer configured are deleted.
//
// Handles obtained earlier for names that remain configured keep working;
// handles for removed names are detached and no longer exported.
func (m *Metrics) SetConfig(inputs, rules, outputs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()

	removed := func(known map[string]struct{}, keep []string) []string {
		want := make(map[string]struct{}, len(keep))
		for _, k := range keep {
			want[k] = struct{}{}
		}
		var gone []string
		for k := range known {
			if _, ok := want[k]; !ok {
				gone = append(gone, k)
				delete(known, k)
			}
		}
		for k := range want {
			known[k] = struct{}{}
		}
		return gone
	}
	for _, in := range removed(m.inputs, inputs) {
		l := prometheus.Labels{"input": in}
		for _, v := range []*prometheus.MetricVec{
			m.inputLines.MetricVec, m.inputBytes.MetricVec, m.inputFiles.MetricVec, m.inputLag.MetricVec, m.heldLines.MetricVec,
			m.catchUpFiles.MetricVec, m.catchUpBytes.MetricVec, m.lostFiles.MetricVec,
			m.events.MetricVec, m.linesForwarded.MetricVec, m.truncated.MetricVec,
			m.parseErrors.MetricVec, m.sources.MetricVec,
			m.eventsSuppressed.MetricVec, m.linesSuppressed.MetricVec,
		} {
			v.DeletePartialMatch(l)
		}
	}
	for _, r := range removed(m.rules, rules) {
		l := prometheus.Labels{"rule": r}
		for _, v := range []*prometheus.MetricVec{
			m.eventsSuppressed.MetricVec, m.linesSuppressed.MetricVec,
			m.sampled.MetricVec, m.unpaired.MetricVec, m.lastMatch.MetricVec, m.expired.MetricVec,
		} {
			v.DeletePartialMatch(l)
		}
	}
	for _, o := range removed(m.outputs, outputs) {
		m.outputEvents.DeleteLabelValues(o)
		m.outputErrors.DeleteLabelValues(o)
	}

	// WithLabelValues creates a missing child at 0 and leaves an existing
	// one, and its value, alone.
	for _, in := range inputs {
		m.inputLines.WithLabelValues(in)
		m.inputBytes.WithLabelValues(in)
		m.inputFiles.WithLabelValues(in)
		m.inputLag.WithLabelValues(in)
		m.catchUpFiles.WithLabelValues(in)
		m.catchUpBytes.WithLabelValues(in)
		m.lostFiles.WithLabelValues(in)
		m.heldLines.WithLabelValues(in)
		m.events.WithLabelValues(in)
		m.linesForwarded.WithLabelValues(in)
		m.truncated.WithLabelValues(in)
		for _, r := range rules {
			m.eventsSuppressed.WithLabelValues(in, r)
			m.linesSuppressed.WithLabelValues(in, r)
		}
	}
	for _, r := range rules {
		m.sampled.WithLabelValues(r)
		m.unpaired.WithLabelValues(r)
		m.lastMatch.WithLabelValues(r)
		m.expired.WithLabelValues(r)
	}
	for _, o := range outputs {
		m.outputEvents.WithLabelValues(o)
		m.outputErrors.WithLabelValues(o)
	}
}

// ReloadResult records the outcome of a configuration load or reload at
// now. The success timestamp only moves on success, so it tells how long
// the running configuration has been in place.
func (m *Metrics) ReloadResult(ok bool, now time.Time) {
	if !ok {
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(now.UnixNano()) / 1e9)
}

func (m *Metrics) remember(set map[string]struct{}, name string) {
	m.mu.Lock()
	set[name] = struct{}{}
	m.mu.Unlock()
}
