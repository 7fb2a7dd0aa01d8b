package filters

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logsift/logsift/rules"
)

// physLine is one line an app wrote, as it reached the stream, and whether
// an ideal filter forwards it.
type physLine struct {
	text string // without its newline
	keep bool
}

type logBuilder struct{ lines []physLine }

func (b *logBuilder) add(s string, keep bool) {
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.lines = append(b.lines, physLine{strings.TrimSuffix(l, "\n"), keep})
		}
	}
}

// framing wraps each physical line the way a runtime stores it; split
// cuts a line into partial records where the runtime would.
type framing struct {
	name string
	wrap func(r *rand.Rand, i int, text string) string
}

func dockerRecord(i int, text string, final bool) string {
	if final {
		text += "\n"
	}
	b, _ := json.Marshal(text)
	return fmt.Sprintf(`{"log":%s,"stream":"stderr","time":"2026-11-25T21:44:%02d.%09dZ"}`+"\n", b, i/1000%60, i)
}

func criRecord(i int, text string, final bool) string {
	tag := "P"
	if final {
		tag = "F"
	}
	return fmt.Sprintf("2026-11-25T21:44:%02d.%09dZ stderr %s %s\n", i/1000%60, i, tag, text)
}

// splitting returns a framing that sometimes cuts a line into a partial
// record and its final part, as Docker and the kubelet do with long lines.
func splitting(record func(i int, text string, final bool) string) func(*rand.Rand, int, string) string {
	return func(r *rand.Rand, i int, text string) string {
		if len(text) > 10 && r.IntN(6) == 0 {
			c := 1 + r.IntN(len(text)-1)
			return record(i, text[:c], false) + record(i, text[c:], true)
		}
		return record(i, text, true)
	}
}

var framings = []framing{
	{"text", func(_ *rand.Rand, _ int, text string) string { return text + "\n" }},
	{"docker-json", splitting(dockerRecord)},
	{"cri", splitting(criRecord)},
}

// TestPropertyGlue writes false-500 pairs, thread tracebacks and other
// records as concurrent unlocked writers would: a thread traceback can be
// cut at any byte by a whole access record glued onto its fragment, or have
// records land between its lines. Whatever the cut points and the
// runtime's framing, the output is the input minus the false-500 events and
// their clean access lines: a line that carries anything else is kept, even
// when it served as a partner.
func TestPropertyGlue(t *testing.T) {
	rs := werkzeugRules(t)
	tracebacks := []string{threadErr, realTraceback}
	for _, f := range framings {
		t.Run(f.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 150; seed++ {
				r := rand.New(rand.NewPCG(seed, 11))
				var b logBuilder
				pending := 0 // access lines whose block is still to come
				partners := 0
				for i := 0; i < 200; i++ {
					access := []string{wsAccess, wsAccessAlt}[r.IntN(2)]
					switch k := r.IntN(12); {
					case pending > 0 && (k < 4 || pending > 8):
						b.add(wzBlock, false)
						pending--
					case k < 6:
						b.add(access, false)
						pending++
						partners++
					case k < 9:
						// A traceback written line by line, with the access
						// record glued onto a fragment of line n, or landing
						// between two of its lines.
						lines := strings.Split(strings.TrimSuffix(tracebacks[r.IntN(len(tracebacks))], "\n"), "\n")
						n := r.IntN(len(lines))
						if partners == 0 {
							// Only an indented line can be told apart before
							// the source has shown what its partners look like.
							n = 2 + r.IntN(len(lines)-3)
						}
						for j, l := range lines {
							if j != n {
								b.add(l+"\n", true)
								continue
							}
							c := r.IntN(len(l) + 1)
							if c == 0 {
								// Between lines: a clean partner.
								b.add(access, false)
								partners++
								b.add(l+"\n", true)
							} else {
								b.add(l[:c]+access, true)
								if c < len(l) {
									b.add(l[c:]+"\n", true)
								}
							}
						}
						pending++
					case k == 9 && partners > 0:
						// A one-line record's tail glued in front of the
						// access record, once the source has shown how its
						// partners start.
						s := strings.TrimSuffix([]string{okAccess, mention, otherAccess}[r.IntN(3)], "\n")
						frag := s[:1+r.IntN(len(s)-1)]
						if strings.Trim(frag, "0123456789") == "" {
							// Digits glued onto the address the record
							// starts with ("127" + "127.0.0.1") read as
							// one address: the documented blind spot.
							frag = s[:len(s)-1]
						}
						b.add(frag+access, true)
						pending++
					default:
						b.add([]string{okAccess, otherAssertion, mention, nearMiss, threadErr, otherAccess}[r.IntN(6)], true)
					}
				}
				for ; pending > 0; pending-- {
					b.add(wzBlock, false)
				}
				var in, want strings.Builder
				for i, l := range b.lines {
					rec := f.wrap(r, i, l.text)
					in.WriteString(rec)
					if l.keep {
						want.WriteString(rec)
					}
				}
				fwd, _, _ := runAll(defaultInput(), rs, []byte(in.String()), 1+r.IntN(40))
				if string(fwd) != want.String() {
					t.Fatalf("seed %d:\n%s", seed, firstDiff(fwd, []byte(want.String())))
				}
			}
		})
	}
}

