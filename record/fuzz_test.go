package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// tooDeep reports whether b may nest beyond maxDepth, where this package
// and encoding/json (limit 10000) legitimately disagree.
func tooDeep(b []byte) bool {
	return bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > maxDepth
}

// decodeObject decodes b with encoding/json into a map, which (unlike a
// struct) matches keys exactly. Numbers stay json.Number so that a valid
// but huge number such as 1e700 is not an error.
func decodeObject(b []byte) (map[string]any, error) {
	if !json.Valid(b) {
		return nil, errors.New("invalid JSON")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	return m, nil
}

func FuzzDecodeDocker(f *testing.F) {
	f.Add([]byte(`{"log":"hello\n","stream":"stderr","time":"2026-12-01T22:05:25.815Z"}` + "\n"))
	f.Add([]byte(`{"log":"\u003cb\u003e \u0026 \u001b[31m\u0009\"q\" \\ \r\ufffd\ud83d\ude00\ud800\n","stream":"stdout"}`))
	f.Add([]byte(`{"time":"t","attrs":{"a":[1,2.5e3,null,true]},"log":"partial"}`))
	f.Add([]byte(`{"log":"a","log":1}`))
	f.Add([]byte(`{"\u006cog":"x"}`))
	f.Add([]byte(`{"log":"truncated`))
	f.Add([]byte("2026-12-01T22:05:25.815Z stderr F hello"))
	f.Fuzz(func(t *testing.T, line []byte) {
		text, stream, partial, ok := DecodeDocker([]byte("dst"), line)
		if !bytes.HasPrefix(text, []byte("dst")) {
			t.Fatalf("dst lost: %q", text)
		}
		if !ok {
			if len(text) != 3 || stream != nil || partial {
				t.Fatalf("failure returned data: %q %q %v", text, stream, partial)
			}
		} else {
			if !json.Valid(line) {
				t.Fatalf("ok for invalid JSON %q", line)
			}
			if partial != !bytes.HasSuffix(text[3:], []byte("\n")) {
				t.Fatalf("partial = %v for %q", partial, text)
			}
		}
		if !utf8.Valid(line) || tooDeep(line) || !json.Valid(line) {
			return
		}
		m, err := decodeObject(line)
		if err != nil {
			return
		}
		want, isString := m["log"].(string)
		if !isString {
			if ok {
				t.Fatalf("ok without a string log: %q", line)
			}
			return
		}
		if !ok || string(text[3:]) != want {
			t.Fatalf("DecodeDocker(%q) = %q, %v; encoding/json: %q", line, text[3:], ok, want)
		}
	})
}

// excKeys lists the keys whose presence changes the view beyond "message".
var excKeys = []string{"exc_info", "exception", "exc_text", "stack_trace", "stacktrace", "stack", "traceback", "error.stack_trace", "error"}

func FuzzJSONView(f *testing.F) {
	f.Add([]byte(`{"asctime": "2026-12-01 22:06:48,401", "levelname": "ERROR", "name": "werkzeug", "message": "Error on request:\nTraceback (most recent call last):\n"}`))
	f.Add([]byte(`{"message": "Exception on /boom [GET]", "exc_info": "Traceback ...\n"}`))
	f.Add([]byte(`{"event": "boom", "exception": [{"exc_type": "KeyError"}]}`))
	f.Add([]byte(`{"@timestamp":"t","log.level":"error","message":"m","error":{"stack_trace":"T","type":"E"},"log":{"logger":"app"}}`))
	f.Add([]byte(`{"m\u0065ssage":"\ud83d\ude00\ud800\u001b","n":-0.5e+3}`))
	f.Add([]byte(`{"message":{"a":1},"msg":42}`))
	f.Add([]byte(`{"a":[1,2,{"b":null}]} `))
	f.Add([]byte(`{"message":"a"}x`))
	f.Fuzz(func(t *testing.T, b []byte) {
		view, has, ok := DecodeMessageView([]byte("dst"), b)
		if !bytes.HasPrefix(view, []byte("dst")) {
			t.Fatalf("dst lost: %q", view)
		}
		if !ok {
			if len(view) != 3 || has {
				t.Fatalf("failure returned data: %q %v", view, has)
			}
			if utf8.Valid(b) && !tooDeep(b) {
				if _, err := decodeObject(b); err == nil {
					t.Fatalf("not ok for valid object %q", b)
				}
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("ok for invalid JSON %q", b)
		}
		if Detect(b) == Text {
			t.Fatalf("valid object detected as text: %q", b)
		}
		// Field must agree on validity and find every top-level "message".
		raw, found := Field(b, "message")
		if !utf8.Valid(b) {
			return
		}
		m, err := decodeObject(b)
		if err != nil {
			t.Fatalf("encoding/json rejects %q: %v", b, err)
		}
		if _, present := m["message"]; present != found {
			t.Fatalf("Field(message) found = %v, encoding/json %v: %q", found, present, b)
		}
		msg, isString := m["message"].(string)
		if !isString {
			return
		}
		if got := string(AppendValue(nil, raw)); got != msg {
			t.Fatalf("AppendValue(Field) = %q, want %q", got, msg)
		}
		for _, k := range excKeys {
			if _, present := m[k]; present {
				return
			}
		}
		if want := strings.TrimRight(msg, "\r\n"); string(view[3:]) != want || !has {
			t.Fatalf("view of %q = %q, want %q", b, view[3:], want)
		}
	})
}

func FuzzCRI(f *testing.F) {
	f.Add([]byte("2026-12-01T22:05:25.815Z stderr F hello\n"))
	f.Add([]byte("2026-12-01T22:05:25.123456789+01:00 stdout P:x part"))
	f.Add([]byte("2024-02-29T23:59:59Z stdout F\r\n"))
	f.Add([]byte("2026-12-01 22:05:25,815 INFO werkzeug: hi"))
	f.Fuzz(func(t *testing.T, line []byte) {
		text, stream, partial, ok := DecodeCRI(line)
		if !ok {
			return
		}
		body := bytes.TrimSuffix(line, []byte("\n"))
		if !bytes.HasSuffix(body, text) {
			t.Fatalf("text %q is not a suffix of %q", text, line)
		}
		sp := bytes.IndexByte(line, ' ')
		if _, err := time.Parse(time.RFC3339Nano, string(line[:sp])); err != nil {
			t.Fatalf("accepted timestamp %q: %v", line[:sp], err)
		}
		if s := string(stream); s != "stdout" && s != "stderr" {
			t.Fatalf("stream %q", s)
		}
		tag := body[sp+len(" stdout "):]
		if partial != (tag[0] == 'P') {
			t.Fatalf("partial = %v for %q", partial, line)
		}
	})
}

func FuzzSuffix(f *testing.F) {
	f.Add([]byte("2026-12-01 22:04:09,239 INFO werkzeug: Press CTRL+C to quit (taskName=None)"))
	f.Add([]byte(`request done {"taskName": null, "request_id": "7f3a"}`))
	f.Add([]byte("ERROR in app: Exception on /boom [GET] [in /srv/app/views.py:42]"))
	f.Add([]byte(`request handled user="bob \"x\"" id=5`))
	f.Add([]byte(`127.0.0.1 - - [01/Dec/2026 22:04:10] "GET /x?a=b HTTP/1.1" 500 -`))
	f.Add([]byte("Exception in thread Thread-3 (_thread):"))
	f.Fuzz(func(t *testing.T, s []byte) {
		n := SuffixLen(s)
		if n < 0 || n > len(s) {
			t.Fatalf("SuffixLen(%q) = %d", s, n)
		}
		if n == 0 {
			return
		}
		if s[len(s)-n] != ' ' {
			t.Fatalf("suffix %q of %q does not start with a space", s[len(s)-n:], s)
		}
		if !hasText(s[:len(s)-n]) {
			t.Fatalf("suffix %q is the whole text of %q", s[len(s)-n:], s)
		}
	})
}
