package filters

import "bytes"

// Writers that share a stream without a lock (a thread's traceback printed
// while the logging handler writes an access line) glue the end of one
// record to the start of another on one physical line. A pair partner is
// meant to be one whole record, so an event that may carry content of any
// other record is never dropped as a partner: it still completes the pair,
// but it is forwarded.

// headShapeLen is how many shape symbols of a line's start are compared.
const headShapeLen = 8

type headShape [headShapeLen]byte

// headStats learns the shape of the partners' first bytes in one source:
// the records a pair rule claims come from one formatter, so they start
// alike (a timestamp, a client address), and a partner that starts
// otherwise has something glued in front of its record.
type headStats struct {
	shapes [4]headShape
	counts [4]int
	born   [4]uint64 // when each slot's shape was first seen; ties go to the oldest
	seen   uint64
	// run counts the partners in a row that started otherwise than usual
	// in the way prefix says (its kind, then its bytes with digits as
	// '0'): see changed.
	prefix []byte
	run    int
}

// formatterRun is how many partners in a row must start the same new way
// for that start to become the usual one. They are forwarded meanwhile.
const formatterRun = 8

// carriesOther reports whether a pair partner candidate may hold content
// of another record, and learns its head shape when it does not.
func (e *engine) carriesOther(s *span) bool {
	if s.json != nil {
		// A JSON record was serialised whole by its logger.
		return false
	}
	v := trimEOL(s.view)
	if bytes.IndexByte(v, '\n') >= 0 {
		// A partner record is one app line (which a container runtime
		// may have split into partial records): further lines belong to
		// something else, such as a traceback the record was glued into.
		return true
	}
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case ' ', '\t', '^', '~', '|', '+':
		// Indentation or traceback decoration: the tail of a traceback
		// line runs into the record.
		return true
	}
	if leadRecurs(v) {
		return true
	}
	return e.heads.odd(v)
}

// odd reports whether line v starts otherwise than the source's partners
// usually do (the most frequent shape, the first seen on a tie). A line
// that has the usual start further on is a record glued to a fragment and
// teaches nothing; any other shape is counted, so a second legitimate
// shape (IPv6 clients beside IPv4 ones) is forwarded while it is the rarer
// one, and a glued first partner is outvoted by the clean ones after it.
// Either way nothing is lost. A stream whose formatter changed is told
// apart by its partners in a row (see changed).
func (hs *headStats) odd(v []byte) bool {
	h := shapeOf(v)
	hs.seen++
	best, slot := -1, -1
	for i := range hs.shapes {
		if hs.counts[i] == 0 {
			continue
		}
		if best < 0 || hs.counts[i] > hs.counts[best] || hs.counts[i] == hs.counts[best] && hs.born[i] < hs.born[best] {
			best = i
		}
		if hs.shapes[i] == h {
			slot = i
		}
	}
	odd := best >= 0 && hs.shapes[best] != h
	if odd {
		if at := shapeAt(v, hs.shapes[best]); at > 0 {
			hs.changed(v[:at], 'p', h)
			return true
		}
		if hs.changed(v, 's', h) {
			return true
		}
	} else {
		hs.run = 0
	}
	if slot < 0 {
		// Replace the rarest shape: a handful of slots is enough to find
		// the usual start of one formatter's records.
		slot = 0
		for i := range hs.counts {
			if hs.counts[i] < hs.counts[slot] {
				slot = i
			}
		}
		hs.shapes[slot], hs.counts[slot], hs.born[slot] = h, 0, hs.seen
	}
	hs.counts[slot]++
	return odd
}

