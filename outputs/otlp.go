package outputs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/coreos/go-systemd/v22/journal"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/metrics"
)

// OTLPConfig configures an OTLP/HTTP logs output.
type OTLPConfig struct {
	Endpoint   string // the full logs URL
	Headers    map[string]string
	CAFile     string
	CertFile   string
	KeyFile    string
	Insecure   bool // skip certificate verification
	Timeout    time.Duration
	Gzip       bool
	Resource   map[string]string
	BatchBytes int
}

// OTLPOutput sends events to an OpenTelemetry Collector (or any OTLP/HTTP
// logs receiver) as protobuf, one LogRecord per event: the body is the
// event's bytes without the final newline (a string when they are valid
// UTF-8, else bytes), the severity the level its first line names, and
// the attributes log.file.path, log.file.name and logsift.input.
//
// Write adds records to the request being built and sends it once it
// holds BatchBytes; Flush sends what is there. A request is acknowledged
// only by a 2xx: a network error, 429 or 5xx fails the Write or Flush, so
// the fan-out retries it (the records stay) and positions wait. A
// Retry-After is honoured: until then, sends fail without trying. Any
// other 4xx means the receiver will never take the request: it is logged,
// counted as rejected and dropped, so one bad batch cannot stop the
// pipeline for ever.
type OTLPOutput struct {
	name   string
	sel    Selection
	cfg    OTLPConfig
	client *http.Client
	log    *slog.Logger
	m      *metrics.RemoteOutput
	now    func() time.Time

	data    logspb.LogsData
	scope   *logspb.ScopeLogs
	recs    []*otlpRecord // the request's records, as scope.LogRecords
	free    []*otlpRecord // records of earlier requests, for reuse
	attrs   map[attrKey][]*commonpb.KeyValue
	pending int // bytes of the events in the request
	retryAt time.Time
	failing bool

	progress resume

	wire []byte
	body bytes.Buffer
	gz   *gzip.Writer
}

// NewOTLP returns an OTLP output; m may be nil.
func NewOTLP(name string, cfg OTLPConfig, sel Selection, m *metrics.RemoteOutput, logger *slog.Logger) (*OTLPOutput, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tlsCfg, err := clientTLS(cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.Insecure)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", name, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 1 << 20
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	o := &OTLPOutput{
		name:   name,
		sel:    sel,
		cfg:    cfg,
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout},
		log:    logger,
		m:      m,
		now:    time.Now,
	}
	res := &resourcepb.Resource{}
	for _, k := range sortedKeys(cfg.Resource) {
		res.Attributes = append(res.Attributes, stringAttr(k, cfg.Resource[k]))
	}
	o.scope = &logspb.ScopeLogs{Scope: &commonpb.InstrumentationScope{Name: "logsift"}}
	o.data.ResourceLogs = []*logspb.ResourceLogs{{Resource: res, ScopeLogs: []*logspb.ScopeLogs{o.scope}}}
	return o, nil
}

