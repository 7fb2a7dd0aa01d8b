package filters

import (
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/rules"
)

// TestForgetIdleSources: a source idle since before the cut and holding
// nothing is dropped; one holding an unfinished event is kept.
func TestForgetIdleSources(t *testing.T) {
	cfg := rules.Default()
	p := NewProcessor(cfg.Inputs[0], cfg.Rules)
	out := &event.OutBatch{}
	t0 := time.Unix(1000, 0)
	line := func(path, text string, at time.Time) {
		b := &event.LineBatch{Path: path, File: event.FileID{Inode: 1}}
		b.Append([]byte(text))
		b.EndOffset = int64(len(b.Data))
		p.Process(b, out, at)
	}
	line("gone[1]", "INFO:app:plain line\n", t0)
	line("holding[2]", "Traceback (most recent call last):\n", t0)
	line("recent[3]", "INFO:app:plain line\n", t0.Add(time.Hour))
	if n := p.Forget(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("forgot %d sources, want 1", n)
	}
	if _, ok := p.sources["gone[1]"]; ok {
		t.Error("the idle source is still there")
	}
	for _, keep := range []string{"holding[2]", "recent[3]"} {
		if _, ok := p.sources[keep]; !ok {
			t.Errorf("%s was forgotten", keep)
		}
	}
	if got := p.Stats().Sources[fmtText]; got != 2 {
		t.Errorf("%d text sources counted, want 2", got)
	}
}
