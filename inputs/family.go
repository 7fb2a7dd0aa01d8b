package inputs

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A followed file's family is the live path and the files its rotators
// made of it: NAME.1..N (RotatingFileHandler, logrotate), NAME.N.gz
// (logrotate compress), NAME-YYYYMMDD[HH[MM[SS]]] and NAME-<epoch>
// (logrotate dateext), NAME.YYYY-MM-DD[_HH[-MM[-SS]]]
// (TimedRotatingFileHandler), each optionally .gz, plus whatever the
// input's rotated patterns name. The family is read as one stream: every
// member in rotation order, oldest first, the live file last.

// fileKey is a file's device and inode: files are known by it, never by
// name.
type fileKey struct{ dev, ino uint64 }

// rotationOrder says how a member's name places it in the family.
type rotationOrder int

const (
	byMtime    rotationOrder = iota // no order in the name (rotated patterns)
	byIndex                         // NAME.N: a larger N is older
	byTimeName                      // a date or epoch in the name: earlier is older
)

// member is one file of a family as found on disk.
type member struct {
	path  string
	key   fileKey
	size  int64
	mtime time.Time
	gz    bool
	live  bool
	order rotationOrder
	index int64 // N for byIndex, Unix seconds for byTimeName
}

// parseRotated reports whether name is a rotated name of base, and how it
// orders. Only .gz is recognised as a compressed member: the others (xz,
// bzip2, zstd) cannot be read, so counting them in would only hide loss.
func parseRotated(base, name string) (m member, ok bool) {
	if len(name) <= len(base)+1 || !strings.HasPrefix(name, base) {
		return m, false
	}
	suffix := name[len(base):]
	if s, found := strings.CutSuffix(suffix, ".gz"); found {
		m.gz, suffix = true, s
	}
	if s, found := strings.CutSuffix(suffix, ".backup"); found && !m.gz {
		// logrotate's create moves a file it finds already at the live
		// path (the application recreated it first) to
		// NAME-YYYYMMDDHH.backup: its hour says little about its place.
		if inner, ok := parseRotated(base, base+s); ok && inner.order == byTimeName {
			return member{order: byMtime}, true
		}
		return m, false
	}
	if len(suffix) < 2 {
		return m, false
	}
	sep, rest := suffix[0], suffix[1:]
	if sep == '.' && len(rest) <= 4 && allDigits(rest) {
		n, _ := strconv.ParseInt(rest, 10, 64)
		m.order, m.index = byIndex, n
		return m, true
	}
	if sep != '.' && sep != '-' && sep != '_' {
		return m, false
	}
	if t, ok := parseStamp(rest); ok {
		m.order, m.index = byTimeName, t
		return m, true
	}
	return m, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseStamp reads a date-time of the shapes rotators write (digits with
// '-', '_', 'T' or ':' between the fields) or a Unix time, as Unix seconds.
func parseStamp(s string) (int64, bool) {
	digits := make([]byte, 0, 14)
	for i := range len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' || c == '_' || c == 'T' || c == ':':
		default:
			return 0, false
		}
	}
	d := string(digits)
	layouts := map[int]string{8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	if l, ok := layouts[len(d)]; ok {
		if t, err := time.Parse(l, d); err == nil && t.Year() >= 1970 && t.Year() < 2200 {
			return t.Unix(), true
		}
	}
	if len(d) == len(s) && len(d) >= 9 && len(d) <= 10 { // dateformat -%s
		n, err := strconv.ParseInt(d, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// familyOf returns the live path whose family path belongs to, given the
// input's patterns: path with a rotation suffix removed, if the result is
// something the input's patterns name. ok is false when path is a live path
// itself.
func familyOf(path string, live func(string) bool) (string, bool) {
	dir, name := filepath.Split(path)
	// The longest base first: app.log.1.gz is app.log's, not app's.
	for i := len(name) - 1; i > 0; i-- {
		if c := name[i]; c != '.' && c != '-' && c != '_' {
			continue
		}
		base := name[:i]
		if _, ok := parseRotated(base, name); ok && live(dir+base) {
			return dir + base, true
		}
	}
	return "", false
}

// expandRotated turns the input's rotated patterns into globs for one live
// path: {name} is the live file's base name, {dir} its directory, and a
// relative pattern is taken from that directory.
func expandRotated(patterns []string, live string) []string {
	dir, name := filepath.Dir(live), filepath.Base(live)
	var out []string
	for _, p := range patterns {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "{name}", escapeGlob(name)), "{dir}", escapeGlob(dir))
		if !filepath.IsAbs(p) {
			p = filepath.Join(escapeGlob(dir), p)
		}
		out = append(out, p)
	}
	return out
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// listFamily finds the family of live on disk, in rotation order, the live
// file (if it exists) last. A name that vanishes while it is listed means a
// rotator is renaming files: the listing is taken again (a few times), so
// that a file is not missed because it moved between two names.
func listFamily(live string, rotated []string) []member {
	for range 4 {
		if ms, complete := listFamilyOnce(live, rotated); complete {
			return ms
		}
	}
	ms, _ := listFamilyOnce(live, rotated)
	return ms
}

func listFamilyOnce(live string, rotated []string) (ms []member, complete bool) {
	complete = true
	dir, base := filepath.Split(live)
	if dir == "" {
		dir = "."
	}
	seen := map[string]bool{}
	add := func(path string, m member) {
		if seen[path] {
			return
		}
		seen[path] = true
		fi, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			complete = false
		}
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		m.path, m.key, m.size, m.mtime = path, keyOf(fi), fi.Size(), fi.ModTime()
		ms = append(ms, m)
	}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if m, ok := parseRotated(base, e.Name()); ok {
				add(filepath.Join(dir, e.Name()), m)
			}
		}
	}
	for _, pat := range expandRotated(rotated, live) {
		matches, _ := filepath.Glob(pat)
		for _, p := range matches {
			if p != live {
				add(p, member{gz: strings.HasSuffix(p, ".gz"), order: byMtime})
			}
		}
	}
	sortMembers(ms)
	if fi, err := os.Stat(live); err == nil && fi.Mode().IsRegular() {
		ms = append(ms, member{path: live, key: keyOf(fi), size: fi.Size(), mtime: fi.ModTime(), live: true})
	}
	return ms, complete
}

