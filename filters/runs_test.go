package filters

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/loggen"
	"github.com/logsift/logsift/rules"
)

// runsUserConfig is a user configuration beside every pack: a contains
// drop rule, a keep rule, a field rule (never true of a text line), a
// sampled rule built of all/any, and paired rules in every direction.
const runsUserConfig = `use: [werkzeug, werkzeug-disconnects, gunicorn-noise]
rules:
  - name: drop-health
    match: {contains: '"GET /health HTTP/1.1" 200'}
    action: drop
  - name: keep-important
    match: {contains: important}
    action: keep
  - name: drop-debug-json
    match: {field: {name: level, equals: debug}}
  - name: tick-noise
    match: {all: [{contains: tick}, {any: [{contains: noise}, {regex: 'DEBUG:[a-z]+:'}]}]}
    sample: 3
  - name: slow-with-access
    match: {regex: '(?m)^WARNING:app:slow request id=\d+$'}
    pair:
      match: {contains: '"GET /slow'}
      within: 4
      max_wait: 1s
  - name: retry-after-child
    match: {contains: "child retry\n"}
    pair: {match: {regex: 'parent job [0-9]+ started'}, within: 6, direction: before}
  - name: quota-not-ok
    match: {all: [{contains: quota}, {not: {contains: ok}}]}
  - name: upload-then-done
    match: {contains: "upload failed"}
    pair: {match: {contains: ["upload done", "upload gone"]}, within: 3, max_wait: 300ms, direction: after, drop_partner: false}
`

// runsCase is one input run through a gated processor and an ungated one.
type runsCase struct {
	name  string
	in    rules.Input
	rules []*rules.Rule
	// logs are the files read, one per path; their batches interleave.
	logs [][]byte
	seed uint64
	// maxBatch is the most lines in a batch (a batch has 1 to maxBatch).
	maxBatch int
	// split, when positive, cuts lines longer than split bytes into parts
	// without a newline, as an input does at its split size.
	split int
	// tick calls Tick between some batches.
	tick bool
	// wantGate: the gated processor must have a gate (bulk path).
	wantGate bool
	// alt, when set, is a rule set switched to (SetRules) and back at
	// random points.
	alt []*rules.Rule
	// lifecycle: files are sometimes finished (Finish), rotated (a new
	// FileID for the path) or forgotten (Forget).
	lifecycle bool
}

