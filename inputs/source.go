// Package inputs reads log lines from stdin and from files (following them
// across rotation) and hands them on in batches.
//
// Both sources forward bytes exactly as read: CRLF, NUL and invalid UTF-8
// pass through; a line whose content exceeds the split size is sent in
// parts without newline, the last part carrying it; a final line without
// newline is sent as is when the input ends. Batches come from a free list
// and must be Released.
//
// Followed files are read as rotation families (family.go): a live path
// and the names its rotators give it are one stream, read by one goroutine
// (stream.go) oldest file first, never two files at once, with plain reads
// on a descriptor held per file, so a renamed or deleted file is read to
// its end. Files are known by device and inode and by their first bytes,
// never by name. Change notification comes from the tail library's shared
// inotify tracker, watching each directory once (notify.go); polling is the
// fallback. Where a stream starts after a restart is planned from the saved
// positions (plan.go).
package inputs

import (
	"context"

	"github.com/logsift/logsift/event"
)

// Source produces batches of lines until ctx is done or, for sources that
// end (stdin, one-shot files), until their data is exhausted. Run closes
// nothing; the caller owns out. Every batch sent must be Released by the
// consumer.
type Source interface {
	Run(ctx context.Context, out chan<- *event.LineBatch) error
}
