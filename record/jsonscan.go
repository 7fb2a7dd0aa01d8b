package record

import (
	"bytes"
	"encoding/binary"
)

// maxDepth bounds the nesting of arrays and objects. The scanner recurses
// once per level, and a hostile line of a million '[' must not be able to
// grow the goroutine stack without limit; real log records nest a few levels.
const maxDepth = 1000

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace trims JSON whitespace; bytes.TrimSpace would also trim Unicode
// spaces, which are content.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanString validates the string starting at b[i] == '"'. It returns the
// index after the closing quote and whether the content holds an escape, so
// that callers can use the raw bytes directly when it does not.
func scanString(b []byte, i int) (end int, esc bool, ok bool) {
	i++
	// Keys and most values are short: a plain loop finds their end before
	// a vectorised search would have set up.
	for n := min(len(b), i+shortString); i < n; i++ {
		c := b[i]
		if c == '"' {
			return i + 1, false, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	// The closing quote is the first '"' not escaped: find quotes and
	// backslashes with bytes.IndexByte, which is vectorised, and test the
	// plain runs between them for control bytes eight at a time.
	quote := -1 // position of the next '"' at or after i, once known
	for i < len(b) {
		if quote < i {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				return 0, false, false
			}
			quote = i + q
		}
		run := b[i:quote]
		bs := bytes.IndexByte(run, '\\')
		if bs >= 0 {
			run = run[:bs]
		}
		if hasControl(run) {
			return 0, false, false
		}
		if bs < 0 {
			return quote + 1, esc, true
		}
		i += bs
		esc = true
		if i+1 >= len(b) {
			return 0, false, false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+5 >= len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
				return 0, false, false
			}
			i += 6
		default:
			return 0, false, false
		}
	}
	return 0, false, false
}

// shortString is how many bytes of a string are scanned one by one.
const shortString = 16

// hasControl reports whether b holds a byte below 0x20, which JSON allows
// in a string only escaped. Eight bytes at a time with the classic SWAR
// test for a byte less than n.
func hasControl(b []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if (x-ones*0x20)&^x&highs != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// scanNumber validates the number starting at b[i] against RFC 8259's
// grammar, which is stricter than strconv's (no "+1", "01", ".5" or "1.").
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

// skipValue validates the value starting at b[i] (no leading space) and
// returns the index after it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '{':
		o, ok := openObject(b, i, depth+1)
		if !ok {
			return 0, false
		}
		for _, more := o.next(); more; _, more = o.next() {
		}
		return o.i, !o.err
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	default:
		return scanNumber(b, i)
	}
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

func skipArray(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = skipValue(b, i, depth); !ok {
			return 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return 0, false
		}
	}
}

// member is one name/value pair of an object, as raw bytes of the input.
type member struct {
	key    []byte // between the quotes, still escaped
	keyEsc bool   // key contains a backslash
	val    []byte // the whole value: a string keeps its quotes
	valEsc bool   // val is a string containing a backslash
}

func (m member) isString() bool { return m.val[0] == '"' }

// object iterates over an object's members, validating as it goes; an
// iterator rather than a callback keeps the hot loops free of closures.
type object struct {
	b     []byte
	i     int
	depth int
	n     int  // members returned so far
	err   bool // a syntax error ended the iteration
}

// openObject starts iterating over the object at b[i] == '{'.
func openObject(b []byte, i, depth int) (object, bool) {
	if depth > maxDepth || i >= len(b) || b[i] != '{' {
		return object{}, false
	}
	return object{b: b, i: i + 1, depth: depth}, true
}

// wholeObject starts iterating over b, which must be nothing but one object
// and JSON whitespace; the caller checks o.atEnd after the last member.
func wholeObject(b []byte) (object, bool) {
	return openObject(b, skipSpace(b, 0), 1)
}

// atEnd reports whether the iteration finished cleanly with only
// whitespace after the object.
func (o *object) atEnd() bool {
	return !o.err && skipSpace(o.b, o.i) == len(o.b)
}

// next returns the next member; false means the closing brace was consumed
// (o.i is after it) or a syntax error was found (o.err).
func (o *object) next() (member, bool) {
	b, i := o.b, skipSpace(o.b, o.i)
	if i >= len(b) {
		return o.fail()
	}
	if o.n > 0 {
		switch b[i] {
		case '}':
			o.i = i + 1
			return member{}, false
		case ',':
			i = skipSpace(b, i+1)
		default:
			return o.fail()
		}
	} else if b[i] == '}' {
		o.i = i + 1
		return member{}, false
	}
	if i >= len(b) || b[i] != '"' {
		return o.fail()
	}
	kEnd, kEsc, ok := scanString(b, i)
	if !ok {
		return o.fail()
	}
	m := member{key: b[i+1 : kEnd-1], keyEsc: kEsc}
	i = skipSpace(b, kEnd)
	if i >= len(b) || b[i] != ':' {
		return o.fail()
	}
	i = skipSpace(b, i+1)
	vStart := i
	if i < len(b) && b[i] == '"' {
		i, m.valEsc, ok = scanString(b, i)
	} else {
		i, ok = skipValue(b, i, o.depth)
	}
	if !ok {
		return o.fail()
	}
	m.val = b[vStart:i]
	o.i = i
	o.n++
	return m, true
}

func (o *object) fail() (member, bool) {
	o.err = true
	return member{}, false
}

// validObject reports whether b is exactly one JSON object (surrounding
// whitespace allowed).
func validObject(b []byte) bool {
	o, ok := wholeObject(b)
	if !ok {
		return false
	}
	for _, more := o.next(); more; _, more = o.next() {
	}
	return o.atEnd()
}
