package record

import "testing"

func TestIsJSONObject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` {"a":1}  `, true},
		{"{\"a\":1}\r", true},
		{`{"a":}`, true}, // cheap: only the ends are looked at
		{`{`, false},
		{`}`, false},
		{``, false},
		{`   `, false},
		{` * Serving Flask app 'app'`, false},
		{`[{}]`, false},
		{`x {}`, false},
	}
	for _, tt := range tests {
		if got := IsJSONObject([]byte(tt.in)); got != tt.want {
			t.Errorf("IsJSONObject(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDecodeMessageView(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		view       string
		hasMessage bool
		ok         bool
	}{
		{
			"python-json-logger",
			`{"asctime": "2026-12-01 22:06:48,401", "levelname": "ERROR", "name": "werkzeug", "message": "Error on request:\nTraceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/werkzeug/serving.py\", line 370, in run_wsgi\nAssertionError: write() before start_response"}`,
			"Error on request:\nTraceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/werkzeug/serving.py\", line 370, in run_wsgi\nAssertionError: write() before start_response",
			true, true,
		},
		{
			"python-json-logger ansi",
			`{"asctime": "2026-12-01 22:06:48,400", "levelname": "INFO", "name": "werkzeug", "message": "127.0.0.1 - - [01/Dec/2026 22:06:48] \"\u001b[35m\u001b[1mGET /socket.io/?transport=websocket&EIO=4 HTTP/1.1\u001b[0m\" 500 -"}`,
			"127.0.0.1 - - [01/Dec/2026 22:06:48] \"\x1b[35m\x1b[1mGET /socket.io/?transport=websocket&EIO=4 HTTP/1.1\x1b[0m\" 500 -",
			true, true,
		},
		{
			"flask exc_info",
			`{"asctime": "2026-12-01 22:05:33,662", "levelname": "ERROR", "name": "app", "message": "Exception on /assert [GET]", "exc_info": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/flask/app.py\", line 1511, in wsgi_app\nAssertionError\n"}`,
			"Exception on /assert [GET]\nTraceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/flask/app.py\", line 1511, in wsgi_app\nAssertionError",
			true, true,
		},
		{
			"structlog",
			`{"event": "request failed", "level": "error", "timestamp": "2026-12-01T22:05:33.662Z", "exception": "Traceback (most recent call last):\n  File \"app.py\", line 3, in f\nKeyError: 'banana'"}`,
			"request failed\nTraceback (most recent call last):\n  File \"app.py\", line 3, in f\nKeyError: 'banana'",
			true, true,
		},
		{
			"structlog dict_tracebacks",
			`{"event": "boom", "exception": [{"exc_type": "KeyError", "frames": [{"lineno": 3}]}]}`,
			`boom` + "\n" + `[{"exc_type": "KeyError", "frames": [{"lineno": 3}]}]`,
			true, true,
		},
		{
			"ecs",
			`{"@timestamp":"2026-12-01T22:05:33.662Z","log.level":"error","message":"Exception on /boom [GET]","ecs.version":"1.6.0","error":{"message":"'banana'","stack_trace":"Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'banana'\n","type":"KeyError"},"log":{"logger":"app"},"event":{"dataset":"app"}}`,
			"Exception on /boom [GET]\nTraceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'banana'",
			true, true,
		},
		{
			"ecs log object is not a message",
			`{"log":{"logger":"app"},"error":{"stack_trace":"Trace"}}`,
			"Trace",
			true, true,
		},
		{
			"error.stack_trace dotted key",
			`{"msg":"m","error.stack_trace":"Trace"}`,
			"m\nTrace",
			true, true,
		},
		{
			"json-log-formatter",
			`{"message": "Exception on /boom [GET]", "time": "2026-12-01T22:05:33.662000", "exc_info": "Traceback (most recent call last):\nKeyError: 'banana'"}`,
			"Exception on /boom [GET]\nTraceback (most recent call last):\nKeyError: 'banana'",
			true, true,
		},
		{"msg", `{"level":"info","msg":"hello"}`, "hello", true, true},
		{"@message", `{"@message":"hello"}`, "hello", true, true},
		{"text", `{"text":"hello"}`, "hello", true, true},
		{"log string", `{"log":"hello\n"}`, "hello", true, true},
		{"message beats msg", `{"msg":"b","message":"a"}`, "a", true, true},
		{"msg beats event", `{"event":"c","msg":"b"}`, "b", true, true},
		{"object message skipped", `{"message":{"a":1},"msg":"b"}`, "b", true, true},
		{"null message skipped", `{"message":null,"msg":"b"}`, "b", true, true},
		{"number message", `{"message":42}`, "42", true, true},
		{"bool message", `{"message":true}`, "true", true, true},
		{"repeated key last wins", `{"message":"a","message":"b"}`, "b", true, true},
		{"escaped key", `{"m\u0065ssage":"a"}`, "a", true, true},
		{"escapes", `{"message":"\u003c\u003e\u0026 \ud83d\ude00 \ud800 \t"}`, "<>& 😀 \uFFFD \t", true, true},
		{"trailing newlines trimmed", `{"message":"a\n\r\n"}`, "a", true, true},
		{"exception only", `{"exc_info":"Trace\n"}`, "Trace", true, true},
		{"empty message", `{"message":"","exc_info":"Trace"}`, "Trace", true, true},
		{"empty exception", `{"message":"m","exc_info":""}`, "m", true, true},
		{"null exception", `{"message":"m","exc_info":null}`, "m", true, true},
		{"exc_info beats stack", `{"message":"m","stack":"s","exc_info":"e"}`, "m\ne", true, true},
		{"stack_trace", `{"message":"m","stack_trace":"s"}`, "m\ns", true, true},
		{"stacktrace", `{"message":"m","stacktrace":"s"}`, "m\ns", true, true},
		{"traceback", `{"message":"m","traceback":"s"}`, "m\ns", true, true},
		{"exc_text", `{"message":"m","exc_text":"s"}`, "m\ns", true, true},
		{"invalid utf8 kept", "{\"message\":\"\xff\"}", "\xff", true, true},
		{"no message", ` {"a": 1, "b": "x"} ` + "\r", `{"a": 1, "b": "x"}`, false, true},
		{"error without stack_trace", `{"error":{"type":"E"}}`, `{"error":{"type":"E"}}`, false, true},
		{"empty object", `{}`, `{}`, false, true},
		{"truncated", `{"message":"a`, "", false, false},
		{"trailing garbage", `{"message":"a"}x`, "", false, false},
		{"two objects", `{"message":"a"}{}`, "", false, false},
		{"invalid escape", `{"message":"\x"}`, "", false, false},
		{"invalid number", `{"message":"a","n":1.}`, "", false, false},
		{"invalid later member", `{"message":"a","n":[1,}`, "", false, false},
		{"not an object", `["message"]`, "", false, false},
		{"plain text", ` * Serving Flask app 'app'`, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("dst:")
			view, has, ok := DecodeMessageView(dst, []byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				if string(view) != "dst:" {
					t.Errorf("dst changed on failure: %q", view)
				}
				return
			}
			if string(view) != "dst:"+tt.view {
				t.Errorf("view = %q\nwant   %q", view, "dst:"+tt.view)
			}
			if has != tt.hasMessage {
				t.Errorf("hasMessage = %v, want %v", has, tt.hasMessage)
			}
			v2, ok2 := AppendMessageView(nil, []byte(tt.in))
			if !ok2 || string(v2) != tt.view {
				t.Errorf("AppendMessageView = %q, %v", v2, ok2)
			}
		})
	}
}

