package rules

import (
	"net"
	"os"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// Syslog configures a `type: syslog` output: RFC 5424 messages over TCP
// (octet counting), TLS or UDP.
type Syslog struct {
	Address   string // host:port
	Transport string // tcp (default), tls or udp
	AppName   string // default logsift
	Hostname  string // default the host's name
	Facility  int
	TLS       TLS
	Timeout   time.Duration
}

// facilities are the syslog facility names with their codes.
var facilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
	"ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

var syslogKeys = []string{"address", "transport", "app_name", "hostname", "facility"}

// syslog decodes the keys of a `type: syslog` output (tls and timeout are
// shared with otlp).
func (s scope) syslog(n *yaml.Node, m map[string]yamlstrict.Entry) *Syslog {
	o := &Syslog{Transport: "tcp", AppName: "logsift", Facility: 1, Timeout: DefaultOTLPTimeout}
	if h, err := os.Hostname(); err == nil {
		o.Hostname = h
	}
	if e, has := m["address"]; has {
		o.Address, _ = s.Str(e.Val, "address")
		if _, port, err := net.SplitHostPort(o.Address); err != nil || port == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "address: %q is not host:port", o.Address)
		}
	} else {
		s.Errorf(n, "address is required for type syslog (host:port)")
	}
	if e, has := m["transport"]; has {
		o.Transport, _ = s.enum(e.Val, "transport", "tcp", "tls", "udp")
	}
	if e, has := m["app_name"]; has {
		o.AppName, _ = s.Str(e.Val, "app_name")
	}
	if e, has := m["hostname"]; has {
		o.Hostname, _ = s.Str(e.Val, "hostname")
	}
	if e, has := m["facility"]; has {
		f, _ := s.enum(e.Val, "facility", facilities...)
		o.Facility = max(slices.Index(facilities, f), 0)
	}
	if e, has := m["tls"]; has {
		o.TLS = s.tls(e.Val)
		if o.Transport != "tls" {
			s.Errorf(e.Key, "tls: only applies to transport tls")
		}
	}
	if e, has := m["timeout"]; has {
		o.Timeout, _ = s.duration(e.Val, "timeout", true)
	}
	return o
}
