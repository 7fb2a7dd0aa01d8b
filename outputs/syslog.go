package outputs

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/metrics"
)

// SyslogConfig configures a syslog output.
type SyslogConfig struct {
	Address   string // host:port
	Transport string // "tcp", "tls" or "udp"
	AppName   string
	Hostname  string
	Facility  int // 0..23
	CAFile    string
	CertFile  string
	KeyFile   string
	Insecure  bool
	Timeout   time.Duration // dial and write
}

// maxDatagram bounds a UDP message: larger events are cut (UDP syslog has
// no framing for more, and no acknowledgement at all).
const maxDatagram = 64 << 10

// SyslogOutput sends each event as one RFC 5424 message: over TCP or TLS
// with octet-counting framing (RFC 6587), so a multi-line event is one
// message whatever it holds, or as one UDP datagram. APP-NAME is the
// configured app_name, or the writer's identifier for an event read from
// the journal (PROCID its PID); the severity is the level the record's
// first line names, else info.
//
// Over TCP and TLS a Flush returns once the kernel has taken every byte
// and the stream is intact; that is when the fan-out acknowledges. It
// does not prove the receiver processed them: a receiver that crashes
// with data in its socket buffer loses it, which no plain syslog transport
// can tell. A failed write closes the connection; the next attempt dials
// again and sends the unsent messages again, so a broken connection can
// repeat, never lose, what logsift still holds.
type SyslogOutput struct {
	name string
	sel  Selection
	cfg  SyslogConfig
	tls  *tls.Config
	log  *slog.Logger
	m    *metrics.RemoteOutput
	now  func() time.Time
	dial func(network, addr string) (net.Conn, error)

	conn    net.Conn
	buf     []byte // framed messages not yet written
	msgs    int    // messages in buf
	bytes   int    // event bytes in buf
	failing bool

	progress resume
}

// NewSyslog returns a syslog output; m may be nil.
func NewSyslog(name string, cfg SyslogConfig, sel Selection, m *metrics.RemoteOutput, logger *slog.Logger) (*SyslogOutput, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	o := &SyslogOutput{name: name, sel: sel, cfg: cfg, log: logger, m: m, now: time.Now}
	if cfg.Transport == "tls" {
		c, err := clientTLS(cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.Insecure)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", name, err)
		}
		if c == nil {
			c = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if host, _, err := net.SplitHostPort(cfg.Address); err == nil && c.ServerName == "" {
			c.ServerName = host
		}
		o.tls = c
	}
	d := &net.Dialer{Timeout: cfg.Timeout}
	o.dial = func(network, addr string) (net.Conn, error) {
		if o.tls != nil {
			return tls.DialWithDialer(d, "tcp", addr, o.tls)
		}
		return d.Dial(network, addr)
	}
	return o, nil
}

// Name is the output's metric label.
func (o *SyslogOutput) Name() string { return o.name }

// Selection is what the output writes.
func (o *SyslogOutput) Selection() Selection { return o.sel }

// Tolerates says /readyz waits UnhealthyAfter before reporting failures.
func (o *SyslogOutput) Tolerates() time.Duration { return UnhealthyAfter }

// Write frames the selected events of b, sending whenever 64 KiB are
// waiting; see Output for retries.
func (o *SyslogOutput) Write(b *event.OutBatch) error {
	if len(o.buf) >= 64<<10 {
		if err := o.send(); err != nil {
			return err
		}
	}
	return o.progress.each(b, o.sel, func(i int, raw []byte) (bool, error) {
		o.frame(raw, b.OriginOf(i))
		if o.cfg.Transport == "udp" || len(o.buf) >= 64<<10 {
			return true, o.send()
		}
		return true, nil
	})
}

