// Package inputs reads log lines from stdin and from files (following them
// across rotation) and hands them on in batches.
//
// Both sources forward bytes exactly as read: CRLF, NUL and invalid UTF-8
// pass through; a line whose content exceeds the split size is sent in
// parts without newline, the last part carrying it; a final line without
// newline is sent as is when the input ends. Batches come from a free list
// and must be Released.
//
// Files are followed with github.com/nxadm/tail, one tail per file, with
// Follow, ReOpen and CompleteLines. The library's known gaps are covered
// here rather than patched:
//   - After a rename it reopens the path without reading the old file to
//     its end, and its inotify watcher stats the path rather than the open
//     file, so a rotation can also look like a truncation or be announced
//     twice (nxadm/tail#73). Each follower keeps its own descriptor on the
//     file, learns of every reopen through the library's logger, and reads
//     the old file to its end itself; a file read twice from its start is
//     skipped up to what was delivered.
//   - Its inotify watch is set up lazily by path, so a write, rotation or
//     truncation just before can go unnoticed until the next change; a
//     follower that sees the tail lagging behind the file for a second
//     restarts it (from the delivered offset, or from the start of a new or
//     truncated file).
//   - It calls os.Exit when the shared inotify instance cannot be created
//     (nxadm/tail#53); the source checks first and polls instead. Its
//     polling watcher also exits on stat errors other than "not found",
//     which is why inotify is the default.
//   - A tail whose Lines nobody reads can block Stop (the rate limiter's
//     notice is sent unconditionally); followers read Lines until it is
//     closed and never set RateLimiter or MaxLineSize.
//
// A rotated file that the globs still match (app.log.1 with "app.log*") is
// recognised by device and inode and continues where its old path's
// follower stopped, so it is neither read twice nor skipped.
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