// sortMembers puts rotated members oldest first: by the order their names
// give when they all give the same kind, else by modification time. Members
// whose names give no order (rotated patterns, .backup) go where their
// modification time puts them among the others.
func sortMembers(ms []member) {
	var named, timed []member
	for _, m := range ms {
		if m.order == byMtime {
			timed = append(timed, m)
		} else {
			named = append(named, m)
		}
	}
	order := byMtime
	if len(named) > 0 {
		order = named[0].order
		for _, m := range named {
			if m.order != order {
				order = byMtime
				break
			}
		}
	}
	byTime := func(a, b member) int { return cmp.Or(a.mtime.Compare(b.mtime), cmp.Compare(a.path, b.path)) }
	if order == byMtime {
		slices.SortStableFunc(ms, byTime)
		return
	}
	// NAME.1 is usually the newest (logrotate, RotatingFileHandler), but
	// some rotators count up (NAME.001, NAME.002, ...): the modification
	// times of neighbours say which.
	countsUp := order == byIndex && indexCountsUp(named)
	slices.SortStableFunc(named, func(a, b member) int {
		if order == byIndex {
			c := cmp.Compare(b.index, a.index)
			if countsUp {
				c = -c
			}
			if c != 0 {
				return c
			}
			// app.log.2 and app.log.2.gz: the plain one is newer (delaycompress
			// compresses the older one).
			if a.gz != b.gz {
				if a.gz {
					return -1
				}
				return 1
			}
		} else if c := cmp.Compare(a.index, b.index); c != 0 {
			return c
		}
		return byTime(a, b)
	})
	slices.SortStableFunc(timed, byTime)
	out := ms[:0]
	i := 0
	for _, m := range named {
		for i < len(timed) && timed[i].mtime.Before(m.mtime) {
			out = append(out, timed[i])
			i++
		}
		out = append(out, m)
	}
	_ = append(out, timed[i:]...)
}

// indexCountsUp reports whether, among numbered members, a larger number is
// mostly the more recently modified file. Only files of the same kind are
// compared: compressing a file gives it a new modification time.
func indexCountsUp(ms []member) bool {
	byN := slices.Clone(ms)
	slices.SortFunc(byN, func(a, b member) int { return cmp.Or(cmp.Compare(a.index, b.index), cmp.Compare(a.path, b.path)) })
	up, down := 0, 0
	for i := 1; i < len(byN); i++ {
		j := i - 1
		for j >= 0 && byN[j].gz != byN[i].gz {
			j--
		}
		if j < 0 {
			continue
		}
		switch byN[i].mtime.Compare(byN[j].mtime) {
		case 1:
			up++
		case -1:
			down++
		}
	}
	return up > down
}
