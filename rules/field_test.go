package rules

import (
	"strings"
	"testing"
)

func TestFieldMatcher(t *testing.T) {
	const rec = `{"levelname": "ERROR", "name": "werkzeug", "message": "Error on request:", ` +
		`"http": {"status": 500, "path": "/socket.io/"}, "taskName": null, "exc_info": "Traceback\nAssertionError: write() before start_response", ` +
		`"esc": "caf\u00e9 \"q\""}`
	tests := []struct {
		name string
		form string
		json string // "" for a text event
		want bool
	}{
		{"equals", `{field: {name: levelname, equals: ERROR}}`, rec, true},
		{"equals is exact", `{field: {name: levelname, equals: ERR}}`, rec, false},
		{"equals any of a list", `{field: {name: levelname, equals: [WARNING, ERROR]}}`, rec, true},
		{"contains", `{field: {name: exc_info, contains: "before start_response"}}`, rec, true},
		{"contains sees unescaped newlines", `{field: {name: exc_info, contains: "Traceback\nAssertion"}}`, rec, true},
		{"regex", `{field: {name: name, regex: '^werk'}}`, rec, true},
		{"regex miss", `{field: {name: name, regex: '^app'}}`, rec, false},
		{"dotted name into an object", `{field: {name: http.status, equals: "500"}}`, rec, true},
		{"dotted name missing", `{field: {name: http.method, exists: true}}`, rec, false},
		{"exists", `{field: {name: taskName, exists: true}}`, rec, true},
		{"null equals null", `{field: {name: taskName, equals: "null"}}`, rec, true},
		{"escapes decoded", `{field: {name: esc, equals: "café \"q\""}}`, rec, true},
		{"missing field", `{field: {name: nope, equals: x}}`, rec, false},
		{"text events have no fields", `{field: {name: levelname, exists: true}}`, "", false},
		{"combined with text", `{all: [{field: {name: levelname, equals: ERROR}}, {contains: "Error on request"}]}`, rec, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := compileMatch(t, tc.form)
			ev := &Event{Text: []byte("Error on request:\nTraceback\nAssertionError: write() before start_response\n")}
			if tc.json != "" {
				ev.JSON = []byte(tc.json)
			}
			if got := m.Match(ev); got != tc.want {
				t.Errorf("%s on %q = %v, want %v", tc.form, tc.json, got, tc.want)
			}
		})
	}
}

func TestFieldMatcherErrors(t *testing.T) {
	for form, want := range map[string]string{
		`{field: {equals: x}}`:            "name is required",
		`{field: {name: "", equals: x}}`:  "must not be empty",
		`{field: {name: a, regex: '('}}`:  "regex",
		`{field: {name: a, colour: red}}`: "colour",
	} {
		_, err := parseString(t, "use: []\nrules: [{name: r, match: "+form+"}]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %q", form, err, want)
		}
	}
}
