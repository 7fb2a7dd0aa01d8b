package record

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidObject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` { } `, true},
		{"\t{\"a\":1}\r\n", true},
		{`{"a":1,"b":[1,2.5,-0,1e10,1E-2,0.5e+3],"c":{"d":null,"e":true,"f":false},"g":"\u00e9\"\\\/\b\f\n\r\t"}`, true},
		{`{"a":[]}`, true},
		{`{"a":[ ]}`, true},
		{`{"a":[[[]]]}`, true},
		{"{\"a\":\"\xff\xfe\"}", true}, // invalid UTF-8 passes through
		{``, false},
		{`[]`, false},
		{`"a"`, false},
		{`{`, false},
		{`{"a"}`, false},
		{`{"a":}`, false},
		{`{"a":1,}`, false},
		{`{,"a":1}`, false},
		{`{"a":1}}`, false},
		{`{"a":1} x`, false},
		{`{"a":1}{}`, false},
		{`{a:1}`, false},
		{`{'a':1}`, false},
		{`{"a":01}`, false},
		{`{"a":+1}`, false},
		{`{"a":.5}`, false},
		{`{"a":1.}`, false},
		{`{"a":1e}`, false},
		{`{"a":-}`, false},
		{`{"a":NaN}`, false},
		{`{"a":tru}`, false},
		{`{"a":nul}`, false},
		{`{"a":[1,]}`, false},
		{`{"a":[1 2]}`, false},
		{`{"a":"\x"}`, false},
		{`{"a":"\u12"}`, false},
		{`{"a":"\u12g4"}`, false},
		{`{"a":"x`, false},
		{`{"a":"x\`, false},
		{"{\"a\":\"\x00\"}", false},
		{"{\"a\":\"tab\there\"}", false},
		{"{\"a\":1}\x00", false},
		{`{"a":1 "b":2}`, false},
		{strings.Repeat(`{"a":`, maxDepth-1) + "1" + strings.Repeat("}", maxDepth-1), true},
		{strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), false},
		{`{"a":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, false},
		{`{"a":` + strings.Repeat("[", 1<<20), false},
	}
	for _, tt := range tests {
		if got := validObject([]byte(tt.in)); got != tt.want {
			t.Errorf("validObject(%.60q) = %v, want %v", tt.in, got, tt.want)
		}
		// encoding/json agrees on everything within our depth limit.
		if !strings.Contains(tt.in, strings.Repeat("[", maxDepth)) && !strings.Contains(tt.in, strings.Repeat(`{"a":`, maxDepth)) {
			var m map[string]any
			if std := json.Unmarshal([]byte(tt.in), &m) == nil; std != tt.want {
				t.Errorf("encoding/json disagrees on %.60q: %v", tt.in, std)
			}
		}
	}
}
