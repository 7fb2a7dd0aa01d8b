package positions

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// fileFingerprint is a fingerprint taken from a file, with the file's size
// at that moment.
type fileFingerprint struct {
	sum  string // hex SHA-256 of the first n bytes; "" when n is 0
	n    int64
	size int64
}

// fingerprint hashes the first min(limit, available) bytes of r and
// returns the hash and how many bytes it covers.
func fingerprint(r io.ReaderAt, limit int64) (string, int64, error) {
	limit = min(limit, FingerprintBytes)
	if limit <= 0 {
		return "", 0, nil
	}
	buf := make([]byte, limit)
	n, err := r.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", 0, err
	}
	if n == 0 {
		return "", 0, nil
	}
	sum := sha256.Sum256(buf[:n])
	return hex.EncodeToString(sum[:]), int64(n), nil
}

// errMoved reports that a path no longer names the acknowledged file.
var errMoved = errors.New("path names another file now")

// fingerprintPath fingerprints the file at path, provided it is still the
// file with the given key.
func fingerprintPath(path string, key Key) (fileFingerprint, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileFingerprint{}, err
	}
	defer f.Close()
	// Stat the opened file rather than the path, so the identity checked
	// is that of the bytes read below.
	fi, err := f.Stat()
	if err != nil {
		return fileFingerprint{}, err
	}
	if k, ok := KeyOf(fi); ok && k != key {
		return fileFingerprint{}, fmt.Errorf("%s: %w", path, errMoved)
	}
	sum, n, err := fingerprint(f, fi.Size())
	if err != nil {
		return fileFingerprint{}, fmt.Errorf("fingerprint %s: %w", path, err)
	}
	return fileFingerprint{sum: sum, n: n, size: fi.Size()}, nil
}
