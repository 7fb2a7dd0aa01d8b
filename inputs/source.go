// Package inputs reads log lines from stdin and from files (following them
// across rotation) and hands them on in batches.
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
