package filters

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// TestDropSuppressed: a processor told that no output writes suppressed
// events hands on the same forwarded events, counts and acknowledgements,
// and no suppressed bytes.
func TestDropSuppressed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "a_werkzeug_threading_plain.log"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(drop bool) (fwd []byte, sup int, acks []event.Ack, st Stats) {
		p := NewProcessor(defaultInput(), rules.Default().Rules)
		if drop {
			p.DropSuppressed()
		}
		var out event.OutBatch
		collect := func() {
			out.Each(func(b []byte, s event.Segment) {
				if s.Verdict == event.Suppressed {
					sup += len(b)
				} else {
					fwd = append(fwd, b...)
				}
			})
			acks = append(acks, out.Acks...)
			out.Reset()
		}
		for _, b := range splitBatches(data) {
			b.File = event.FileID{Inode: 1}
			p.Process(b, &out, time.Unix(0, 0))
			collect()
		}
		p.Close(&out)
		collect()
		return fwd, sup, acks, *p.Stats()
	}
	keptFwd, keptSup, keptAcks, keptStats := run(false)
	fwd, sup, acks, st := run(true)
	if keptSup == 0 {
		t.Fatal("the capture has no suppressed events: the test tests nothing")
	}
	if sup != 0 {
		t.Errorf("%d suppressed bytes handed on", sup)
	}
	if !bytes.Equal(fwd, keptFwd) {
		t.Error("forwarded bytes differ")
	}
	if len(acks) != len(keptAcks) || acks[len(acks)-1] != keptAcks[len(keptAcks)-1] {
		t.Errorf("acknowledgements differ: %v vs %v", acks, keptAcks)
	}
	if !reflect.DeepEqual(st, keptStats) {
		t.Errorf("stats differ: %+v vs %+v", st, keptStats)
	}
}

// TestSetRulesKeepsPath: events after a reload still name their file.
func TestSetRulesKeepsPath(t *testing.T) {
	p := NewProcessor(defaultInput(), rules.Default().Rules)
	var out event.OutBatch
	b := &event.LineBatch{Path: "/var/log/app.log"}
	b.Append([]byte("one\n"))
	p.Process(b, &out, time.Unix(0, 0))
	p.SetRules(rules.Default().Rules, &out)
	out.Reset()
	b2 := &event.LineBatch{Path: "/var/log/app.log"}
	b2.Append([]byte("two\n"))
	p.Process(b2, &out, time.Unix(0, 0))
	p.Close(&out)
	if path, _ := out.PathOf(0, 0); path != "/var/log/app.log" {
		t.Errorf("path after SetRules = %q", path)
	}
}
