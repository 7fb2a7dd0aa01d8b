package record

import "bytes"

// SuffixLen returns how many bytes at the end of s, one line's text without
// its line break, are a logging formatter's suffix appended after the
// message, or 0. Auto mode strips it so that rules written against the bare
// message still match; the shape alone decides, so every shape is one that
// ordinary message text rarely ends in. Recognised, each after one or more
// spaces that belong to the suffix:
//
//   - " (name=value, ...)": Python "extras" formatters, which append the
//     LogRecord attributes outside the standard set (Python 3.12 added
//     taskName to every record). name is an identifier; values may hold
//     anything but ')', so the list starts at the last "(name=" after the
//     last inner ')'.
//   - " {...}": a JSON object ending the line, from the leftmost " {" that
//     starts one valid object running to the end (of the last 32 " {").
//   - " [in path:line]": Flask's documented "[in %(pathname)s:%(lineno)d]".
//   - " key=value ...": trailing logfmt pairs, key [A-Za-z_][A-Za-z0-9_.-]*,
//     value a non-empty run without spaces or quotes, or a double-quoted
//     string with backslash escapes.
//
// A line that is nothing but such text (after optional indentation) has no
// message to strip it from, and 0 is returned; so it is for logfmt pairs
// after text ending in '=', where the split would be a guess.
//
// The result includes the leading spaces: s[:len(s)-n] is the message.
func SuffixLen(s []byte) int {
	if len(s) == 0 {
		return 0
	}
	n := 0
	switch s[len(s)-1] {
	case ')':
		n = extrasLen(s)
	case '}':
		n = jsonSuffixLen(s)
	case ']':
		n = flaskLen(s)
	}
	if n == 0 && mayEndInPair(s) {
		n = logfmtLen(s)
	}
	return n
}

// mayEndInPair is the cheap test that rules out a logfmt suffix on most
// lines: the last space-separated token of one holds a '=' (or a quote,
// which a quoted value may wrap around spaces).
func mayEndInPair(s []byte) bool {
	for i := len(s) - 1; i >= 0 && s[i] != ' '; i-- {
		if s[i] == '=' || s[i] == '"' {
			return true
		}
	}
	return false
}

// spacedSuffix returns the length of the suffix whose shape starts at
// s[start], extended over the spaces before it, or 0 if there are none or
// nothing but blanks precedes them.
func spacedSuffix(s []byte, start int) int {
	j := start
	for j > 0 && s[j-1] == ' ' {
		j--
	}
	if j == start || !hasText(s[:j]) {
		return 0
	}
	return len(s) - j
}

func hasText(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return true
		}
	}
	return false
}

func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isIdentByte(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isKeyByte(c byte) bool { return isIdentByte(c) || c == '.' || c == '-' }

// extrasLen handles " (name=value, ...)". Because a value may be anything
// without ')', including text that looks like more pairs, only the start
// needs checking: an identifier and '='.
func extrasLen(s []byte) int {
	body := s[:len(s)-1]
	lo := bytes.LastIndexByte(body, ')') + 1
	for i := len(body) - 1; i >= lo && i > 0; i-- {
		if body[i] == '(' && body[i-1] == ' ' && startsWithName(body[i+1:]) {
			return spacedSuffix(s, i)
		}
	}
	return 0
}

func startsWithName(b []byte) bool {
	if len(b) == 0 || !isIdentStart(b[0]) {
		return false
	}
	i := 1
	for i < len(b) && isIdentByte(b[i]) {
		i++
	}
	return i < len(b) && b[i] == '='
}

// maxJSONStarts bounds the " {" positions jsonSuffixLen tries, so that a
// line full of them costs linear time. They are tried from the right, where
// the suffix is: an object nesting fewer objects than this is found whole.
const maxJSONStarts = 32

func jsonSuffixLen(s []byte) int {
	best := -1
	end := len(s)
	for tries := 0; tries < maxJSONStarts; tries++ {
		j := bytes.LastIndex(s[:end], []byte(" {"))
		if j < 0 {
			break
		}
		if validObject(s[j+1:]) {
			best = j + 1
		}
		end = j
	}
	if best < 0 {
		return 0
	}
	return spacedSuffix(s, best)
}

func flaskLen(s []byte) int {
	i := bytes.LastIndex(s, []byte(" [in "))
	if i < 0 {
		return 0
	}
	loc := s[i+len(" [in ") : len(s)-1]
	colon := bytes.LastIndexByte(loc, ':')
	if colon <= 0 || colon == len(loc)-1 || bytes.IndexByte(loc, ']') >= 0 {
		return 0
	}
	for _, c := range loc[colon+1:] {
		if !isDigit(c) {
			return 0
		}
	}
	return spacedSuffix(s, i+1)
}

// logfmtLen takes key=value tokens from the end of s for as long as they
// come, each after at least one space.
func logfmtLen(s []byte) int {
	first := -1
	for end := len(s); end > 0; {
		ts := logfmtToken(s[:end])
		if ts < 0 {
			break
		}
		if ts == 0 {
			return 0 // the whole line is pairs
		}
		if s[ts-1] != ' ' {
			break
		}
		first = ts
		for end = ts; end > 0 && s[end-1] == ' '; end-- {
		}
	}
	if first < 0 {
		return 0
	}
	n := spacedSuffix(s, first)
	if n == 0 || s[len(s)-n-1] == '=' {
		return 0
	}
	return n
}

// logfmtToken returns the start of the key=value token ending s, or -1.
func logfmtToken(s []byte) int {
	var eq int // index of the '=' after the key
	if s[len(s)-1] == '"' {
		if backslashesBefore(s, len(s)-1)%2 == 1 {
			return -1
		}
		open := -1
		for i := len(s) - 2; i >= 0; i-- {
			if s[i] == '"' && backslashesBefore(s, i)%2 == 0 {
				open = i
				break
			}
		}
		if open < 1 || s[open-1] != '=' {
			return -1
		}
		eq = open - 1
	} else {
		i := len(s)
		for i > 0 && s[i-1] != ' ' && s[i-1] != '"' {
			i--
		}
		if i > 0 && s[i-1] == '"' {
			return -1
		}
		e := bytes.IndexByte(s[i:], '=')
		if e < 0 || i+e == len(s)-1 {
			return -1 // no '=' or an empty value
		}
		eq = i + e
		if !closes(s[eq+1:]) {
			return -1
		}
	}
	ks := eq
	for ks > 0 && isKeyByte(s[ks-1]) {
		ks--
	}
	if ks == eq || !isIdentStart(s[ks]) {
		return -1
	}
	return ks
}

func backslashesBefore(s []byte, i int) int {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n
}

// closes reports whether an unquoted value is not the tail of a bracketed
// text the other shapes rejected, such as "(a b=c)": a value ending in a
// closing bracket must contain its opening one.
func closes(v []byte) bool {
	var open byte
	switch v[len(v)-1] {
	case ')':
		open = '('
	case ']':
		open = '['
	case '}':
		open = '{'
	default:
		return true
	}
	return bytes.IndexByte(v, open) >= 0
}
