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
	return autoPrefix{}
}

// autoPrefix recognises any of the known prefixes, line by line. It lets
// the zero-config pipeline stage read plain, docker compose and journald
// logs alike. Each format is tried only when a byte it cannot do without is
// where it must be, so plain lines cost a few comparisons.
type autoPrefix struct{}

func (autoPrefix) prefixLen(line []byte) int {
	if len(line) > 15 && line[3] == ' ' && line[6] == ' ' && line[9] == ':' {
		if n := (journaldPrefix{}).prefixLen(line); n > 0 {
			return n
		}
	}
	if len(line) > 10 && line[4] == '-' && line[10] == 'T' {
		if n := (criPrefix{}).prefixLen(line); n > 0 {
			return n
		}
	}
	// A compose service name is short: the separator is near the start.
	if n := (dockerComposePrefix{}).prefixLen(line); n > 0 {
		bar := n - 1
		if line[bar] != '|' {
			bar-- // the space after it
		}
		if bar < maxServiceName {
			return n
		}
	}
	return 0
}

// maxServiceName bounds how far into a line "service-1  | " may reach.
const maxServiceName = 80

// journaldPrefix recognises journalctl's short format by hand, like
// dockerComposePrefix: "Nov 25 21:44:27 host ident[pid]: ".
type journaldPrefix struct{}

func (journaldPrefix) prefixLen(line []byte) int {
	// "Mmm dd HH:MM:SS " is 16 fixed bytes.
	if len(line) < 20 || !isUpper(line[0]) || !isLower(line[1]) || !isLower(line[2]) || line[3] != ' ' ||
		!(line[4] == ' ' || isDigit(line[4])) || !isDigit(line[5]) || line[6] != ' ' ||
		!isDigit(line[7]) || !isDigit(line[8]) || line[9] != ':' || !isDigit(line[10]) || !isDigit(line[11]) ||
		line[12] != ':' || !isDigit(line[13]) || !isDigit(line[14]) || line[15] != ' ' {
		return 0
	}
	i := 16
	host := i
	for i < len(line) && line[i] != ' ' && line[i] != '\n' {
		i++
	}
	if i == host || i >= len(line) || line[i] != ' ' {
		return 0
	}
	i++
	ident := i
	for i < len(line) && line[i] != ' ' && line[i] != ':' && line[i] != '\n' {
		i++
	}
	if i == ident || i+1 >= len(line) || line[i] != ':' || line[i+1] != ' ' {
		return 0
	}
	return i + 2
}

// criPrefix recognises the CRI log format of Kubernetes nodes by hand:
// "2026-11-25T21:44:27.123456789Z stdout F ".
type criPrefix struct{}

func (criPrefix) prefixLen(line []byte) int {
	if len(line) < 30 || !isDigit(line[0]) || !isDigit(line[3]) || line[4] != '-' || line[7] != '-' || line[10] != 'T' {
		return 0
	}
	i := bytes.IndexByte(line[11:], ' ')
	if i < 0 {
		return 0
	}
	rest := line[11+i+1:]
	if len(rest) < 9 || !(bytes.HasPrefix(rest, []byte("stdout ")) || bytes.HasPrefix(rest, []byte("stderr "))) ||
		!(rest[7] == 'F' || rest[7] == 'P') || rest[8] != ' ' {
		return 0
	}
	return 11 + i + 1 + 9
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

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

func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
