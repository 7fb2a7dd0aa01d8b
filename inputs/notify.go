package inputs

import (
	"path/filepath"

	"github.com/nxadm/tail/watch"
)

// pathWatch wakes a stream when the directory of its live path reports a
// change of that name: a write, a rename to or from it, a creation or a
// removal. It uses the tail library's shared inotify instance with a watch
// on the directory (one per directory, however many files in it are
// followed), so an idle file costs nothing and a file that is replaced is
// seen at once.
//
// Writes to a file after it was renamed away are reported under its new
// name and do not reach the watch; a stream that is waiting for a rotated
// file to go quiet polls it for that short time.
type pathWatch struct {
	path string
	done chan struct{}
	// lost is closed when the library closed the event channel without
	// being asked (another watch of the same path was removed); the stream
	// then polls.
	lost chan struct{}
}

// watchPath starts watching path's directory for changes of path. The
// caller must have checked inotifyUsable: the library exits the process if
// it cannot create its inotify instance.
func watchPath(path string, wake chan<- struct{}) (*pathWatch, error) {
	path = filepath.Clean(path)
	if err := watch.WatchCreate(path); err != nil {
		return nil, err
	}
	w := &pathWatch{path: path, done: make(chan struct{}), lost: make(chan struct{})}
	events := watch.Events(path)
	go func() {
		defer close(w.done)
		defer close(w.lost)
		// The library delivers events synchronously, all watches through
		// one goroutine: keep taking them, and leave at most one wake-up
		// pending, so a busy or stalled stream never holds up the others.
		for range events {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	return w, nil
}

func (w *pathWatch) close() {
	_ = watch.RemoveWatchCreate(w.path)
	<-w.done
}
