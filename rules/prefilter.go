package rules

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLiterals caps the alternatives a prefilter checks; past that the
// substring scans cost more than they save.
const maxLiterals = 16

// requiredLiterals returns strings at least one of which occurs in the text
// of every match of expr, or nil when no such set can be derived (then the
// regexp has to run on every event). It never returns an empty string.
func requiredLiterals(expr string) []string {
	lits, _ := analyze(expr)
	return lits
}

// analyze derives the prefilter literals of expr and whether expr is
// line-local: every match lies within one line and no assertion looks
// past the line's ends, so running it on single lines gives the same
// answer as running it on the whole event.
func analyze(expr string) (literals []string, lineLocal bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	return required(re), withinLine(re)
}

// withinLine reports whether re can neither match '\n' nor test the
// start or end of the whole text (\A, \z, and ^ $ without (?m)).
func withinLine(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpAnyCharNotNL,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		return !slices.Contains(re.Rune, '\n')
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return false
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat,
		syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !withinLine(sub) {
				return false
			}
		}
		return true
	}
	return false
}

// required is the analysis behind requiredLiterals.
func required(re *syntax.Regexp) []string {
	if s, ok := exact(re); ok {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch re.Op {
	case syntax.OpLiteral:
		// Only partly exact (case folding, U+FFFD): keep the longest run
		// that must appear byte for byte.
		if run := longestExactRun(re); run != "" {
			return []string{run}
		}
		return nil
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		return requiredConcat(re.Sub)
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := required(sub)
			if lits == nil {
				// A branch without a required literal can match
				// anything the prefilter would reject.
				return nil
			}
			for _, l := range lits {
				if !slices.Contains(all, l) {
					all = append(all, l)
				}
			}
			if len(all) > maxLiterals {
				return nil
			}
		}
		return all
	}
	return nil
}

// requiredConcat picks the most selective requirement of a concatenation:
// every element's requirement holds, so any one of them is a valid
// prefilter. Adjacent exact elements are joined into one longer literal.
func requiredConcat(subs []*syntax.Regexp) []string {
	var best []string
	consider := func(lits []string) {
		if lits != nil && (best == nil || selectivity(lits) > selectivity(best) ||
			selectivity(lits) == selectivity(best) && len(lits) < len(best)) {
			best = lits
		}
	}
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			consider([]string{run.String()})
			run.Reset()
		}
	}
	for _, sub := range subs {
		if s, ok := exact(sub); ok {
			run.WriteString(s)
			continue
		}
		flush()
		consider(required(sub))
	}
	flush()
	return best
}

// selectivity ranks a literal set by its shortest member: the shortest
// literal is the one most likely to occur by chance.
func selectivity(lits []string) int {
	m := len(lits[0])
	for _, l := range lits[1:] {
		m = min(m, len(l))
	}
	return m
}

// exact reports whether re matches exactly one string (ignoring zero-width
// assertions, which consume nothing) and returns it.
func exact(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if !exactRune(r, re.Flags) {
				return "", false
			}
		}
		return string(re.Rune), true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return "", true
	}
	return "", false
}

// exactRune reports whether a literal rune can only match its own UTF-8
// encoding. Under (?i) a rune with case variants matches other bytes ('k'
// even matches U+212A KELVIN SIGN), and U+FFFD also matches any invalid
// byte in the input.
func exactRune(r rune, flags syntax.Flags) bool {
	if r == utf8.RuneError {
		return false
	}
	return flags&syntax.FoldCase == 0 || unicode.SimpleFold(r) == r
}

func longestExactRun(re *syntax.Regexp) string {
	best, start := "", 0
	for i := 0; i <= len(re.Rune); i++ {
		if i < len(re.Rune) && exactRune(re.Rune[i], re.Flags) {
			continue
		}
		if run := string(re.Rune[start:i]); len(run) > len(best) {
			best = run
		}
		start = i + 1
	}
	return best
}

// conjuncts returns the exact literal pieces of expr's top-level
// concatenation (at least 3 bytes long): text that every match contains,
// all of it. The pieces of a concatenation are required together, unlike
// requiredLiterals' alternatives, of which one suffices.
func conjuncts(expr string) []string {
	return conjunctsOf(topConcat(expr))
}

// conjunctsOf is conjuncts of a parsed top-level concatenation.
func conjunctsOf(subs []*syntax.Regexp) []string {
	if subs == nil {
		return nil
	}
	var out []string
	var run strings.Builder
	flush := func() {
		if run.Len() >= 3 && len(out) < maxLiterals {
			out = append(out, run.String())
		}
		run.Reset()
	}
	for _, sub := range subs {
		if s, ok := exact(sub); ok {
			run.WriteString(s)
			if s == "" && sub.Op != syntax.OpEmptyMatch {
				// An assertion (\A, ^, \b) joins nothing across it.
				flush()
			}
			continue
		}
		flush()
		if sub.Op == syntax.OpPlus {
			if s, ok := exact(sub.Sub[0]); ok {
				run.WriteString(s)
				flush()
			}
		}
	}
	flush()
	return out
}

// topConcat parses expr and returns the elements of its top-level
// concatenation (through capturing groups), or nil when it is no
// concatenation.
func topConcat(expr string) []*syntax.Regexp {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return concatOf(re.Simplify())
}

// concatOf returns the elements of a simplified regexp's top-level
// concatenation (through capturing groups), or nil when it is none.
func concatOf(re *syntax.Regexp) []*syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpConcat {
		return nil
	}
	return re.Sub
}
