// Package outputs writes decided events to their destinations.
//
// Every output writes the original bytes of the events it selects, in input
// order, unchanged: invalid UTF-8, CRLF, NUL bytes and very long events pass
// through as they are. A Fanout drives a set of outputs from one goroutine
// and acknowledges each batch only after every output has written it.
package outputs

import (
	"errors"
	"fmt"
	"time"

	"github.com/logsift/logsift/event"
)

// Output writes the events of a batch that it selects (forwarded,
// suppressed or all). Write may buffer; Flush pushes buffered bytes to the
// destination. Outputs are used from one goroutine.
//
// A failed Write or Flush loses nothing: bytes the destination did not take
// stay buffered. After Write fails, the next Write must be given the same
// batch; it continues where the failed call stopped, so a retry never
// writes an event twice.
type Output interface {
	Name() string
	Write(b *event.OutBatch) error
	Flush() error
	Close() error
}

// Reopener is implemented by outputs that write to a path: Reopen flushes,
// closes and opens the path again, so writing continues in a new file after
// logrotate has moved the old one away.
type Reopener interface {
	Reopen() error
}

// Tolerant is implemented by outputs whose destination may be briefly
// unreachable (a collector restarting): Tolerates is how long they may
// fail before /readyz reports them.
type Tolerant interface {
	Tolerates() time.Duration
}

// UnhealthyAfter is how long the network outputs' receivers may be
// unreachable before /readyz reports them.
const UnhealthyAfter = 30 * time.Second

// Selector is implemented by outputs that write only some events; a Fanout
// uses it to count the events an output wrote. Outputs without it are
// counted as writing every event.
type Selector interface {
	Selection() Selection
}

// ErrClosedPipe reports that the reader of an output went away (EPIPE), as
// when logsift's stdout is piped into `head`. The process should exit
// promptly and quietly. Errors returned by Fanout.Run wrap it together with
// the underlying error, so errors.Is also matches syscall.EPIPE.
var ErrClosedPipe = errors.New("reader closed the pipe")

// Selection chooses which events an output writes. The zero value selects
// forwarded events, the default of the `events:` setting.
type Selection uint8

const (
	// SelectForwarded writes the events the rules let through.
	SelectForwarded Selection = iota
	// SelectSuppressed writes only the events the rules dropped, e.g. to
	// keep an audit file of what was hidden.
	SelectSuppressed
	// SelectAll writes every event.
	SelectAll
)

// ParseSelection parses the `events:` setting. An empty string means the
// default, forwarded.
func ParseSelection(s string) (Selection, error) {
	switch s {
	case "", "forwarded":
		return SelectForwarded, nil
	case "suppressed":
		return SelectSuppressed, nil
	case "all":
		return SelectAll, nil
	}
	return 0, fmt.Errorf("unknown events selection %q (want forwarded, suppressed or all)", s)
}

// String returns the setting's spelling in the configuration.
func (s Selection) String() string {
	switch s {
	case SelectForwarded:
		return "forwarded"
	case SelectSuppressed:
		return "suppressed"
	case SelectAll:
		return "all"
	}
	return fmt.Sprintf("Selection(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Selection) MarshalText() ([]byte, error) {
	if s > SelectAll {
		return nil, fmt.Errorf("invalid events selection %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, so configuration
// decoders can fill a Selection directly.
func (s *Selection) UnmarshalText(text []byte) error {
	v, err := ParseSelection(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Selects reports whether events with verdict v are written.
func (s Selection) Selects(v event.Verdict) bool {
	switch s {
	case SelectAll:
		return true
	case SelectSuppressed:
		return v == event.Suppressed
	default:
		return v == event.Forwarded
	}
}

// Count returns how many of b's events s selects.
func (s Selection) Count(b *event.OutBatch) int {
	n := 0
	for _, seg := range b.Segments {
		if s.Selects(seg.Verdict) {
			n += seg.Events
		}
	}
	return n
}
