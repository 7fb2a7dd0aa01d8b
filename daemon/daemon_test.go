package daemon

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logsift/logsift/metrics"
	"github.com/logsift/logsift/rules"
)

const (
	wsAccess = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -` + "\n"
	wzBlock  = "Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write` + "\n" +
		`    assert status_set is not None, "write() before start_response"` + "\n" +
		"AssertionError: write() before start_response\n"
)

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSummaryLines drives a daemon with an injected clock: suppressed events
// are reported once per summary period on the forwarded output.
func TestSummaryLines(t *testing.T) {
	cfg, err := rules.Parse("t.yaml", []byte("inputs: [{paths: ['-']}]\nsummary: {every: 1m}\nmetrics: {listen: ''}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New(prometheus.NewRegistry(), metrics.BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	stdinR, stdinW := io.Pipe()
	var out testutil.SyncBuffer
	d, err := New(Options{Config: cfg, Metrics: m, Stdin: stdinR, Stdout: &out, Now: clock.Now, TickEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()

	io.WriteString(stdinW, strings.Repeat(wsAccess+wzBlock, 3)+"kept line\n")
	waitUntil(t, "the kept line", func() bool { return strings.Contains(out.String(), "kept line\n") })
	if strings.Contains(out.String(), "logsift: suppressed") {
		t.Fatal("summary written before the period ended")
	}
	clock.Advance(time.Minute)
	want := "logsift: suppressed 3 events (rule werkzeug-ws-close) in the last 1m0s\n"
	waitUntil(t, "the summary line", func() bool { return strings.Contains(out.String(), want) })

	stdinW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "kept line\n"+want {
		t.Fatalf("output %q", got)
	}
}
