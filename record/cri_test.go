package record

import (
	"bufio"
	"bytes"
	"os"
	"testing"
)

func TestDecodeCRI(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		text    string
		stream  string
		partial bool
		ok      bool
	}{
		{"full", "2026-12-01T22:05:25.815Z stderr F hello world\n", "hello world", "stderr", false, true},
		{"no newline", "2026-12-01T22:05:25.815Z stdout F hello", "hello", "stdout", false, true},
		{"partial", "2026-12-01T22:05:25.815Z stderr P first part \n", "first part ", "stderr", true, true},
		{"tags", "2026-12-01T22:05:25Z stdout F:x hi\n", "hi", "stdout", false, true},
		{"partial tags", "2026-12-01T22:05:25Z stdout P:a:b hi\n", "hi", "stdout", true, true},
		{"empty text", "2026-12-01T22:05:25Z stdout F \n", "", "stdout", false, true},
		{"empty text no space", "2026-12-01T22:05:25Z stdout F\n", "", "stdout", false, true},
		{"crlf keeps cr", "2026-12-01T22:05:25Z stdout F hi\r\n", "hi\r", "stdout", false, true},
		{"spaces in text", "2026-12-01T22:05:25Z stdout F   indented  \n", "  indented  ", "stdout", false, true},
		{"nanos", "2026-12-01T22:05:25.123456789Z stdout F x", "x", "stdout", false, true},
		{"offset", "2026-12-01T22:05:25.1+01:00 stdout F x", "x", "stdout", false, true},
		{"negative offset", "2026-12-01T22:05:25-07:00 stdout F x", "x", "stdout", false, true},
		{"leap day", "2024-02-29T00:00:00Z stdout F x", "x", "stdout", false, true},
		{"plain log line", "2026-12-01 22:05:25,815 INFO werkzeug: hi\n", "", "", false, false},
		{"space not T", "2026-12-01 22:05:25Z stdout F x", "", "", false, false},
		{"comma fraction", "2026-12-01T22:05:25,815Z stdout F x", "", "", false, false},
		{"no zone", "2026-12-01T22:05:25 stdout F x", "", "", false, false},
		{"empty fraction", "2026-12-01T22:05:25.Z stdout F x", "", "", false, false},
		{"bad month", "2026-13-01T22:05:25Z stdout F x", "", "", false, false},
		{"bad day", "2026-02-29T22:05:25Z stdout F x", "", "", false, false},
		{"bad hour", "2026-12-01T24:05:25Z stdout F x", "", "", false, false},
		{"bad offset", "2026-12-01T22:05:25+0100 stdout F x", "", "", false, false},
		{"lower z", "2026-12-01T22:05:25z stdout F x", "", "", false, false},
		{"bad stream", "2026-12-01T22:05:25Z stdin F x", "", "", false, false},
		{"bad tag", "2026-12-01T22:05:25Z stdout X x", "", "", false, false},
		{"long tag", "2026-12-01T22:05:25Z stdout FF x", "", "", false, false},
		{"empty tag", "2026-12-01T22:05:25Z stdout  x", "", "", false, false},
		{"no tag", "2026-12-01T22:05:25Z stdout", "", "", false, false},
		{"timestamp only", "2026-12-01T22:05:25Z", "", "", false, false},
		{"empty", "", "", "", false, false},
		{"docker json", `{"log":"x\n","stream":"stderr","time":"2026-12-01T22:05:25Z"}`, "", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, stream, partial, ok := DecodeCRI([]byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if string(text) != tt.text || string(stream) != tt.stream || partial != tt.partial {
				t.Errorf("got (%q, %q, %v), want (%q, %q, %v)", text, stream, partial, tt.text, tt.stream, tt.partial)
			}
		})
	}
}

// TestCRICorpus joins the records of a real CRI log, P records up to their
// F record, and checks that this gives the application's output back.
func TestCRICorpus(t *testing.T) {
	want, err := os.ReadFile(corpusDir + "/i_py313_extras.log")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(corpusDir + "/i_py313_extras.cri.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []byte
	sc := bufio.NewScanner(f)
	records, partials := 0, 0
	for sc.Scan() {
		records++
		text, stream, partial, ok := DecodeCRI(sc.Bytes())
		if !ok || string(stream) != "stderr" {
			t.Fatalf("record %d: ok=%v stream=%q", records, ok, stream)
		}
		if Detect(sc.Bytes()) != CRI {
			t.Fatalf("record %d not detected as cri", records)
		}
		got = append(got, text...)
		if partial {
			partials++
		} else {
			got = append(got, '\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if records != 3642 || partials != 269 {
		t.Errorf("%d records, %d partial; want 3642, 269", records, partials)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("joined records differ from the plain log (len %d vs %d)", len(got), len(want))
	}
}
