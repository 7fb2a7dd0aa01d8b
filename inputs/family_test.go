package inputs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParseRotated(t *testing.T) {
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).Unix()
	tests := []struct {
		name  string
		ok    bool
		order rotationOrder
		index int64
		gz    bool
	}{
		{"app.log.1", true, byIndex, 1, false},
		{"app.log.12", true, byIndex, 12, false},
		{"app.log.3.gz", true, byIndex, 3, true},
		{"app.log-20261202", true, byTimeName, day, false},
		{"app.log-20261202.gz", true, byTimeName, day, true},
		{"app.log-2026120213", true, byTimeName, day + 13*3600, false},
		{"app.log-1764633600", true, byTimeName, 1764633600, false},
		{"app.log.2026-12-02", true, byTimeName, day, false},
		{"app.log.2026-12-02_13", true, byTimeName, day + 13*3600, false},
		{"app.log.2026-12-02_13-05", true, byTimeName, day + 13*3600 + 5*60, false},
		{"app.log.2026-12-02_13-05-09", true, byTimeName, day + 13*3600 + 5*60 + 9, false},
		{"app.log-2026-12-02", true, byTimeName, day, false},
		{"app.log-2026120221.backup", true, byMtime, 0, false},
		{"app.log.1.backup", false, 0, 0, false},
		{"app.log", false, 0, 0, false},
		{"app.log.", false, 0, 0, false},
		{"app.log.bak", false, 0, 0, false},
		{"app.log.1.xz", false, 0, 0, false},
		{"app.log.12345", false, 0, 0, false},
		{"app.log-12345678", false, 0, 0, false}, // eight digits that are no date
		{"app.logx.1", false, 0, 0, false},
		{"app.log.20261302", false, 0, 0, false}, // month 13
		{"other.log.1", false, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := parseRotated("app.log", tt.name)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, m)
			}
			if ok && (m.order != tt.order || m.index != tt.index || m.gz != tt.gz) {
				t.Errorf("got order %d index %d gz %v, want %d %d %v", m.order, m.index, m.gz, tt.order, tt.index, tt.gz)
			}
		})
	}
}

func TestFamilyOf(t *testing.T) {
	patterns := []string{"/var/log/app/*.log", "/srv/app.log*", "/x/api.log"}
	src := NewFiles(FilesConfig{Paths: patterns, Exclude: []string{"skip.log"}}, nil)
	tests := []struct{ path, live string }{
		{"/var/log/app/web.log", ""},
		{"/srv/app.log", ""},
		{"/srv/app.log.1", "/srv/app.log"},
		{"/srv/app.log.2.gz", "/srv/app.log"},
		{"/srv/app.log-20261202", "/srv/app.log"},
		{"/srv/app.log.2026-12-02_10-00-00", "/srv/app.log"},
		{"/srv/app.logfile", ""},
		{"/var/log/app/skip.log.1", ""}, // its live path is excluded
	}
	for _, tt := range tests {
		live, ok := familyOf(tt.path, src.named)
		if live != tt.live || ok != (tt.live != "") {
			t.Errorf("familyOf(%s) = %q, %v; want %q", tt.path, live, ok, tt.live)
		}
	}
}

func TestListFamilyOrder(t *testing.T) {
	tests := []struct {
		name  string
		files []string // oldest first, as the rotators made them
		// mtimes are the files' modification times in minutes, in the
		// order of files; nil means increasing with age order.
		mtimes []int
	}{
		{"numbered", []string{"app.log.10", "app.log.9", "app.log.2", "app.log.1"}, nil},
		// Compression gives the newest .gz a time newer than the plain
		// file after it.
		{"numbered with delaycompress", []string{"app.log.4.gz", "app.log.3.gz", "app.log.2.gz", "app.log.1"}, []int{1, 2, 4, 3}},
		{"compressed and plain only", []string{"app.log.2.gz", "app.log.1"}, []int{2, 1}},
		{"counting up", []string{"app.log.001", "app.log.002", "app.log.010"}, nil},
		// Names with times order by the names, whatever the times say.
		{"dateext", []string{"app.log-20261130.gz", "app.log-20261201.gz", "app.log-20261202"}, []int{3, 2, 1}},
		{"epoch", []string{"app.log-1764547200", "app.log-1764633600"}, []int{2, 1}},
		{"timed rotating", []string{"app.log.2026-12-01_23-59-59", "app.log.2026-12-02_00-00-00", "app.log.2026-12-02_00-00-01"}, []int{3, 2, 1}},
		{"mixed styles by mtime", []string{"app.log-20261202", "app.log.1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			live := filepath.Join(dir, "app.log")
			base := time.Now().Add(-time.Hour)
			for i, f := range tt.files {
				p := filepath.Join(dir, f)
				writeFile(t, p, f+"\n")
				min := i
				if tt.mtimes != nil {
					min = tt.mtimes[i]
				}
				mt := base.Add(time.Duration(min) * time.Minute)
				if err := os.Chtimes(p, mt, mt); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(t, live, "live\n")
			writeFile(t, filepath.Join(dir, "app.log.old"), "not a member\n")
			var got []string
			for _, m := range listFamily(live, nil) {
				got = append(got, filepath.Base(m.path))
			}
			want := append(slices.Clone(tt.files), "app.log")
			if !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
		})
	}
}

func TestListFamilyRotatedPatterns(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	old := filepath.Join(dir, "archive")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(old, "app.log.monday"), filepath.Join(old, "app.log.tuesday")
	writeFile(t, a, "a\n")
	writeFile(t, b, "b\n")
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(a, past, past); err != nil {
		t.Fatal(err)
	}
	writeFile(t, live, "live\n")
	var got []string
	for _, m := range listFamily(live, []string{"archive/{name}.*"}) {
		got = append(got, m.path)
	}
	if want := []string{a, b, live}; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

// TestListFamilyBackup places logrotate's NAME-YYYYMMDDHH.backup (the file
// it found already recreated at the live path) by its modification time
// among the dated files.
func TestListFamilyBackup(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	files := []string{"app.log-20261202212012", "app.log-2026120221.backup", "app.log-20261202212013"}
	base := time.Now().Add(-time.Hour)
	for i, f := range files {
		p := filepath.Join(dir, f)
		writeFile(t, p, f+"\n")
		mt := base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, live, "live\n")
	var got []string
	for _, m := range listFamily(live, nil) {
		got = append(got, filepath.Base(m.path))
	}
	if want := append(files, "app.log"); !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
