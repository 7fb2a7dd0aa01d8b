package record

import (
	"strings"
	"testing"
)

func TestAppendUnescaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, ``},
		{`plain`, `plain`},
		{`a\"b\\c\/d`, `a"b\c/d`},
		{`\b\f\n\r\t`, "\b\f\n\r\t"},
		{`\u003c\u003e\u0026`, `<>&`},
		{`\u001b[31m`, "\x1b[31m"},
		{`\u0009\u0000`, "\t\x00"},
		{`\u00e9\u20ac`, "é€"},
		{`\ufffd`, "\uFFFD"},
		{`\ud83d\ude00`, "😀"},
		{`\uD83D\uDE00`, "😀"},
		{`\ud83d`, "\uFFFD"},
		{`\ud83dx`, "\uFFFDx"},
		{`\ude00\ud83d`, "\uFFFD\uFFFD"},
		{`\ud83d\ud83d\ude00`, "\uFFFD😀"},
		{`\ud83d\n`, "\uFFFD\n"},
		{"\xff\\n", "\xff\n"},
	}
	for _, tt := range tests {
		if got := string(appendUnescaped([]byte(">"), []byte(tt.in))); got != ">"+tt.want {
			t.Errorf("appendUnescaped(%q) = %q, want %q", tt.in, got, ">"+tt.want)
		}
	}
}

func TestKeyEqual(t *testing.T) {
	tests := []struct {
		key  string
		want string
		eq   bool
	}{
		{`message`, "message", true},
		{`messag`, "message", false},
		{`message`, "messag", false},
		{`\u006dessage`, "message", true},
		{`mess\u0061ge`, "message", true},
		{`mess\u0061g`, "message", false},
		{`mess\u0061gex`, "message", false},
		{`\u00e9`, "é", true},
		{`\u00e9`, "e", false},
		{`a\nb`, "a\nb", true},
		{`\ud83d\ude00`, "😀", true},
	}
	for _, tt := range tests {
		esc := strings.Contains(tt.key, `\`)
		if got := keyEqual([]byte(tt.key), esc, tt.want); got != tt.eq {
			t.Errorf("keyEqual(%q, %q) = %v", tt.key, tt.want, got)
		}
	}
}
