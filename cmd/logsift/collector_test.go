package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

// The OpenTelemetry Collector the OTLP tests send to is built once per test
// run from internal/otelcoltest, its own module.
var (
	collectorOnce sync.Once
	collectorBin  string
	collectorErr  error
)

func buildCollector(t *testing.T) string {
	t.Helper()
	collectorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelcoltest-bin-")
		if err != nil {
			collectorErr = err
			return
		}
		bin := filepath.Join(dir, "otelcoltest")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = "../../internal/otelcoltest"
		if out, err := cmd.CombinedOutput(); err != nil {
			collectorErr = &buildError{err: err, out: out}
			return
		}
		collectorBin = bin
	})
	if collectorErr != nil {
		t.Fatalf("building the test collector: %v", collectorErr)
	}
	return collectorBin
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// collector is a running test collector: OTLP/HTTP on addr, every request
// it accepts appended to out as a line of OTLP JSON.
type collector struct {
	t    *testing.T
	bin  string
	addr string
	cfg  string
	out  string
	cmd  *exec.Cmd
	logs *testutil.SyncBuffer
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	dir := t.TempDir()
	c := &collector{t: t, bin: buildCollector(t), addr: freePort(t), out: filepath.Join(dir, "received.jsonl")}
	c.cfg = filepath.Join(dir, "collector.yaml")
	cfg := `receivers:
  otlp:
    protocols:
      http: {endpoint: "` + c.addr + `"}
exporters:
  debug: {verbosity: basic}
  jsonfile: {path: "` + c.out + `"}
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    logs: {receivers: [otlp], exporters: [jsonfile, debug]}
`
	if err := os.WriteFile(c.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c.start()
	t.Cleanup(c.stop)
	return c
}

func (c *collector) start() {
	c.t.Helper()
	c.logs = &testutil.SyncBuffer{}
	c.cmd = exec.Command(c.bin, c.cfg)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, "the collector's OTLP port", 30*time.Second, func() bool {
		conn, err := net.Dial("tcp", c.addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

// stop shuts the collector down as its service manager would.
func (c *collector) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	stopServer(c.cmd)
	c.cmd = nil
}

// otlpRecord is one log record as the collector received it.
type otlpRecord struct {
	Body     string
	Severity int
	SevText  string
	Attrs    map[string]string
	Resource map[string]string
}

// records reads everything the collector accepted, in order.
func (c *collector) records() []otlpRecord {
	c.t.Helper()
	data, err := os.ReadFile(c.out)
	if err != nil {
		return nil
	}
	// A request being written is read next time.
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	type anyValue struct {
		StringValue *string `json:"stringValue"`
		BytesValue  *string `json:"bytesValue"`
	}
	type kv struct {
		Key   string   `json:"key"`
		Value anyValue `json:"value"`
	}
	var out []otlpRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var doc struct {
			ResourceLogs []struct {
				Resource struct {
					Attributes []kv `json:"attributes"`
				} `json:"resource"`
				ScopeLogs []struct {
					LogRecords []struct {
						Body           anyValue `json:"body"`
						SeverityNumber int      `json:"severityNumber"`
						SeverityText   string   `json:"severityText"`
						Attributes     []kv     `json:"attributes"`
					} `json:"logRecords"`
				} `json:"scopeLogs"`
			} `json:"resourceLogs"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			c.t.Fatalf("collector output: %v", err)
		}
		str := func(v anyValue) string {
			switch {
			case v.StringValue != nil:
				return *v.StringValue
			case v.BytesValue != nil:
				b, _ := base64.StdEncoding.DecodeString(*v.BytesValue)
				return string(b)
			}
			return ""
		}
		attrs := func(kvs []kv) map[string]string {
			m := map[string]string{}
			for _, a := range kvs {
				m[a.Key] = str(a.Value)
			}
			return m
		}
		for _, rl := range doc.ResourceLogs {
			res := attrs(rl.Resource.Attributes)
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, otlpRecord{Body: str(lr.Body), Severity: lr.SeverityNumber, SevText: lr.SeverityText,
						Attrs: attrs(lr.Attributes), Resource: res})
				}
			}
		}
	}
	return out
}
