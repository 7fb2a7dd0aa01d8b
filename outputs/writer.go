package outputs

import (
	"fmt"
	"io"

	"github.com/logsift/logsift/event"
)

var (
	_ Output   = (*WriterOutput)(nil)
	_ Selector = (*WriterOutput)(nil)
)

// WriterOutput writes selected events to an io.Writer, typically
// os.Stdout.
//
// When w is os.Stdout and its reader goes away (`logsift | head`), the Go
// runtime kills the process with SIGPIPE unless the program has called
// signal.Notify for syscall.SIGPIPE. The caller must do so; writes then fail
// with EPIPE, which Fanout.Run reports as ErrClosedPipe so the process can
// exit quietly.
type WriterOutput struct {
	sink
}

// NewWriter returns an output named name that writes the events sel selects
// to w.
func NewWriter(name string, w io.Writer, sel Selection) *WriterOutput {
	return &WriterOutput{sink: sink{name: name, sel: sel, buf: newBuffer(w, bufferSize)}}
}

// Name returns the output's configured name (the metric label).
func (o *WriterOutput) Name() string { return o.name }

// Selection returns which events the output writes.
func (o *WriterOutput) Selection() Selection { return o.sel }

// Write buffers the selected events of b; see Output for retries.
func (o *WriterOutput) Write(b *event.OutBatch) error {
	if err := o.write(b); err != nil {
		return fmt.Errorf("output %q: %w", o.name, err)
	}
	return nil
}

// Flush writes the buffered bytes to the writer.
func (o *WriterOutput) Flush() error {
	if err := o.buf.flush(); err != nil {
		return fmt.Errorf("output %q: %w", o.name, err)
	}
	return nil
}

// Close flushes. It does not close the writer, which the caller owns.
func (o *WriterOutput) Close() error { return o.Flush() }
