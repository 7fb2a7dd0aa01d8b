package rules

import (
	"bytes"
	"regexp/syntax"
	"unicode/utf8"
)

// simpleRegexp matches, in one pass and without backtracking, a regexp
// that is a sequence of literals and byte classes, each class once,
// optional or repeated, where no repeat could give a byte back to what
// follows it: the class of a repeat shares no byte with the first bytes
// of the next step, which must be there. `HTTP/1\.[01]" 500 [0-9]+
// [0-9.]+\n`, the shape of most pair and user regexps, is one. Go's regexp
// spends a few hundred nanoseconds on such a line (setting up its machine
// for every call); this costs a few dozen. Matching the longest run a
// repeat can take is then exactly right: any shorter run would leave a
// byte of the class where the next step cannot start.
type simpleRegexp struct {
	begin, end bool // \A and \z
	steps      []simpleStep
}

type simpleStep struct {
	lit  []byte     // a literal; or else a class:
	set  *[256]bool // the bytes it matches
	min  int        // 0 (?, *) or 1
	many bool       // *, +
}

// newSimple returns the simple form of a parsed, simplified regexp, or nil
// when it has not got that shape. Unanchored, it must start with a
// literal, whose occurrences are the only places a match can start.
func newSimple(re *syntax.Regexp) *simpleRegexp {
	var subs []*syntax.Regexp
	flatten(re, &subs)
	s := &simpleRegexp{}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		s.begin, subs = true, subs[1:]
	}
	if n := len(subs); n > 0 && subs[n-1].Op == syntax.OpEndText {
		s.end, subs = true, subs[:n-1]
	}
	for _, sub := range subs {
		st, ok := simpleStepOf(sub)
		if !ok {
			return nil
		}
		if st.lit != nil && len(s.steps) > 0 && s.steps[len(s.steps)-1].lit != nil {
			last := &s.steps[len(s.steps)-1]
			last.lit = append(last.lit, st.lit...)
			continue
		}
		s.steps = append(s.steps, st)
	}
	if len(s.steps) == 0 || !s.begin && s.steps[0].lit == nil {
		return nil
	}
	for i, st := range s.steps {
		if st.set == nil || st.min == 1 && !st.many {
			continue
		}
		if i+1 == len(s.steps) {
			continue
		}
		next := s.steps[i+1]
		switch {
		case next.lit != nil:
			if st.set[next.lit[0]] {
				return nil
			}
		case next.min == 1:
			for c := range 256 {
				if st.set[c] && next.set[c] {
					return nil
				}
			}
		default:
			// An optional step next: what follows it could start
			// with a byte of this class.
			return nil
		}
	}
	return s
}

// flatten appends re's elements to out, through concatenations and
// capturing groups. An assertion other than \A and \z at the ends is left
// for simpleStepOf to refuse.
func flatten(re *syntax.Regexp, out *[]*syntax.Regexp) {
	switch re.Op {
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			flatten(sub, out)
		}
	case syntax.OpCapture:
		flatten(re.Sub[0], out)
	default:
		*out = append(*out, re)
	}
}

func simpleStepOf(re *syntax.Regexp) (simpleStep, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
			return simpleStep{}, false
		}
		var lit []byte
		for _, r := range re.Rune {
			if r == utf8.RuneError {
				// Matched by any invalid byte as well.
				return simpleStep{}, false
			}
			lit = utf8.AppendRune(lit, r)
		}
		return simpleStep{lit: lit, min: 1}, true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		set, ok := byteSet(re.Sub[0], re.Op != syntax.OpQuest)
		if !ok {
			return simpleStep{}, false
		}
		return simpleStep{set: set, min: b2i(re.Op == syntax.OpPlus), many: re.Op != syntax.OpQuest}, true
	}
	set, ok := byteSet(re, false)
	if !ok {
		return simpleStep{}, false
	}
	return simpleStep{set: set, min: 1}, true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// byteSet returns the bytes of a one-character regexp, when matching it
// byte by byte is matching it rune by rune: a class of ASCII runes only,
// or, for a repeat (which takes every byte of a rune), one that holds
// every rune from U+0080 on besides its ASCII ones. Invalid bytes read as
// U+FFFD, which such a class holds too.
func byteSet(re *syntax.Regexp, repeat bool) (*[256]bool, bool) {
	var ranges []rune
	switch re.Op {
	case syntax.OpCharClass:
		ranges = re.Rune
	case syntax.OpAnyCharNotNL:
		ranges = []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}
	case syntax.OpAnyChar:
		ranges = []rune{0, utf8.MaxRune}
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		ranges = []rune{re.Rune[0], re.Rune[0]}
	default:
		return nil, false
	}
	var set [256]bool
	high := false
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi >= utf8.RuneSelf {
			if lo > utf8.RuneSelf || hi != utf8.MaxRune {
				return nil, false
			}
			high = true
			hi = utf8.RuneSelf - 1
		}
		for c := lo; c <= hi; c++ {
			set[c] = true
		}
	}
	if high {
		if !repeat {
			return nil, false
		}
		for c := utf8.RuneSelf; c < 256; c++ {
			set[c] = true
		}
	}
	return &set, true
}

// match reports whether the regexp matches somewhere in text.
func (s *simpleRegexp) match(text []byte) bool {
	if s.begin {
		return s.matchAt(text, 0)
	}
	lit := s.steps[0].lit
	for from := 0; ; {
		i := bytes.Index(text[from:], lit)
		if i < 0 {
			return false
		}
		if s.matchAt(text, from+i) {
			return true
		}
		from += i + 1
	}
}

func (s *simpleRegexp) matchAt(text []byte, p int) bool {
	for _, st := range s.steps {
		if st.lit != nil {
			if !bytes.HasPrefix(text[p:], st.lit) {
				return false
			}
			p += len(st.lit)
			continue
		}
		q := p
		for q < len(text) && st.set[text[q]] && (st.many || q == p) {
			q++
		}
		if q-p < st.min {
			return false
		}
		p = q
	}
	return !s.end || p == len(text)
}
