// Package record decodes the framing of log records: the envelope a
// container runtime wraps around each line (Docker's json-file driver, the
// CRI format of containerd and the kubelet) and the JSON objects structured
// loggers write, from which rules see a plain-text "message view".
//
// The daemon forwards the original bytes unchanged, so everything here only
// reads: decoders return slices aliasing their input or append to a caller's
// buffer, and never allocate on the per-line paths. JSON is scanned by hand
// rather than with encoding/json because that package allocates for every
// value and cannot hand back aliased raw values; the scanner still validates
// strictly (RFC 8259), so a truncated or corrupt record is reported as such
// instead of being half-decoded. Invalid UTF-8 inside strings is accepted and
// passed through unchanged: logs are bytes, and rewriting them to U+FFFD
// would make a rule match something the application never wrote.
package record

// Format names, as accepted in the configuration.
const (
	Auto       = "auto"
	Text       = "text"
	JSON       = "json"
	DockerJSON = "docker-json"
	CRI        = "cri"
)

// Formats lists every accepted format name, for config validation. It is a
// function so that callers cannot change the list for everyone else.
func Formats() []string {
	return []string{Auto, Text, JSON, DockerJSON, CRI}
}
