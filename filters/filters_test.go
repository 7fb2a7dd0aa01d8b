package filters

import (
	"bytes"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// runAll pushes input through a processor in batches of batchLines lines and
// returns the forwarded and suppressed bytes and the processor.
func runAll(in rules.Input, rs []*rules.Rule, input []byte, batchLines int) (fwd, sup []byte, p *Processor) {
	p = NewProcessor(in, rs)
	out := &event.OutBatch{}
	collect := func() {
		out.Each(func(data []byte, s event.Segment) {
			if s.Verdict == event.Forwarded {
				fwd = append(fwd, data...)
			} else {
				sup = append(sup, data...)
			}
		})
		out.Reset()
	}
	now := time.Unix(1_800_000_000, 0)
	b := &event.LineBatch{Input: in.Name, Path: "-"}
	var off int64
	rest := input
	for len(rest) > 0 {
		b.Reset()
		for i := 0; i < batchLines && len(rest) > 0; i++ {
			n := bytes.IndexByte(rest, '\n') + 1
			if n == 0 {
				n = len(rest)
			}
			b.Append(rest[:n])
			rest = rest[n:]
			off += int64(n)
		}
		b.EndOffset = off
		p.Process(b, out, now)
		collect()
	}
	p.Close(out)
	collect()
	return fwd, sup, p
}

func defaultInput() rules.Input {
	in := rules.Default().Inputs[0]
	in.Prefix = rules.Prefix{Kind: "auto"}
	return in
}
