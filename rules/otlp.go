package rules

import (
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// OTLP configures a `type: otlp` output: OTLP/HTTP logs, protobuf.
type OTLP struct {
	// Endpoint is the logs URL; a URL without a path gets /v1/logs.
	Endpoint string
	Headers  map[string]string
	TLS      TLS
	Timeout  time.Duration // per request
	Gzip     bool          // compression: gzip (default) or none
	// Resource are the resource attributes; service.name defaults to
	// logsift and host.name to the host's name.
	Resource map[string]string
	// BatchBytes is the size of event bytes after which a request is sent
	// without waiting for the next flush.
	BatchBytes int
}

// TLS are the TLS settings of a network output.
type TLS struct {
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
}

// Defaults of an OTLP output.
const (
	DefaultOTLPTimeout    = 10 * time.Second
	DefaultOTLPBatchBytes = 1 << 20
)

var (
	otlpKeys = []string{"endpoint", "headers", "tls", "timeout", "compression", "resource", "batch_bytes"}
	tlsKeys  = []string{"ca_file", "cert_file", "key_file", "insecure_skip_verify"}
)

// otlp decodes the keys of a `type: otlp` output.
func (s scope) otlp(n *yaml.Node, m map[string]yamlstrict.Entry) *OTLP {
	o := &OTLP{Timeout: DefaultOTLPTimeout, Gzip: true, BatchBytes: DefaultOTLPBatchBytes, Resource: map[string]string{}}
	if e, has := m["endpoint"]; has {
		raw, _ := s.Str(e.Val, "endpoint")
		u, err := url.Parse(raw)
		switch {
		case raw == "":
			s.Errorf(yamlstrict.Deref(e.Val), "endpoint: must not be empty")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			s.Errorf(yamlstrict.Deref(e.Val), "endpoint: %q is not an http:// or https:// URL", raw)
		default:
			if u.Path == "" || u.Path == "/" {
				u.Path = "/v1/logs"
			}
			o.Endpoint = u.String()
		}
	} else {
		s.Errorf(n, "endpoint is required for type otlp (e.g. http://127.0.0.1:4318)")
	}
	if e, has := m["headers"]; has {
		o.Headers = s.stringMap(e.Val, "headers")
	}
	if e, has := m["resource"]; has {
		o.Resource = s.stringMap(e.Val, "resource")
	}
	if o.Resource["service.name"] == "" {
		o.Resource["service.name"] = "logsift"
	}
	if o.Resource["host.name"] == "" {
		if h, err := os.Hostname(); err == nil {
			o.Resource["host.name"] = h
		}
	}
	if e, has := m["tls"]; has {
		o.TLS = s.tls(e.Val)
		if strings.HasPrefix(o.Endpoint, "http://") {
			s.Errorf(e.Key, "tls: the endpoint is http://, not https://")
		}
	}
	if e, has := m["timeout"]; has {
		o.Timeout, _ = s.duration(e.Val, "timeout", true)
	}
	if e, has := m["compression"]; has {
		c, _ := s.enum(e.Val, "compression", "gzip", "none")
		o.Gzip = c != "none"
	}
	if e, has := m["batch_bytes"]; has {
		if v, ok := s.size(e.Val, "batch_bytes"); ok {
			if v < 1<<10 {
				s.Errorf(yamlstrict.Deref(e.Val), "batch_bytes: at least 1KiB")
			}
			o.BatchBytes = v
		}
	}
	return o
}

// stringMap decodes a mapping of strings to strings.
func (s scope) stringMap(n *yaml.Node, key string) map[string]string {
	m, ok := s.Mapping(n, key, key, nil)
	out := map[string]string{}
	if !ok {
		return out
	}
	for k, e := range m {
		if v, ok := s.Str(e.Val, key+"."+k); ok {
			out[k] = v
		}
	}
	return out
}

func (s scope) tls(n *yaml.Node) TLS {
	var t TLS
	m, ok := s.Mapping(n, "tls", "tls", tlsKeys)
	if !ok {
		return t
	}
	if e, has := m["ca_file"]; has {
		t.CAFile, _ = s.Str(e.Val, "ca_file")
	}
	if e, has := m["cert_file"]; has {
		t.CertFile, _ = s.Str(e.Val, "cert_file")
	}
	if e, has := m["key_file"]; has {
		t.KeyFile, _ = s.Str(e.Val, "key_file")
	}
	if e, has := m["insecure_skip_verify"]; has {
		t.InsecureSkipVerify, _ = s.boolean(e.Val, "insecure_skip_verify")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		s.Errorf(yamlstrict.Deref(n), "tls: cert_file and key_file go together")
	}
	return t
}
