package record

import "strings"

// IsJSONObject reports cheaply whether b, a line without its "\n", could be
// a JSON object: its first and last non-space bytes are '{' and '}'. It lets
// the caller skip the decoder for the plain lines mixed into JSON logs (a
// Flask banner, a print statement).
func IsJSONObject(b []byte) bool {
	b = trimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// Message keys, best first. Each is the key a common logger writes the
// formatted message under: python-json-logger, json-log-formatter and ECS
// "message"; logrus, zap and slog-style "msg"; structlog "event"; Logstash
// "@message"; Docker-style "log"; a few "text". Only a string, number or
// boolean value counts: ECS writes "log" and "event" as objects holding
// metadata, which is not the message, so object, array and null values are
// skipped and the next key is tried.
const (
	rankMessage = iota
	rankMsg
	rankEvent
	rankAtMessage
	rankLog
	rankText
)

// noRank marks a part not found; it is worse than every rank.
const noRank = 1 << 30

// Exception keys, best first: Python's logging attribute names as JSON
// formatters write them ("exc_info", "exc_text"), structlog's "exception"
// (a string, or a list of frames with dict_tracebacks), Java and Node style
// "stack_trace", "stacktrace", "stack", "traceback", and ECS's
// "error.stack_trace", either as one dotted key or nested under "error".
// Any value but null counts; one that is not a string is used as raw JSON.
const (
	rankExcInfo = iota
	rankException
	rankExcText
	rankStackTrace
	rankStacktrace
	rankStack
	rankTraceback
	rankErrorStackTrace
	rankErrorNested
)

// view collects the chosen message and exception members of a record.
type view struct {
	msg, exc         member
	msgRank, excRank int
}

// offer keeps m if it outranks what was found so far; an equal rank means
// a repeated key, and the last occurrence wins as in encoding/json.
func (v *view) offerMsg(rank int, m member) {
	switch m.val[0] {
	case '{', '[', 'n':
		return
	}
	if rank <= v.msgRank {
		v.msg, v.msgRank = m, rank
	}
}

func (v *view) offerExc(rank int, m member) {
	if m.val[0] == 'n' || rank > v.excRank {
		return
	}
	v.exc, v.excRank = m, rank
}

// AppendMessageView decodes one JSON log record and appends its message
// view to dst; it is DecodeMessageView without the hasMessage result.
func AppendMessageView(dst, b []byte) (view []byte, ok bool) {
	view, _, ok = DecodeMessageView(dst, b)
	return view, ok
}

// DecodeMessageView decodes one JSON log record b (a line without its "\n";
// surrounding whitespace and a final "\r" are tolerated) and appends its
// message view to dst: the record's message, then, if it has an exception
// text, a '\n' and that text. String values are unescaped, other values
// appended as their raw JSON, and trailing line breaks of each part are
// trimmed (the caller ends the view). The separator is left out when the
// message part is empty, so the view never starts with a blank line. See
// the rank constants for the keys tried.
//
// hasMessage is false when the record has neither a message nor an
// exception; the view is then the object's own text, so that rules still
// see something.
//
// ok is false when b is not exactly one valid JSON object, and dst is
// returned with its original length.
func DecodeMessageView(dst, b []byte) (out []byte, hasMessage, ok bool) {
	o, ok := wholeObject(b)
	if !ok {
		return dst, false, false
	}
	v := view{msgRank: noRank, excRank: noRank}
	var buf [32]byte
	for m, more := o.next(); more; m, more = o.next() {
		switch string(shortKey(m, &buf)) {
		case "message":
			v.offerMsg(rankMessage, m)
		case "msg":
			v.offerMsg(rankMsg, m)
		case "event":
			v.offerMsg(rankEvent, m)
		case "@message":
			v.offerMsg(rankAtMessage, m)
		case "log":
			v.offerMsg(rankLog, m)
		case "text":
			v.offerMsg(rankText, m)
		case "exc_info":
			v.offerExc(rankExcInfo, m)
		case "exception":
			v.offerExc(rankException, m)
		case "exc_text":
			v.offerExc(rankExcText, m)
		case "stack_trace":
			v.offerExc(rankStackTrace, m)
		case "stacktrace":
			v.offerExc(rankStacktrace, m)
		case "stack":
			v.offerExc(rankStack, m)
		case "traceback":
			v.offerExc(rankTraceback, m)
		case "error.stack_trace":
			v.offerExc(rankErrorStackTrace, m)
		case "error":
			if m.val[0] == '{' {
				if st, found := field(m.val, "stack_trace"); found {
					v.offerExc(rankErrorNested, st)
				}
			}
		}
	}
	if !o.atEnd() {
		return dst, false, false
	}
	if v.msgRank == noRank && v.excRank == noRank {
		return append(dst, trimSpace(b)...), false, true
	}
	start := len(dst)
	if v.msgRank != noRank {
		dst = appendPart(dst, start, v.msg)
	}
	if v.excRank != noRank {
		mark := len(dst)
		if mark > start {
			dst = append(dst, '\n')
		}
		dst = appendPart(dst, len(dst), v.exc)
		if len(dst) == mark+1 {
			dst = dst[:mark] // an empty exception adds no separator
		}
	}
	return dst, true, true
}

// appendPart appends a member's text and trims its trailing line breaks,
// never below floor.
func appendPart(dst []byte, floor int, m member) []byte {
	if m.isString() {
		dst = appendString(dst, m)
	} else {
		dst = append(dst, m.val...)
	}
	for len(dst) > floor && (dst[len(dst)-1] == '\n' || dst[len(dst)-1] == '\r') {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// Field looks up a field of the JSON object b for rule matching. name is a
// dotted path such as "levelname", "log.level" or "error.type". At each
// level a member whose key is the whole remaining path wins (ECS writes
// "log.level" as one key); otherwise the path is split at its first '.' and
// the lookup descends into the nested object of that name. A repeated key
// counts by its last occurrence.
//
// raw is the value's JSON text aliasing b (a string keeps its quotes and
// escapes; see AppendValue). ok is false if the field is absent or b is not
// a valid JSON object.
func Field(b []byte, name string) (raw []byte, ok bool) {
	m, ok := field(b, name)
	return m.val, ok
}

func field(b []byte, name string) (member, bool) {
	o, ok := wholeObject(b)
	if !ok {
		return member{}, false
	}
	dot := strings.IndexByte(name, '.')
	var lit, parent member
	var hasLit, hasParent bool
	for m, more := o.next(); more; m, more = o.next() {
		switch {
		case keyEqual(m.key, m.keyEsc, name):
			lit, hasLit = m, true
		case dot >= 0 && keyEqual(m.key, m.keyEsc, name[:dot]):
			parent, hasParent = m, true
		}
	}
	switch {
	case !o.atEnd():
		return member{}, false
	case hasLit:
		return lit, true
	case hasParent && parent.val[0] == '{':
		return field(parent.val, name[dot+1:])
	}
	return member{}, false
}

// AppendValue appends a raw JSON value as text, for comparing a field with
// a configured string: a string is unescaped without its quotes; any other
// value (number, true, null, object, array) is appended as it is, as is
// input that is not a valid string.
func AppendValue(dst, raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' {
		if end, esc, ok := scanString(raw, 0); ok && end == len(raw) {
			return appendString(dst, member{val: raw, valEsc: esc})
		}
	}
	return append(dst, raw...)
}