// TestRunsMatchFullPath checks that forwarding plain lines in runs
// (Processor.runs) gives exactly what pushing every line the full way
// does: the same output batches (bytes, segments, event ends, paths,
// acknowledgements) after every Process, Tick and Close, the same lines
// held, and the same counts. Each input is cut into batches at random line
// boundaries, so traceback headers and their tracebacks fall on either side
// of a batch boundary.
func TestRunsMatchFullPath(t *testing.T) {
	def := rules.Default().Rules
	if newGate(def, "python") == nil {
		t.Fatal("the default rules leave no line to the bulk path (newGate returned nil)")
	}
	if newGate(def, "none") == nil {
		t.Fatal("the default rules with preset none leave no line to the bulk path")
	}
	cfg, err := rules.Parse("runs.yaml", []byte(runsUserConfig))
	if err != nil {
		t.Fatal(err)
	}
	user := cfg.Rules
	if newGate(user, "python") == nil {
		t.Fatal("the user rules leave no line to the bulk path (newGate returned nil)")
	}
	// Case-folded regexps: their literals are what must match byte for
	// byte.
	fold := mustParseRules(t, `use: [werkzeug]
rules:
  - {name: disk-full, match: {regex: '(?i)disk full on'}}
  - {name: kelvin, match: {regex: '(?i)k+ upload'}, pair: {match: {contains: "parent job"}, within: 5}}
`)
	if newGate(fold, "python") == nil {
		t.Fatal("the case-folding rules leave no line to the bulk path")
	}
	// Rules no literal can rule lines out for: no gate, every line the
	// full way (the two processors are alike; a gate built wrongly for
	// them would show).
	gateless := []struct {
		name  string
		rules []*rules.Rule
	}{
		{"regex-without-literal", mustParseRules(t, `rules: [{name: phone, match: {regex: '\b[0-9]{3}[-.][0-9]{4}\b'}}]`)},
		{"not", mustParseRules(t, `rules: [{name: not-e, match: {not: {contains: e}}}]`)},
		{"any-with-not", mustParseRules(t, `rules: [{name: n, match: {any: [{contains: upload}, {not: {contains: a}}]}}]`)},
		{"pair-without-literal", mustParseRules(t, `rules: [{name: p, match: {contains: child}, pair: {match: {regex: '^[a-z]+[0-9]+'}, within: 3}}]`)},
	}
	for _, gl := range gateless {
		if newGate(gl.rules, "python") != nil {
			t.Errorf("%s: newGate built a gate for rules that may match lines without any literal", gl.name)
		}
	}

	base := defaultInput()
	none := base
	none.Multiline.Preset = "none"
	small := base
	small.Multiline.MaxBytes = 256
	small.Multiline.MaxLines = 5
	noPrefix := base
	noPrefix.Prefix = rules.Prefix{Kind: "none"}
	noSuffix := base
	noSuffix.Suffix = rules.Suffix{Kind: "none"}
	textFormat := base
	textFormat.Format = "text"

	var cases []runsCase

	// The corpus: real captures, each with the default rules, and with
	// one of: access lines kept, the user rules (switched to the default
	// rules and back), the none preset.
	for i, log := range corpusLogs(t) {
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(log)
		cases = append(cases, runsCase{name: "corpus/" + name + "/default", in: base, rules: def,
			logs: [][]byte{data}, seed: uint64(i) + 1, maxBatch: 48, tick: i%2 == 0, wantGate: true})
		if i%3 == 0 {
			cases = append(cases, runsCase{name: "corpus/" + name + "/keep-access", in: base, rules: keepAccessRules(def),
				logs: [][]byte{data}, seed: uint64(i) + 100, maxBatch: 300, wantGate: true})
		}
		if i%3 == 1 {
			cases = append(cases, runsCase{name: "corpus/" + name + "/user", in: base, rules: user, alt: def,
				logs: [][]byte{data}, seed: uint64(i) + 200, maxBatch: 16, tick: true, wantGate: true})
		}
		if i%3 == 2 {
			cases = append(cases, runsCase{name: "corpus/" + name + "/none", in: none, rules: def,
				logs: [][]byte{data}, seed: uint64(i) + 300, maxBatch: 64, wantGate: true})
		}
	}

	// Generated logs of every style.
	for si, style := range loggen.Styles() {
		for _, seed := range []uint64{1, 7, 42} {
			var log, exp bytes.Buffer
			gc := loggen.Config{Lines: 2500, Seed: seed + uint64(si)*1000, Style: style}
			if seed == 42 {
				gc.FalseShare = 0.3
			}
			if _, err := loggen.Generate(gc, &log, &exp); err != nil {
				t.Fatal(err)
			}
			rs, in, rname := def, base, "default"
			switch seed {
			case 7:
				rs, rname = user, "user"
			case 42:
				in, rname = none, "none"
			}
			cases = append(cases, runsCase{name: fmt.Sprintf("loggen/%s/seed%d/%s", style, seed, rname), in: in, rules: rs,
				logs: [][]byte{log.Bytes()}, seed: seed*31 + uint64(si), maxBatch: 1 + int(seed%5)*20, tick: seed != 1, wantGate: true})
		}
	}
	{
		// A container-framed log never takes the bulk path; it must still
		// come out the same.
		var log, exp bytes.Buffer
		if _, err := loggen.Generate(loggen.Config{Lines: 1500, Seed: 3, Format: loggen.FormatDockerJSON}, &log, &exp); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, runsCase{name: "loggen/docker-json", in: base, rules: def,
			logs: [][]byte{log.Bytes()}, seed: 5, maxBatch: 30, tick: true, wantGate: true})
	}
	{
		// Two files of one input: their batches interleave, each source
		// keeps its own state, the gate is shared.
		var a, b, exp bytes.Buffer
		if _, err := loggen.Generate(loggen.Config{Lines: 1500, Seed: 11, Style: loggen.StyleWerkzeug, FalseShare: 0.2}, &a, &exp); err != nil {
			t.Fatal(err)
		}
		if _, err := loggen.Generate(loggen.Config{Lines: 1500, Seed: 12, Style: loggen.StyleEventlet, FalseShare: 0.2}, &b, &exp); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, runsCase{name: "loggen/two-files", in: base, rules: def, alt: user,
			logs: [][]byte{a.Bytes(), b.Bytes()}, seed: 9, maxBatch: 12, tick: true, wantGate: true, lifecycle: true})
	}

	// Synthetic mixes of every line kind the fast path must tell apart.
	type variant struct {
		name  string
		in    rules.Input
		rules []*rules.Rule
		split int
	}
	variants := []variant{
		{"default", base, def, 0},
		{"user", base, user, 0},
		{"none", none, def, 0},
		{"none-user", none, user, 0},
		{"small", small, def, 300},
		{"small-user", small, user, 120},
		{"no-prefix", noPrefix, user, 0},
		{"no-suffix", noSuffix, def, 0},
		{"format-text", textFormat, user, 0},
		{"fold", base, fold, 0},
		{"fold-small", small, fold, 200},
	}
	for seed := uint64(1); seed <= 72; seed++ {
		v := variants[int(seed)%len(variants)]
		logs := [][]byte{synthLog(seed, 150+int(seed%7)*60)}
		if seed%8 == 0 {
			logs = append(logs, synthLog(seed+1000, 200))
		}
		maxBatch := []int{1, 2, 3, 5, 8, 13, 40, 400}[seed%8]
		tc := runsCase{name: fmt.Sprintf("synthetic/seed%d/%s", seed, v.name), in: v.in, rules: v.rules,
			logs: logs, seed: seed, maxBatch: maxBatch, split: v.split, tick: seed%3 != 0, wantGate: true, lifecycle: seed%4 == 1}
		if seed%5 == 2 {
			tc.alt = user
			if slices.Equal(v.rules, user) {
				tc.alt = def
			}
		}
		cases = append(cases, tc)
	}

	{
		// Tracebacks taken whole (see tracebackBlock) after many records
		// that began with heads, then free text: a headerless traceback
		// ends the heads, so the text is the next record, not a note;
		// after a header that is a head itself, it is a note.
		var log bytes.Buffer
		g := &synthGen{r: rand.New(rand.NewPCG(77, 1))}
		for n := range 40 {
			for range 20 {
				log.WriteString(g.head())
			}
			if n%2 == 0 {
				log.WriteString("[2026-11-25 21:44:27,873] ERROR in app: Exception on /boom [GET]\n")
			}
			log.WriteString("Traceback (most recent call last):\n  File \"b\", line 1, in c\n    d()\nValueError: v\n")
			log.WriteString(g.free())
		}
		cases = append(cases, runsCase{name: "synthetic/heads-then-traceback", in: base, rules: def,
			logs: [][]byte{log.Bytes()}, seed: 77, maxBatch: 400, wantGate: true})
	}

	// Repeated events, which the bulk path takes in one step when their
	// bytes are those of the last one assembled (see replay): around a
	// run of heads that does or does not reach headedForNotes, with notes,
	// blank lines and chains after them, headers of every length and with
	// nothing between one traceback and the next.
	for seed := uint64(300); seed < 318; seed++ {
		v := []struct {
			name string
			in   rules.Input
		}{{"default", base}, {"small", small}, {"format-text", textFormat}}[seed%3]
		cases = append(cases, runsCase{name: fmt.Sprintf("replay/seed%d/%s", seed, v.name), in: v.in, rules: def,
			logs: [][]byte{replayLog(seed, 1200)}, seed: seed, maxBatch: []int{3, 40, 400}[seed%3], tick: seed%4 == 0,
			wantGate: true, lifecycle: seed%5 == 1})
	}

	{
		// Repeated events where whether notes may follow the exception
		// line changes: the template was assembled with or without, and
		// the event that repeats it must not be taken in one step.
		g := &synthGen{r: rand.New(rand.NewPCG(79, 1))}
		heads := func(n int) string {
			var b strings.Builder
			for range n {
				b.WriteString(g.head())
			}
			return b.String()
		}
		tb := "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    g()\nValueError: v\n"
		h := func(pid int) string {
			return fmt.Sprintf("[2026-11-25 21:46:21 +0000] [%d] [ERROR] Error handling request /x\n", pid)
		}
		note := "note: retry in a moment\n"
		var log strings.Builder
		for _, pid := range []int{100, 100, 200} { // same first line, then another
			// A template with its note, then the same bytes where no
			// note can follow.
			log.WriteString(heads(20) + h(100) + tb + note + heads(1) + "worker is idle\n" + h(pid) + tb + note + heads(1))
			// Crossing headedForNotes on the repeat: without, then with.
			log.WriteString("worker is idle\n" + heads(14) + h(100) + tb + h(pid) + tb + note + heads(1))
		}
		cases = append(cases, runsCase{name: "replay/notes", in: base, rules: def,
			logs: [][]byte{[]byte(log.String())}, seed: 79, maxBatch: 400, wantGate: true})
	}

	for i, gl := range gateless {
		for _, seed := range []uint64{500, 501} {
			cases = append(cases, runsCase{name: fmt.Sprintf("synthetic/seed%d/gateless-%s", seed+uint64(i)*10, gl.name), in: base,
				rules: append(slices.Clone(gl.rules), def...), logs: [][]byte{synthLog(seed+uint64(i)*10, 300)},
				seed: seed, maxBatch: 9, tick: true})
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkRunsMatch(t, tc)
		})
	}

	t.Run("plain-share", func(t *testing.T) {
		// The bulk path must have something to do: most lines of a
		// generated log are plain to the default gate.
		var log, exp bytes.Buffer
		if _, err := loggen.Generate(loggen.Config{Lines: 3000, Seed: 1}, &log, &exp); err != nil {
			t.Fatal(err)
		}
		b := splitBatches(log.Bytes())[0]
		plain, all := plainLines(newGate(def, "python"), b)
		if plain*2 < all {
			t.Errorf("only %d of %d lines are plain to the gate", plain, all)
		}
		p := NewProcessor(defaultInput(), def)
		var out event.OutBatch
		for _, lb := range splitBatches(log.Bytes()) {
			p.Process(lb, &out, time.Unix(0, 0))
			out.Reset()
		}
		// A third of the generated log is tracebacks and their
		// access lines; nearly all the rest goes in runs.
		if st := p.Stats(); st.RunLines*5 < st.Lines*2 {
			t.Errorf("only %d of %d lines went in runs", st.RunLines, st.Lines)
		}
	})
}

