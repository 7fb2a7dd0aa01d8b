//go:build !linux

package inputs

// inotifyUsable is a no-op where the tail library uses other notification
// mechanisms.
func inotifyUsable() error { return nil }