// frame appends one event as an RFC 5424 message, with its octet count
// for stream transports.
func (o *SyslogOutput) frame(raw []byte, origin *event.Origin) {
	msg := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
	sev, _ := priorityOf(raw)
	app, procid := o.cfg.AppName, "-"
	if origin != nil {
		if origin.Identifier != "" {
			app = origin.Identifier
		}
		if origin.PID != "" {
			procid = origin.PID
		}
	}
	var head [256]byte
	h := head[:0]
	h = append(h, '<')
	h = strconv.AppendInt(h, int64(o.cfg.Facility*8+int(sev)), 10)
	h = append(h, ">1 "...)
	h = o.now().UTC().AppendFormat(h, "2006-01-02T15:04:05.000000Z07:00")
	h = append(h, ' ')
	h = appendHeaderField(h, o.cfg.Hostname, 255)
	h = append(h, ' ')
	h = appendHeaderField(h, app, 48)
	h = append(h, ' ')
	h = appendHeaderField(h, procid, 128)
	h = append(h, " - - "...)
	if o.cfg.Transport == "udp" && len(h)+len(msg) > maxDatagram {
		msg = msg[:maxDatagram-len(h)]
	}
	if o.cfg.Transport != "udp" {
		o.buf = strconv.AppendInt(o.buf, int64(len(h)+len(msg)), 10)
		o.buf = append(o.buf, ' ')
	}
	o.buf = append(o.buf, h...)
	o.buf = append(o.buf, msg...)
	o.msgs++
	o.bytes += len(raw)
}

// appendHeaderField appends a header field: printable US-ASCII without
// spaces, at most max bytes, "-" when empty (RFC 5424 section 6.2).
func appendHeaderField(b []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
			n++
		}
	}
	if n == 0 {
		b = append(b, '-')
	}
	return b
}

// Flush sends every framed message.
func (o *SyslogOutput) Flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	return o.send()
}

// send writes buf on the connection, dialling one first if needed.
func (o *SyslogOutput) send() error {
	if o.failing && o.m != nil {
		o.m.Retries.Inc()
	}
	if o.conn != nil && o.peerClosed() {
		// Writing on would succeed into the socket buffer and then be
		// lost: the receiver is gone (restarted, closed idle clients).
		o.conn.Close()
		o.conn = nil
	}
	if o.conn == nil {
		network := "tcp"
		if o.cfg.Transport == "udp" {
			network = "udp"
		}
		c, err := o.dial(network, o.cfg.Address)
		if err != nil {
			return o.failed(fmt.Errorf("output %q: %w", o.name, err))
		}
		o.conn = c
		if o.failing {
			o.log.Info("syslog connection re-established", "output", o.name, "address", o.cfg.Address)
		}
	}
	o.conn.SetWriteDeadline(time.Now().Add(o.cfg.Timeout))
	if _, err := o.conn.Write(o.buf); err != nil {
		o.conn.Close()
		o.conn = nil
		return o.failed(fmt.Errorf("output %q: %w", o.name, err))
	}
	if o.m != nil {
		o.m.SentEvents.Add(float64(o.msgs))
		o.m.SentBytes.Add(float64(o.bytes))
		o.m.LastSend.Set(float64(o.now().UnixNano()) / 1e9)
	}
	o.buf, o.msgs, o.bytes, o.failing = o.buf[:0], 0, 0, false
	return nil
}

// peerClosed reports whether the receiver has closed the stream. A
// syslog receiver never sends, so anything but "nothing to read yet" means
// the connection is over. It cannot see a receiver that vanished without
// closing (a crashed host): that loss is the transport's.
func (o *SyslogOutput) peerClosed() bool {
	if o.cfg.Transport == "udp" {
		return false
	}
	if sc, ok := o.conn.(syscall.Conn); ok {
		// Plain TCP: peek without blocking.
		if raw, err := sc.SyscallConn(); err == nil {
			closed := false
			raw.Read(func(fd uintptr) bool {
				var b [1]byte
				n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				closed = n > 0 || (err == nil && n == 0) || (err != nil && err != syscall.EAGAIN && err != syscall.EINTR)
				return true
			})
			return closed
		}
	}
	// TLS: a read that must wait means the stream is open; the read also
	// consumes what a TLS 1.3 server sends after the handshake (tickets).
	// A deadline already past would not even try, hence the millisecond.
	o.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := o.conn.Read(b[:])
	o.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func (o *SyslogOutput) failed(err error) error {
	o.failing = true
	if o.m != nil {
		o.m.Error(metrics.SendNetwork, 1)
	}
	return err
}

// Close closes the connection; unsent messages belong to batches not
// acknowledged, read again after a restart.
func (o *SyslogOutput) Close() error {
	if o.conn == nil {
		return nil
	}
	err := o.conn.Close()
	o.conn = nil
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
