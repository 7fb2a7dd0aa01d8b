package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	unitPath     = "systemd/logsift.service"
	configPath   = "logsift.yaml"
	logrotate    = "logrotate/logsift"
	repoRoot     = ".."
	harness      = "deploy/testdata/harness.mk" // relative to repoRoot
	maxExposure  = 2.5
	harnessDebV  = "1.2.3+4+gabcdef" // VERSION v1.2.3-4-gabcdef in the harness
	commandLimit = 5 * time.Minute
)

// run executes name with args in dir and returns combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("skipping: %s is not installed (%v)", name, err)
	}
	return path
}

// buildLogsift builds cmd/logsift into dir. It skips the test only while
// the command's package does not exist yet; any other build failure fails.
func buildLogsift(t *testing.T, dir string) string {
	t.Helper()
	srcs, _ := filepath.Glob(filepath.Join(repoRoot, "cmd", "logsift", "*.go"))
	hasMain := false
	for _, s := range srcs {
		if !strings.HasSuffix(s, "_test.go") {
			hasMain = true
		}
	}
	if !hasMain {
		t.Skip("skipping: cmd/logsift has no Go files yet, so there is no binary to run")
	}
	bin := filepath.Join(dir, "logsift")
	mustRun(t, repoRoot, nil, "go", "build", "-o", bin, "./cmd/logsift")
	return bin
}

