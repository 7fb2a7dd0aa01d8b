package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Send error kinds of remote outputs (label values of
// logsift_output_send_errors_total).
const (
	SendNetwork   = "network"   // connection refused, reset, timeout
	SendThrottled = "throttled" // 429
	SendServer    = "server"    // 5xx
	SendRejected  = "rejected"  // other 4xx: the data is dropped, never retried
	SendPartial   = "partial"   // records the receiver reported rejecting
)

// Remote are the metrics of outputs that send over the network.
type Remote struct {
	sentEvents *prometheus.CounterVec
	sentBytes  *prometheus.CounterVec
	errors     *prometheus.CounterVec
	retries    *prometheus.CounterVec
	queue      *prometheus.GaugeVec
	lastSend   *prometheus.GaugeVec
}

// NewRemote registers the remote-output metrics with reg.
func NewRemote(reg prometheus.Registerer) (*Remote, error) {
	r := &Remote{
		sentEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "output_sent_events_total",
			Help: "Events the remote accepted."}, []string{"output"}),
		sentBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "output_sent_bytes_total",
			Help: "Event bytes the remote accepted (before encoding and compression)."}, []string{"output"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "output_send_errors_total",
			Help: "Failed sends by kind: network, throttled (429), server (5xx), rejected (other 4xx, dropped), partial (records the remote rejected)."}, []string{"output", "kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "output_retries_total",
			Help: "Sends attempted again after a retryable failure."}, []string{"output"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "output_queue_events",
			Help: "Events encoded and waiting to be accepted by the remote."}, []string{"output"}),
		lastSend: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "output_last_send_success_timestamp_seconds",
			Help: "Unix time of the output's last accepted send, 0 before the first."}, []string{"output"}),
	}
	for _, c := range []prometheus.Collector{r.sentEvents, r.sentBytes, r.errors, r.retries, r.queue, r.lastSend} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register remote output metrics: %w", err)
		}
	}
	return r, nil
}

// RemoteOutput are one output's handles.
type RemoteOutput struct {
	SentEvents, SentBytes, Retries prometheus.Counter
	Queue, LastSend                prometheus.Gauge
	errors                         *prometheus.CounterVec
	name                           string
}

// Output returns the handles of the output named name, its series at 0.
func (r *Remote) Output(name string) *RemoteOutput {
	o := &RemoteOutput{
		SentEvents: r.sentEvents.WithLabelValues(name),
		SentBytes:  r.sentBytes.WithLabelValues(name),
		Retries:    r.retries.WithLabelValues(name),
		Queue:      r.queue.WithLabelValues(name),
		LastSend:   r.lastSend.WithLabelValues(name),
		errors:     r.errors,
		name:       name,
	}
	for _, k := range []string{SendNetwork, SendThrottled, SendServer, SendRejected, SendPartial} {
		r.errors.WithLabelValues(name, k)
	}
	return o
}

// Error counts n failures of kind (one of the Send constants).
func (o *RemoteOutput) Error(kind string, n int) {
	o.errors.WithLabelValues(o.name, kind).Add(float64(n))
}
