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
		if got, _ := priorityOf([]byte(in)); got != want {
			t.Errorf("priorityOf(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestJournaldKeepsOrigin: an event read from the journal is written under
// its writer's identity and fields; its priority is the record's level,
// else the original entry's.
func TestJournaldKeepsOrigin(t *testing.T) {
	type entry struct {
		msg  string
		p    journal.Priority
		vars map[string]string
	}
	var got []entry
	o := &JournaldOutput{name: "filtered", ident: "logsift", sel: SelectForwarded, send: func(msg string, p journal.Priority, vars map[string]string) error {
		got = append(got, entry{msg, p, vars})
		return nil
	}}
	web := &event.Origin{Identifier: "webapp", PID: "42", Unit: "webapp.service", Priority: "3", Fields: [][2]string{{"CODE_LINE", "7"}}}
	b := &event.OutBatch{}
	b.AddFrom([]byte("plain line from stderr\n"), event.Forwarded, web)
	b.AddFrom([]byte("INFO:werkzeug:GET / 200\n"), event.Forwarded, web)
	b.Add([]byte("logsift summary\n"), event.Forwarded)
	if err := o.Write(b); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d entries", len(got))
	}
	if got[0].p != journal.PriErr || got[1].p != journal.PriInfo || got[2].p != journal.PriInfo {
		t.Errorf("priorities %d %d %d, want 3 6 6", got[0].p, got[1].p, got[2].p)
	}
	want := map[string]string{"SYSLOG_IDENTIFIER": "webapp", "SYSLOG_PID": "42", "LOGSIFT_SOURCE_UNIT": "webapp.service", "CODE_LINE": "7", "LOGSIFT_OUTPUT": "filtered"}
	for k, v := range want {
		if got[0].vars[k] != v {
			t.Errorf("field %s = %q, want %q", k, got[0].vars[k], v)
		}
	}
	if got[2].vars["SYSLOG_IDENTIFIER"] != "logsift" || got[2].vars["SYSLOG_PID"] != "" {
		t.Errorf("an event without origin has fields %v", got[2].vars)
	}
}
