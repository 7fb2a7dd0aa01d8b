package rules

import (
	"bytes"
	"hash/maphash"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// lineSplit runs a regexp of the shape \A X \n Y \z, where X cannot match
// a newline, as two: X on the text's first line and Y on the rest. The
// rest of a multi-line event (a traceback's frames and exception) repeats
// byte for byte from one event to the next while its first line carries a
// timestamp or a request path, so Y's answer is remembered; only the short
// first line is matched each time. Go's regexp engines cost several
// nanoseconds per byte, and a traceback is kilobytes.
type lineSplit struct {
	head  *regexp.Regexp // X, whole: run on the first line without its '\n'
	tail  *regexp.Regexp // Y, anchored at the start; ends in \z
	rests answerMemo     // the rest's answers
	// headBlind: X treats all digits alike (see digitBlind), so its
	// answer for a first line is its answer for the line with every
	// digit made '0', and is remembered under that key: first lines
	// differ from event to event in their timestamps and ids.
	headBlind bool
	heads     answerMemo
	// keys holds scratch buffers for first lines' keys: a rule is used
	// from every input's goroutine at once.
	keys sync.Pool
}

// splitRegexp returns the split form of expr, or nil when expr does not
// have that shape.
func splitRegexp(expr string) *lineSplit {
	return splitConcat(topConcat(expr))
}

// splitConcat is splitRegexp of a parsed top-level concatenation.
func splitConcat(subs []*syntax.Regexp) *lineSplit {
	n := len(subs)
	if n < 3 || subs[0].Op != syntax.OpBeginText || subs[n-1].Op != syntax.OpEndText {
		return nil
	}
	for i := 1; i < n-1; i++ {
		s := subs[i]
		j := -1
		if s.Op == syntax.OpLiteral {
			j = slices.Index(s.Rune, '\n')
		}
		if j < 0 {
			if !withinLine(s) {
				return nil
			}
			continue
		}
		head := append(slices.Clone(subs[1:i]), &syntax.Regexp{Op: syntax.OpLiteral, Flags: s.Flags, Rune: s.Rune[:j]})
		tail := append([]*syntax.Regexp{{Op: syntax.OpLiteral, Flags: s.Flags, Rune: s.Rune[j+1:]}}, subs[i+1:]...)
		if slices.ContainsFunc(tail, hasBeginText) {
			// \A after the first line never holds in the whole text,
			// but would at the start of the rest.
			return nil
		}
		headExpr := `\A(?:` + concat(head) + `)\z`
		if len(head) > 1 && anyInLine(head[0]) {
			// \A[^\n]*Y\z holds on a line exactly when Y\z matches
			// somewhere in it, which the regexp package finds from Y's
			// literal prefix instead of trying every start.
			headExpr = `(?:` + concat(head[1:]) + `)\z`
		}
		h, err1 := regexp.Compile(headExpr)
		t, err2 := regexp.Compile(`\A(?:` + concat(tail) + `)`)
		if err1 != nil || err2 != nil {
			return nil
		}
		return &lineSplit{head: h, tail: t, rests: newAnswerMemo(),
			headBlind: !slices.ContainsFunc(head, func(r *syntax.Regexp) bool { return !digitBlind(r) }), heads: newAnswerMemo(),
			keys: sync.Pool{New: func() any { return new([maxHeadKey]byte) }}}
	}
	return nil
}

// anyInLine reports whether re is [^\n]* or .* (without s): any run of
// a line's bytes.
func anyInLine(re *syntax.Regexp) bool {
	if re.Op != syntax.OpStar {
		return false
	}
	sub := re.Sub[0]
	return sub.Op == syntax.OpAnyCharNotNL ||
		sub.Op == syntax.OpCharClass && slices.Equal(sub.Rune, []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune})
}

// concat writes subs, concatenated, as a regexp. syntax.Regexp.String
// would do, but it checks every rune of a class like [^\n] for case
// folding: milliseconds per rule at every start.
func concat(subs []*syntax.Regexp) string {
	var b strings.Builder
	for _, sub := range subs {
		writeRegexp(&b, sub)
	}
	return b.String()
}

