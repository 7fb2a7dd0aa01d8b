package inputs

import (
	"bytes"
	"os"
	"sync"
)

// fileKey is a file's device and inode.
type fileKey struct{ dev, ino uint64 }

// headBytes is the length of the content fingerprint kept for files that
// were read to an offset and then left (rotated away). Inode numbers are
// reused after deletion; comparing the first bytes keeps a new file that
// got an old inode from inheriting the old file's offset.
const headBytes = 64

// leftFile is where reading stopped in a file that its follower left.
type leftFile struct {
	offset int64
	head   []byte
	scan   uint64 // scan number when it was left, for pruning
}

// registry tracks which files (by device and inode) are being followed and
// how far files that were left behind had been read. It lets a rotated
// file that the globs also match (app.log -> app.log.1 with "app.log*")
// continue where its old path's follower stopped instead of being read
// again from the beginning.
type registry struct {
	mu   sync.Mutex
	scan uint64
	live map[fileKey]int
	left map[fileKey]leftFile
}

func newRegistry() *registry {
	return &registry{live: map[fileKey]int{}, left: map[fileKey]leftFile{}}
}

func (r *registry) beginScan() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scan++
	return r.scan
}

func (r *registry) isLive(k fileKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live[k] > 0
}

func (r *registry) claim(k fileKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[k]++
	delete(r.left, k)
}

func (r *registry) release(k fileKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live[k]--; r.live[k] <= 0 {
		delete(r.live, k)
	}
}

// leave releases k and records that it was read up to offset; fd (still
// open on the file) supplies the fingerprint.
func (r *registry) leave(k fileKey, offset int64, fd *os.File) {
	head := make([]byte, min(offset, headBytes))
	n, _ := fd.ReadAt(head, 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live[k]--; r.live[k] <= 0 {
		delete(r.live, k)
	}
	r.left[k] = leftFile{offset: offset, head: head[:n], scan: r.scan}
}

// resume reports whether k was read and left during this run, and if so
// the offset to continue at: where it was left if fd is still that file
// (its first bytes unchanged and not shorter than the offset), else zero,
// as the content is new (truncated, or a new file that got a reused inode).
func (r *registry) resume(k fileKey, fd *os.File, size int64) (offset int64, seen bool) {
	r.mu.Lock()
	lf, ok := r.left[k]
	r.mu.Unlock()
	if !ok {
		return 0, false
	}
	if lf.offset > size {
		return 0, true
	}
	head := make([]byte, len(lf.head))
	if n, _ := fd.ReadAt(head, 0); !bytes.Equal(head[:n], lf.head) {
		return 0, true
	}
	return lf.offset, true
}

// prune forgets left files that the scan numbered scan did not see, unless
// they were left during that scan.
func (r *registry) prune(scan uint64, seen map[fileKey]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, lf := range r.left {
		if !seen[k] && lf.scan < scan {
			delete(r.left, k)
		}
	}
}
