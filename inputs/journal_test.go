package inputs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/logsift/logsift/event"
)

// exportEntry renders one entry in journalctl's export format; a value
// holding a newline is written as a binary field, as journalctl does.
func exportEntry(fields ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		name, v := fields[i], fields[i+1]
		if !strings.ContainsAny(v, "\n") {
			b.WriteString(name + "=" + v + "\n")
			continue
		}
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
		b.WriteString(name + "\n" + string(n[:]) + v + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func TestExportReader(t *testing.T) {
	core := strings.Repeat("\x00core\n", 3<<20/6) // a binary field far over every bound
	in := exportEntry("__CURSOR", "c1", "_PID", "10", "SYSLOG_IDENTIFIER", "app", "MESSAGE", "hello", "CODE_LINE", "42") +
		exportEntry("__CURSOR", "c2", "MESSAGE", "two\nlines", "COREDUMP", core, "_COMM", "python3") +
		exportEntry("__CURSOR", "c3", "_PID", "11")
	x := newExportReader(strings.NewReader(in))
	type got struct {
		cursor, msg, ident, comm, pid string
		has                           bool
		fields                        int
	}
	var all []got
	for {
		e, err := x.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got{e.cursor, string(e.message), e.ident, e.comm, e.pid, e.hasMessage, len(e.fields)})
	}
	want := []got{
		{"c1", "hello", "app", "", "10", true, 1},
		{"c2", "two\nlines", "", "python3", "", true, 0},
		{"c3", "", "", "", "11", false, 0},
	}
	if len(all) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(all), len(want), all)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, all[i], want[i])
		}
	}
	if cap(x.value) > 64<<10 {
		t.Errorf("the skipped core dump took %d bytes of buffer", cap(x.value))
	}
}

func TestExportReaderTruncatedInput(t *testing.T) {
	full := exportEntry("__CURSOR", "c1", "MESSAGE", "a\nb")
	for cut := 1; cut < len(full)-1; cut++ {
		x := newExportReader(strings.NewReader(full[:cut]))
		if _, err := x.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d of %d: err %v, want unexpected EOF", cut, len(full), err)
		}
	}
}

type cursorLog struct{ saved []string }

func (c *cursorLog) JournalCursor(string) (string, bool) { return "", false }
func (c *cursorLog) SetJournalCursor(_, cursor string)   { c.saved = append(c.saved, cursor) }

// TestJournalStreams: lines of two writers go to two sources, each with
// its own offsets; the cursor moves only past entries whose stream is
// acknowledged up to them.
func TestJournalStreams(t *testing.T) {
	in := exportEntry("__CURSOR", "c1", "_PID", "1", "SYSLOG_IDENTIFIER", "a", "MESSAGE", "a1") +
		exportEntry("__CURSOR", "c2", "_PID", "2", "SYSLOG_IDENTIFIER", "b", "MESSAGE", "b1") +
		exportEntry("__CURSOR", "c3", "_PID", "1", "SYSLOG_IDENTIFIER", "a", "MESSAGE", "a2") +
		exportEntry("__CURSOR", "c4", "_PID", "1", "SYSLOG_IDENTIFIER", "a", "LOGSIFT_OUTPUT", "x", "MESSAGE", "forwarded before") +
		exportEntry("__CURSOR", "c5", "_PID", "2", "SYSLOG_IDENTIFIER", "b", "PRIORITY", "3", "MESSAGE", "b2")
	cur := &cursorLog{}
	s := NewJournal(JournalConfig{Input: "j", Cursors: cur}, nil)
	out := make(chan *event.LineBatch, 16)
	if err := s.pump(context.Background(), strings.NewReader(in), out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var lines []string
	ends := map[string]int64{}
	for b := range out {
		for i := range b.Len() {
			lines = append(lines, b.Path+" "+string(bytes.TrimSuffix(b.Line(i), []byte("\n"))))
		}
		ends[b.Path] = b.EndOffset
		if b.Origin == nil || b.Origin.Identifier == "" {
			t.Errorf("batch of %s without origin", b.Path)
		}
		b.Release()
	}
	want := "/a[1] a1|/b[2] b1|/a[1] a2|/b[2] b2"
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if ends["/a[1]"] != 6 || ends["/b[2]"] != 6 {
		t.Errorf("stream offsets %v, want 6 each", ends)
	}
	s.Acknowledge(event.Ack{Path: "/b[2]", Offset: 6})
	if len(cur.saved) != 0 {
		t.Fatalf("saved %q before a1 was written", cur.saved)
	}
	s.Acknowledge(event.Ack{Path: "/a[1]", Offset: 3})
	if got := strings.Join(cur.saved, " "); got != "c2" {
		t.Fatalf("after a1: saved %q, want c2", got)
	}
	s.Acknowledge(event.Ack{Path: "/a[1]", Offset: 6})
	if got := cur.saved[len(cur.saved)-1]; got != "c5" {
		t.Fatalf("after everything: saved %q, want c5", got)
	}
}

func TestJournalArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  JournalConfig
		read string
		want string
	}{
		{"end", JournalConfig{StartAt: "end"}, "", "--output=export --quiet --no-pager --follow --lines=0 X=1"},
		{"beginning", JournalConfig{StartAt: "beginning"}, "", "--output=export --quiet --no-pager --follow --no-tail X=1"},
		{"once from the beginning", JournalConfig{StartAt: "beginning", Once: true}, "", "--output=export --quiet --no-pager X=1"},
		{"saved cursor", JournalConfig{StartAt: "end", Cursors: savedCursor("s=saved")}, "", "--output=export --quiet --no-pager --follow --after-cursor=s=saved X=1"},
		{"journalctl restarted", JournalConfig{Cursors: savedCursor("s=saved")}, "s=read", "--output=export --quiet --no-pager --follow --after-cursor=s=read X=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Select = []string{"X=1"}
			s := NewJournal(tc.cfg, nil)
			s.read = tc.read
			if got := strings.Join(s.args(), " "); got != tc.want {
				t.Errorf("args %q, want %q", got, tc.want)
			}
		})
	}
}

type savedCursor string

func (c savedCursor) JournalCursor(string) (string, bool) { return string(c), true }
func (c savedCursor) SetJournalCursor(_, _ string)        {}

func FuzzExport(f *testing.F) {
	f.Add([]byte(exportEntry("__CURSOR", "c", "MESSAGE", "x\ny", "_PID", "1")))
	f.Add([]byte("MESSAGE\n\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := newExportReader(bytes.NewReader(data))
		for range 1000 {
			e, err := x.next()
			if err != nil {
				return
			}
			if len(e.message) > maxJournalMessage {
				t.Fatalf("message of %d bytes", len(e.message))
			}
		}
	})
}
