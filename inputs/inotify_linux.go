package inputs

import "syscall"

// inotifyUsable reports whether an inotify instance can be created. The
// tail library creates its one shared instance lazily and calls os.Exit if
// that fails (nxadm/tail#53, e.g. fs.inotify.max_user_instances reached),
// so the source checks first and falls back to polling.
func inotifyUsable() error {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return err
	}
	return syscall.Close(fd)
}
