package rules

import (
	"strings"
	"testing"
)

// benchEvents are a typical access line (most events) and a false-500
// traceback (the event the rules are after).
var (
	benchAccess = []byte(`127.0.0.1 - - [25/Nov/2025 21:44:27] "GET /api/items?page=2 HTTP/1.1" 200 -` + "\n")
	benchTrace  = []byte(wsClose)
)

func benchMatch(b *testing.B, form string, event []byte, want bool) {
	m := compileMatch(b, form)
	if got := MatchText(m, event); got != want {
		b.Fatalf("Match = %v, want %v", got, want)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		MatchText(m, event)
	}
}

func BenchmarkContains(b *testing.B) {
	benchMatch(b, `{contains: "write() before start_response"}`, benchAccess, false)
}

func BenchmarkContainsList(b *testing.B) {
	benchMatch(b, `{contains: ["Headers already set", "write() before start_response"]}`, benchTrace, true)
}

const benchRegex = `{regex: '(?m)^AssertionError: write\(\) before start_response\(?\)?$'}`

// BenchmarkRegexPrefilterMiss is the common case: the required literal is
// absent and the regexp never runs.
func BenchmarkRegexPrefilterMiss(b *testing.B) {
	benchMatch(b, benchRegex, benchAccess, false)
}

// BenchmarkRegexPrefilterHit runs the regexp after the literal is found.
func BenchmarkRegexPrefilterHit(b *testing.B) {
	benchMatch(b, benchRegex, benchTrace, true)
}

// BenchmarkRegexNoPrefilter is the cost the prefilter saves.
func BenchmarkRegexNoPrefilter(b *testing.B) {
	m := compileMatch(b, benchRegex).(regexMatcher)
	m.literals = nil
	b.ReportAllocs()
	b.SetBytes(int64(len(benchAccess)))
	for b.Loop() {
		MatchText(m, benchAccess)
	}
}

func BenchmarkNot(b *testing.B) {
	benchMatch(b, `{not: {contains: "Headers already set"}}`, benchTrace, true)
}

func BenchmarkAny(b *testing.B) {
	benchMatch(b, `{any: [{contains: "Exception on"}, {regex: 'transport=websocket[^"]*" 500 '}]}`, benchAccess, false)
}

func BenchmarkLongEvent(b *testing.B) {
	event := []byte(strings.Repeat(string(benchAccess), 200) + wsClose)
	benchMatch(b, benchRegex, event, true)
}
