package record

// Detect decides a source's framing from one complete line without its
// "\n": DockerJSON, CRI, JSON or Text. The caller may look at several lines
// and settle on the most common answer.
//
// A Docker record needs string "log", "stream" and "time" members, stricter
// than DecodeDocker, because an application's own JSON log may well have a
// "log" key: treating it as Docker framing would hide every other field.
func Detect(line []byte) string {
	if r, ok := scanDocker(line); ok && r.stream != nil && r.time {
		return DockerJSON
	}
	if _, _, _, ok := DecodeCRI(line); ok {
		return CRI
	}
	if IsJSONObject(line) && validObject(line) {
		return JSON
	}
	return Text
}
