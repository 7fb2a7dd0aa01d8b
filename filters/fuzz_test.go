package filters

import (
	"bytes"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// FuzzAssembler feeds arbitrary bytes through assembly and the default
// rules in arbitrary batch sizes. Whatever the input, every byte comes out
// exactly once, in order (forwarded and suppressed together), and the line
// counts conserve.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte(wsAccess+wzBlock+okAccess), uint8(3), uint16(0))
	f.Add([]byte(realTraceback+threadErr+"\n\nDuring handling of the above exception, another exception occurred:\n\n"), uint8(1), uint16(5))
	f.Add([]byte("a\r\nb\x00\xff\nlast"), uint8(2), uint16(2))
	f.Add([]byte("Error on request:\nTraceback (most recent call last):\n  + Exception Group Traceback (most recent call last):\n  | x\n"), uint8(7), uint16(16))
	rs := rules.Default().Rules
	base := defaultInput()
	f.Fuzz(func(t *testing.T, data []byte, batch uint8, maxLines uint16) {
		in := base
		in.Multiline.MaxLines = int(maxLines%50) + 1
		in.Multiline.MaxBytes = 256
		p := NewProcessor(in, rs)
		out := &event.OutBatch{}
		var all []byte
		collect := func() {
			all = append(all, out.Data...)
			out.Reset()
		}
		lb := &event.LineBatch{Path: "-"}
		rest := data
		now := time.Unix(0, 0)
		for len(rest) > 0 {
			lb.Reset()
			for i := 0; i <= int(batch%16) && len(rest) > 0; i++ {
				n := bytes.IndexByte(rest, '\n') + 1
				if n == 0 || n > 300 {
					n = min(len(rest), 300)
				}
				lb.Append(rest[:n])
				rest = rest[n:]
			}
			p.Process(lb, out, now)
			now = now.Add(100 * time.Millisecond)
			p.Tick(now, out)
			collect()
		}
		p.Close(out)
		collect()
		if !bytes.Equal(all, data) {
			t.Fatalf("output is not the input:\n got %q\nwant %q", all, data)
		}
		st := p.Stats()
		var sup uint64
		for _, r := range st.Rules {
			sup += r.LinesSuppressed
		}
		if st.Lines != st.LinesForwarded+sup || p.Held() != 0 {
			t.Fatalf("conservation: read %d, forwarded %d, suppressed %d, held %d", st.Lines, st.LinesForwarded, sup, p.Held())
		}
	})
}

// FuzzPrefix checks that prefix recognisers never panic and never claim
// more than the line.
func FuzzPrefix(f *testing.F) {
	f.Add([]byte("web-1  | hello\n"))
	f.Add([]byte("Nov 25 21:44:27 corpus-host app[4891]:  * x\n"))
	f.Add([]byte("2026-11-25T21:44:27.123456789Z stdout F x\n"))
	f.Add([]byte("|"))
	kinds := []string{"docker-compose", "journald-short", "kubernetes-cri", "auto"}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, k := range kinds {
			p := newPrefixer(rules.Prefix{Kind: k})
			n := p.prefixLen(line)
			if n < 0 || n > len(line) {
				t.Fatalf("%s: prefix length %d for a %d-byte line", k, n, len(line))
			}
		}
	})
}
