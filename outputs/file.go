package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/logsift/logsift/event"
)

var (
	_ Output   = (*FileOutput)(nil)
	_ Reopener = (*FileOutput)(nil)
	_ Selector = (*FileOutput)(nil)
)

// fileMode is the mode of files logsift creates: log lines may hold
// personal data, so others get no access; the group (e.g. adm) may read.
const fileMode fs.FileMode = 0o640

// FileOutput appends selected events to a file. It is not safe for
// concurrent use; a Fanout calls Reopen from its own goroutine.
type FileOutput struct {
	sink
	dst    *fileDest
	closed bool
}

// fileDest is the buffer's destination. It holds no file after a failed
// reopen; each write then tries to open the path again, so an output whose
// directory was removed recovers once it exists again.
type fileDest struct {
	name string
	path string
	file *os.File
}

func (d *fileDest) Write(p []byte) (int, error) {
	if d.file == nil {
		f, err := openFile(d.name, d.path)
		if err != nil {
			return 0, err
		}
		d.file = f
	}
	return d.file.Write(p)
}

// NewFile opens (creating if needed, mode 0640 less the umask) the file at
// path for appending. A missing directory is an error naming the output
// and the path; logsift does not create directories.
func NewFile(name, path string, sel Selection) (*FileOutput, error) {
	f, err := openFile(name, path)
	if err != nil {
		return nil, err
	}
	d := &fileDest{name: name, path: path, file: f}
	return &FileOutput{sink: sink{name: name, sel: sel, buf: newBuffer(d, bufferSize)}, dst: d}, nil
}

func openFile(name, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, fileMode)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("output %q: directory %s does not exist: %w", name, dir, err)
		}
	}
	return nil, fmt.Errorf("output %q: %w", name, err)
}

// Name returns the output's configured name (the metric label).
func (o *FileOutput) Name() string { return o.name }

// Path returns the path the output writes to.
func (o *FileOutput) Path() string { return o.dst.path }

// Selection returns which events the output writes.
func (o *FileOutput) Selection() Selection { return o.sel }

// Write buffers the selected events of b; see Output for retries.
func (o *FileOutput) Write(b *event.OutBatch) error {
	if o.closed {
		return fmt.Errorf("output %q: %w", o.name, os.ErrClosed)
	}
	if err := o.write(b); err != nil {
		return o.wrap(err)
	}
	return nil
}

// Flush writes the buffered bytes to the file.
func (o *FileOutput) Flush() error {
	if o.closed {
		return fmt.Errorf("output %q: %w", o.name, os.ErrClosed)
	}
	if err := o.buf.flush(); err != nil {
		return o.wrap(err)
	}
	return nil
}

// wrap names the output unless openFile already did.
func (o *FileOutput) wrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "open" {
		return err
	}
	return fmt.Errorf("output %q: %w", o.name, err)
}

// Reopen flushes to the current file, closes it and opens the path again:
// after logrotate renamed the file, later events go to a new file at the
// configured path. Bytes the old file did not take stay buffered and go to
// the new one. If the open fails, the output keeps trying to open the path
// on every later write.
func (o *FileOutput) Reopen() error {
	if o.closed {
		return fmt.Errorf("output %q: %w", o.name, os.ErrClosed)
	}
	var errs []error
	if o.dst.file != nil {
		if err := o.buf.flush(); err != nil {
			errs = append(errs, fmt.Errorf("flushing before reopen: %w", err))
		}
		if err := o.dst.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing before reopen: %w", err))
		}
		o.dst.file = nil
	}
	f, err := openFile(o.name, o.dst.path)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	o.dst.file = f
	if len(errs) > 0 {
		return fmt.Errorf("output %q: %w", o.name, errors.Join(errs...))
	}
	return nil
}

// Close flushes and closes the file. Bytes that cannot be written are
// reported, not retried.
func (o *FileOutput) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	err := o.buf.flush()
	if o.dst.file != nil {
		err = errors.Join(err, o.dst.file.Close())
		o.dst.file = nil
	}
	if err != nil {
		return fmt.Errorf("output %q: closing %s: %w", o.name, o.dst.path, err)
	}
	return nil
}
