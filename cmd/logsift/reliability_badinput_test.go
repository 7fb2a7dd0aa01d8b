package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// badInputs are inputs that are not text: each must come out byte for
// byte, through stdin and through a followed file.
func badInputs() map[string][]byte {
	rnd := rand.New(rand.NewPCG(5, 8))
	garbage := make([]byte, 1<<20)
	for i := range garbage {
		garbage[i] = byte(rnd.UintN(256))
		if rnd.IntN(16) == 0 {
			garbage[i] = 0 // NULs more often than chance
		}
	}
	garbage = append(garbage, '\n')
	invalid := strings.Join([]string{
		"caf\xe9 latin-1, not UTF-8",
		"\xff\xfe\xfd bytes never valid in UTF-8",
		"\xc0\xaf overlong slash, \xe0\x80\xaf overlong too",
		"\xed\xa0\x80 a surrogate half",
		"truncated sequence at the end \xe2\x82",
		"Error on request:",
		"Traceback (most recent call last):",
		"  File \"/srv/\xff\xfeapp.py\", line 1, in \xc3\x28",
		"ValueError: \xf0\x28\x8c\xbc\r",
		"a NUL \x00 in the middle, CRLF at the end\r",
		"",
	}, "\n")
	return map[string][]byte{"binary garbage": garbage, "invalid utf-8": []byte(invalid)}
}

// TestBadInputForwardedUnchanged sends binary garbage with NULs and
// invalid UTF-8 through stdin and through a followed file: the output is
// the input, byte for byte, and logsift logs no error.
func TestBadInputForwardedUnchanged(t *testing.T) {
	for name, input := range badInputs() {
		t.Run(name+"/stdin", func(t *testing.T) {
			r := logsift(t, "", input)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			checkLog(t, string(r.stderr))
			if !bytes.Equal(r.stdout, input) {
				t.Fatalf("output (%d bytes) differs from the input (%d bytes)", len(r.stdout), len(input))
			}
		})
		t.Run(name+"/file", func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "app.log")
			if err := os.WriteFile(logPath, input, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, outPath, _ := filesConfig(t, dir, []string{logPath}, "")
			d := startDaemon(t, cfg)
			waitForOutput(t, d, outPath, int64(len(input)), 0, 30*time.Second)
			checkLog(t, d.stopLog(t))
			checkSame(t, outPath, input)
		})
	}
}

// TestUnreadableFile has the glob match a file logsift may not read: the
// error names the path, the other file is followed regardless, and once
// the permission is fixed the file is read from its start on a rescan.
//
// Root ignores file permissions, so when the tests run as root the daemon
// runs as nobody (uid 65534), which makes the permission check real.
func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	bin := logsiftBin
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		// nobody needs to reach the binary, the config and the logs, and
		// to write the output; t.TempDir's directories are private.
		for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		bin = filepath.Join(dir, "logsift")
		if err := copyExecutable(logsiftBin, bin); err != nil {
			t.Fatal(err)
		}
	}
	logs := filepath.Join(dir, "logs")
	outDir := filepath.Join(dir, "out")
	for _, d := range []string{logs, outDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if cred != nil {
		if err := os.Chown(outDir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	a, b := filepath.Join(logs, "a.log"), filepath.Join(logs, "b.log")
	appendFile(t, a, numberedLines(0, 100))
	appendFile(t, b, numberedLines(100, 200))
	if err := os.Chmod(b, 0); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(outDir, "out.log")
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs: [{name: app, paths: [%q], start_at: beginning}]
outputs: [{type: file, path: %q}]
metrics: {listen: ""}
`, filepath.Join(logs, "*.log"), outPath))

	if cred != nil {
		probe := exec.Command(bin, "version")
		probe.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := probe.CombinedOutput(); err != nil {
			t.Skipf("cannot run logsift as uid %d, so file permissions cannot be tested as root: %v %s", cred.Uid, err, out)
		}
	}
	cmd := exec.Command(bin, "run", "-config", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	d := startCmd(t, cmd)
	waitForOutput(t, d, outPath, numberedSize(0, 100), 200, 30*time.Second)
	if err := os.Chmod(b, 0o644); err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, d, outPath, numberedSize(0, 200), 200, 30*time.Second)
	stderr := d.stopLog(t)
	checkLog(t, stderr, "cannot open file")
	if !strings.Contains(stderr, b) || !strings.Contains(stderr, "permission denied") {
		t.Errorf("logsift's log does not name the unreadable file and why:\n%s", stderr)
	}
	if n := strings.Count(stderr, "cannot open file"); n != 1 {
		t.Errorf("the unreadable file was reported %d times, want once", n)
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	checkOnceEachInOrder(t, out, 200, [2]int{0, 100}, [2]int{100, 200})
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