func TestField(t *testing.T) {
	ecs := `{"@timestamp":"2026-12-01T22:05:33.662Z","log.level":"error","message":"m","error":{"message":"'banana'","type":"KeyError","stack_trace":"T"},"log":{"logger":"app","origin":{"file.name":"app.py"}}}`
	tests := []struct {
		name string
		in   string
		path string
		raw  string
		ok   bool
	}{
		{"top level", `{"levelname": "ERROR", "name": "werkzeug"}`, "levelname", `"ERROR"`, true},
		{"dotted key literal", ecs, "log.level", `"error"`, true},
		{"nested", ecs, "error.type", `"KeyError"`, true},
		{"nested twice", ecs, "log.logger", `"app"`, true},
		{"nested then literal", ecs, "log.origin.file.name", `"app.py"`, true},
		{"object value", ecs, "log.origin", `{"file.name":"app.py"}`, true},
		{"literal beats nested", `{"a":{"b":1},"a.b":2}`, "a.b", `2`, true},
		{"literal beats nested after", `{"a.b":2,"a":{"b":1}}`, "a.b", `2`, true},
		{"number", `{"n": 12.5}`, "n", `12.5`, true},
		{"null", `{"n":null}`, "n", `null`, true},
		{"escaped string stays raw", `{"m":"a\nb"}`, "m", `"a\nb"`, true},
		{"escaped key", `{"lev\u0065l":"x"}`, "level", `"x"`, true},
		{"last wins", `{"a":1,"a":2}`, "a", `2`, true},
		{"absent", ecs, "nope", "", false},
		{"absent nested", ecs, "error.nope", "", false},
		{"descend into non-object", `{"a":"b"}`, "a.b", "", false},
		{"descend into array", `{"a":[{"b":1}]}`, "a.b", "", false},
		{"empty name", `{"":1}`, "", `1`, true},
		{"invalid object", `{"a":1,}`, "a", "", false},
		{"invalid nested", `{"a":{"b":1,}}`, "a.b", "", false},
		{"not json", `levelname=ERROR`, "levelname", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ok := Field([]byte(tt.in), tt.path)
			if ok != tt.ok || string(raw) != tt.raw {
				t.Errorf("Field(%q) = %q, %v; want %q, %v", tt.path, raw, ok, tt.raw, tt.ok)
			}
		})
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`"ERROR"`, "ERROR"},
		{`"a\nb\u00e9"`, "a\nbé"},
		{`""`, ""},
		{`12.5`, "12.5"},
		{`true`, "true"},
		{`null`, "null"},
		{`{"a": 1}`, `{"a": 1}`},
		{`[1, 2]`, `[1, 2]`},
		{`"unterminated`, `"unterminated`},
		{`"a"b"`, `"a"b"`},
		{`"`, `"`},
		{``, ``},
	}
	for _, tt := range tests {
		if got := string(AppendValue([]byte("v="), []byte(tt.raw))); got != "v="+tt.want {
			t.Errorf("AppendValue(%q) = %q, want %q", tt.raw, got, "v="+tt.want)
		}
	}
}
