package record

import "bytes"

// dockerRecord is what a scan of a json-file record found.
type dockerRecord struct {
	log    member
	stream []byte
	time   bool
}

// scanDocker validates line as one JSON object and finds its "log", "stream"
// and "time" members. A repeated key counts by its last occurrence, as with
// encoding/json, so that both agree on which value a record carries.
func scanDocker(line []byte) (dockerRecord, bool) {
	if r, ok := scanDockerCanonical(line); ok {
		return r, true
	}
	var r dockerRecord
	o, ok := wholeObject(line)
	if !ok {
		return r, false
	}
	hasLog := false
	for m, more := o.next(); more; m, more = o.next() {
		if m.keyEsc {
			// Docker never escapes its own keys; decoding is only needed
			// to agree with a general JSON decoder on odd input.
			switch {
			case keyEqual(m.key, true, "log"):
				r.log, hasLog = m, true
			case keyEqual(m.key, true, "stream"):
				r.stream = stringContent(m)
			case keyEqual(m.key, true, "time"):
				r.time = m.isString()
			}
			continue
		}
		switch string(m.key) {
		case "log":
			r.log, hasLog = m, true
		case "stream":
			r.stream = stringContent(m)
		case "time":
			r.time = m.isString()
		}
	}
	if !o.atEnd() || !hasLog || !r.log.isString() {
		return dockerRecord{}, false
	}
	return r, true
}

// scanDockerCanonical reads the layout the json-file driver itself writes,
// {"log":"...","stream":"stdout|stderr","time":"..."} with no spaces, in
// one pass over the line. Anything else (other key order, whitespace,
// attrs, escapes in the time) is left to the general scan, which agrees
// with this one on every line both accept.
func scanDockerCanonical(line []byte) (dockerRecord, bool) {
	const (
		head   = `{"log":`
		stream = `,"stream":"`
		tm     = `","time":"`
	)
	var r dockerRecord
	if !bytes.HasPrefix(line, []byte(head)) {
		return r, false
	}
	start := len(head)
	if len(line) <= start || line[start] != '"' {
		return r, false
	}
	end, esc, ok := scanString(line, start)
	if !ok {
		return r, false
	}
	r.log = member{val: line[start:end], valEsc: esc}
	rest := line[end:]
	if !bytes.HasPrefix(rest, []byte(stream)) || len(rest) < len(stream)+6 {
		return r, false
	}
	rest = rest[len(stream):]
	name := rest[:6]
	if string(name) != "stderr" && string(name) != "stdout" {
		return r, false
	}
	rest = rest[6:]
	if !bytes.HasPrefix(rest, []byte(tm)) {
		return r, false
	}
	rest = rest[len(tm):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 || bytes.IndexByte(rest[:q], '\\') >= 0 || hasControl(rest[:q]) {
		return r, false
	}
	rest = rest[q+1:]
	if len(rest) == 0 || rest[0] != '}' || len(trimSpace(rest[1:])) != 0 {
		return r, false
	}
	r.stream, r.time = name, true
	return r, true
}

// stringContent returns a string value's raw content, or nil for another type.
func stringContent(m member) []byte {
	if !m.isString() {
		return nil
	}
	return m.val[1 : len(m.val)-1]
}

// DecodeDocker decodes one record of Docker's json-file log driver,
// {"log":"...\n","stream":"stderr","time":"..."}, with its keys in any order,
// other members (such as "attrs") skipped and any JSON whitespace, including
// the line's own "\n" or "\r\n".
//
// It appends the unescaped "log" value to dst and returns the extended slice
// as text. partial reports that the value does not end in '\n': Docker cuts
// lines over 16 KiB into several records and only the last one carries the
// newline, so the caller joins partial records with the next one. stream is
// the raw "stream" value ("stdout" or "stderr") aliasing line, nil if absent
// or not a string.
//
// ok is false unless line is one complete, valid JSON object with a string
// "log" member; dst is then returned unchanged.
func DecodeDocker(dst, line []byte) (text, stream []byte, partial, ok bool) {
	r, ok := scanDocker(line)
	if !ok {
		return dst, nil, false, false
	}
	start := len(dst)
	dst = appendString(dst, r.log)
	partial = len(dst) == start || dst[len(dst)-1] != '\n'
	return dst, r.stream, partial, true
}
