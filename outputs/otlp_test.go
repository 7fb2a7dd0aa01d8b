package outputs

import (
	"compress/gzip"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/logsift/logsift/event"
)

// receiver is an OTLP/HTTP endpoint answering with the statuses queued in
// replies (200 once they run out), keeping the bodies of what it accepted.
type receiver struct {
	mu       sync.Mutex
	replies  []int
	after    string
	accepted [][]string
	reply    []byte
	requests int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if req.Header.Get("Content-Type") != "application/x-protobuf" || req.Header.Get("Content-Encoding") != "gzip" {
		http.Error(w, "bad headers", http.StatusUnsupportedMediaType)
		return
	}
	if len(r.replies) > 0 {
		code := r.replies[0]
		r.replies = r.replies[1:]
		if r.after != "" {
			w.Header().Set("Retry-After", r.after)
		}
		w.WriteHeader(code)
		return
	}
	zr, err := gzip.NewReader(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(zr)
	var ld logspb.LogsData
	if err := proto.Unmarshal(data, &ld); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var bodies []string
	for _, rl := range ld.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				b := lr.Body.GetStringValue()
				if v := lr.Body.GetBytesValue(); v != nil {
					b = "bytes:" + string(v)
				}
				bodies = append(bodies, lr.SeverityText+"|"+b)
			}
		}
	}
	r.accepted = append(r.accepted, bodies)
	w.Write(r.reply)
}

func newTestOTLP(t *testing.T, rcv *receiver, now func() time.Time) *OTLPOutput {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	o, err := NewOTLP("otlp", OTLPConfig{Endpoint: srv.URL + "/v1/logs", Gzip: true, Resource: map[string]string{"service.name": "t"}}, SelectForwarded, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if now != nil {
		o.now = now
	}
	return o
}

func otlpBatch() *event.OutBatch {
	b := &event.OutBatch{Input: "app"}
	b.NotePath("/var/log/app.log")
	b.Add([]byte("INFO:werkzeug:GET / 200\n"), event.Forwarded)
	b.Add([]byte("dropped\n"), event.Suppressed)
	b.Add([]byte("ERROR:app:boom\nTraceback (most recent call last):\nValueError: x\n"), event.Forwarded)
	b.Add([]byte("not utf-8 \xff\r\n"), event.Forwarded)
	return b
}

func TestOTLPSendsOneRecordPerEvent(t *testing.T) {
	rcv := &receiver{}
	o := newTestOTLP(t, rcv, nil)
	if err := o.Write(otlpBatch()); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "INFO|INFO:werkzeug:GET / 200;ERROR|ERROR:app:boom\nTraceback (most recent call last):\nValueError: x;|bytes:not utf-8 \xff"
	if len(rcv.accepted) != 1 || strings.Join(rcv.accepted[0], ";") != want {
		t.Errorf("accepted %q, want one request %q", rcv.accepted, want)
	}
}

func TestOTLPRetriesAndHonoursRetryAfter(t *testing.T) {
	rcv := &receiver{replies: []int{503, 429}, after: "2"}
	clock := time.Unix(1000, 0)
	o := newTestOTLP(t, rcv, func() time.Time { return clock })
	if err := o.Write(otlpBatch()); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err == nil {
		t.Fatal("a 503 must fail the flush")
	}
	if err := o.Flush(); err == nil || rcv.requests != 1 {
		t.Fatalf("during Retry-After: err %v after %d requests; want an error without a request", err, rcv.requests)
	}
	clock = clock.Add(2 * time.Second)
	if err := o.Flush(); err == nil {
		t.Fatal("a 429 must fail the flush")
	}
	clock = clock.Add(3 * time.Second)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if rcv.requests != 3 || len(rcv.accepted) != 1 || len(rcv.accepted[0]) != 3 {
		t.Errorf("%d requests, accepted %q: want the same 3 records accepted by the third", rcv.requests, rcv.accepted)
	}
}

func TestOTLPDropsWhatTheReceiverRefuses(t *testing.T) {
	rcv := &receiver{replies: []int{400}}
	o := newTestOTLP(t, rcv, nil)
	o.Write(otlpBatch())
	if err := o.Flush(); err != nil {
		t.Fatalf("a 400 is not retried: %v", err)
	}
	b := &event.OutBatch{}
	b.Add([]byte("next\n"), event.Forwarded)
	o.Write(b)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(rcv.accepted) != 1 || strings.Join(rcv.accepted[0], ";") != "|next" {
		t.Errorf("accepted %q, want only the next request", rcv.accepted)
	}
}

func TestOTLPBatchBytes(t *testing.T) {
	rcv := &receiver{}
	o := newTestOTLP(t, rcv, nil)
	o.cfg.BatchBytes = 40
	if err := o.Write(otlpBatch()); err != nil {
		t.Fatal(err)
	}
	if len(rcv.accepted) == 0 {
		t.Error("a request over batch_bytes was not sent before the flush")
	}
}

func TestPartialSuccess(t *testing.T) {
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, 7)
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, "too old")
	var reply []byte
	reply = protowire.AppendTag(reply, 1, protowire.BytesType)
	reply = protowire.AppendBytes(reply, ps)
	if n, msg := partialSuccess(reply); n != 7 || msg != "too old" {
		t.Errorf("partialSuccess = %d, %q", n, msg)
	}
	if n, _ := partialSuccess([]byte{0xff}); n != 0 {
		t.Errorf("garbage gives %d", n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, "Thu, 03 Dec 2026 10:00:10 GMT": 10 * time.Second, "99999": 5 * time.Minute} {
		if got, ok := retryAfter(v, now); !ok || got != want {
			t.Errorf("retryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := retryAfter("soon", now); ok {
		t.Error("accepted a bad value")
	}
}

// BenchmarkOTLPEncode measures building and encoding requests (no
// network): records and attributes are reused, so the steady state
// allocates nothing per event.
func BenchmarkOTLPEncode(b *testing.B) {
	o, err := NewOTLP("otlp", OTLPConfig{Endpoint: "http://127.0.0.1:1/v1/logs", Gzip: false}, SelectForwarded, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	batch := &event.OutBatch{Input: "app"}
	batch.NotePath("/var/log/app.log")
	line := []byte("INFO:werkzeug:127.0.0.1 - - [25/Nov/2026 21:45:17] \"GET /items/172 HTTP/1.1\" 200 -\n")
	for range 1000 {
		batch.Add(line, event.Forwarded)
	}
	b.SetBytes(int64(len(batch.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Write(batch); err != nil {
			b.Fatal(err)
		}
		o.wire, err = proto.MarshalOptions{}.MarshalAppend(o.wire[:0], &o.data)
		if err != nil {
			b.Fatal(err)
		}
		o.reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
}

// TestOTLPTLS: an https endpoint is trusted through ca_file, and refused
// without it.
func TestOTLPTLS(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewTLSServer(rcv)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		caFile string
		ok     bool
	}{{"with ca_file", ca, true}, {"without", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := NewOTLP("otlp", OTLPConfig{Endpoint: srv.URL + "/v1/logs", Gzip: true, CAFile: tc.caFile}, SelectForwarded, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			o.Write(otlpBatch())
			if err := o.Flush(); (err == nil) != tc.ok {
				t.Errorf("flush: %v, want success %v", err, tc.ok)
			}
		})
	}
}
