package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// Input types.
const (
	InputFiles    = "files"    // paths: globs, or "-" for stdin
	InputJournald = "journald" // the systemd journal
)

// Journal says which journal a journald input reads and which of its
// entries.
type Journal struct {
	// Units and Identifiers select entries by _SYSTEMD_UNIT and
	// SYSLOG_IDENTIFIER: an entry is read when it matches any of them.
	Units       []string
	Identifiers []string
	// Matches are journalctl matches (FIELD=VALUE, "+" between
	// alternatives), which every entry read must also satisfy.
	Matches []string
	// Directory or Files read a journal other than the system's
	// (journalctl -D / --file).
	Directory string
	Files     []string
}

var (
	journalField = regexp.MustCompile(`^[A-Z0-9_]+$`)
	unitSuffixes = []string{".service", ".socket", ".target", ".timer", ".scope", ".slice", ".mount", ".path", ".swap", ".device", ".automount"}
	journalOnly  = []string{"units", "identifiers", "matches", "directory", "files"}
)

// journal decodes the journald-specific keys of an input.
func (s scope) journal(m map[string]yamlstrict.Entry) Journal {
	var j Journal
	if e, has := m["units"]; has {
		items, _ := s.StrList(e.Val, "units")
		for _, it := range items {
			u := it.Value
			switch {
			case u == "" || strings.ContainsAny(u, "/= \t\n"):
				s.Errorf(it, "units: %q is not a unit name", u)
				continue
			case !hasUnitSuffix(u):
				u += ".service" // as systemctl and journalctl -u read it
			}
			j.Units = append(j.Units, u)
		}
	}
	if e, has := m["identifiers"]; has {
		items, _ := s.StrList(e.Val, "identifiers")
		for _, it := range items {
			if it.Value == "" || strings.ContainsAny(it.Value, "\n") {
				s.Errorf(it, "identifiers: %q is not a syslog identifier", it.Value)
				continue
			}
			j.Identifiers = append(j.Identifiers, it.Value)
		}
	}
	if e, has := m["matches"]; has {
		items, _ := s.StrList(e.Val, "matches")
		for _, it := range items {
			if it.Value == "+" {
				if len(j.Units)+len(j.Identifiers) > 0 {
					s.Errorf(it, `matches: "+" cannot be combined with units or identifiers (write the alternatives as matches)`)
					continue
				}
				j.Matches = append(j.Matches, it.Value)
				continue
			}
			field, _, ok := strings.Cut(it.Value, "=")
			if !ok || !journalField.MatchString(field) {
				s.Errorf(it, `matches: %q is not FIELD=VALUE with FIELD in [A-Z0-9_] (or "+")`, it.Value)
				continue
			}
			j.Matches = append(j.Matches, it.Value)
		}
		if n := len(j.Matches); n > 0 && (j.Matches[0] == "+" || j.Matches[n-1] == "+") {
			s.Errorf(e.Val, `matches: "+" goes between alternatives, not first or last`)
		}
	}
	if e, has := m["directory"]; has {
		j.Directory, _ = s.Str(e.Val, "directory")
	}
	j.Files = s.globs(m, "files", nil)
	if e, has := m["files"]; has && j.Directory != "" && len(j.Files) > 0 {
		s.Errorf(e.Key, "files: give directory or files, not both")
	}
	return j
}

func hasUnitSuffix(u string) bool {
	for _, suf := range unitSuffixes {
		if strings.HasSuffix(u, suf) {
			return true
		}
	}
	// Template instances and globs are the user's business.
	return strings.ContainsAny(u, "@*?[")
}

// notForJournald reports the file-only keys a journald input has.
func (s scope) notForJournald(m map[string]yamlstrict.Entry) {
	for _, k := range []string{"paths", "exclude", "rotated", "rotate_wait"} {
		if e, has := m[k]; has {
			s.Errorf(e.Key, "%s: not used by type journald (select entries with units, identifiers or matches)", k)
		}
	}
}

// notForFiles reports the journal-only keys a files input has.
func (s scope) notForFiles(m map[string]yamlstrict.Entry) {
	for _, k := range journalOnly {
		if e, has := m[k]; has {
			s.Errorf(e.Key, "%s: only used by type journald", k)
		}
	}
}

// JournalctlArgs are the journalctl arguments that select the input's
// entries: the matches, with units and identifiers as alternatives each
// combined with every match.
func (j Journal) JournalctlArgs() []string {
	var args []string
	if j.Directory != "" {
		args = append(args, "--directory="+j.Directory)
	}
	for _, f := range j.Files {
		args = append(args, "--file="+f)
	}
	var alts [][]string
	for _, u := range j.Units {
		alts = append(alts, []string{"_SYSTEMD_UNIT=" + u})
	}
	for _, id := range j.Identifiers {
		alts = append(alts, []string{"SYSLOG_IDENTIFIER=" + id})
	}
	if len(alts) == 0 {
		return append(args, j.Matches...)
	}
	for i, alt := range alts {
		if i > 0 {
			args = append(args, "+")
		}
		args = append(args, alt...)
		args = append(args, j.Matches...)
	}
	return args
}

// String describes the selection for logs and `logsift check -v`.
func (j Journal) String() string {
	where := "the system journal"
	switch {
	case j.Directory != "":
		where = "the journal in " + j.Directory
	case len(j.Files) > 0:
		where = "the journal files " + strings.Join(j.Files, " ")
	}
	sel := j.JournalctlArgs()
	for len(sel) > 0 && strings.HasPrefix(sel[0], "--") {
		sel = sel[1:]
	}
	if len(sel) == 0 {
		return where + ", every entry"
	}
	return fmt.Sprintf("%s, entries matching %s", where, strings.Join(sel, " "))
}
