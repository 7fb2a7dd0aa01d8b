//go:build !unix

package positions

import "os"

// KeyOf cannot identify files on this platform: no saved position is ever
// found for them.
func KeyOf(os.FileInfo) (Key, bool) { return Key{}, false }
