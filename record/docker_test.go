package record

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestDecodeDocker(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	tests := []struct {
		name    string
		in      string
		text    string
		stream  string // "-" for nil
		partial bool
		ok      bool
	}{
		{"plain", `{"log":"hello\n","stream":"stderr","time":"2026-12-01T22:05:25.815Z"}` + "\n", "hello\n", "stderr", false, true},
		{"no newline", `{"log":"hello\n","stream":"stdout","time":"t"}`, "hello\n", "stdout", false, true},
		{"crlf", `{"log":"hello\n","stream":"stdout","time":"t"}` + "\r\n", "hello\n", "stdout", false, true},
		{"docker escapes", `{"log":"\u003cb\u003e \u0026 \u001b[31m\u0009\"q\" \\ \r\ufffd\n","stream":"stderr","time":"t"}`, "<b> & \x1b[31m\t\"q\" \\ \r\uFFFD\n", "stderr", false, true},
		{"nul", `{"log":"a\u0000b\n","stream":"stderr"}`, "a\x00b\n", "stderr", false, true},
		{"partial", `{"log":"first 16 KiB","stream":"stderr","time":"t"}`, "first 16 KiB", "stderr", true, true},
		{"empty log", `{"log":"","stream":"stderr"}`, "", "stderr", true, true},
		{"key order", `{"time":"t","stream":"stdout","log":"x\n"}`, "x\n", "stdout", false, true},
		{"attrs", `{"log":"x\n","attrs":{"tag":"web","n":[1,{"a":null}]},"stream":"stderr","time":"t"}`, "x\n", "stderr", false, true},
		{"whitespace", " { \"log\" : \"x\\n\" ,\t\"stream\" :\"stderr\" } \n", "x\n", "stderr", false, true},
		{"no stream", `{"log":"x\n"}`, "x\n", "-", false, true},
		{"stream not string", `{"log":"x\n","stream":1}`, "x\n", "-", false, true},
		{"escaped key", `{"\u006cog":"x\n","stream":"stderr"}`, "x\n", "stderr", false, true},
		{"last key wins", `{"log":"a\n","log":"b\n"}`, "b\n", "-", false, true},
		{"invalid utf8 kept", "{\"log\":\"\xff\\n\"}", "\xff\n", "-", false, true},
		{"1 MiB", `{"log":"` + big + `\n","stream":"stderr","time":"t"}`, big + "\n", "stderr", false, true},
		{"truncated", `{"log":"hello\n","stream":"std`, "", "", false, false},
		{"truncated in escape", `{"log":"hello\u00`, "", "", false, false},
		{"missing brace", `{"log":"hello\n","stream":"stderr"`, "", "", false, false},
		{"trailing garbage", `{"log":"hello\n"} x`, "", "", false, false},
		{"raw nul", "{\"log\":\"a\x00b\"}", "", "", false, false},
		{"log not string", `{"log":42,"stream":"stderr"}`, "", "", false, false},
		{"last log not string", `{"log":"a","log":null}`, "", "", false, false},
		{"no log", `{"stream":"stderr","time":"t"}`, "", "", false, false},
		{"log case", `{"Log":"x"}`, "", "", false, false},
		{"plain text", "2026-12-01 22:05:25,815 INFO werkzeug: hi\n", "", "", false, false},
		{"array", `["log"]`, "", "", false, false},
		{"empty", ``, "", "", false, false},
		{"bad escape", `{"log":"\q"}`, "", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("prefix:")
			text, stream, partial, ok := DecodeDocker(dst, []byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				if string(text) != "prefix:" {
					t.Errorf("dst changed on failure: %q", text)
				}
				return
			}
			if got := string(text); got != "prefix:"+tt.text {
				t.Errorf("text = %.80q, want %.80q", got, "prefix:"+tt.text)
			}
			if tt.stream == "-" {
				if stream != nil {
					t.Errorf("stream = %q, want nil", stream)
				}
			} else if string(stream) != tt.stream {
				t.Errorf("stream = %q, want %q", stream, tt.stream)
			}
			if partial != tt.partial {
				t.Errorf("partial = %v, want %v", partial, tt.partial)
			}
		})
	}
}

// TestDockerCorpus checks that decoding every record of a real json-file
// log gives the application's output back byte for byte.
func TestDockerCorpus(t *testing.T) {
	want, err := os.ReadFile(corpusDir + "/i_py313_extras.log")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(corpusDir + "/i_py313_extras.docker-json.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []byte
	r := bufio.NewReader(f)
	n := 0
	for {
		line, err := r.ReadSlice('\n')
		if len(line) == 0 {
			break
		}
		n++
		var ok, partial bool
		var stream []byte
		got, stream, partial, ok = DecodeDocker(got, line)
		if !ok || partial || string(stream) != "stderr" {
			t.Fatalf("record %d: ok=%v partial=%v stream=%q", n, ok, partial, stream)
		}
		if Detect(bytes.TrimSuffix(line, []byte("\n"))) != DockerJSON {
			t.Fatalf("record %d not detected as docker-json", n)
		}
		if err != nil {
			break
		}
	}
	if n != 3373 {
		t.Errorf("%d records, want 3373", n)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded records differ from the plain log (len %d vs %d)", len(got), len(want))
	}
}
