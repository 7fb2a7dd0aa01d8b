package record

import (
	"bytes"
	"unicode/utf8"
)

// escape decodes the (validated) escape sequence at s[i] == '\\' into buf
// and returns the number of bytes written and the index after the sequence.
// A surrogate pair becomes one code point; a lone surrogate becomes U+FFFD,
// as encoding/json does, because it cannot be written as UTF-8.
func escape(s []byte, i int, buf *[utf8.UTFMax]byte) (n, next int) {
	if i+1 >= len(s) {
		buf[0] = '\\'
		return 1, len(s)
	}
	var c byte
	switch s[i+1] {
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			buf[0] = '\\'
			return 1, i + 1
		}
		next = i + 6
		if 0xD800 <= r && r < 0xDC00 {
			if lo, ok := hex4(s, i+8); ok && next+1 < len(s) && s[next] == '\\' && s[next+1] == 'u' && 0xDC00 <= lo && lo < 0xE000 {
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				next += 6
			} else {
				r = utf8.RuneError
			}
		} else if 0xDC00 <= r && r < 0xE000 {
			r = utf8.RuneError
		}
		return utf8.EncodeRune(buf[:], r), next
	default: // '"', '\\', '/'
		c = s[i+1]
	}
	buf[0] = c
	return 1, i + 2
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the decoded form of a string's content s (between
// the quotes, already validated). Runs without escapes are copied whole.
func appendUnescaped(dst, s []byte) []byte {
	var buf [utf8.UTFMax]byte
	for len(s) > 0 {
		j := bytes.IndexByte(s, '\\')
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j]...)
		n, next := escape(s, j, &buf)
		dst = append(dst, buf[:n]...)
		s = s[next:]
	}
	return dst
}

// keyEqual compares a raw key with want, decoding escapes on the fly so that
// a key spelt "\u006dessage" still matches without a buffer.
func keyEqual(key []byte, esc bool, want string) bool {
	if !esc {
		return string(key) == want
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(key); {
		if key[i] != '\\' {
			if len(want) == 0 || want[0] != key[i] {
				return false
			}
			want = want[1:]
			i++
			continue
		}
		n, next := escape(key, i, &buf)
		if len(want) < n || string(buf[:n]) != want[:n] {
			return false
		}
		want = want[n:]
		i = next
	}
	return len(want) == 0
}

// shortKey returns the decoded key for a switch statement, using buf when
// the key has escapes. Keys longer than buf cannot be any key this package
// looks for, so they come back empty.
func shortKey(m member, buf *[32]byte) []byte {
	if !m.keyEsc {
		return m.key
	}
	if len(m.key) > 6*len(buf) {
		return nil
	}
	var tmp [utf8.UTFMax]byte
	out := buf[:0]
	for i := 0; i < len(m.key); {
		if m.key[i] != '\\' {
			if len(out) == len(buf) {
				return nil
			}
			out = append(out, m.key[i])
			i++
			continue
		}
		n, next := escape(m.key, i, &tmp)
		if len(out)+n > len(buf) {
			return nil
		}
		out = append(out, tmp[:n]...)
		i = next
	}
	return out
}

// appendString appends the text of a string value (with its quotes).
func appendString(dst []byte, m member) []byte {
	s := m.val[1 : len(m.val)-1]
	if !m.valEsc {
		return append(dst, s...)
	}
	return appendUnescaped(dst, s)
}
