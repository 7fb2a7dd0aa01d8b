package filters

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logsift/logsift/internal/testutil"

	"github.com/logsift/logsift/rules"
)

// corpusDir holds real captures from Flask-SocketIO servers with the exact
// output of an ideal filter (see its README.md).
const corpusDir = "../testdata/corpus"

func corpusLogs(t *testing.T) []string { return testutil.CorpusLogs(t, corpusDir) }

// keepAccessRules re-declares the default rules with drop_partner: false.
func keepAccessRules(rs []*rules.Rule) []*rules.Rule {
	var out []*rules.Rule
	for _, r := range rs {
		c := *r
		if c.Pair != nil {
			pc := *c.Pair
			pc.DropPartner = false
			c.Pair = &pc
		}
		out = append(out, &c)
	}
	return out
}

func TestCorpus(t *testing.T) {
	cfg := rules.Default()
	for _, log := range corpusLogs(t) {
		base := strings.TrimSuffix(log, ".log")
		input, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			rules  []*rules.Rule
			golden string
		}{
			{"default", cfg.Rules, base + ".expected.log"},
			{"keep-access", keepAccessRules(cfg.Rules), base + ".expected-keep-access.log"},
		} {
			for _, batch := range []int{1, 7, 4096} {
				t.Run(fmt.Sprintf("%s/%s/batch%d", filepath.Base(base), tc.name, batch), func(t *testing.T) {
					want, err := os.ReadFile(tc.golden)
					if err != nil {
						t.Fatal(err)
					}
					fwd, sup, p := runAll(defaultInput(), tc.rules, input, batch)
					if !bytes.Equal(fwd, want) {
						t.Fatalf("forwarded output differs from %s:\n%s", tc.golden, firstDiff(fwd, want))
					}
					st := p.Stats()
					if got := int(st.Lines); got != bytes.Count(input, []byte("\n")) {
						t.Errorf("lines read = %d, want %d", got, bytes.Count(input, []byte("\n")))
					}
					var supLines uint64
					for _, r := range st.Rules {
						supLines += r.LinesSuppressed
					}
					if st.Lines != st.LinesForwarded+supLines {
						t.Errorf("conservation: read %d != forwarded %d + suppressed %d", st.Lines, st.LinesForwarded, supLines)
					}
					if len(fwd)+len(sup) != len(input) {
						t.Errorf("forwarded %d + suppressed %d bytes != input %d", len(fwd), len(sup), len(input))
					}
				})
			}
		}
	}
}

// firstDiff describes the first differing line of got and want.
func firstDiff(got, want []byte) string {
	g := bytes.SplitAfter(got, []byte("\n"))
	w := bytes.SplitAfter(want, []byte("\n"))
	i, gl, wl := firstUnequal(g, w)
	if i < 0 {
		return "(same lines, different bytes)"
	}
	lo := max(0, i-3)
	return fmt.Sprintf("line %d:\n got: %q\nwant: %q\ncontext (want):\n%s", i+1, gl, wl, bytes.Join(w[lo:min(len(w), i+3)], nil))
}

// firstUnequal returns the index of the first place where a and b hold
// different bytes (one of them nil past its end) and what each holds
// there, or -1 when they are alike.
func firstUnequal(a, b [][]byte) (int, []byte, []byte) {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y []byte
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if !bytes.Equal(x, y) {
			return i, x, y
		}
	}
	return -1, nil, nil
}