func writeRegexp(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString(`(?:)`)
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString(`(?i:`)
		} else {
			b.WriteString(`(?:`)
		}
		for _, r := range re.Rune {
			writeRune(b, r)
		}
		b.WriteString(`)`)
	case syntax.OpCharClass:
		b.WriteString(`[`)
		if len(re.Rune) == 0 {
			b.WriteString(`^\x00-\x{10FFFF}`)
		}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			writeRune(b, re.Rune[i])
			if re.Rune[i+1] != re.Rune[i] {
				b.WriteString(`-`)
				writeRune(b, re.Rune[i+1])
			}
		}
		b.WriteString(`]`)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		b.WriteString(`(?:`)
		writeRegexp(b, re.Sub[0])
		b.WriteString(`)`)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		b.WriteString(`(?:`)
		writeRegexp(b, re.Sub[0])
		b.WriteString(`)`)
		switch re.Op {
		case syntax.OpStar:
			b.WriteString(`*`)
		case syntax.OpPlus:
			b.WriteString(`+`)
		case syntax.OpQuest:
			b.WriteString(`?`)
		default:
			b.WriteString(`{` + strconv.Itoa(re.Min) + `,`)
			if re.Max >= 0 {
				b.WriteString(strconv.Itoa(re.Max))
			}
			b.WriteString(`}`)
		}
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteString(`?`)
		}
	case syntax.OpConcat:
		b.WriteString(`(?:`)
		for _, sub := range re.Sub {
			writeRegexp(b, sub)
		}
		b.WriteString(`)`)
	case syntax.OpAlternate:
		b.WriteString(`(?:`)
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteString(`|`)
			}
			writeRegexp(b, sub)
		}
		b.WriteString(`)`)
	default:
		// An operator this writer does not know: a regexp that can never
		// be compiled, so the split is not used.
		b.WriteString(`(`)
	}
}

// writeRune writes r so that it means itself, in a class or out of one.
func writeRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_') {
		b.WriteRune(r)
		return
	}
	b.WriteString(`\x{` + strconv.FormatInt(int64(r), 16) + `}`)
}

func hasBeginText(re *syntax.Regexp) bool {
	return re.Op == syntax.OpBeginText || slices.ContainsFunc(re.Sub, hasBeginText)
}

// match reports whether the whole regexp holds on text.
func (s *lineSplit) match(text []byte) bool {
	i := bytes.IndexByte(text, '\n')
	if i < 0 {
		return false
	}
	rest := text[i+1:]
	ok, known := s.rests.lookup(rest)
	if !known {
		ok = s.tail.Match(rest)
		s.rests.store(rest, ok)
	}
	return ok && s.matchHead(text[:i])
}

// maxHeadKey bounds the first lines whose answers are remembered.
const maxHeadKey = 512

func (s *lineSplit) matchHead(line []byte) bool {
	if !s.headBlind || len(line) > maxHeadKey {
		return s.head.Match(line)
	}
	bp := s.keys.Get().(*[maxHeadKey]byte)
	defer s.keys.Put(bp)
	key := bp[:len(line)]
	for i, c := range line {
		if c >= '0' && c <= '9' {
			c = '0'
		}
		key[i] = c
	}
	ok, known := s.heads.lookup(key)
	if !known {
		ok = s.head.Match(key)
		s.heads.store(key, ok)
	}
	return ok
}

// digitBlind reports whether re treats every decimal digit like every
// other: no literal holds one, and a class holds all ten or none. Such a
// regexp matches a text exactly when it matches the text with its digits
// replaced by '0'.
func digitBlind(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return !slices.ContainsFunc(re.Rune, func(r rune) bool { return r >= '0' && r <= '9' })
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := max(re.Rune[i], '0'), min(re.Rune[i+1], '9')
			if lo <= hi {
				n += int(hi - lo + 1)
			}
		}
		return n == 0 || n == 10
	}
	return !slices.ContainsFunc(re.Sub, func(r *syntax.Regexp) bool { return !digitBlind(r) })
}

const (
	memoSlots    = 16
	maxMemoBytes = 16 << 10
)

// answerMemo remembers a regexp's answers for recent texts (the rests,
// or first lines with their digits made '0'). Rules are shared by
// every input's goroutine, so slots are swapped whole, atomically.
type answerMemo struct {
	seed  maphash.Seed
	slots *[memoSlots]atomic.Pointer[memoEntry]
}

type memoEntry struct {
	hash uint64
	text []byte
	ok   bool
}

func newAnswerMemo() answerMemo {
	return answerMemo{seed: maphash.MakeSeed(), slots: new([memoSlots]atomic.Pointer[memoEntry])}
}

func (m answerMemo) lookup(text []byte) (ok, known bool) {
	if len(text) > maxMemoBytes {
		return false, false
	}
	h := maphash.Bytes(m.seed, text)
	e := m.slots[h%memoSlots].Load()
	if e == nil || e.hash != h || !bytes.Equal(e.text, text) {
		return false, false
	}
	return e.ok, true
}

func (m answerMemo) store(text []byte, ok bool) {
	if len(text) > maxMemoBytes {
		return
	}
	h := maphash.Bytes(m.seed, text)
	m.slots[h%memoSlots].Store(&memoEntry{hash: h, text: bytes.Clone(text), ok: ok})
}
