package inputs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// journalEntry is one journal entry as journalctl -o export prints it,
// reduced to the fields logsift uses. Its byte slices are valid until the
// next call to exportReader.next.
type journalEntry struct {
	cursor     string
	message    []byte
	hasMessage bool
	cut        int // bytes of MESSAGE beyond the reader's limit, dropped
	ident      string
	comm       string
	pid        string
	unit       string
	priority   string
	forwarded  bool // written by a logsift journald output (LOGSIFT_OUTPUT)
	fields     [][2]string
}

// Limits on what an entry's fields may take in memory. A journal entry
// can hold fields of any size (a core dump is one), so every field beyond
// what logsift needs is skipped without being read into memory.
const (
	// maxJournalMessage bounds the MESSAGE kept of one entry; journald
	// itself splits stdout lines at 48 KiB, so only native-protocol
	// clients come near it.
	maxJournalMessage = 8 << 20
	maxJournalField   = 4 << 10
	maxJournalFields  = 64
)

// exportReader parses journalctl's export format: per entry, one field per
// line as NAME=value, or NAME, a newline, a little-endian 64-bit length,
// the value's bytes and a newline for values that are not plain text; an
// empty line ends the entry.
type exportReader struct {
	r     *bufio.Reader
	e     journalEntry
	value []byte // the field value being read
}

func newExportReader(r io.Reader) *exportReader {
	return &exportReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// buffered reports whether more input is already at hand.
func (x *exportReader) buffered() bool { return x.r.Buffered() > 0 }

var errExportFormat = errors.New("journalctl export: malformed entry")

// next reads the next entry. It returns io.EOF at the end of the input
// between entries, io.ErrUnexpectedEOF inside one.
func (x *exportReader) next() (*journalEntry, error) {
	e := &x.e
	msg := e.message[:0]
	*e = journalEntry{message: msg, fields: e.fields[:0]}
	started := false
	for {
		chunk, err := x.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && !started && len(chunk) == 0 {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if err == nil && len(chunk) == 1 {
			if !started {
				continue // tolerate blank lines between entries
			}
			return e, nil
		}
		started = true
		eq := bytes.IndexByte(chunk, '=')
		if eq < 0 {
			if err != nil {
				return nil, fmt.Errorf("%w: a field name longer than %d bytes", errExportFormat, x.r.Size())
			}
			name := string(chunk[:len(chunk)-1])
			if err := x.binary(name); err != nil {
				return nil, err
			}
			continue
		}
		name := string(chunk[:eq])
		limit, keep := x.limit(name)
		x.value = x.value[:0]
		rest, cut := chunk[eq+1:], 0
		for {
			line := err == nil
			if line {
				rest = rest[:len(rest)-1]
			}
			room := max(limit-len(x.value), 0)
			if !keep {
				room = 0
			}
			if len(rest) > room {
				cut += len(rest) - room
				rest = rest[:room]
			}
			x.value = append(x.value, rest...)
			if line {
				break
			}
			rest, err = x.r.ReadSlice('\n')
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				if errors.Is(err, io.EOF) {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		x.set(name, x.value, cut)
	}
}

// binary reads the length-prefixed value of field name.
func (x *exportReader) binary(name string) error {
	var n [8]byte
	if _, err := io.ReadFull(x.r, n[:]); err != nil {
		return unexpected(err)
	}
	size := binary.LittleEndian.Uint64(n[:])
	limit, keep := x.limit(name)
	if !keep {
		limit = 0
	}
	take := int(min(size, uint64(limit)))
	x.value = slices.Grow(x.value[:0], take)[:take]
	if _, err := io.ReadFull(x.r, x.value); err != nil {
		return unexpected(err)
	}
	cut := size - uint64(take)
	if cut > 0 {
		if _, err := x.r.Discard(int(min(cut, 1<<62))); err != nil {
			return unexpected(err)
		}
	}
	if b, err := x.r.ReadByte(); err != nil {
		return unexpected(err)
	} else if b != '\n' {
		return fmt.Errorf("%w: field %s: no newline after its %d bytes", errExportFormat, name, size)
	}
	x.set(name, x.value, int(min(cut, 1<<31)))
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// limit is how much of field name is kept, and whether it is kept at all.
func (x *exportReader) limit(name string) (int, bool) {
	switch name {
	case "MESSAGE":
		return maxJournalMessage, true
	case "__CURSOR", "SYSLOG_IDENTIFIER", "_COMM", "_PID", "_SYSTEMD_UNIT", "PRIORITY", "LOGSIFT_OUTPUT":
		return maxJournalField, true
	}
	if len(name) > 0 && name[0] != '_' && len(x.e.fields) < maxJournalFields {
		return maxJournalField, true
	}
	return 0, false
}

// set stores the value of field name in the entry.
func (x *exportReader) set(name string, v []byte, cut int) {
	e := &x.e
	switch name {
	case "MESSAGE":
		e.message = append(e.message[:0], v...)
		e.hasMessage, e.cut = true, cut
	case "__CURSOR":
		e.cursor = string(v)
	case "SYSLOG_IDENTIFIER":
		e.ident = string(v)
	case "_COMM":
		e.comm = string(v)
	case "_PID":
		e.pid = string(v)
	case "_SYSTEMD_UNIT":
		e.unit = string(v)
	case "PRIORITY":
		e.priority = string(v)
	case "LOGSIFT_OUTPUT":
		e.forwarded = true
	default:
		// A field too big to keep whole (a core dump) is left out
		// rather than cut.
		if cut == 0 && len(name) > 0 && name[0] != '_' && len(e.fields) < maxJournalFields {
			e.fields = append(e.fields, [2]string{name, string(v)})
		}
	}
}
