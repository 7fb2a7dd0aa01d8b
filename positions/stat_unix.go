//go:build unix

package positions

import (
	"os"
	"syscall"
)

// KeyOf returns the device and inode of a file; ok is false where the
// platform has none.
func KeyOf(fi os.FileInfo) (Key, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Key{}, false
	}
	return Key{Dev: uint64(st.Dev), Inode: uint64(st.Ino)}, true
}
