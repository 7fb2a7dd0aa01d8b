package ruletest

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logsift/logsift/rules"
)

// packTestDir holds a test file for built-in packs, with real captures
// where the corpus has them and labelled synthetic examples otherwise.
const packTestDir = "../testdata/packs"

// TestPacks runs the packs' test files: every case passes and every rule
// of the packs they use is exercised. Opt-in packs must have a test file.
func TestPacks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(packTestDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pack tests in %s: %v", packTestDir, err)
	}
	var buf bytes.Buffer
	if !RunFiles(&buf, files) {
		t.Errorf("pack tests fail:\n%s", buf.String())
	}
	if !strings.HasSuffix(buf.String(), " rules exercised\n") {
		t.Errorf("pack tests leave rules unexercised:\n%s", buf.String())
	}

	tested := make(map[string]bool)
	for _, f := range files {
		tested[strings.TrimSuffix(filepath.Base(f), ".yaml")] = true
	}
	for _, p := range rules.Packs() {
		if !tested[p.Name] {
			t.Errorf("pack %s has no test file %s/%s.yaml", p.Name, packTestDir, p.Name)
		}
	}
}

// TestOptInPacks: the packs beyond the default one stay off unless named
// in use, and say why their errors are harmless, citing upstream.
func TestOptInPacks(t *testing.T) {
	want := []string{"gunicorn-noise", "werkzeug-disconnects"}
	byName := make(map[string]*rules.Pack)
	for _, p := range rules.Packs() {
		byName[p.Name] = p
	}
	for _, name := range want {
		p := byName[name]
		if p == nil {
			t.Errorf("pack %s is missing", name)
			continue
		}
		if p.Default {
			t.Errorf("pack %s is on by default; it must be opt-in", name)
		}
		for _, r := range p.Rules {
			if !strings.Contains(r.Description, "Harmless") || !strings.Contains(r.Description, "#") {
				t.Errorf("rule %s: the description must say why it is harmless and cite the upstream issue", r.Name)
			}
		}
	}
	if slices.ContainsFunc(rules.Default().Use, func(u string) bool { return slices.Contains(want, u) }) {
		t.Errorf("default configuration uses %v", rules.Default().Use)
	}
}
