package filters

import (
	"bytes"
	"regexp"

	"github.com/logsift/logsift/rules"
)

// prefixer finds the length of a line's transport prefix (a container
// runtime's or journald's decoration). The prefix is ignored for grouping
// and matching but always written out with the line.
type prefixer interface {
	prefixLen(line []byte) int
}

func newPrefixer(p rules.Prefix) prefixer {
	switch p.Kind {
	case "docker-compose":
		return dockerComposePrefix{}
	case "journald-short":
		return journaldPrefix{}
	case "kubernetes-cri":
		return criPrefix{}
	case "regex":
		if p.Regex != nil {
			return regexPrefix{p.Regex}
		}
	case "none":
		return nil
	}
	return &autoPrefix{}
}

// autoPrefix recognises any of the known prefixes, line by line, trying the
// last one seen first. It lets the zero-config pipeline stage read plain,
// docker compose and journald logs alike.
type autoPrefix struct{ last int }

var knownPrefixes = [...]prefixer{dockerComposePrefix{}, journaldPrefix{}, criPrefix{}}

func (a *autoPrefix) prefixLen(line []byte) int {
	if n := knownPrefixes[a.last].prefixLen(line); n > 0 {
		return n
	}
	for i, p := range knownPrefixes {
		if i == a.last {
			continue
		}
		if n := p.prefixLen(line); n > 0 {
			a.last = i
			return n
		}
	}
	return 0
}

// journaldPrefix and criPrefix check a few fixed bytes before running their
// regexp, so lines without a prefix cost next to nothing.
type journaldPrefix struct{}

func (journaldPrefix) prefixLen(line []byte) int {
	if len(line) < 20 || line[3] != ' ' || line[6] != ' ' || line[9] != ':' || line[0] < 'A' || line[0] > 'Z' {
		return 0
	}
	return regexPrefix{journaldShort}.prefixLen(line)
}

type criPrefix struct{}

func (criPrefix) prefixLen(line []byte) int {
	if len(line) < 30 || line[4] != '-' || line[10] != 'T' || line[0] < '0' || line[0] > '9' {
		return 0
	}
	return regexPrefix{kubernetesCRI}.prefixLen(line)
}

var (
	// "Nov 25 21:44:27 host ident[pid]: "
	journaldShort = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ [^ :]+: `)
	// "2026-11-25T21:44:27.123456789Z stdout F "
	kubernetesCRI = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ (?:stdout|stderr) [FP] `)
)

type regexPrefix struct{ re *regexp.Regexp }

func (p regexPrefix) prefixLen(line []byte) int {
	loc := p.re.FindIndex(line)
	if loc == nil || loc[0] != 0 {
		return 0
	}
	return loc[1]
}

// dockerComposePrefix recognises "service-1  | " by hand: it is on every
// line of a compose log, so it is worth not running a regexp for it.
type dockerComposePrefix struct{}

func (dockerComposePrefix) prefixLen(line []byte) int {
	i := 0
	for i < len(line) && isNameByte(line[i]) {
		i++
	}
	if i == 0 {
		return 0
	}
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j == i || j >= len(line) || line[j] != '|' {
		return 0
	}
	j++
	if j < len(line) && line[j] == ' ' {
		j++
	}
	return j
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// content returns the line without prefix and without its line ending.
func content(p prefixer, line []byte) []byte {
	if p != nil {
		line = line[p.prefixLen(line):]
	}
	return trimEOL(line)
}

func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// matchView builds, into dst, the text rules see for an event: every line
// without its prefix and CR, each ending in '\n'.
func matchView(dst []byte, p prefixer, raw []byte) []byte {
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		var line []byte
		if i < 0 {
			line, raw = raw, nil
		} else {
			line, raw = raw[:i+1], raw[i+1:]
		}
		dst = append(dst, content(p, line)...)
		dst = append(dst, '\n')
	}
	return dst
}
