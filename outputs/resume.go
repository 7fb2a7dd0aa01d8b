package outputs

import "github.com/logsift/logsift/event"

// resume walks the events of a batch that an output selects, and keeps
// where a Write that failed part-way stopped: the fan-out retries with the
// same batch, which then continues there, so no event is sent twice.
type resume struct {
	batch *event.OutBatch
	next  int
}

// each calls fn with the index and bytes of every event of b that sel
// selects, from where the last failed walk of b stopped, until fn fails.
// fn reports whether it took the event before failing (buffered it): a
// taken event is not given again.
func (r *resume) each(b *event.OutBatch, sel Selection, fn func(i int, raw []byte) (taken bool, err error)) error {
	if r.batch != b {
		r.batch, r.next = b, 0
	}
	seg, start := 0, 0
	for i, end := range b.EventEnds {
		for seg < len(b.Segments) && b.Segments[seg].End < end {
			seg++
		}
		raw := b.Data[start:end]
		start = end
		if i < r.next || seg == len(b.Segments) || !sel.Selects(b.Segments[seg].Verdict) {
			continue
		}
		if taken, err := fn(i, raw); err != nil {
			r.next = i
			if taken {
				r.next = i + 1
			}
			return err
		}
	}
	r.batch, r.next = nil, 0
	return nil
}
