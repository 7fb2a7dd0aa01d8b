package positions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJournalCursorSurvivesSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	s, err := Open(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.JournalCursor("units"); ok {
		t.Fatal("a new store has a cursor")
	}
	s.SetJournalCursor("units", "s=1;i=2")
	s.SetJournalCursor("units", "s=1;i=3")
	s.SetJournalCursor("other", "s=9;i=1")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for input, want := range map[string]string{"units": "s=1;i=3", "other": "s=9;i=1"} {
		if got, ok := s2.JournalCursor(input); !ok || got != want {
			t.Errorf("cursor of %s after reopening = %q, %v; want %q", input, got, ok, want)
		}
	}
}

func TestFileWithoutJournalsHasNoJournalsKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	s, _ := Open(path, nil, nil)
	s.gen++ // force a write of the empty store
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "journals") {
		t.Errorf("a store without cursors writes %s", data)
	}
}

func TestBadCursorsAreRejected(t *testing.T) {
	for name, doc := range map[string]string{
		"empty input":  `{"version": 1, "files": [], "journals": [{"input": "", "cursor": "s=1", "updated": "2026-01-01T00:00:00Z"}]}`,
		"empty cursor": `{"version": 1, "files": [], "journals": [{"input": "j", "cursor": "", "updated": "2026-01-01T00:00:00Z"}]}`,
		"twice": `{"version": 1, "files": [], "journals": [{"input": "j", "cursor": "a", "updated": "2026-01-01T00:00:00Z"},
			{"input": "j", "cursor": "b", "updated": "2026-01-01T00:00:00Z"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := decode([]byte(doc)); err == nil {
				t.Errorf("decode accepted %s", doc)
			}
		})
	}
}
