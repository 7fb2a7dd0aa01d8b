package loggen

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestFormatsCarryTheSameLog generates one seed in every record format and
// unwraps the records again: log and expected output must be the text
// format's, line for line (for JSON, event for event).
func TestFormatsCarryTheSameLog(t *testing.T) {
	gen := func(format string) (log, exp []byte, st Stats) {
		var l, e bytes.Buffer
		st, err := Generate(Config{Lines: 20000, Seed: 3, Format: format}, &l, &e)
		if err != nil {
			t.Fatal(err)
		}
		return l.Bytes(), e.Bytes(), st
	}
	textLog, textExp, textSt := gen(FormatText)
	unwrap := map[string]func(t *testing.T, rec []byte) []byte{
		FormatDockerJSON: func(t *testing.T, rec []byte) []byte {
			var r struct{ Log, Stream, Time string }
			if err := json.Unmarshal(rec, &r); err != nil || r.Stream != "stderr" || r.Time == "" {
				t.Fatalf("bad docker record %q: %v", rec, err)
			}
			return []byte(r.Log)
		},
		FormatCRI: func(t *testing.T, rec []byte) []byte {
			f := bytes.SplitN(rec, []byte(" "), 4)
			if len(f) != 4 || string(f[1]) != "stderr" || string(f[2]) != "F" {
				t.Fatalf("bad CRI record %q", rec)
			}
			return append(append([]byte(nil), f[3]...), '\n')
		},
		FormatJSON: func(t *testing.T, rec []byte) []byte {
			var r struct{ Message string }
			if err := json.Unmarshal(rec, &r); err != nil {
				t.Fatalf("bad JSON record %q: %v", rec, err)
			}
			return []byte(r.Message + "\n")
		},
	}
	for format, un := range unwrap {
		t.Run(format, func(t *testing.T) {
			log, exp, st := gen(format)
			for name, pair := range map[string][2][]byte{"log": {log, textLog}, "expected": {exp, textExp}} {
				var got []byte
				for _, rec := range bytes.SplitAfter(pair[0], newline) {
					if len(rec) > 0 {
						got = append(got, un(t, bytes.TrimSuffix(rec, newline))...)
					}
				}
				if !bytes.Equal(got, pair[1]) {
					t.Errorf("%s: unwrapped %d bytes differ from the text format's %d", name, len(got), len(pair[1]))
				}
			}
			if st.FalseEvents != textSt.FalseEvents || st.Events != textSt.Events {
				t.Errorf("stats %+v, text format %+v", st, textSt)
			}
		})
	}
}
