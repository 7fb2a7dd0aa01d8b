package rules

import (
	"slices"
	"testing"
)

func TestJournalctlArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		j    Journal
		want []string
	}{
		{"everything", Journal{}, nil},
		{"matches only", Journal{Matches: []string{"_TRANSPORT=stdout", "+", "PRIORITY=3"}},
			[]string{"_TRANSPORT=stdout", "+", "PRIORITY=3"}},
		{"units or identifiers, each with the matches",
			Journal{Units: []string{"a.service", "b.service"}, Identifiers: []string{"api"}, Matches: []string{"_TRANSPORT=stdout"}},
			[]string{"_SYSTEMD_UNIT=a.service", "_TRANSPORT=stdout", "+", "_SYSTEMD_UNIT=b.service", "_TRANSPORT=stdout",
				"+", "SYSLOG_IDENTIFIER=api", "_TRANSPORT=stdout"}},
		{"a directory", Journal{Directory: "/tmp/j", Identifiers: []string{"x"}},
			[]string{"--directory=/tmp/j", "SYSLOG_IDENTIFIER=x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.j.JournalctlArgs(); !slices.Equal(got, tc.want) {
				t.Errorf("JournalctlArgs() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJournaldInputDecodes(t *testing.T) {
	c, err := Load("testdata/valid/journald.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := c.Inputs[0]
	if in.Type != InputJournald || in.Name != "units" || in.StartAt != "beginning" || len(in.Paths) != 0 {
		t.Fatalf("input = %+v", in)
	}
	if !slices.Equal(in.Journal.Units, []string{"webapp.service", "worker.service"}) {
		t.Errorf("units = %q: a unit without a suffix is a .service", in.Journal.Units)
	}
	if got := in.Multiline.FlushAfter.String(); got != "500ms" {
		t.Errorf("flush_after = %s", got)
	}
}