// TestFormatterChange strings together captures of one server logged
// with two formatters (plain, then basicConfig's "INFO:werkzeug:" in front
// of every record), in both orders, as a followed file reads an app that
// restarted with another logging setup. The partners of the second part
// are forwarded as possibly glued only until formatterRun of them in a row
// have shown the new start; every other line comes out as each capture's
// expected output has it.
func TestFormatterChange(t *testing.T) {
	rs := rules.Default().Rules
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain, basic := "a_werkzeug_threading_plain", "b_werkzeug_threading_basicconfig"
	for _, order := range [][2]string{{plain, basic}, {basic, plain}} {
		t.Run(order[0]+"+"+order[1], func(t *testing.T) {
			in := append(read(order[0]+".log"), read(order[1]+".log")...)
			want := append(read(order[0]+".expected.log"), read(order[1]+".expected.log")...)
			fwd, _, _ := runAll(defaultInput(), rs, in, 500)
			got := strings.SplitAfter(string(fwd), "\n")
			exp := strings.SplitAfter(string(want), "\n")
			var extra []string
			j := 0
			for _, l := range got {
				if j < len(exp) && l == exp[j] {
					j++
					continue
				}
				extra = append(extra, l)
			}
			if j != len(exp) {
				t.Fatalf("expected line %d missing from the output: %q", j+1, exp[j])
			}
			if len(extra) > formatterRun {
				t.Errorf("%d lines forwarded beyond the expected output, want at most %d; first: %q", len(extra), formatterRun, extra[0])
			}
			for _, l := range extra {
				if !strings.Contains(l, "transport=websocket") || !strings.Contains(l, `" 500 -`) {
					t.Errorf("forwarded beyond the expected output, and no partner: %q", l)
				}
			}
		})
	}
}

// TestFormatterChangeNeedsARun checks what does not make a new usual
// shape: partners of two formatters taking turns (two apps writing one
// file), and a fragment that repeats in front of the usual start but reads
// as no formatter's prefix. Such partners are forwarded however many come.
func TestFormatterChangeNeedsARun(t *testing.T) {
	usual := `127.0.0.1 - - [25/Nov/2026 21:44:28] "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1" 500 -`
	for _, tc := range []struct {
		name  string
		lines func(i int) string
	}{
		{"taking turns", func(i int) string {
			if i%(formatterRun-1) == 0 {
				return usual
			}
			return "INFO:werkzeug:" + usual
		}},
		{"fragment", func(int) string { return "ValueError: bad value: " + usual }},
		{"cut mid-word", func(int) string { return "INFO:werkz" + usual }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hs headStats
			for range 20 {
				if hs.odd([]byte(usual)) {
					t.Fatal("the usual start is odd")
				}
			}
			for i := 1; i < 200; i++ {
				l := tc.lines(i)
				if l != usual && !hs.odd([]byte(l)) {
					t.Fatalf("partner %d, %q, taken as clean", i, l)
				}
				if l == usual && hs.odd([]byte(l)) {
					t.Fatalf("partner %d, the usual start, taken as odd", i)
				}
			}
		})
	}
}
