package filters

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

const (
	wsAccess    = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -` + "\n"
	wsAccessAlt = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?transport=websocket&EIO=4&t=1795643067.79 HTTP/1.1" 500 -` + "\n"
	otherAccess = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /some/path HTTP/1.1" 500 -` + "\n"
	okAccess    = `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /items/3 HTTP/1.1" 200 -` + "\n"
	wzBlock     = "Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi` + "\n" +
		"    execute(self.server.app)\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 327, in execute` + "\n" +
		"    write(b\"\")\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write` + "\n" +
		`    assert status_set is not None, "write() before start_response"` + "\n" +
		"           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n" +
		"AssertionError: write() before start_response\n"
	realTraceback = "[2026-11-25 21:44:27,873] ERROR in app: Exception on /boom [GET]\n" +
		"Traceback (most recent call last):\n" +
		`  File "/srv/chatapp/app/app.py", line 87, in boom` + "\n" +
		"    return jsonify(price=PRICES[fruit])\n" +
		"KeyError: 'banana'\n"
	otherAssertion = "Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi` + "\n" +
		"    execute(self.server.app)\n" +
		"AssertionError: Headers already set\n"
	mention   = "INFO:app:user asked why write() before start_response shows up\n"
	nearMiss  = "AssertionError: write() before start_response\n"
	threadErr = "Exception in thread Thread-29 (_thread):\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/simple_websocket/ws.py", line 248, in _handle_events` + "\n" +
		"    self.sock.send(out_data)\n" +
		"OSError: [Errno 9] Bad file descriptor\n"
)

func werkzeugRules(t testing.TB) []*rules.Rule {
	t.Helper()
	return rules.Default().Rules
}

func TestLookAlikeBlockIsKept(t *testing.T) {
	// A WSGI bug that never calls start_response prints the same block after
	// an ordinary request: only pairing tells them apart.
	in := okAccess + otherAccess + wzBlock + okAccess
	fwd, _, p := runAll(defaultInput(), werkzeugRules(t), []byte(in), 3)
	if string(fwd) != in {
		t.Fatalf("look-alike block changed:\n%s", fwd)
	}
	if got := p.Stats().Rules[0].Unpaired; got != 1 {
		t.Errorf("unpaired = %d, want 1", got)
	}
}

func TestPairedEventsDropped(t *testing.T) {
	// A1 A2 T1 T2 with an unrelated line between: both pairs go.
	in := okAccess + wsAccess + wsAccessAlt + okAccess + wzBlock + wzBlock + okAccess
	fwd, sup, p := runAll(defaultInput(), werkzeugRules(t), []byte(in), 2)
	if want := okAccess + okAccess + okAccess; string(fwd) != want {
		t.Fatalf("forwarded:\n%s\nwant:\n%s", fwd, want)
	}
	if want := wsAccess + wsAccessAlt + wzBlock + wzBlock; string(sup) != want {
		t.Fatalf("suppressed:\n%s", sup)
	}
	rs := p.Stats().Rules[0]
	if rs.EventsSuppressed != 2 || rs.LinesSuppressed != 22 {
		t.Errorf("events/lines suppressed = %d/%d, want 2/22", rs.EventsSuppressed, rs.LinesSuppressed)
	}
}

func TestPartnerBeyondWithin(t *testing.T) {
	rs := werkzeugRules(t)
	within := rs[0].Pair.Within
	var b strings.Builder
	b.WriteString(wsAccess)
	for range within {
		b.WriteString(okAccess)
	}
	b.WriteString(wzBlock)
	in := b.String()
	fwd, _, p := runAll(defaultInput(), rs, []byte(in), 5)
	if string(fwd) != in {
		t.Fatal("an event beyond `within` of its partner was suppressed")
	}
	if p.Stats().Rules[0].Unpaired != 1 {
		t.Error("not counted unpaired")
	}
	// One event closer and they pair.
	in = wsAccess + strings.Repeat(okAccess, within-1) + wzBlock
	fwd, _, _ = runAll(defaultInput(), rs, []byte(in), 5)
	if string(fwd) != strings.Repeat(okAccess, within-1) {
		t.Fatal("partner just within reach not paired")
	}
}

func TestPartnerBeyondMaxWait(t *testing.T) {
	rs := werkzeugRules(t)
	p := NewProcessor(defaultInput(), rs)
	out := &event.OutBatch{}
	t0 := time.Unix(1000, 0)
	push := func(s string, at time.Time) {
		b := &event.LineBatch{Path: "-"}
		for _, l := range strings.SplitAfter(s, "\n") {
			if l != "" {
				b.Append([]byte(l))
			}
		}
		p.Process(b, out, at)
	}
	push(wsAccess, t0)
	p.Tick(t0.Add(rs[0].Pair.MaxWait/2), out)
	if len(out.Data) != 0 {
		t.Fatal("a possible partner was released before max_wait")
	}
	p.Tick(t0.Add(rs[0].Pair.MaxWait), out)
	if string(out.Data) != wsAccess {
		t.Fatalf("partner not released after max_wait: %q", out.Data)
	}
	push(wzBlock, t0.Add(rs[0].Pair.MaxWait+time.Second))
	p.Tick(t0.Add(10*time.Second), out)
	p.Close(out)
	if string(out.Data) != wsAccess+wzBlock {
		t.Fatalf("late block suppressed: %q", out.Data)
	}
	if p.Stats().Rules[0].Unpaired != 1 {
		t.Error("late block not counted unpaired")
	}
}

func TestHeldEventKeepsOrder(t *testing.T) {
	// While a websocket 500 waits for its block, later lines wait too.
	rs := werkzeugRules(t)
	p := NewProcessor(defaultInput(), rs)
	out := &event.OutBatch{}
	b := &event.LineBatch{Path: "-"}
	b.Append([]byte(okAccess))
	b.Append([]byte(wsAccess))
	b.Append([]byte("later line\n"))
	now := time.Unix(0, 0)
	p.Process(b, out, now)
	if string(out.Data) != okAccess {
		t.Fatalf("released %q while a pairing decision was pending", out.Data)
	}
	if p.Held() != 2 {
		t.Errorf("held lines = %d, want 2", p.Held())
	}
	p.Close(out)
	if string(out.Data) != okAccess+wsAccess+"later line\n" {
		t.Fatalf("order changed: %q", out.Data)
	}
}

func TestSampling(t *testing.T) {
	rs := werkzeugRules(t)
	r := *rs[0]
	r.Sample = 3
	rs = append([]*rules.Rule{&r}, rs[1:]...)
	in := strings.Repeat(wsAccess+wzBlock, 7)
	fwd, _, p := runAll(defaultInput(), rs, []byte(in), 4)
	// Every 3rd matched event (3rd, 6th) goes through with its partner.
	if want := strings.Repeat(wsAccess+wzBlock, 2); string(fwd) != want {
		t.Fatalf("forwarded %d bytes, want %d", len(fwd), len(want))
	}
	if st := p.Stats().Rules[0]; st.Sampled != 2 || st.EventsSuppressed != 5 {
		t.Errorf("sampled/suppressed = %d/%d, want 2/5", st.Sampled, st.EventsSuppressed)
	}
}

func TestBytesForwardedUnchanged(t *testing.T) {
	tests := map[string]string{
		"invalid utf-8":       "caf\xe9 \xff\xfe\n",
		"crlf":                "a\r\nb\r\n",
		"nul":                 "a\x00b\n\x00\n",
		"no final newline":    "a\nlast",
		"one mebibyte line":   strings.Repeat("x", 1<<20) + "\n",
		"crlf traceback kept": "Error on request:\r\nTraceback (most recent call last):\r\n  File \"x\"\r\nKeyError: 1\r\n",
		"empty lines":         "\n\n\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			for _, batch := range []int{1, 100} {
				fwd, sup, _ := runAll(defaultInput(), werkzeugRules(t), []byte(in), batch)
				if !bytes.Equal(fwd, []byte(in)) || len(sup) != 0 {
					t.Fatalf("batch %d: forwarded %q (suppressed %q)", batch, trunc(fwd), trunc(sup))
				}
			}
		})
	}
}

func TestCRLFFalse500Suppressed(t *testing.T) {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	in := crlf(wsAccess+wzBlock) + "next\r\n"
	fwd, _, _ := runAll(defaultInput(), werkzeugRules(t), []byte(in), 3)
	if string(fwd) != "next\r\n" {
		t.Fatalf("CRLF false-500 not removed: %q", fwd)
	}
}

func trunc(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", b[:80], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// TestPropertyInterleavings builds random logs from false-500 pairs (access
// line before or shortly after other records, A1 A2 T1 T2 orders), real
// tracebacks, look-alikes, near misses and plain lines. The output must be
// the input minus exactly the false-500 events and their access lines.
func TestPropertyInterleavings(t *testing.T) {
	rs := werkzeugRules(t)
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		var in, want strings.Builder
		pendingBlocks := 0
		var opened []int // event index of each access line still waiting for its block
		events := 0
		for i := 0; i < 300; i++ {
			events++
			switch k := r.IntN(10); {
			case pendingBlocks > 0 && events-opened[0] > 40:
				// keep every pair well within `within` (64 events)
				in.WriteString(wzBlock)
				pendingBlocks--
				opened = opened[1:]
			case k < 3:
				opened = append(opened, events)
				// open a websocket close: its access line now, its block soon
				in.WriteString([]string{wsAccess, wsAccessAlt}[r.IntN(2)])
				pendingBlocks++
			case k < 5 && pendingBlocks > 0:
				in.WriteString(wzBlock)
				pendingBlocks--
				opened = opened[1:]
			case k == 5 && pendingBlocks == 0:
				// a look-alike: never between an access line and its block
				s := otherAccess + wzBlock
				in.WriteString(s)
				want.WriteString(s)
			default:
				s := []string{okAccess, realTraceback, otherAssertion, mention, nearMiss, threadErr, otherAccess}[r.IntN(7)]
				in.WriteString(s)
				want.WriteString(s)
			}
		}
		for ; pendingBlocks > 0; pendingBlocks-- {
			in.WriteString(wzBlock)
		}
		fwd, _, _ := runAll(defaultInput(), rs, []byte(in.String()), 1+r.IntN(50))
		if string(fwd) != want.String() {
			t.Fatalf("seed %d:\n%s", seed, firstDiff(fwd, []byte(want.String())))
		}
	}
}
