//go:build unix

package daemon

import (
	"os"
	"syscall"
)

// identity returns a file's device and inode.
func identity(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true
}