func mustParseRules(t *testing.T, yaml string) []*rules.Rule {
	t.Helper()
	cfg, err := rules.Parse("runs.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Rules
}

// plainLines counts the lines of b the runs loop would take for a run
// (whole, ending plainly and not hot to g).
func plainLines(g *gate, b *event.LineBatch) (plain, all int) {
	g.reset(b.Data)
	from := 0
	for _, end := range b.Ends {
		all++
		d := b.Data
		if d[end-1] == '\n' && (end-from < 2 || endsPlain[d[end-2]]) && !g.hot(from, end) {
			plain++
		}
		from = end
	}
	return plain, all
}

// runsBatch is one step of a run: a batch to process, or another call.
type runsBatch struct {
	b    *event.LineBatch // nil: see op
	op   string           // without a batch: "tick", "setrules", "finish" or "forget"
	rs   []*rules.Rule    // for setrules
	path string           // for finish
	now  time.Time
	desc string
}

// runsSteps cuts the logs into batches of 1 to maxBatch lines (one line
// more often than not at the small end), interleaving the files.
func runsSteps(tc runsCase) []runsBatch {
	r := rand.New(rand.NewPCG(tc.seed, 0x5eed))
	type file struct {
		path  string
		lines [][]byte
		off   int64
		id    event.FileID
	}
	var files []*file
	for i, log := range tc.logs {
		f := &file{path: fmt.Sprintf("/var/log/app%d.log", i), id: event.FileID{Dev: 1, Inode: uint64(i) + 1}}
		for len(log) > 0 {
			n := bytes.IndexByte(log, '\n') + 1
			if n == 0 {
				n = len(log)
			}
			line := log[:n]
			log = log[n:]
			for tc.split > 0 && len(line) > tc.split {
				f.lines = append(f.lines, line[:tc.split])
				line = line[tc.split:]
			}
			f.lines = append(f.lines, line)
		}
		files = append(files, f)
	}
	now := time.Unix(0, 0)
	var steps []runsBatch
	onAlt := false
	for {
		var open []*file
		for _, f := range files {
			if len(f.lines) > 0 {
				open = append(open, f)
			}
		}
		if len(open) == 0 {
			return steps
		}
		f := open[r.IntN(len(open))]
		n := 1 + r.IntN(tc.maxBatch)
		if r.IntN(4) == 0 {
			n = 1
		}
		n = min(n, len(f.lines))
		if tc.lifecycle && r.IntN(40) == 0 {
			// The file was rotated: the path's next lines are a new file's.
			f.id.Generation++
			f.off = 0
		}
		b := &event.LineBatch{Input: tc.in.Name, Path: f.path, File: f.id}
		for _, l := range f.lines[:n] {
			b.Append(l)
		}
		f.lines = f.lines[n:]
		f.off += int64(len(b.Data))
		b.EndOffset = f.off
		now = now.Add(time.Duration(r.IntN(120)) * time.Millisecond)
		steps = append(steps, runsBatch{b: b, now: now, desc: fmt.Sprintf("batch of %d lines of %s ending at %d", n, f.path, f.off)})
		if tc.tick && r.IntN(3) == 0 {
			now = now.Add(time.Duration(r.IntN(400)) * time.Millisecond)
			steps = append(steps, runsBatch{op: "tick", now: now, desc: "tick"})
		}
		if tc.alt != nil && r.IntN(25) == 0 {
			rs, desc := tc.alt, "SetRules(alt)"
			if onAlt {
				rs, desc = tc.rules, "SetRules(rules)"
			}
			onAlt = !onAlt
			steps = append(steps, runsBatch{op: "setrules", rs: rs, now: now, desc: desc})
		}
		if tc.lifecycle {
			switch r.IntN(30) {
			case 0:
				steps = append(steps, runsBatch{op: "finish", path: f.path, now: now, desc: "Finish(" + f.path + ")"})
			case 1:
				now = now.Add(time.Second)
				steps = append(steps, runsBatch{op: "forget", now: now, desc: "Forget"})
			}
		}
	}
}

func checkRunsMatch(t *testing.T, tc runsCase) {
	gated := NewProcessor(tc.in, tc.rules)
	full := NewProcessor(tc.in, tc.rules)
	full.gate = nil
	if tc.wantGate && gated.gate == nil {
		t.Fatal("the processor has no gate: the bulk path is not tested")
	}
	steps := runsSteps(tc)
	var og, of event.OutBatch
	var supBefore uint64
	// Two batches in three come marked, as the daemon's mark stage does;
	// after some reloads the marker is left for the old rules, so its
	// marks must be ignored.
	marker := gated.Marker()
	for i, st := range steps {
		switch {
		case st.b != nil:
			st.b.Marks.Reset()
			if i%3 != 0 {
				marker.Mark(st.b)
			}
			gated.Process(st.b, &og, st.now)
			full.Process(st.b, &of, st.now)
		case st.op == "tick":
			gated.Tick(st.now, &og)
			full.Tick(st.now, &of)
		case st.op == "setrules":
			// SetRules starts the rule counts afresh: keep the lines
			// suppressed under the old rules for the conservation check.
			old := *full.Stats()
			full.SetRules(st.rs, &of)
			supBefore += linesSuppressed(&old)
			gated.SetRules(st.rs, &og)
			if i%2 == 0 {
				marker = gated.Marker()
			}
			full.gate = nil
			if tc.wantGate && gated.gate == nil {
				t.Fatalf("step %d (%s): the processor has no gate after SetRules", i, st.desc)
			}
		case st.op == "finish":
			gated.Finish(st.path, &og)
			full.Finish(st.path, &of)
		case st.op == "forget":
			before := st.now.Add(-500 * time.Millisecond)
			if ng, nf := gated.Forget(before), full.Forget(before); ng != nf {
				t.Fatalf("step %d: Forget dropped %d sources on the bulk path, %d on the full path", i, ng, nf)
			}
		}
		if msg := diffOut(&og, &of); msg != "" {
			t.Fatalf("step %d (%s): bulk and full paths differ: %s\nbatch:\n%s", i, st.desc, msg, describeBatch(st.b))
		}
		if hg, hf := gated.Held(), full.Held(); hg != hf {
			t.Fatalf("step %d (%s): %d lines held on the bulk path, %d on the full path\nbatch:\n%s", i, st.desc, hg, hf, describeBatch(st.b))
		}
		og.Reset()
		of.Reset()
	}
	gated.Close(&og)
	full.Close(&of)
	if msg := diffOut(&og, &of); msg != "" {
		t.Fatalf("Close: bulk and full paths differ: %s", msg)
	}
	if msg := diffStats(gated.Stats(), full.Stats()); msg != "" {
		t.Fatalf("stats differ: %s", msg)
	}
	if full.Stats().RunLines != 0 {
		t.Fatalf("the full path forwarded %d lines in runs", full.Stats().RunLines)
	}
	t.Logf("%d of %d lines went in runs", gated.Stats().RunLines, gated.Stats().Lines)
	// Every line came out: the comparison was about something.
	st := full.Stats()
	sup := supBefore + linesSuppressed(st)
	if st.Lines == 0 || st.Lines != st.LinesForwarded+sup {
		t.Fatalf("conservation on the full path: read %d, forwarded %d, suppressed %d", st.Lines, st.LinesForwarded, sup)
	}
}

func linesSuppressed(st *Stats) uint64 {
	var n uint64
	for _, r := range st.Rules {
		n += r.LinesSuppressed
	}
	return n
}

// diffOut describes the first difference between two output batches, or
// returns "".
func diffOut(g, f *event.OutBatch) string {
	if !slices.Equal(g.EventEnds, f.EventEnds) || !bytes.Equal(g.Data, f.Data) {
		ge, fe := eventsOf(g), eventsOf(f)
		if i, a, b := firstUnequal(ge, fe); i >= 0 {
			return fmt.Sprintf("event %d (of %d bulk, %d full):\n bulk: %q\n full: %q", i, len(ge), len(fe), a, b)
		}
		return fmt.Sprintf("event ends %v (bulk) vs %v (full), data %q vs %q", g.EventEnds, f.EventEnds, g.Data, f.Data)
	}
	if !slices.Equal(g.Segments, f.Segments) {
		return fmt.Sprintf("segments %+v (bulk) vs %+v (full)", g.Segments, f.Segments)
	}
	if !slices.Equal(g.Acks, f.Acks) {
		return fmt.Sprintf("acks %+v (bulk) vs %+v (full)", g.Acks, f.Acks)
	}
	if !slices.Equal(g.Paths, f.Paths) {
		return fmt.Sprintf("paths %+v (bulk) vs %+v (full)", g.Paths, f.Paths)
	}
	if !slices.Equal(g.Origins, f.Origins) || g.Input != f.Input {
		return fmt.Sprintf("origins %v / input %q (bulk) vs %v / %q (full)", g.Origins, g.Input, f.Origins, f.Input)
	}
	return ""
}

func eventsOf(b *event.OutBatch) [][]byte {
	var out [][]byte
	start := 0
	for _, e := range b.EventEnds {
		out = append(out, b.Data[start:e])
		start = e
	}
	return out
}

func diffStats(g, f *Stats) string {
	var d []string
	check := func(name string, a, b uint64) {
		if a != b {
			d = append(d, fmt.Sprintf("%s %d (bulk) vs %d (full)", name, a, b))
		}
	}
	check("Lines", g.Lines, f.Lines)
	check("Bytes", g.Bytes, f.Bytes)
	check("Events", g.Events, f.Events)
	check("LinesForwarded", g.LinesForwarded, f.LinesForwarded)
	check("Truncated", g.Truncated, f.Truncated)
	if g.ParseErrors != f.ParseErrors {
		d = append(d, fmt.Sprintf("ParseErrors %v (bulk) vs %v (full)", g.ParseErrors, f.ParseErrors))
	}
	if g.Sources != f.Sources {
		d = append(d, fmt.Sprintf("Sources %v (bulk) vs %v (full)", g.Sources, f.Sources))
	}
	if len(g.Rules) != len(f.Rules) {
		d = append(d, fmt.Sprintf("%d rule counts (bulk) vs %d (full)", len(g.Rules), len(f.Rules)))
	} else {
		for i := range g.Rules {
			if g.Rules[i] != f.Rules[i] {
				d = append(d, fmt.Sprintf("rule %d: %+v (bulk) vs %+v (full)", i, g.Rules[i], f.Rules[i]))
			}
		}
	}
	// RunLines says which path the lines took: the one count allowed to
	// differ.
	gc, fc := *g, *f
	gc.RunLines, fc.RunLines = 0, 0
	if len(d) == 0 && !reflect.DeepEqual(gc, fc) {
		d = append(d, fmt.Sprintf("%+v (bulk) vs %+v (full)", gc, fc))
	}
	return strings.Join(d, "; ")
}

func describeBatch(b *event.LineBatch) string {
	if b == nil {
		return "(no batch)"
	}
	var s strings.Builder
	for i := range b.Len() {
		fmt.Fprintf(&s, "  %3d %q\n", i, b.Line(i))
	}
	return s.String()
}

// synthLog writes about lines lines picked at random from every kind of
// line and event the bulk path has to tell apart from plain lines.
func synthLog(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xfa57))
	g := &synthGen{r: r}
	var out bytes.Buffer
	// How the log's lines are prefixed: not at all, all alike, or event
	// by event.
	prefixes := []string{"", "web-1  | ", "Nov 25 21:44:27 host app[1]: "}
	mode := r.IntN(4)
	n := 0
	for n < lines {
		ev := synthEvent(g)
		p := ""
		switch mode {
		case 1, 2:
			p = prefixes[mode]
		case 3:
			p = prefixes[r.IntN(len(prefixes))]
		}
		for _, l := range ev {
			if p != "" && l != "" && r.IntN(40) == 0 {
				// A line of the event without the prefix.
				out.WriteString(l)
			} else {
				out.WriteString(p + l)
			}
			n++
		}
	}
	if r.IntN(2) == 0 {
		// A final line without its newline.
		out.WriteString([]string{"last words", "Error on request:", "Traceback (most recent call last):", `{"message":"x"}`, "tail }"}[r.IntN(5)])
	}
	return out.Bytes()
}

