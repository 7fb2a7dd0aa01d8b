package deploy_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStaticBuild builds the binary as `make build` does and checks that it
// needs no shared library: the package's empty Depends is then honest.
func TestStaticBuild(t *testing.T) {
	requireTool(t, "make")
	bin := filepath.Join(t.TempDir(), "logsift")
	mustRun(t, repoRoot, nil, "make", "--no-print-directory", "build", "BIN="+bin)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: it is dynamically linked", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s links %v", bin, libs)
	}
	if out := mustRun(t, repoRoot, nil, "go", "version", "-m", bin); !strings.Contains(out, "CGO_ENABLED=0") {
		t.Errorf("go version -m does not show CGO_ENABLED=0:\n%s", out)
	}
	if out, err := exec.Command("file", bin).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Errorf("file: %s", out)
	}
}

// TestDashboard: the Grafana dashboard is valid JSON for provisioning, has
// the panels an operator looks for, and every PromQL expression in it is
// accepted by Prometheus' own parser (promtool, through a rules file).
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile("grafana/logsift.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("grafana/logsift.json: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: a provisioned dashboard needs both", d.UID, d.Title)
	}
	var exprs []string
	titles := map[string]bool{}
	for _, p := range d.Panels {
		titles[p.Title] = true
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, want := range []string{"Suppressed events per rule", "Lines in, forwarded, suppressed", "Input lag per input", "Errors", "Last reload successful"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
	// Every metric the dashboard uses exists.
	metric := regexp.MustCompile(`logsift_[a-z_]+`)
	readme, _ := os.ReadFile("../README.md")
	for _, e := range exprs {
		for _, m := range metric.FindAllString(e, -1) {
			if !strings.Contains(string(readme), "`"+m+"`") {
				t.Errorf("%s: metric %s is not documented in the README", e, m)
			}
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed")
		}
		t.Skip("promtool not installed")
	}
	// Grafana's variables become what Prometheus would see.
	vars := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		fmt.Fprintf(&rules, "      - record: dashboard:expr%d\n        expr: %q\n", i, vars.Replace(e))
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(exprs))) {
		t.Errorf("promtool check rules on the dashboard's expressions: %v\n%s", err, out)
	}
}

// TestInstalledAlerts: the alert rules as installed pass promtool.
func TestInstalledAlerts(t *testing.T) {
	requireTool(t, "make")
	dest := t.TempDir()
	bin := stubBinary(t, t.TempDir())
	harnessMake(t, bin, "install", "DESTDIR="+dest)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed")
		}
		t.Skip("promtool not installed")
	}
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(dest, "usr/share/logsift/prometheus/alerts.yml")).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}
