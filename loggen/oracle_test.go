package loggen

import (
	"bytes"
	"regexp"
	"strings"
)

// This file holds an independent reference filter for the tests: it
// assembles events the way logsift's python multiline preset does, and
// drops every false-500 block together with the nearest unclaimed websocket
// "500" access line within pairWindow events, as the built-in pack's pair
// rule does. It is checked against the real corpus and its expected
// outputs, and then used to check the expected outputs Generate writes.

const pairWindow = 64

// wsAccess500 is the partner pattern of the built-in pair rule.
var wsAccess500 = regexp.MustCompile(`transport=websocket[^"]*" 500 `)

// falseSignatures are the exception lines that end a false-500 block.
var falseSignatures = []string{
	"AssertionError: write() before start_response\n",
	"AssertionError: write() before start_response()\n",
	"AttributeError: 'Response' object has no attribute 'status_code'\n",
}

type oracleEvent struct {
	lines []string // each with its newline
}

func (e oracleEvent) text() string { return strings.Join(e.lines, "") }

// lastLine is the event's last non-empty line.
func (e oracleEvent) lastLine() string {
	for i := len(e.lines) - 1; i >= 0; i-- {
		if e.lines[i] != "\n" {
			return e.lines[i]
		}
	}
	return ""
}

func isTracebackHeader(line string) bool {
	return strings.HasSuffix(line, "Error on request:\n") ||
		strings.Contains(line, "ERROR in app: Exception on ") ||
		strings.HasPrefix(line, "ERROR:app:Exception on ") ||
		strings.HasPrefix(line, "Exception in thread ") ||
		strings.Contains(line, "] [ERROR] Error handling request ")
}

// assemble groups log lines into events: a traceback joins the header line
// right before it and ends at its first unindented line (the exception);
// one empty line right after a traceback belongs to it (eventlet).
func assemble(log []byte) []oracleEvent {
	var events []oracleEvent
	inTraceback, justEnded := false, false
	for line := range strings.SplitAfterSeq(string(log), "\n") {
		if line == "" {
			continue
		}
		switch {
		case inTraceback:
			last := &events[len(events)-1]
			last.lines = append(last.lines, line)
			if line[0] != ' ' {
				inTraceback, justEnded = false, true
			}
			continue
		case line == "Traceback (most recent call last):\n":
			n := len(events)
			if n > 0 && len(events[n-1].lines) == 1 && isTracebackHeader(events[n-1].lines[0]) {
				events[n-1].lines = append(events[n-1].lines, line)
			} else {
				events = append(events, oracleEvent{lines: []string{line}})
			}
			inTraceback, justEnded = true, false
			continue
		case justEnded && line == "\n":
			last := &events[len(events)-1]
			last.lines = append(last.lines, line)
			justEnded = false
			continue
		}
		justEnded = false
		events = append(events, oracleEvent{lines: []string{line}})
	}
	return events
}

func isFalseBlock(e oracleEvent) bool {
	if len(e.lines) < 2 {
		return false
	}
	last := e.lastLine()
	for _, sig := range falseSignatures {
		if last == sig {
			return true
		}
	}
	return false
}

func isWSAccess(e oracleEvent) bool {
	return len(e.lines) == 1 && wsAccess500.MatchString(e.lines[0])
}

// oracleResult is what the reference filter did with a log.
type oracleResult struct {
	output      []byte
	events      int
	suppressed  int // false-500 blocks dropped
	unpaired    int // blocks that matched but found no partner (kept)
	maxDistance int // largest block-to-partner distance, in events
}

// oracleFilter runs the reference filter over a whole log.
func oracleFilter(log []byte) oracleResult {
	events := assemble(log)
	dropped := make([]bool, len(events))
	access := make([]bool, len(events))
	for i, e := range events {
		access[i] = isWSAccess(e)
	}
	res := oracleResult{events: len(events)}
	for i, e := range events {
		if !isFalseBlock(e) {
			continue
		}
		partner := -1
		for d := 1; d <= pairWindow && partner < 0; d++ {
			j := i - d
			if j >= 0 && !dropped[j] && access[j] {
				partner = j
			}
		}
		for d := 1; d <= pairWindow && partner < 0; d++ {
			j := i + d
			if j < len(events) && !dropped[j] && access[j] {
				partner = j
			}
		}
		if partner < 0 {
			res.unpaired++
			continue
		}
		dropped[i], dropped[partner] = true, true
		res.suppressed++
		res.maxDistance = max(res.maxDistance, abs(partner-i))
	}
	var out bytes.Buffer
	for i, e := range events {
		if !dropped[i] {
			out.WriteString(e.text())
		}
	}
	res.output = out.Bytes()
	return res
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
