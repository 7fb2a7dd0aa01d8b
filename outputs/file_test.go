package outputs

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestNewFileMode checks created files never get more than 0640, whatever
// the umask. The umask is process-wide, so this test must not run in
// parallel with tests that create files.
func TestNewFileMode(t *testing.T) {
	tests := []struct {
		name  string
		umask int
		want  fs.FileMode
	}{
		{"umask 000", 0o000, 0o640},
		{"umask 022", 0o022, 0o640},
		{"umask 027", 0o027, 0o640},
		{"umask 077", 0o077, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := syscall.Umask(tt.umask)
			defer syscall.Umask(old)
			path := filepath.Join(t.TempDir(), "out.log")
			o, err := NewFile("archive", path, SelectForwarded)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tt.want || got&^0o640 != 0 {
				t.Errorf("mode %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFileAppendsToExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	const before = "kept from an earlier run\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := NewFile("archive", path, SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Write(batchOf(ev{"new\n", fwd})); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), before+"new\n"; got != want {
		t.Errorf("file holds %q, want %q", got, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("existing file's mode changed: %v, %v", fi.Mode(), err)
	}
}

func TestNewFileMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := NewFile("archive", filepath.Join(dir, "missing", "out.log"), SelectAll)
	if err == nil {
		t.Fatal("NewFile in a missing directory succeeded")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	got := strings.ReplaceAll(err.Error(), dir, "$DIR") + "\n"
	golden := filepath.Join("testdata", "missing_dir.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, golden); got != want {
		t.Errorf("error message:\n got: %s want: %s", got, want)
	}
}

// TestFileReopenAfterRename checks buffered events go to the renamed file
// and later events to a new file at the path, none lost or repeated.
func TestFileReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	rotated := path + ".1"
	o, err := NewFile("archive", path, SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Write(batchOf(ev{"before rotation\n", fwd})); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := o.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := o.Write(batchOf(ev{"after rotation\n", fwd})); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, rotated); got != "before rotation\n" {
		t.Errorf("rotated file holds %q", got)
	}
	if got := readFile(t, path); got != "after rotation\n" {
		t.Errorf("new file holds %q", got)
	}
}

// TestFileReopenFailureRecovers checks a failed reopen keeps the buffered
// bytes and the output opens its path again once the directory is back.
func TestFileReopenFailureRecovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.log")
	o, err := NewFile("archive", path, SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := o.Reopen(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Reopen without a directory: %v", err)
	}
	if err := o.Write(batchOf(ev{"kept\n", fwd})); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Flush without a directory: %v", err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "kept\n" {
		t.Errorf("file holds %q", got)
	}
}

func TestFileClosed(t *testing.T) {
	o, err := NewFile("archive", filepath.Join(t.TempDir(), "out.log"), SelectForwarded)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Write(batchOf(ev{"late\n", fwd})); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
