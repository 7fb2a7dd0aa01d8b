package outputs

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
)

func syslogBatch() *event.OutBatch {
	b := &event.OutBatch{}
	b.Add([]byte("ERROR:app:boom\nTraceback (most recent call last):\nValueError: x\n"), event.Forwarded)
	b.Add([]byte("gone\n"), event.Suppressed)
	b.AddFrom([]byte("from the journal\n"), event.Forwarded, &event.Origin{Identifier: "webapp", PID: "42"})
	return b
}

var syslogClock = func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 123456000, time.UTC) }

// TestSyslogTCPFraming: octet-counted RFC 5424 messages, one per event,
// multi-line events whole.
func TestSyslogTCPFraming(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var msgs []string
		for len(msgs) < 2 {
			n, err := r.ReadString(' ')
			if err != nil {
				break
			}
			size, _ := strconv.Atoi(strings.TrimSpace(n))
			buf := make([]byte, size)
			io.ReadFull(r, buf)
			msgs = append(msgs, string(buf))
		}
		got <- msgs
	}()
	o, err := NewSyslog("s", SyslogConfig{Address: l.Addr().String(), Transport: "tcp", AppName: "app", Hostname: "host", Facility: 19}, SelectForwarded, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.now = syslogClock
	if err := o.Write(syslogBatch()); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"<155>1 2026-12-03T09:00:00.123456Z host app - - - ERROR:app:boom\nTraceback (most recent call last):\nValueError: x",
		"<158>1 2026-12-03T09:00:00.123456Z host webapp 42 - - from the journal",
	}
	msgs := <-got
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", msgs, want)
	}
	o.Close()
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	o, err := NewSyslog("s", SyslogConfig{Address: pc.LocalAddr().String(), Transport: "udp", AppName: "app", Hostname: "host", Facility: 1}, SelectForwarded, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.now = syslogClock
	if err := o.Write(syslogBatch()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 70000)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<11>1 2026-12-03T09:00:00.123456Z host app - - - ERROR:app:boom\nTraceback"; !strings.HasPrefix(string(buf[:n]), want) {
		t.Errorf("datagram %q", buf[:n])
	}
}

// TestSyslogReconnectsAfterPeerClose: a receiver that closed the stream is
// noticed before the next write, which goes to a new connection.
func TestSyslogReconnectsAfterPeerClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	o, _ := NewSyslog("s", SyslogConfig{Address: l.Addr().String(), Transport: "tcp", AppName: "a", Hostname: "h", Facility: 1}, SelectForwarded, nil, nil)
	b := &event.OutBatch{}
	b.Add([]byte("one\n"), event.Forwarded)
	o.Write(b)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	first := <-conns
	first.Close()                     // the receiver restarts
	time.Sleep(50 * time.Millisecond) // let the FIN arrive
	b2 := &event.OutBatch{}
	b2.Add([]byte("two\n"), event.Forwarded)
	o.Write(b2)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-conns:
		second.SetReadDeadline(time.Now().Add(5 * time.Second))
		data, _ := bufio.NewReader(second).ReadString('o')
		if !strings.Contains(data, "tw") {
			t.Errorf("second connection got %q", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message went into the closed connection")
	}
}
