package filters

// arena stores the bytes of events that are still held (being assembled or
// waiting for a pair partner). Events are released strictly in input order,
// so the arena is a FIFO over one growing buffer addressed by absolute
// positions: releasing moves the start forward and the buffer is compacted
// only when enough of it is dead, which keeps steady-state allocations at
// zero.
type arena struct {
	buf  []byte
	base int64 // absolute position of buf[0]
}

func (a *arena) append(b []byte) (start, end int64) {
	start = a.base + int64(len(a.buf))
	a.buf = append(a.buf, b...)
	return start, start + int64(len(b))
}

// slice returns the bytes in [start, end). The slice is valid only until the
// next append or release.
func (a *arena) slice(start, end int64) []byte {
	return a.buf[start-a.base : end-a.base]
}

// release declares every byte before upTo dead.
func (a *arena) release(upTo int64) {
	dead := upTo - a.base
	if dead <= 0 {
		return
	}
	if dead >= int64(len(a.buf)) {
		a.buf = a.buf[:0]
		a.base = upTo
		return
	}
	// Compact when the dead prefix dominates, so copying stays amortised.
	if dead >= 1<<16 && dead*2 >= int64(len(a.buf)) {
		n := copy(a.buf, a.buf[dead:])
		a.buf = a.buf[:n]
		a.base = upTo
	}
}