// clientTLS builds the TLS settings of a client, nil when there are none.
func clientTLS(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	if caFile == "" && certFile == "" && !insecure {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // opted into by configuration
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s: no PEM certificate in it", caFile)
		}
		c.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: cert_file/key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Name is the output's metric label.
func (o *OTLPOutput) Name() string { return o.name }

// Selection is what the output writes.
func (o *OTLPOutput) Selection() Selection { return o.sel }

// Tolerates says /readyz waits UnhealthyAfter before reporting failures.
func (o *OTLPOutput) Tolerates() time.Duration { return UnhealthyAfter }

// Write adds the selected events of b to the request, sending it whenever
// it is full; see Output for retries.
func (o *OTLPOutput) Write(b *event.OutBatch) error {
	if o.pending >= o.cfg.BatchBytes {
		if err := o.send(); err != nil {
			return err
		}
	}
	now := uint64(o.now().UnixNano())
	run := 0
	return o.progress.each(b, o.sel, func(i int, raw []byte) (bool, error) {
		var path string
		path, run = b.PathOf(i, run)
		o.add(raw, path, b.Input, b.OriginOf(i) != nil, now)
		if o.pending >= o.cfg.BatchBytes {
			return true, o.send()
		}
		return true, nil
	})
}

// otlpRecord is a LogRecord with the values it points to, allocated once
// and reused for request after request.
type otlpRecord struct {
	lr   logspb.LogRecord
	body commonpb.AnyValue
	str  commonpb.AnyValue_StringValue
	bin  commonpb.AnyValue_BytesValue
}

type attrKey struct {
	path, input string
	file        bool
}

// attributes are the (shared, read-only) attributes of events from path.
func (o *OTLPOutput) attributes(path, input string, file bool) []*commonpb.KeyValue {
	k := attrKey{path, input, file}
	if a, ok := o.attrs[k]; ok {
		return a
	}
	var a []*commonpb.KeyValue
	if file {
		a = append(a, stringAttr("log.file.path", path), stringAttr("log.file.name", filepath.Base(path)))
	}
	if input != "" {
		a = append(a, stringAttr("logsift.input", input))
	}
	if o.attrs == nil || len(o.attrs) > 4096 {
		o.attrs = make(map[attrKey][]*commonpb.KeyValue) // bounded: paths come and go
	}
	o.attrs[k] = a
	return a
}

// add appends one event's record to the request. The record refers to the
// event's bytes without copying them: the batch is recycled only after
// every output has flushed it, that is after this request was accepted or
// dropped.
func (o *OTLPOutput) add(raw []byte, path, input string, journal bool, now uint64) {
	msg := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
	r := o.record()
	r.lr.ObservedTimeUnixNano = now
	if utf8.Valid(msg) {
		r.str.StringValue = unsafe.String(unsafe.SliceData(msg), len(msg))
		r.body.Value = &r.str
	} else {
		r.bin.BytesValue = msg
		r.body.Value = &r.bin
	}
	r.lr.Body = &r.body
	r.lr.SeverityNumber, r.lr.SeverityText = severityOf(raw)
	r.lr.Attributes = o.attributes(path, input, path != "" && path != "-" && !journal)
	o.recs = append(o.recs, r)
	o.scope.LogRecords = append(o.scope.LogRecords, &r.lr)
	o.pending += len(raw)
	if o.m != nil {
		o.m.Queue.Set(float64(len(o.scope.LogRecords)))
	}
}

func (o *OTLPOutput) record() *otlpRecord {
	if n := len(o.free); n > 0 {
		r := o.free[n-1]
		o.free = o.free[:n-1]
		return r
	}
	return &otlpRecord{}
}

// Flush sends the request, if it holds records.
func (o *OTLPOutput) Flush() error {
	if len(o.scope.LogRecords) == 0 {
		return nil
	}
	return o.send()
}

// Close has nothing to close: unsent records belong to batches that are
// not acknowledged, so they are read again after a restart.
func (o *OTLPOutput) Close() error {
	o.client.CloseIdleConnections()
	return nil
}

// errRetryAfter is returned while a receiver's Retry-After lasts.
var errRetryAfter = errors.New("the receiver asked to retry later")

// send posts the request and, unless it must be retried, empties it.
func (o *OTLPOutput) send() error {
	if now := o.now(); now.Before(o.retryAt) {
		return fmt.Errorf("output %q: %w (in %s)", o.name, errRetryAfter, o.retryAt.Sub(now).Round(time.Millisecond))
	}
	if o.failing && o.m != nil {
		o.m.Retries.Inc()
	}
	records := len(o.scope.LogRecords)
	var err error
	o.wire, err = proto.MarshalOptions{}.MarshalAppend(o.wire[:0], &o.data)
	if err != nil {
		// Nothing a retry could change.
		o.log.Error("cannot encode OTLP request; dropping it", "output", o.name, "records", records, "err", err)
		o.reject(records)
		return nil
	}
	body := o.wire
	if o.cfg.Gzip {
		o.body.Reset()
		if o.gz == nil {
			// Fastest level: most of the saving for a fraction of the CPU.
			o.gz, _ = gzip.NewWriterLevel(&o.body, gzip.BestSpeed)
		} else {
			o.gz.Reset(&o.body)
		}
		o.gz.Write(body)
		o.gz.Close()
		body = o.body.Bytes()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("output %q: %w", o.name, err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if o.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range o.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return o.retryable(metrics.SendNetwork, fmt.Errorf("output %q: %w", o.name, err))
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if rejected, msg := partialSuccess(reply); rejected > 0 {
			o.log.Warn("OTLP receiver rejected records", "output", o.name, "rejected", rejected, "message", msg)
			if o.m != nil {
				o.m.Error(metrics.SendPartial, int(rejected))
			}
		}
		o.sent(records)
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		kind := metrics.SendServer
		if code == http.StatusTooManyRequests {
			kind = metrics.SendThrottled
		}
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), o.now()); ok {
			o.retryAt = o.now().Add(d)
		}
		return o.retryable(kind, fmt.Errorf("output %q: %s: %s", o.name, resp.Status, bytes.TrimSpace(reply)))
	case code >= 500:
		return o.retryable(metrics.SendServer, fmt.Errorf("output %q: %s: %s", o.name, resp.Status, bytes.TrimSpace(reply)))
	default:
		o.log.Error("OTLP receiver refused the request; dropping it", "output", o.name, "status", resp.Status,
			"records", records, "reply", string(bytes.TrimSpace(reply)))
		o.reject(records)
		return nil
	}
}

