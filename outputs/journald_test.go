package outputs

import (
	"errors"
	"slices"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/logsift/logsift/event"
)

type sent struct {
	msg string
	p   journal.Priority
}

func TestJournaldOneEntryPerEvent(t *testing.T) {
	var got []sent
	fail := 0
	o := &JournaldOutput{name: "j", ident: "app", sel: SelectForwarded, send: func(msg string, p journal.Priority, vars map[string]string) error {
		if vars["SYSLOG_IDENTIFIER"] != "app" {
			t.Errorf("identifier %q", vars["SYSLOG_IDENTIFIER"])
		}
		if fail > 0 {
			fail--
			return errors.New("socket full")
		}
		got = append(got, sent{msg, p})
		return nil
	}}
	b := &event.OutBatch{}
	b.Add([]byte("2026-12-02 10:00:00,000 INFO app: started\n"), event.Forwarded)
	b.Add([]byte("[2026-12-02 10:00:01] ERROR in app: boom\nTraceback (most recent call last):\n  File \"x.py\", line 1\nValueError: no\n"), event.Forwarded)
	b.Add([]byte("dropped\n"), event.Suppressed)
	b.Add([]byte("{\"levelname\": \"WARNING\", \"message\": \"slow\"}\r\n"), event.Forwarded)
	b.Add([]byte("last, no newline"), event.Forwarded)
	fail = 1
	if err := o.Write(b); err == nil {
		t.Fatal("want the send error")
	}
	fail = 0
	if err := o.Write(b); err != nil {
		t.Fatal(err)
	}
	want := []sent{
		{"2026-12-02 10:00:00,000 INFO app: started", journal.PriInfo},
		{"[2026-12-02 10:00:01] ERROR in app: boom\nTraceback (most recent call last):\n  File \"x.py\", line 1\nValueError: no", journal.PriErr},
		{"{\"levelname\": \"WARNING\", \"message\": \"slow\"}", journal.PriWarning},
		{"last, no newline", journal.PriInfo},
	}
	if !slices.Equal(got, want) {
		t.Errorf("sent %+v\nwant %+v", got, want)
	}
}

func TestPriorityOf(t *testing.T) {
	for in, want := range map[string]journal.Priority{
		"INFORMATIONAL ERRORS are no levels": journal.PriInfo,
		"nothing here":                       journal.PriInfo,
		"x DEBUG y ERROR z":                  journal.PriDebug,
		"CRITICAL:root:disk full":            journal.PriCrit,
		"ERRORS only":                        journal.PriInfo,
	} {
		if got := priorityOf([]byte(in)); got != want {
			t.Errorf("priorityOf(%q) = %d, want %d", in, got, want)
		}
	}
}
