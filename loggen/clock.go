package loggen

import (
	"strconv"
	"time"
)

// startUnix is when every generated log begins (the time the corpus was
// captured), so that timestamps look like the real captures.
const startUnix = 1795643067 // 2026-11-25 21:44:27 UTC

// clock is the simulated wall clock of a generated log. The formatted
// forms of the current second are cached: they change every few hundred
// lines, so formatting stays off the per-line path.
type clock struct {
	ns  int64 // Unix nanoseconds
	sec int64 // second of the cached forms

	werkzeug []byte // 25/Nov/2026 21:44:27          (Werkzeug, eventlet access lines)
	iso      []byte // 2026-11-25 21:44:27           (Flask app log, before ",ms")
	gunicorn []byte // 25/Nov/2026:21:44:27 +0000    (gunicorn access lines)
}

func newClock() *clock {
	c := &clock{ns: startUnix * int64(time.Second), sec: -1}
	c.refresh()
	return c
}

// advance moves the clock forward by d.
func (c *clock) advance(d time.Duration) {
	c.ns += int64(d)
	if c.ns/int64(time.Second) != c.sec {
		c.refresh()
	}
}

func (c *clock) refresh() {
	c.sec = c.ns / int64(time.Second)
	t := time.Unix(c.sec, 0).UTC()
	c.werkzeug = t.AppendFormat(c.werkzeug[:0], "02/Jan/2006 15:04:05")
	c.iso = t.AppendFormat(c.iso[:0], "2006-01-02 15:04:05")
	c.gunicorn = t.AppendFormat(c.gunicorn[:0], "02/Jan/2006:15:04:05 -0700")
}

// appendMillis appends the current millisecond as three digits, as
// Python's logging does after the comma.
func (c *clock) appendMillis(b []byte) []byte {
	ms := (c.ns / int64(time.Millisecond)) % 1000
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// appendPyTime appends ns as Python's repr(time.time()) shows it: the
// shortest decimal that round-trips, always with a fractional part.
// Go's shortest formatting uses the same rule as Python's float repr.
func appendPyTime(b []byte, ns int64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, float64(ns)/1e9, 'f', -1, 64)
	for _, ch := range b[start:] {
		if ch == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}
