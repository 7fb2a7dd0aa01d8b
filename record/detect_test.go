package record

import (
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"log":"x\n","stream":"stderr","time":"2026-12-01T22:05:25.815Z"}`, DockerJSON},
		{` {"time":"t", "stream":"stdout", "log":"x\n", "attrs":{}} `, DockerJSON},
		{`{"log":"x\n"}`, JSON}, // an app's own record with a "log" key
		{`{"log":"x\n","stream":"stderr"}`, JSON},
		{"2026-12-01T22:05:25.815Z stderr F hello", CRI},
		{"2026-12-01T22:05:25.815Z stdout P part", CRI},
		{`{"asctime": "2026-12-01 22:05:32,256", "levelname": "WARNING", "name": "werkzeug", "message": "hi"}`, JSON},
		{`{"a":1}`, JSON},
		{`{"a":1`, Text},
		{"2026-12-01 22:05:25,815 INFO werkzeug: hello (taskName=None)", Text},
		{" * Serving Flask app 'app'", Text},
		{"", Text},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	f := Formats()
	for _, name := range []string{Auto, Text, JSON, DockerJSON, CRI} {
		if !slices.Contains(f, name) {
			t.Errorf("Formats() lacks %q", name)
		}
	}
	f[0] = "changed"
	if Formats()[0] != Auto {
		t.Error("Formats() returned shared storage")
	}
}
