package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/internal/testutil"
)

const rsyslogd = "/usr/sbin/rsyslogd"

// rsyslog is a real rsyslogd started by a test: imtcp on a loopback port
// (TLS through the gtls driver when certificates are given), every message
// written to a file as SEVERITY|APP-NAME|PROCID|MSG, MSG as a JSON string.
type rsyslog struct {
	t    *testing.T
	dir  string
	addr string
	conf string
	out  string
	cmd  *exec.Cmd
	logs *testutil.SyncBuffer
}

func newRsyslog(t *testing.T, certs *testCerts) *rsyslog {
	t.Helper()
	if _, err := os.Stat(rsyslogd); err != nil {
		skipOrFail(t, "rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls)")
	}
	dir := t.TempDir()
	r := &rsyslog{t: t, dir: dir, addr: freePort(t), out: filepath.Join(dir, "messages.log"), conf: filepath.Join(dir, "rsyslog.conf")}
	_, port, _ := net.SplitHostPort(r.addr)
	global := `global(workDirectory="` + dir + `" parser.escapeControlCharactersOnReceive="off" maxMessageSize="1m"`
	imtcp := `module(load="imtcp" maxSessions="100"`
	if certs != nil {
		global += ` defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="` + certs.ca + `" defaultNetstreamDriverCertFile="` + certs.cert + `" defaultNetstreamDriverKeyFile="` + certs.key + `"`
		imtcp += ` streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"`
	}
	conf := global + ")\n" + imtcp + ")\n" + `
template(name="test" type="list") {
  property(name="syslogseverity") constant(value="|")
  property(name="app-name") constant(value="|")
  property(name="procid") constant(value="|")
  property(name="msg" format="json") constant(value="\n")
}
ruleset(name="test") { action(type="omfile" file="` + r.out + `" template="test") }
input(type="imtcp" address="127.0.0.1" port="` + port + `" ruleset="test")
`
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *rsyslog) start() {
	r.t.Helper()
	r.logs = &testutil.SyncBuffer{}
	r.cmd = exec.Command(rsyslogd, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitFor(r.t, "rsyslogd's port", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", r.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	stopServer(r.cmd)
	r.cmd = nil
}

type syslogMsg struct{ severity, app, procid, msg string }

// messages reads what rsyslog wrote, complete lines only.
func (r *rsyslog) messages() []syslogMsg {
	r.t.Helper()
	data, _ := os.ReadFile(r.out)
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var out []syslogMsg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 4)
		if len(parts) != 4 {
			r.t.Fatalf("rsyslog wrote %q", sc.Text())
		}
		var msg string
		if err := json.Unmarshal([]byte(`"`+parts[3]+`"`), &msg); err != nil {
			r.t.Fatalf("rsyslog's message %q: %v", parts[3], err)
		}
		out = append(out, syslogMsg{parts[0], parts[1], parts[2], msg})
	}
	return out
}

func joinMessages(ms []syslogMsg) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.msg)
		b.WriteByte('\n')
	}
	return b.String()
}

// testCerts are a CA and a server certificate for 127.0.0.1 it signed.
type testCerts struct{ ca, cert, key string }

func newTestCerts(t *testing.T) *testCerts {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "logsift test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	c := &testCerts{ca: write("ca.pem", "CERTIFICATE", caDER), cert: write("server.pem", "CERTIFICATE", der), key: write("server.key", "EC PRIVATE KEY", keyDER)}
	// rsyslog runs as root here, but keep the files readable to it anyway.
	for _, p := range []string{c.ca, c.cert, c.key} {
		os.Chmod(p, 0o644)
	}
	return c
}