// replayLog writes about lines lines of events that repeat, byte for
// byte or but for their first line, with every kind of line that can
// follow an exception line, and runs of record heads of every length in
// between, so that the notes a repeated traceback may take change.
func replayLog(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x7e91))
	g := &synthGen{r: r}
	tbs := []string{
		"Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    g()\nValueError: v\n",
		"Traceback (most recent call last):\n  File \"a.py\", line 2, in f\n    g()\nValueError: v\n",
		synthGunicornTB,
		"  File \"main.py\", line 3\n    x = (\n        ^\nSyntaxError: '(' was never closed\n",
	}
	headers := []func() string{
		func() string { return "Error on request:\n" },
		func() string {
			return fmt.Sprintf("[2026-11-25 21:46:21 +0000] [%d] [ERROR] Error handling request /socket.io/?t=%d\n", r.IntN(99999), r.IntN(1<<r.IntN(60)))
		},
		func() string {
			return fmt.Sprintf("[2026-11-25 21:44:27,%03d] ERROR in app: Exception on /boom [GET]\n", r.IntN(2))
		},
		func() string { return "" },
	}
	afters := []func() string{
		func() string { return "" },
		g.free,
		func() string { return "\n" },
		func() string {
			return "\nDuring handling of the above exception, another exception occurred:\n\n" + tbs[0]
		},
		func() string { return g.free() + g.free() },
	}
	prefix := []string{"", "web-1  | "}[r.IntN(2)]
	var out bytes.Buffer
	write := func(text string) {
		for _, l := range synthLines(text) {
			if l != "" {
				out.WriteString(prefix + l)
			}
		}
	}
	// The traceback and what follows it change now and then, so that
	// most events repeat the one before.
	tb, after := tbs[r.IntN(len(tbs))], afters[r.IntN(len(afters))]()
	for bytes.Count(out.Bytes(), []byte("\n")) < lines {
		if r.IntN(6) == 0 {
			tb = tbs[r.IntN(len(tbs))]
		}
		if r.IntN(6) == 0 {
			after = afters[r.IntN(len(afters))]()
		}
		var ev strings.Builder
		switch r.IntN(4) {
		case 0, 1:
			// About headedForNotes heads, more or fewer.
			for range 10 + r.IntN(12) {
				ev.WriteString(g.head())
			}
		case 2:
			ev.WriteString(g.free())
		}
		ev.WriteString(headers[r.IntN(len(headers))]())
		for range 1 + r.IntN(3) {
			// Back to back: the next traceback right after the
			// exception line, with no header.
			ev.WriteString(tb)
		}
		ev.WriteString(after)
		if r.IntN(3) == 0 {
			ev.WriteString(g.access(g.ws(), "500"))
		}
		write(ev.String())
	}
	return out.Bytes()
}

