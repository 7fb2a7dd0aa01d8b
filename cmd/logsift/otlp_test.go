package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOTLPToCollector: a corpus capture tailed by logsift arrives at a
// real OpenTelemetry Collector as exactly the forwarded events, in order,
// one record each, with file attributes, the input's name, the level's
// severity and the configured resource.
func TestOTLPToCollector(t *testing.T) {
	col := newCollector(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "app.log")
	capture, err := os.ReadFile(filepath.Join(corpusDir, "b_werkzeug_threading_basicconfig.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, capture, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: webapp, paths: [%q], start_at: beginning}]
outputs:
  - type: otlp
    endpoint: http://%s
    resource: {service.name: webapp, deployment.environment: test}
positions: {path: %q}
metrics: {listen: %q}
`, in, col.addr, filepath.Join(dir, "positions.json"), addr))
	d := startDaemon(t, cfg)
	waitReady(t, addr)
	want := readExpected(t, "b_werkzeug_threading_basicconfig.expected.log")
	var recs []otlpRecord
	waitFor(t, "the forwarded events at the collector", 60*time.Second, func() bool {
		recs = col.records()
		return len(bodiesOf(recs)) >= len(want)
	})
	if got := bodiesOf(recs); got != want {
		t.Fatalf("the collector holds %d bytes of bodies, not the expected %d; first difference at line %d",
			len(got), len(want), firstDiffLine(got, want))
	}
	levels := map[string]int{"ERROR": 17, "WARNING": 13, "INFO": 9}
	for i, r := range recs {
		if r.Attrs["log.file.path"] != in || r.Attrs["log.file.name"] != "app.log" || r.Attrs["logsift.input"] != "webapp" {
			t.Fatalf("record %d attributes %v", i, r.Attrs)
		}
		if r.Resource["service.name"] != "webapp" || r.Resource["deployment.environment"] != "test" || r.Resource["host.name"] == "" {
			t.Fatalf("record %d resource %v", i, r.Resource)
		}
		level, _, _ := strings.Cut(r.Body, ":")
		if want, ok := levels[level]; ok && (r.Severity != want || r.SevText != level) {
			t.Errorf("record %q has severity %d %q, want %d", r.Body[:min(len(r.Body), 60)], r.Severity, r.SevText, want)
		}
	}
	d.stop(t)
	checkLog(t, d.stderr.String())
	t.Logf("%d records", len(recs))
}

// bodiesOf joins the records' bodies as the events they are.
func bodiesOf(recs []otlpRecord) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.Body)
		b.WriteByte('\n')
	}
	return b.String()
}
