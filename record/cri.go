package record

import "bytes"

// DecodeCRI parses one line of the CRI log format written by containerd and
// CRI-O and read by the kubelet:
//
//	<RFC 3339 timestamp> <stdout|stderr> <P|F>[:tag...] <text>
//
// text aliases line: everything after the header, without the line's final
// "\n" (a "\r" before it is the application's and is kept). A record with
// empty text may lack the space after the tags. partial is true for a P
// record, which the runtime wrote because the line exceeded its buffer; the
// text continues in the following records up to an F record.
//
// ok is false when the header does not parse. The timestamp is checked
// strictly (a 'T' between date and time, valid ranges, 'Z' or a numeric
// offset) so that an ordinary line starting "2026-12-01 22:05:25,815 INFO"
// is not taken for a CRI record.
func DecodeCRI(line []byte) (text, stream []byte, partial, ok bool) {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || !isRFC3339(line[:sp]) {
		return nil, nil, false, false
	}
	rest := line[sp+1:]
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")), bytes.HasPrefix(rest, []byte("stderr ")):
		stream, rest = rest[:6], rest[7:]
	default:
		return nil, nil, false, false
	}
	// The tag field ends at the next space; the kubelet reads only its
	// first ':'-separated tag and ignores the rest for compatibility.
	tags := rest
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		tags, text = rest[:sp], rest[sp+1:]
	} else {
		text = rest[len(rest):]
	}
	if len(tags) == 0 || (tags[0] != 'P' && tags[0] != 'F') || (len(tags) > 1 && tags[1] != ':') {
		return nil, nil, false, false
	}
	return text, stream, tags[0] == 'P', true
}

// isRFC3339 reports whether b is a timestamp that time.Parse accepts with
// time.RFC3339Nano, without parsing it into a time.Time.
func isRFC3339(b []byte) bool {
	// 2006-01-02T15:04:05 is the fixed-width part.
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	b = b[19:]
	if len(b) > 0 && b[0] == '.' {
		i := 1
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		b = b[i:]
	}
	switch {
	case len(b) == 1 && b[0] == 'Z':
		return true
	case len(b) == 6 && (b[0] == '+' || b[0] == '-') && b[3] == ':':
		h, okh := digits(b[1:3])
		m, okm := digits(b[4:6])
		return okh && okm && h <= 23 && m <= 59
	}
	return false
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
