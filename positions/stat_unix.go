//go:build unix

package positions

import (
	"os"
	"syscall"
)

// keyOf returns the device and inode of a file.
func keyOf(fi os.FileInfo) (Key, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Key{}, false
	}
	return Key{Dev: uint64(st.Dev), Inode: uint64(st.Ino)}, true
}