// unitDirectives parses a unit file into "Section.Key" -> values, in order.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: malformed line %q", path, line)
			}
			key := section + "." + strings.TrimSpace(k)
			got[key] = append(got[key], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestUnitDirectives pins the settings operators and the daemon rely on.
func TestUnitDirectives(t *testing.T) {
	got := unitDirectives(t, unitPath)
	want := []struct{ key, value string }{
		{"Service.Type", "notify"},
		{"Service.ExecStart", "/usr/bin/logsift run -config /etc/logsift/logsift.yaml"},
		{"Service.ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service.WatchdogSec", "30s"},
		{"Service.Restart", "on-failure"},
		{"Service.StateDirectory", "logsift"},
		{"Service.DynamicUser", "yes"},
		{"Service.SupplementaryGroups", "adm"},
		{"Service.ProtectSystem", "strict"},
		{"Service.ProtectHome", "yes"},
		{"Service.PrivateTmp", "yes"},
		{"Service.NoNewPrivileges", "yes"},
		{"Service.CapabilityBoundingSet", ""},
		{"Service.AmbientCapabilities", ""},
		{"Service.RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"Service.SystemCallFilter", "@system-service"},
		{"Service.SystemCallArchitectures", "native"},
		{"Service.PrivateDevices", "yes"},
		{"Service.ProtectKernelTunables", "yes"},
		{"Service.ProtectKernelModules", "yes"},
		{"Service.ProtectKernelLogs", "yes"},
		{"Service.ProtectControlGroups", "yes"},
		{"Service.ProtectClock", "yes"},
		{"Service.ProtectHostname", "yes"},
		{"Service.ProtectProc", "invisible"},
		{"Service.RestrictNamespaces", "yes"},
		{"Service.RestrictRealtime", "yes"},
		{"Service.RestrictSUIDSGID", "yes"},
		{"Service.LockPersonality", "yes"},
		{"Service.MemoryDenyWriteExecute", "yes"},
		{"Service.IPAddressDeny", "any"},
		{"Service.IPAddressAllow", "localhost"},
		{"Service.UMask", "0027"},
		{"Service.LimitNOFILE", "65536"},
		{"Install.WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		if vals := got[w.key]; !containsString(vals, w.value) {
			t.Errorf("%s = %q, want %q among them", w.key, vals, w.value)
		}
	}
	// A file output needs ReadWritePaths=; the unit must explain the
	// drop-in rather than grant a path of its own.
	if v, ok := got["Service.ReadWritePaths"]; ok {
		t.Errorf("ReadWritePaths = %q in the shipped unit, want it only in a drop-in", v)
	}
	raw, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"#   ReadWritePaths=", "systemctl edit logsift"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("unit comments lack %q", s)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestUnitVerify runs systemd-analyze verify on a copy of the unit whose
// ExecStart points at an executable in a temporary directory: verify
// rejects a unit whose binary does not exist, and only checks that it is
// executable, so a stand-in keeps this test independent of the build.
func TestUnitVerify(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	dir := t.TempDir()
	bin := filepath.Join(dir, "logsift")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	// The exec template is verified as an instance.
	for src, name := range map[string]string{unitPath: "logsift.service", "systemd/logsift-exec@.service": "logsift-exec@webapp.service",
		"systemd/logsift-journal.service": "logsift-journal.service"} {
		unit, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		const execStart = "\nExecStart=/usr/bin/logsift "
		if !bytes.Contains(unit, []byte(execStart)) {
			t.Fatalf("%s has no %q line to rewrite", src, execStart)
		}
		unit = bytes.Replace(unit, []byte(execStart), []byte("\nExecStart="+bin+" "), 1)
		copyPath := filepath.Join(dir, name)
		if err := os.WriteFile(copyPath, unit, 0o644); err != nil {
			t.Fatal(err)
		}
		// verify exits 0 even for unknown keys or unparsable values, which it
		// only reports on stderr: any output is a finding.
		out, err := run(t, dir, []string{"SYSTEMD_COLORS=0"}, analyze, "verify", "--man=no", copyPath)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify %s: err=%v\n%s", name, err, out)
		}
	}
}

var exposureRE = regexp.MustCompile(`Overall exposure level for [^:]+: ([0-9]+(?:\.[0-9]+)?)`)

func exposure(t *testing.T, analyze, unit string) float64 {
	t.Helper()
	out, err := run(t, filepath.Dir(unit), []string{"SYSTEMD_COLORS=0"},
		analyze, "security", "--offline=true", "--no-pager", unit)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return score
}

// TestUnitSecurityExposure holds the unit to an exposure score of at most
// 2.5. An unhardened unit is scored too, proving the parsed score reacts.
func TestUnitSecurityExposure(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	bare := filepath.Join(t.TempDir(), "bare.service")
	if err := os.WriteFile(bare, []byte("[Service]\nExecStart=/usr/bin/logsift\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	journalUnit, err := filepath.Abs("systemd/logsift-journal.service")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		unit   string
		within bool
	}{
		{"shipped unit", abs, true},
		{"journal unit", journalUnit, true},
		{"unhardened unit", bare, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			score := exposure(t, analyze, tt.unit)
			t.Logf("systemd-analyze security exposure of %s: %.1f (limit %.1f)",
				filepath.Base(tt.unit), score, maxExposure)
			if (score <= maxExposure) != tt.within {
				t.Errorf("exposure %.1f, want within limit %.1f: %v", score, maxExposure, tt.within)
			}
		})
	}
}

// TestExampleConfigChecks runs `logsift check` on the shipped example, and
// on a copy with an unknown key to prove check really validates it.
func TestExampleConfigChecks(t *testing.T) {
	dir := t.TempDir()
	bin := buildLogsift(t, dir)

	example, err := filepath.Abs(configPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, append(raw, []byte("\nsumary:\n  every: 1m\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	journal, err := filepath.Abs("journal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		config   string
		wantExit int
		wantOut  string
	}{
		{"example", example, 0, ""},
		{"journal example", journal, 0, ""},
		{"otlp example", mustAbs(t, "examples/otlp.yaml"), 0, ""},
		{"syslog example", mustAbs(t, "examples/syslog.yaml"), 0, ""},
		{"unknown key", broken, 1, broken + ":"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, dir, nil, bin, "check", "-config", tt.config)
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantExit {
				t.Errorf("logsift check exit %d, want %d\n%s", code, tt.wantExit, out)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("logsift check output lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}

// TestLogrotatePolicy checks that logrotate accepts the policy and, run for
// real on a copy aimed at a temporary directory, rotates the outputs, keeps
// the newest rotation uncompressed, recreates 0640 files and signals once.
func TestLogrotatePolicy(t *testing.T) {
	lr := requireTool(t, "logrotate")
	raw, err := os.ReadFile(logrotate)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"systemctl kill -s USR1 logsift.service", "create 0640", "delaycompress", "postrotate"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("policy lacks %q", s)
		}
	}
	dir := t.TempDir()
	policyPath, err := filepath.Abs(logrotate)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, dir, nil, lr, "-d", "-s", filepath.Join(dir, "state"), policyPath)
	if err != nil || strings.Contains(out, "error:") {
		t.Fatalf("logrotate -d: %v\n%s", err, out)
	}

	if os.Geteuid() != 0 {
		t.Skip("skipping the real rotation: `su root adm` needs root")
	}
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	signalled := filepath.Join(dir, "signalled")
	// The signal is replaced by a trace of the postrotate script running.
	policy := strings.ReplaceAll(string(raw), "/var/log/webapp/", logs+"/")
	policy = regexp.MustCompile(`(?m)^.*systemctl kill.*$`).
		ReplaceAllLiteralString(policy, "echo x >> "+signalled)
	conf := filepath.Join(dir, "policy")
	if err := os.WriteFile(conf, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	names := []string{"filtered.log", "suppressed.log"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(logs, n), []byte("line\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, dir, nil, lr, "-f", "-s", filepath.Join(dir, "state"), conf)
	for _, n := range names {
		st, err := os.Stat(filepath.Join(logs, n))
		if err != nil {
			t.Errorf("%s not recreated: %v", n, err)
		} else if st.Mode().Perm() != 0o640 || st.Size() != 0 {
			t.Errorf("%s recreated with mode %v size %d, want 0640 and empty", n, st.Mode().Perm(), st.Size())
		}
		if _, err := os.Stat(filepath.Join(logs, n+".1")); err != nil {
			t.Errorf("%s.1 (delaycompress: uncompressed) missing: %v", n, err)
		}
	}
	got, err := os.ReadFile(signalled)
	if err != nil || string(got) != "x\n" {
		t.Errorf("postrotate ran %q (%v), want exactly once (sharedscripts)", got, err)
	}
}

// harnessMake runs deploy.mk through the test harness, which stands in for
// the top-level Makefile with a fixed VERSION and a stub binary.
func harnessMake(t *testing.T, bin string, args ...string) string {
	t.Helper()
	requireTool(t, "make")
	full := append([]string{"--no-print-directory", "-f", harness, "LOGSIFT_BIN=" + bin}, args...)
	return mustRun(t, repoRoot, nil, "make", full...)
}

func stubBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "stub-logsift")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho stub\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestInstall(t *testing.T) {
	tmp := t.TempDir()
	bin := stubBinary(t, tmp)
	tests := []struct {
		name    string
		vars    []string
		files   map[string]os.FileMode // path under DESTDIR -> mode
		execRef string                 // expected ExecStart
		unit    string
		config  string
	}{
		{
			name: "defaults",
			files: map[string]os.FileMode{
				"usr/bin/logsift":                               0o755,
				"lib/systemd/system/logsift.service":            0o644,
				"etc/logsift/logsift.yaml":                      0o644,
				"etc/logrotate.d/logsift":                       0o644,
				"usr/share/logsift/prometheus/alerts.yml":       0o644,
				"usr/share/logsift/grafana/logsift.json":        0o644,
				"usr/share/man/man1/logsift.1.gz":               0o644,
				"usr/share/bash-completion/completions/logsift": 0o644,
				"usr/share/zsh/vendor-completions/_logsift":     0o644,
			},
			unit:    "lib/systemd/system/logsift.service",
			config:  "etc/logsift/logsift.yaml",
			execRef: "ExecStart=/usr/bin/logsift run -config /etc/logsift/logsift.yaml",
		},
		{
			name: "local prefix",
			vars: []string{"PREFIX=/usr/local", "SYSCONFDIR=/usr/local/etc"},
			files: map[string]os.FileMode{
				"usr/local/bin/logsift":                        0o755,
				"usr/local/lib/systemd/system/logsift.service": 0o644,
				"usr/local/etc/logsift/logsift.yaml":           0o644,
				"usr/local/etc/logrotate.d/logsift":            0o644,
			},
			unit:    "usr/local/lib/systemd/system/logsift.service",
			config:  "usr/local/etc/logsift/logsift.yaml",
			execRef: "ExecStart=/usr/local/bin/logsift run -config /usr/local/etc/logsift/logsift.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			install := append([]string{"install", "DESTDIR=" + dest}, tt.vars...)
			harnessMake(t, bin, install...)
			for rel, mode := range tt.files {
				st, err := os.Stat(filepath.Join(dest, rel))
				if err != nil {
					t.Errorf("not installed: %v", err)
					continue
				}
				if st.Mode().Perm() != mode {
					t.Errorf("%s mode %v, want %v", rel, st.Mode().Perm(), mode)
				}
			}
			unit, err := os.ReadFile(filepath.Join(dest, tt.unit))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(unit, []byte("\n"+tt.execRef+"\n")) {
				t.Errorf("installed unit lacks %q", tt.execRef)
			}

			// A second install must keep the operator's configuration.
			cfg := filepath.Join(dest, tt.config)
			edited := []byte("# edited by the operator\n")
			if err := os.WriteFile(cfg, edited, 0o640); err != nil {
				t.Fatal(err)
			}
			harnessMake(t, bin, install...)
			if got, _ := os.ReadFile(cfg); !bytes.Equal(got, edited) {
				t.Errorf("reinstall replaced the configuration with:\n%.200s", got)
			}

			// uninstall removes everything but the configuration.
			harnessMake(t, bin, append([]string{"uninstall", "DESTDIR=" + dest}, tt.vars...)...)
			for rel := range tt.files {
				_, err := os.Stat(filepath.Join(dest, rel))
				if rel == tt.config {
					if err != nil {
						t.Errorf("uninstall removed the configuration: %v", err)
					}
				} else if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s left after uninstall (%v)", rel, err)
				}
			}
		})
	}
}

// TestDebContents builds the package from the harness and inspects it
// without installing it.
func TestDebContents(t *testing.T) {
	requireTool(t, "dpkg-deb")
	tmp := t.TempDir()
	bin := stubBinary(t, tmp)
	dist := filepath.Join(tmp, "dist")
	harnessMake(t, bin, "deb", "DIST_DIR="+dist, "DEB_ARCH=amd64")

	deb := filepath.Join(dist, "logsift_"+harnessDebV+"_amd64.deb")
	if _, err := os.Stat(deb); err != nil {
		entries, _ := os.ReadDir(dist)
		t.Fatalf("want %s: %v (dist has %v)", filepath.Base(deb), err, entries)
	}

	fields := map[string]string{
		"Package":      "logsift",
		"Version":      harnessDebV,
		"Architecture": "amd64",
	}
	for f, want := range fields {
		if got := strings.TrimSpace(mustRun(t, tmp, nil, "dpkg-deb", "-f", deb, f)); got != want {
			t.Errorf("control %s = %q, want %q", f, got, want)
		}
	}
	if got := strings.TrimSpace(mustRun(t, tmp, nil, "dpkg-deb", "-f", deb, "Depends")); got != "" {
		t.Errorf("Depends = %q for a binary without cgo, want none", got)
	}

	listing := mustRun(t, tmp, nil, "dpkg-deb", "-c", deb)
	want := map[string]string{ // path -> mode string
		"./usr/bin/logsift":                               "-rwxr-xr-x",
		"./lib/systemd/system/logsift.service":            "-rw-r--r--",
		"./etc/logsift/logsift.yaml":                      "-rw-r--r--",
		"./etc/logrotate.d/logsift":                       "-rw-r--r--",
		"./usr/share/doc/logsift/README.md":               "-rw-r--r--",
		"./usr/share/doc/logsift/copyright":               "-rw-r--r--",
		"./usr/share/man/man1/logsift.1.gz":               "-rw-r--r--",
		"./usr/share/logsift/prometheus/alerts.yml":       "-rw-r--r--",
		"./usr/share/logsift/grafana/logsift.json":        "-rw-r--r--",
		"./usr/share/bash-completion/completions/logsift": "-rw-r--r--",
		"./usr/share/zsh/vendor-completions/_logsift":     "-rw-r--r--",
	}
	seen := map[string]bool{}
	for line := range strings.Lines(listing) {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		mode, owner, path := f[0], f[1], f[len(f)-1]
		if owner != "root/root" {
			t.Errorf("%s owned by %s, want root/root", path, owner)
		}
		if w, ok := want[path]; ok {
			seen[path] = true
			if mode != w {
				t.Errorf("%s mode %s, want %s", path, mode, w)
			}
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("%s missing from the package:\n%s", p, listing)
		}
	}

	ctrl := filepath.Join(tmp, "control")
	mustRun(t, tmp, nil, "dpkg-deb", "-e", deb, ctrl)
	conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(conffiles), "/etc/logsift/logsift.yaml\n/etc/logrotate.d/logsift\n"; got != want {
		t.Errorf("conffiles = %q, want %q", got, want)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(ctrl, script)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", script, err)
			continue
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", script, st.Mode().Perm())
		}
		if out, err := run(t, tmp, nil, "sh", "-n", p); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", script, err, out)
		}
	}
}

// TestDebInstall installs, removes and purges the real package on this
// machine. It changes the system, so it runs only as root and only when
// LOGSIFT_DEB_TEST=1 (CI sets it).
func TestDebInstall(t *testing.T) {
	if os.Getenv("LOGSIFT_DEB_TEST") != "1" {
		t.Skip("skipping: installs a package system-wide; set LOGSIFT_DEB_TEST=1 (as root) to run")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: dpkg -i needs root")
	}
	for _, tool := range []string{"make", "dpkg", "dpkg-deb", "go"} {
		requireTool(t, tool)
	}
	if out, err := run(t, repoRoot, nil, "dpkg-query", "-W", "-f", "${Status}", "logsift"); err == nil && strings.TrimSpace(out) != "" &&
		!strings.Contains(out, "not-installed") {
		t.Skipf("skipping: a logsift package is already on this machine (%s); not touching it", out)
	}

	dist := t.TempDir()
	mustRun(t, repoRoot, nil, "make", "--no-print-directory", "deb", "DIST_DIR="+dist)
	debs, _ := filepath.Glob(filepath.Join(dist, "logsift_*_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb produced %v, want one package", debs)
	}
	t.Cleanup(func() {
		if out, err := run(t, "/", nil, "dpkg", "-P", "logsift"); err != nil {
			t.Logf("cleanup dpkg -P: %v\n%s", err, out)
		}
	})

	mustRun(t, "/", nil, "dpkg", "-i", debs[0])
	installed := []string{
		"/usr/bin/logsift",
		"/lib/systemd/system/logsift.service",
		"/etc/logsift/logsift.yaml",
		"/etc/logrotate.d/logsift",
	}
	for _, p := range installed {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after dpkg -i: %v", err)
		}
	}
	// The package's binary was built by the same toolchain as this test.
	if out := mustRun(t, "/", nil, "/usr/bin/logsift", "version"); !strings.Contains(out, runtime.Version()) {
		t.Errorf("logsift version = %q, want it to name %s", out, runtime.Version())
	} else {
		t.Logf("installed: %s", strings.TrimSpace(out))
	}
	mustRun(t, "/", nil, "/usr/bin/logsift", "check", "-config", "/etc/logsift/logsift.yaml")

	mustRun(t, "/", nil, "dpkg", "-r", "logsift")
	for _, p := range installed[:2] {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after dpkg -r, %s: %v, want it gone", p, err)
		}
	}
	for _, p := range installed[2:] {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after dpkg -r the conffile must stay: %v", err)
		}
	}
	if st := dpkgStatus(t); st != "deinstall ok config-files" {
		t.Errorf("after dpkg -r status %q, want config-files", st)
	}

	mustRun(t, "/", nil, "dpkg", "-P", "logsift")
	gone := append(installed, "/etc/logsift", "/etc/systemd/system/logsift.service",
		"/var/lib/systemd/deb-systemd-helper-enabled/logsift.service.dsh-also")
	for _, p := range gone {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after dpkg -P, %s: %v, want it gone", p, err)
		}
	}
	if st := dpkgStatus(t); st != "" && !strings.Contains(st, "not-installed") {
		t.Errorf("after dpkg -P status %q, want the package unknown", st)
	}
}

