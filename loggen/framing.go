package loggen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Record formats Config.Format accepts: the same log as a JSON logger, or
// as a container runtime stores the app's lines.
const (
	FormatText       = "text"
	FormatJSON       = "json"
	FormatDockerJSON = "docker-json"
	FormatCRI        = "cri"
)

// Formats lists the record formats in the order they are documented.
func Formats() []string { return []string{FormatText, FormatJSON, FormatDockerJSON, FormatCRI} }

// framer writes an event's text in the configured record format. For the
// container formats each line becomes a record on its own; for JSON the
// whole event, traceback included, becomes one record, as a JSON logger
// writes it, so an event's lines are gathered until the next event starts.
type framer struct {
	format  string
	pending []byte // json: the event being gathered
	keep    bool
	rec     []byte
	ts      []byte
}

// lines wraps each line of text in a container runtime record.
func (f *framer) lines(text []byte, now int64) []byte {
	f.rec = f.rec[:0]
	f.ts = time.Unix(0, now).UTC().AppendFormat(f.ts[:0], time.RFC3339Nano)
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n') + 1
		if i == 0 {
			i = len(text)
		}
		line := text[:i]
		text = text[i:]
		switch f.format {
		case FormatDockerJSON:
			f.rec = append(f.rec, `{"log":`...)
			f.rec = appendJSONString(f.rec, line)
			f.rec = append(f.rec, `,"stream":"stderr","time":"`...)
			f.rec = append(f.rec, f.ts...)
			f.rec = append(f.rec, "\"}\n"...)
		case FormatCRI:
			f.rec = append(f.rec, f.ts...)
			f.rec = append(f.rec, " stderr F "...)
			f.rec = append(f.rec, line...)
		}
	}
	return f.rec
}

// jsonRecord renders one event as a python-json-logger record.
func (f *framer) jsonRecord(event []byte, now int64) []byte {
	msg := bytes.TrimSuffix(event, newline)
	level := "INFO"
	if bytes.Contains(msg, newline) {
		level = "ERROR"
	}
	f.rec = append(f.rec[:0], `{"asctime": "`...)
	f.rec = time.Unix(0, now).UTC().AppendFormat(f.rec, "2006-01-02 15:04:05.000")
	f.rec = fmt.Appendf(f.rec, `", "levelname": %q, "name": "werkzeug", "message": `, level)
	f.rec = appendJSONString(f.rec, msg)
	f.rec = append(f.rec, ", \"taskName\": null}\n"...)
	return f.rec
}

func appendJSONString(b, s []byte) []byte {
	q, _ := json.Marshal(string(s))
	return append(b, q...)
}
