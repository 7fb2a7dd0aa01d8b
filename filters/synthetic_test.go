package filters

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logsift/logsift/rules"
)

// TestSyntheticFormats runs the zero-config pipeline over the documented
// shapes of JSON loggers and suffix-appending formatters in
// testdata/synthetic (see its README): the false 500s and their access
// lines go, the look-alikes stay.
func TestSyntheticFormats(t *testing.T) {
	logs, err := filepath.Glob("../testdata/synthetic/*.log")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, log := range logs {
		if strings.Contains(log, ".expected") {
			continue
		}
		n++
		input, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".expected.log")
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 5, 4096} {
			t.Run(fmt.Sprintf("%s/batch%d", filepath.Base(log), batch), func(t *testing.T) {
				fwd, _, p := runAll(defaultInput(), rules.Default().Rules, input, batch)
				if !bytes.Equal(fwd, want) {
					t.Fatalf("forwarded output differs:\n%s", firstDiff(fwd, want))
				}
				st := p.Stats()
				if st.Rules[0].EventsSuppressed != 3 {
					t.Errorf("events suppressed by %s = %d, want 3", rules.Default().Rules[0].Name, st.Rules[0].EventsSuppressed)
				}
			})
		}
	}
	if n < 5 {
		t.Fatalf("only %d synthetic samples", n)
	}
}