// synthKind makes one event (or a few) of some kind: its lines, each with
// its line ending.
type synthKind struct {
	weight int
	make   func(g *synthGen) []string
}

// synthGen draws the lines of a synthetic log.
type synthGen struct {
	r  *rand.Rand
	id int
}

func (g *synthGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *synthGen) access(path, status string) string {
	return fmt.Sprintf(`127.0.0.1 - - [25/Nov/2026 21:44:28] "GET %s HTTP/1.1" %s -`, path, status) + "\n"
}

func (g *synthGen) gunicornAccess(path, status string) string {
	return fmt.Sprintf(`127.0.0.1 - - [25/Nov/2026:21:46:21 +0000] "GET %s HTTP/1.1" %s 0 "-" "-"`, path, status) + "\n"
}

func (g *synthGen) eventletAccess(path, status string) string {
	return fmt.Sprintf(`127.0.0.1 - - [25/Nov/2026 21:46:07] "GET %s HTTP/1.1" %s 467 0.239292`, path, status) + "\n"
}

func (g *synthGen) ws() string {
	return g.pick("/socket.io/?EIO=4&transport=websocket", "/socket.io/?transport=websocket&EIO=4&t=1795643067.79")
}

// plain is an access line no rule cares about: a record head.
func (g *synthGen) plain() string { return g.access(fmt.Sprintf("/items/%d", g.r.IntN(500)), "200") }

