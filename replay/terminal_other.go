//go:build !linux

package replay

import "os"

// IsTerminal reports whether f is a terminal. Outside Linux it always
// reports false: no progress bar is drawn.
func IsTerminal(f *os.File) bool { return false }
