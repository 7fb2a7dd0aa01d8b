package record

import "testing"

var (
	benchDocker = []byte(`{"log":"2026-12-01 22:05:25,815 INFO werkzeug: 127.0.0.1 - - [01/Dec/2026 22:05:25] \"\u001b[35m\u001b[1mGET /socket.io/?transport=websocket\u0026EIO=4\u0026t=1796162722.5023599 HTTP/1.1\u001b[0m\" 500 - (taskName=None)\n","stream":"stderr","time":"2026-12-01T22:05:25.815Z"}` + "\n")
	benchCRI    = []byte("2026-12-01T22:05:25.815001Z stderr F t=1796162722.5023599 HTTP/1.1\x1b[0m\" 500 - (taskName=None)\n")
	benchJSON   = []byte(`{"asctime": "2026-12-01 22:05:33,593", "levelname": "INFO", "name": "werkzeug", "message": "127.0.0.1 - - [01/Dec/2026 22:05:33] \"GET /health HTTP/1.1\" 200 -"}`)
	benchExc    = []byte(`{"asctime": "2026-12-01 22:05:33,662", "levelname": "ERROR", "name": "app", "message": "Exception on /assert [GET]", "exc_info": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/flask/app.py\", line 1511, in wsgi_app\n    response = self.full_dispatch_request()\nAssertionError"}`)
	benchText   = []byte("2026-12-01 22:04:10,510 INFO app: chat connect sid=R1LWveR3-9hloGk7AAAD (taskName=None, sid=R1LWveR3-9hloGk7AAAD)")
	benchAccess = []byte(`2026-12-01 22:04:10,581 INFO werkzeug: 127.0.0.1 - - [01/Dec/2026 22:04:10] "GET /health HTTP/1.1" 200 -`)
)

// TestHotPathsDoNotAllocate guards the per-line decoders: with a reused
// buffer they must not allocate at all.
func TestHotPathsDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	ecs := []byte(`{"log.level":"error","message":"m","error":{"stack_trace":"T"},"m\u0065ssage":"x"}`)
	tests := []struct {
		name string
		fn   func()
	}{
		{"DecodeDocker", func() { DecodeDocker(buf, benchDocker) }},
		{"DecodeCRI", func() { DecodeCRI(benchCRI) }},
		{"AppendMessageView", func() { AppendMessageView(buf, benchJSON) }},
		{"AppendMessageView exc", func() { AppendMessageView(buf, benchExc) }},
		{"AppendMessageView ecs", func() { AppendMessageView(buf, ecs) }},
		{"Field", func() { Field(ecs, "error.stack_trace") }},
		{"AppendValue", func() { AppendValue(buf, []byte(`"a\u00e9\n"`)) }},
		{"IsJSONObject", func() { IsJSONObject(benchJSON) }},
		{"SuffixLen extras", func() { SuffixLen(benchText) }},
		{"SuffixLen access", func() { SuffixLen(benchAccess) }},
		{"SuffixLen json", func() { SuffixLen([]byte(`done {"taskName": null}`)) }},
		{"Detect", func() { Detect(benchDocker) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per run", tt.name, n)
		}
	}
}

func BenchmarkDecodeDocker(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchDocker)))
	for b.Loop() {
		if _, _, _, ok := DecodeDocker(buf, benchDocker); !ok {
			b.Fatal("not ok")
		}
	}
}

func BenchmarkDecodeCRI(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchCRI)))
	for b.Loop() {
		if _, _, _, ok := DecodeCRI(benchCRI); !ok {
			b.Fatal("not ok")
		}
	}
}

func BenchmarkMessageView(b *testing.B) {
	for _, bm := range []struct {
		name string
		line []byte
	}{{"message", benchJSON}, {"exc_info", benchExc}} {
		b.Run(bm.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.line)))
			for b.Loop() {
				if _, ok := AppendMessageView(buf, bm.line); !ok {
					b.Fatal("not ok")
				}
			}
		})
	}
}

func BenchmarkField(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Field(benchJSON, "levelname"); !ok {
			b.Fatal("not ok")
		}
	}
}

func BenchmarkSuffixLen(b *testing.B) {
	for _, bm := range []struct {
		name string
		line []byte
	}{{"extras", benchText}, {"access", benchAccess}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SuffixLen(bm.line)
			}
		})
	}
}
