// Package outputs writes decided events to their destinations.
package outputs

import "github.com/logsift/logsift/event"

// Output writes the events of a batch that it selects (forwarded,
// suppressed or all). Write may buffer; Flush pushes buffered bytes to the
// destination. Outputs are used from one goroutine.
type Output interface {
	Name() string
	Write(b *event.OutBatch) error
	Flush() error
	Close() error
}