func (o *OTLPOutput) retryable(kind string, err error) error {
	o.failing = true
	if o.m != nil {
		o.m.Error(kind, 1)
	}
	return err
}

// sent empties the request after the receiver accepted it.
func (o *OTLPOutput) sent(records int) {
	if o.m != nil {
		o.m.SentEvents.Add(float64(records))
		o.m.SentBytes.Add(float64(o.pending))
		o.m.LastSend.Set(float64(o.now().UnixNano()) / 1e9)
	}
	o.failing = false
	o.reset()
}

// reject empties the request after the receiver refused it for good.
func (o *OTLPOutput) reject(records int) {
	if o.m != nil {
		o.m.Error(metrics.SendRejected, records)
	}
	o.failing = false
	o.reset()
}

func (o *OTLPOutput) reset() {
	for _, r := range o.recs {
		// Drop the references to the batch's bytes.
		r.str.StringValue, r.bin.BytesValue = "", nil
		o.free = append(o.free, r)
	}
	clear(o.recs)
	o.recs = o.recs[:0]
	clear(o.scope.LogRecords)
	o.scope.LogRecords = o.scope.LogRecords[:0]
	o.pending = 0
	if o.m != nil {
		o.m.Queue.Set(0)
	}
}

// partialSuccess reads ExportLogsServiceResponse.partial_success
// (field 1: rejected_log_records = 1, error_message = 2) from a reply.
func partialSuccess(reply []byte) (rejected int64, msg string) {
	for len(reply) > 0 {
		num, typ, n := protowire.ConsumeTag(reply)
		if n < 0 {
			return 0, ""
		}
		reply = reply[n:]
		if num != 1 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, reply); n < 0 {
				return 0, ""
			}
			reply = reply[n:]
			continue
		}
		ps, n := protowire.ConsumeBytes(reply)
		if n < 0 {
			return 0, ""
		}
		reply = reply[n:]
		for len(ps) > 0 {
			num, typ, n := protowire.ConsumeTag(ps)
			if n < 0 {
				return rejected, msg
			}
			ps = ps[n:]
			switch {
			case num == 1 && typ == protowire.VarintType:
				v, n := protowire.ConsumeVarint(ps)
				if n < 0 {
					return rejected, msg
				}
				rejected, ps = int64(v), ps[n:]
			case num == 2 && typ == protowire.BytesType:
				v, n := protowire.ConsumeBytes(ps)
				if n < 0 {
					return rejected, msg
				}
				msg, ps = string(v), ps[n:]
			default:
				n := protowire.ConsumeFieldValue(num, typ, ps)
				if n < 0 {
					return rejected, msg
				}
				ps = ps[n:]
			}
		}
	}
	return rejected, msg
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 5*time.Minute), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), 5*time.Minute), true
	}
	return 0, false
}

// severityOf maps the level a record's first line names to OTLP's
// severity number and text; unspecified when it names none.
func severityOf(raw []byte) (logspb.SeverityNumber, string) {
	p, ok := priorityOf(raw)
	if !ok {
		return logspb.SeverityNumber_SEVERITY_NUMBER_UNSPECIFIED, ""
	}
	switch p {
	case journal.PriDebug:
		return logspb.SeverityNumber_SEVERITY_NUMBER_DEBUG, "DEBUG"
	case journal.PriInfo:
		return logspb.SeverityNumber_SEVERITY_NUMBER_INFO, "INFO"
	case journal.PriWarning:
		return logspb.SeverityNumber_SEVERITY_NUMBER_WARN, "WARNING"
	case journal.PriErr:
		return logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, "ERROR"
	default:
		return logspb.SeverityNumber_SEVERITY_NUMBER_FATAL, "CRITICAL"
	}
}

func stringAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
