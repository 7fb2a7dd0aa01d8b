//go:build !unix

package positions

import "os"

// keyOf cannot identify files on this platform: no saved position is ever
// found for them.
func keyOf(os.FileInfo) (Key, bool) { return Key{}, false }
