package filters

import (
	"bytes"
	"strings"
	"testing"

	"github.com/logsift/logsift/record"
)

// TestRecordBytesUnchanged feeds JSON and container records that are
// broken, huge or odd: whatever the format, the forwarded bytes are the
// input bytes, and lines that are not records of their source's format are
// counted, not fatal.
func TestRecordBytesUnchanged(t *testing.T) {
	big := `{"message": "` + strings.Repeat("x", 1<<20) + `", "levelname": "INFO"}` + "\n"
	tests := []struct {
		name, format, in string
		parseErrors      [NumFormats]uint64
	}{
		{"valid json", record.JSON, `{"message": "a"}` + "\n" + `{"msg": "b", "n": 1}` + "\n", [NumFormats]uint64{}},
		{"truncated json", record.JSON, `{"message": "a"}` + "\n" + `{"message": "cut` + "\n", [NumFormats]uint64{fmtJSON: 1}},
		{"invalid json", record.JSON, `{"message": "a"}` + "\n" + `{"message": a}` + "\n" + `{"message" "a"}` + "\n", [NumFormats]uint64{fmtJSON: 2}},
		{"not json in a json input", record.JSON, "plain text\n" + `{"message": "a"}` + "\n", [NumFormats]uint64{fmtJSON: 1}},
		{"invalid utf-8 in a string", record.JSON, "{\"message\": \"caf\xe9 \xff\"}\n", [NumFormats]uint64{}},
		// A raw control byte inside a string is not JSON: counted, kept.
		{"NUL bytes", record.JSON, "{\"message\": \"a\x00b\"}\n{\"message\": \"\\u0000\"}\n\x00\n", [NumFormats]uint64{fmtJSON: 2}},
		{"CRLF", record.JSON, "{\"message\": \"a\"}\r\n{\"message\": \"b\"}\r\n", [NumFormats]uint64{}},
		{"no final newline", record.JSON, `{"message": "a"}` + "\n" + `{"message": "last"}`, [NumFormats]uint64{}},
		{"one mebibyte record", record.JSON, big + `{"message": "after"}` + "\n", [NumFormats]uint64{}},
		{"auto detects json", record.Auto, `{"message": "a"}` + "\n" + `{"message": "cut` + "\n", [NumFormats]uint64{fmtJSON: 1}},
		{"docker record broken", record.DockerJSON, `{"log":"a\n","stream":"stderr","time":"2026-12-01T22:04:10Z"}` + "\n" + `{"log":"b` + "\n", [NumFormats]uint64{fmtDockerJSON: 1}},
		{"docker partial never finished", record.DockerJSON, `{"log":"part","stream":"stderr","time":"2026-12-01T22:04:10Z"}` + "\n", [NumFormats]uint64{}},
		{"cri record broken", record.CRI, "2026-12-01T22:04:10.1Z stderr F a\nnot cri\n", [NumFormats]uint64{fmtCRI: 1}},
		{"cri partial never finished", record.CRI, "2026-12-01T22:04:10.1Z stderr P part\n", [NumFormats]uint64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, batch := range []int{1, 64} {
				in := defaultInput()
				in.Format = tc.format
				fwd, sup, p := runAll(in, werkzeugRules(t), []byte(tc.in), batch)
				if !bytes.Equal(fwd, []byte(tc.in)) || len(sup) != 0 {
					t.Fatalf("batch %d: forwarded %s (suppressed %s)", batch, trunc(fwd), trunc(sup))
				}
				if got := p.Stats().ParseErrors; got != tc.parseErrors {
					t.Errorf("batch %d: parse errors %v, want %v", batch, got, tc.parseErrors)
				}
			}
		})
	}
}