// plains is a run of 0 to max-1 plain lines.
func (g *synthGen) plains(max int) []string {
	var out []string
	for range g.r.IntN(max) {
		out = append(out, g.plain())
	}
	return out
}

// ending gives a line an ending that may send it the full way.
func (g *synthGen) ending(l string) string {
	l = strings.TrimSuffix(l, "\n")
	switch g.r.IntN(12) {
	case 0:
		return l + "\r\n"
	case 1:
		return l + " \n"
	case 2:
		return l + "\t\n"
	case 3:
		return l + " (taskName=None)\n"
	case 4:
		return l + " }\n"
	case 5:
		return l + "\v\n"
	case 6:
		return l + " \r\n"
	}
	return l + "\n"
}

// head is a record that begins with a head (timestamp, level, bracket).
func (g *synthGen) head() string {
	g.id++
	return g.pick(
		"INFO:werkzeug:"+g.access(fmt.Sprintf("/items/%d", g.id), "200"),
		fmt.Sprintf("[2026-11-25 21:44:27,873] INFO in app: handled %d\n", g.id),
		fmt.Sprintf("2026-12-01 22:04:09,239 INFO werkzeug: request %d done (taskName=None)\n", g.id),
		fmt.Sprintf("DEBUG:engineio.server:%d: Sending packet PING\n", g.id),
		fmt.Sprintf("<%d>syslog-ish record\n", g.id),
		g.plain(),
	)
}

// free is a line that is no record head: after an exception line, in a
// source whose records have begun with heads, a note of the exception.
func (g *synthGen) free() string {
	return g.pick("Press CTRL+C to quit\n", " * Running on http://127.0.0.1:5101\n", "note: retry in a moment\n",
		"Werkzeug appears to be used in a production deployment.\n", "worker is idle\n")
}