func dpkgStatus(t *testing.T) string {
	t.Helper()
	out, err := run(t, "/", nil, "dpkg-query", "-W", "-f", "${Status}", "logsift")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// TestDebVersion checks how `make deb` turns VERSION into a Debian version
// that dpkg accepts and that orders releases, later commits and untagged
// builds correctly. It only prints the recipe (make -n).
func TestDebVersion(t *testing.T) {
	tests := []struct{ version, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-4-gabcdef", "1.2.3+4+gabcdef"},
		{"v1.2.3-4-gabcdef-dirty", "1.2.3+4+gabcdef+dirty"},
		{"4e47277-dirty", "0~4e47277+dirty"},
		{"dev", "0~dev"},
	}
	bin := stubBinary(t, t.TempDir())
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			out := harnessMake(t, bin, "-n", "deb", "VERSION="+tt.version, "DEB_ARCH=amd64", "DIST_DIR=/nonexistent")
			want := "/nonexistent/logsift_" + tt.want + "_amd64.deb"
			if !strings.Contains(out, want) {
				t.Errorf("make -n deb does not build %s:\n%s", want, out)
			}
		})
	}
	if _, err := exec.LookPath("dpkg"); err == nil {
		for _, tt := range tests {
			if out, err := run(t, "/", nil, "dpkg", "--validate-version", tt.want); err != nil {
				t.Errorf("dpkg rejects %q: %v %s", tt.want, err, out)
			}
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestRsyslogRelayExample has rsyslogd validate the example relay
// configuration (rsyslogd -N1).
func TestRsyslogRelayExample(t *testing.T) {
	rsyslogd := "/usr/sbin/rsyslogd"
	if _, err := os.Stat(rsyslogd); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rsyslogd not installed")
		}
		t.Skip("rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls)")
	}
	conf, err := os.ReadFile("examples/rsyslog-relay.conf")
	if err != nil {
		t.Fatal(err)
	}
	// The certificate paths are the relay's; stand-ins let rsyslogd check
	// that they are readable.
	dir := t.TempDir()
	for _, p := range []string{"/etc/ssl/certs/relay-ca.pem", "/etc/ssl/certs/relay.pem", "/etc/ssl/private/relay.key"} {
		stand := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(stand, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		conf = bytes.ReplaceAll(conf, []byte(p), []byte(stand))
	}
	copyPath := filepath.Join(dir, "relay.conf")
	if err := os.WriteFile(copyPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, dir, nil, rsyslogd, "-N1", "-f", copyPath)
	if err != nil || strings.Contains(out, "error") {
		t.Errorf("rsyslogd -N1: %v\n%s", err, out)
	}
}
