package positions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Cursor is the saved position of a journal input: the cursor of the last
// entry every output has written (or that was suppressed), as journalctl
// prints it.
type Cursor struct {
	Input   string    `json:"input"`
	Cursor  string    `json:"cursor"`
	Updated time.Time `json:"updated"`
}

// JournalCursor returns the cursor saved for the journal input, if any.
func (s *Store) JournalCursor(input string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cursors[input]
	return c.Cursor, ok
}

// SetJournalCursor records that the journal input is done up to cursor.
func (s *Store) SetJournalCursor(input, cursor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cursors[input]; ok && c.Cursor == cursor {
		return
	}
	s.cursors[input] = Cursor{Input: input, Cursor: cursor, Updated: s.now()}
	s.gen++
}

// cursorsLocked returns the cursors sorted by input.
func (s *Store) cursorsLocked() []Cursor {
	out := make([]Cursor, 0, len(s.cursors))
	for _, c := range s.cursors {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Cursor) int { return strings.Compare(a.Input, b.Input) })
	return out
}

// validateCursor checks a saved cursor for values logsift never writes.
func validateCursor(c Cursor) error {
	switch {
	case c.Input == "":
		return errors.New("empty input")
	case c.Cursor == "" || strings.ContainsAny(c.Cursor, "\n\x00"):
		return fmt.Errorf("cursor %q is not a journal cursor", c.Cursor)
	}
	return nil
}