func synthLines(s string) []string { return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n") }

const (
	synthEventletTB = "Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/eventlet/wsgi.py", line 607, in handle_one_response` + "\n" +
		"    write(b'')\n" +
		`  File "/usr/lib/python3/dist-packages/eventlet/wsgi.py", line 486, in write` + "\n" +
		`    raise AssertionError("write() before start_response()")` + "\n" +
		"AssertionError: write() before start_response()\n\n"
	synthGunicornTB = "Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py", line 271, in handle` + "\n" +
		"    keepalive = self.handle_request(req, conn)\n" +
		"                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n" +
		`  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 221, in should_close` + "\n" +
		"    if self.status_code < 200 or self.status_code in (204, 304):\n" +
		"AttributeError: 'Response' object has no attribute 'status_code'\n"
	synthDisconnectTB = "Error on request:\n" +
		"Traceback (most recent call last):\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 333, in run_wsgi` + "\n" +
		"    execute(self.server.app)\n" +
		`  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 324, in write` + "\n" +
		"    self.wfile.write(data)\n" +
		`  File "/usr/lib/python3.11/socketserver.py", line 834, in write` + "\n" +
		"    self._sock.sendall(b)\n" +
		"BrokenPipeError: [Errno 32] Broken pipe\n"
	synthChainedTB = "Traceback (most recent call last):\n" +
		`  File "/srv/app.py", line 3, in f` + "\n" +
		"    g()\n" +
		"KeyError: 'a'\n" +
		"\n" +
		"During handling of the above exception, another exception occurred:\n" +
		"\n" +
		"Traceback (most recent call last):\n" +
		`  File "/srv/app.py", line 5, in f` + "\n" +
		"    raise ValueError\n" +
		"ValueError\n"
	synthGroupTB = "  + Exception Group Traceback (most recent call last):\n" +
		`  |   File "/srv/app.py", line 9, in <module>` + "\n" +
		"  |     raise ExceptionGroup(\"two\", [KeyError(1), ValueError(2)])\n" +
		"  | ExceptionGroup: two (2 sub-exceptions)\n" +
		"  +-+---------------- 1 ----------------\n" +
		"    | KeyError: 1\n" +
		"    +------------------------------------\n"
	synthSyntaxErrTB = `  File "/srv/main.py", line 4` + "\n" +
		"    def f(:\n" +
		"          ^\n" +
		"SyntaxError: invalid syntax\n"
	// synthLongFramesTB has more frame lines than the small inputs' max_lines.
	synthLongFramesTB = "Traceback (most recent call last):\n" +
		`  File "/srv/a.py", line 1, in a` + "\n" + "    b()\n" +
		`  File "/srv/b.py", line 2, in b` + "\n" + "    c()\n" +
		`  File "/srv/c.py", line 3, in c` + "\n" + "    d()\n" +
		`  File "/srv/d.py", line 4, in d` + "\n" + "    e()\n" +
		"\t  tab-indented context\n" +
		"RecursionError: maximum recursion depth exceeded\n"
)

var synthKinds = []synthKind{
	// Plain access lines, in runs, and other servers' access lines.
	{22, func(g *synthGen) []string { return append(g.plains(12), g.plain()) }},
	{4, func(g *synthGen) []string {
		return []string{g.gunicornAccess("/", "200"), g.eventletAccess("/health", "200")}
	}},
	{3, func(g *synthGen) []string { return []string{g.access(g.ws(), "200")} }},
	{2, func(g *synthGen) []string { return []string{g.access(g.ws(), "500")} }},
	// A Werkzeug false 500: the websocket access line, maybe other lines,
	// the "Error on request:" block, sometimes with a logging prefix.
	{4, func(g *synthGen) []string {
		block := wzBlock
		if g.r.IntN(3) == 0 {
			block = "ERROR:werkzeug:" + block
		}
		out := append([]string{g.access(g.ws(), "500")}, g.plains(3)...)
		return append(out, synthLines(block)...)
	}},
	{1, func(g *synthGen) []string { return synthLines(wzBlock) }},
	// eventlet: headerless traceback, blank line, access line after.
	{3, func(g *synthGen) []string {
		out := append(synthLines(synthEventletTB), g.plains(3)...)
		return append(out, g.eventletAccess(g.ws(), "500"))
	}},
	// gunicorn: "[ERROR] Error handling request" block, access line after.
	{2, func(g *synthGen) []string {
		out := []string{"[2026-11-25 21:46:21 +0000] [28344] [ERROR] Error handling request " + g.ws() + "\n"}
		out = append(out, synthLines(synthGunicornTB)...)
		return append(append(out, g.plains(2)...), g.gunicornAccess(g.ws(), "500"))
	}},
	{1, func(g *synthGen) []string { return synthLines(synthDisconnectTB) }},
	// Headers without a traceback.
	{4, func(g *synthGen) []string {
		return []string{g.pick("Error on request:\n", "Exception in thread Thread-29 (_thread):\n", "ERROR:app:something failed\n",
			"[2026-11-25 21:44:27,873] ERROR in app: Exception on /boom [GET]\n", g.ending("Error on request:"))}
	}},
	// A header, then a traceback in a line of its own kind.
	{1, func(g *synthGen) []string {
		return []string{"Error on request:\n", g.ending("Traceback (most recent call last):"), `  File "x.py", line 1, in y` + "\n", "OSError\n"}
	}},
	{2, func(g *synthGen) []string { return synthLines(g.pick(realTraceback, threadErr, otherAssertion)) }},
	{1, func(g *synthGen) []string { return synthLines(synthChainedTB) }},
	{1, func(g *synthGen) []string {
		return append([]string{"Error on request:\n"}, synthLines(synthGroupTB)...)
	}},
	{1, func(g *synthGen) []string { return synthLines(synthSyntaxErrTB) }},
	{1, func(g *synthGen) []string { return synthLines(synthLongFramesTB) }},
	// Records beginning with a head, many in a row, then a logged
	// exception and a free-text line: a note of the exception when enough
	// records in a row began with a head, the next record otherwise.
	{6, func(g *synthGen) []string {
		var out []string
		for range g.r.IntN(24) {
			out = append(out, g.head())
		}
		if g.r.IntN(3) == 0 {
			out = append(out, g.free())
			for range g.r.IntN(18) {
				out = append(out, g.head())
			}
		}
		out = append(out, synthLines(g.pick(realTraceback, "ERROR:app:Exception on /x [GET]\nTraceback (most recent call last):\n  File \"b\"\nValueError: v\n",
			// Headerless: the "Traceback" line itself ends the heads.
			"Traceback (most recent call last):\n  File \"b\", line 1, in c\n    d()\nValueError: v\n"))...)
		return append(out, g.free())
	}},
	{8, func(g *synthGen) []string {
		var out []string
		for range 1 + g.r.IntN(20) {
			out = append(out, g.head())
		}
		return out
	}},
	{4, func(g *synthGen) []string { return []string{g.free()} }},
	// JSON records, some with rules' words only in their decoded view,
	// and lines that only look like one.
	{5, func(g *synthGen) []string {
		return []string{g.ending(g.pick(`{"message":"x"}`, `{"level":"debug","message":"tick"}`, `{"message":"upload failed"}`,
			`{"message":"upl\u006fad failed"}`, `{"level":"info","message":"Traceback (most recent call last):"}`,
			`{"message":"GET /slow/1 HTTP/1.1\" 200 -"}`, "{broken", `{"message": "a"} (taskName=None)`, `  {"message":"upload failed"}`))}
	}},
	{3, func(g *synthGen) []string {
		return []string{g.pick(`{"level":"debug","message":"tick"}`, `{"message":"upload failed"}`, `{"message":"upl\u006fad failed"}`) +
			g.pick("", " ", "\t", "\r", " \r", "  ", "\t ") + "\n"}
	}},
	{3, func(g *synthGen) []string { return []string{"\n"} }},
	{3, func(g *synthGen) []string {
		return []string{g.pick("config {a: 1}\n", "trailing spaces   \n", "tab\t\n", "brace}\n", "}\n", " \n", "\r\n", "\t\n", "    indented plain line\n")}
	}},
	// A line longer than the small inputs' max_bytes and split size.
	{2, func(g *synthGen) []string {
		return []string{"INFO:app:" + strings.Repeat("long line ", 30+g.r.IntN(200)) + "\n"}
	}},
	// Lines the user rules care about, alone.
	{5, func(g *synthGen) []string {
		return []string{g.ending(g.pick(g.access("/health", "200"), "WARNING:app:slow request id=7\n", g.access("/slow/7", "200"),
			"DEBUG:noise: tick\n", "DEBUG:app: tick\n", "tick tock noise\n", "an important tick noise\n", "parent job 3 started\n",
			"child retry\n", "upload failed\n", "upload done\n", "upload gone away\n", "quota exceeded\n", "quota ok\n",
			"call 555-1234 now\n", "\u212a upload now\n", "call 555.1234\n", "job42 done\n", "DISK FULL on /dev/sda\n", "disk full\n"))}
	}},
	// Paired rules with plain lines between the event and its partner,
	// around the pairs' `within`.
	{3, func(g *synthGen) []string {
		out := append([]string{"parent job 3 started\n"}, g.plains(9)...)
		return append(out, "child retry\n")
	}},
	{3, func(g *synthGen) []string {
		out := append([]string{"upload failed\n"}, g.plains(6)...)
		return append(out, g.pick("upload done\n", "upload gone away\n"))
	}},
	{3, func(g *synthGen) []string {
		a, b := "WARNING:app:slow request id=7\n", g.access("/slow/7", "200")
		if g.r.IntN(2) == 0 {
			a, b = b, a
		}
		out := append([]string{a}, g.plains(7)...)
		return append(out, b)
	}},
	// A traceback mentioned inside a line: no traceback's start.
	{1, func(g *synthGen) []string {
		return []string{"INFO:app:printing Traceback (most recent call last): for the user\n"}
	}},
	{1, func(g *synthGen) []string {
		return []string{`[2026-11-25 21:45:35 +0000] [24027] [WARNING] Invalid request from ip=127.0.0.1: Invalid HTTP request line: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'` + "\n"}
	}},
	{2, func(g *synthGen) []string { return []string{g.pick(otherAccess, mention, nearMiss)} }},
	// An ordinary line with an unusual ending.
	{4, func(g *synthGen) []string { return []string{g.ending(g.plain())} }},
}

// synthEvent returns the lines of one event (or a few) of a random kind.
func synthEvent(g *synthGen) []string {
	total := 0
	for _, k := range synthKinds {
		total += k.weight
	}
	x := g.r.IntN(total)
	for _, k := range synthKinds {
		if x < k.weight {
			return k.make(g)
		}
		x -= k.weight
	}
	panic("unreachable")
}

// TestTemplateSize checks that only events up to maxTemplateBytes become
// a file's template: a template stays in memory for as long as the file
// is read.
func TestTemplateSize(t *testing.T) {
	frame := "  File \"a.py\", line 1, in f\n    g()\n"
	for _, tc := range []struct {
		frames int
		kept   bool
	}{{1, true}, {(maxTemplateBytes - 100) / len(frame), true}, {maxTemplateBytes / len(frame), false}} {
		log := "Traceback (most recent call last):\n" + strings.Repeat(frame, tc.frames) + "ValueError: v\nnext\n"
		p := NewProcessor(defaultInput(), rules.Default().Rules)
		p.Process(cutBatches([]byte(log), 1<<20)[0], &event.OutBatch{}, time.Unix(0, 0))
		tmpl := p.sources["-"].asm.tmpls[probation]
		if got := tmpl.lines > 0; got != tc.kept {
			t.Errorf("an event of %d bytes: kept as the template %v, want %v", len(log)-5, got, tc.kept)
		}
		if tc.kept && string(tmpl.raw) != log[:len(log)-5] {
			t.Errorf("template %q, want the event's bytes", tmpl.raw)
		}
	}
}