// changed follows the partners in a row that start otherwise than usual
// in one and the same way, and makes their shape h the usual one after
// formatterRun of them: that is a stream whose formatter changed (an app
// restarted with another logging setup), not writers gluing records. Two
// ways count: kind 'p', the usual start after a prefix that reads as a
// formatter's (a timestamp, a bracket or a level, ending in a separator:
// "INFO:werkzeug:" now in front of every record), the same but for its
// digits; and kind 's', a start of its own that reads as a record's
// (the prefix dropped again). A fragment of another record that repeated
// byte for byte, digits aside, in front of every partner would be a prefix
// in all but name. The partners of the run, its last one included, are
// forwarded as odd. It reports whether h has just become the usual shape.
func (hs *headStats) changed(key []byte, kind byte, h headShape) bool {
	ok := isRecordHead(key)
	if kind == 'p' {
		switch key[len(key)-1] {
		case ':', ' ', ']', '|':
		default:
			ok = false
		}
	} else {
		key = h[:]
	}
	if !ok {
		hs.run = 0
		return false
	}
	same := hs.run > 0 && len(key)+1 == len(hs.prefix) && hs.prefix[0] == kind
	for i := 0; same && i < len(key); i++ {
		same = digitAsZero(key[i]) == hs.prefix[i+1]
	}
	if !same {
		hs.prefix = append(hs.prefix[:0], kind)
		for _, c := range key {
			hs.prefix = append(hs.prefix, digitAsZero(c))
		}
		hs.run = 0
	}
	hs.run++
	if hs.run < formatterRun {
		return false
	}
	hs.shapes, hs.counts, hs.born = [4]headShape{h}, [4]int{formatterRun}, [4]uint64{hs.seen}
	hs.run = 0
	return true
}

func digitAsZero(c byte) byte {
	if isDigit(c) {
		return '0'
	}
	return c
}

// shapeAt returns where a line has shape h starting at a class boundary
// after its first byte, or 0 when it has not.
func shapeAt(v []byte, h headShape) int {
	for i := 1; i < len(v); i++ {
		c := byteClass[v[i]]
		if (c == '9' || c == 'a') && byteClass[v[i-1]] == c {
			continue
		}
		if shapeOf(v[i:]) == h {
			return i
		}
	}
	return 0
}

// shapeOf maps a line's start to symbols: runs of digits become '9', runs
// of letters 'a', other bytes stay, so records of one formatter share a
// shape whatever their numbers and words.
func shapeOf(v []byte) headShape {
	var h headShape
	n := 0
	var last byte
	for i := 0; i < len(v) && n < headShapeLen; i++ {
		c := byteClass[v[i]]
		if (c == '9' || c == 'a') && c == last {
			continue
		}
		h[n] = c
		n++
		last = c
	}
	return h
}

// byteClass maps digits to '9', letters to 'a' and every other byte to
// itself.
var byteClass = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case isDigit(c):
			t[i] = '9'
		case isUpper(c) || isLower(c):
			t[i] = 'a'
		default:
			t[i] = c
		}
	}
	return t
}()

// leadRecurs reports whether the line's first token (a timestamp, an
// address) appears again, shape for shape, further on: two record starts
// on one line. The search jumps between occurrences of the token's first
// punctuation byte, so a partner line costs a few comparisons.
func leadRecurs(v []byte) bool {
	end := 0
	for end < len(v) && end < 40 && v[end] != ' ' {
		end++
	}
	tok := v[:end]
	if len(tok) < 7 || !hasDigit(tok) {
		return false
	}
	anchor := -1
	for k, c := range tok {
		if byteClass[c] != '9' && byteClass[c] != 'a' {
			anchor = k
			break
		}
	}
	if anchor < 0 {
		return false
	}
	for from := end; from < len(v); {
		p := bytes.IndexByte(v[from:], tok[anchor])
		if p < 0 {
			return false
		}
		p += from
		from = p + 1
		i := p - anchor
		if i < 1 || i+len(tok) > len(v) {
			continue
		}
		if sameShape(v[i:i+len(tok)], tok) && (i+len(tok) == len(v) || byteClass[v[i+len(tok)]] != '9') {
			return true
		}
	}
	return false
}

func hasDigit(b []byte) bool {
	for _, c := range b {
		if isDigit(c) {
			return true
		}
	}
	return false
}

func sameShape(a, b []byte) bool {
	for i := range a {
		if byteClass[a[i]] != byteClass[b[i]] {
			return false
		}
	}
	return true
}
