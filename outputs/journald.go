package outputs

import (
	"bytes"
	"fmt"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/logsift/logsift/event"
)

// JournaldOutput writes every selected event to the systemd journal over
// its native protocol, one entry per event: a multi-line event (a header
// and its traceback) is one entry, not one per line. The entry's MESSAGE is
// the event's bytes without the final newline, PRIORITY the record's level
// where its text names one (ERROR, WARNING, ...), else the original
// entry's, else info. SYSLOG_IDENTIFIER is the configured identifier, or,
// for an event read from the journal, the original entry's; such an event
// also keeps the original's client fields, with SYSLOG_PID and
// LOGSIFT_SOURCE_UNIT for its writer's PID and unit. Every entry carries
// LOGSIFT_OUTPUT=<output name>, by which a journal input knows not to read
// it back.
type JournaldOutput struct {
	name  string
	ident string
	sel   Selection
	send  func(msg string, p journal.Priority, vars map[string]string) error

	progress resume

	// The fields of the last origin seen, reused while events come from
	// the same writer.
	origin     *event.Origin
	originVars map[string]string
	ownVars    map[string]string
}

// NewJournald returns an output named name that sends the events sel
// selects to the journal as identifier. It fails when no journal socket is
// there.
func NewJournald(name, identifier string, sel Selection) (*JournaldOutput, error) {
	if !journal.Enabled() {
		return nil, fmt.Errorf("output %q: no systemd journal socket (/run/systemd/journal/socket)", name)
	}
	return &JournaldOutput{name: name, ident: identifier, sel: sel, send: journal.Send}, nil
}

// Name is the output's metric label.
func (o *JournaldOutput) Name() string { return o.name }

// Selection is what the output writes.
func (o *JournaldOutput) Selection() Selection { return o.sel }

// Write sends the selected events of b; see Output for retries.
func (o *JournaldOutput) Write(b *event.OutBatch) error {
	return o.progress.each(b, o.sel, func(i int, raw []byte) (bool, error) {
		msg := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
		origin := b.OriginOf(i)
		p, ok := priorityOf(raw)
		if !ok && origin != nil {
			p = originPriority(origin.Priority)
		}
		if err := o.send(string(msg), p, o.vars(origin)); err != nil {
			return false, fmt.Errorf("output %q: journal: %w", o.name, err)
		}
		return true, nil
	})
}

// vars are the fields of an entry for an event with origin (nil: none).
func (o *JournaldOutput) vars(origin *event.Origin) map[string]string {
	if origin == nil {
		if o.ownVars == nil {
			o.ownVars = map[string]string{"SYSLOG_IDENTIFIER": o.ident, "LOGSIFT_OUTPUT": o.name}
		}
		return o.ownVars
	}
	if origin == o.origin {
		return o.originVars
	}
	vars := make(map[string]string, len(origin.Fields)+4)
	for _, f := range origin.Fields {
		vars[f[0]] = f[1]
	}
	vars["SYSLOG_IDENTIFIER"] = origin.Identifier
	if origin.PID != "" {
		vars["SYSLOG_PID"] = origin.PID
	}
	if origin.Unit != "" {
		vars["LOGSIFT_SOURCE_UNIT"] = origin.Unit
	}
	vars["LOGSIFT_OUTPUT"] = o.name
	o.origin, o.originVars = origin, vars
	return vars
}

// originPriority reads a journal entry's PRIORITY, info when it has none.
func originPriority(p string) journal.Priority {
	if len(p) == 1 && p[0] >= '0' && p[0] <= '7' {
		return journal.Priority(p[0] - '0')
	}
	return journal.PriInfo
}

// Flush has nothing to do: every entry is sent by Write.
func (o *JournaldOutput) Flush() error { return nil }

// Close has nothing to close: the library keeps one socket for the process.
func (o *JournaldOutput) Close() error { return nil }

// levels are the level names of Python's logging and most formatters, with
// their syslog priorities.
var levels = []struct {
	name string
	p    journal.Priority
}{
	{"CRITICAL", journal.PriCrit}, {"FATAL", journal.PriCrit}, {"ERROR", journal.PriErr},
	{"WARNING", journal.PriWarning}, {"WARN", journal.PriWarning}, {"INFO", journal.PriInfo},
	{"DEBUG", journal.PriDebug},
}

// priorityOf finds the level a record's first line names as a word of its
// own (" ERROR ", "[ERROR]", ":ERROR:", "\"levelname\": \"ERROR\""); ok is
// false (and the priority info) when it names none.
func priorityOf(raw []byte) (p journal.Priority, ok bool) {
	line := raw
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) > 512 {
		line = line[:512]
	}
	best, at := journal.PriInfo, len(line)+1
	for _, l := range levels {
		for off := 0; off < len(line); {
			i := bytes.Index(line[off:], []byte(l.name))
			if i < 0 {
				break
			}
			i += off
			end := i + len(l.name)
			if (i == 0 || !isWordByte(line[i-1])) && (end == len(line) || !isWordByte(line[end])) {
				if i < at {
					best, at = l.p, i
				}
				break
			}
			off = end
		}
	}
	return best, at <= len(line)
}

func isWordByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}
