package rules

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var fuzzErrLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S`)

// FuzzParse feeds arbitrary bytes to the config parser: it must never
// panic, every error must read fuzz.yaml:LINE:COL: message on one line,
// and an accepted config must be usable.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	packs := Packs()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parse("fuzz.yaml", data, packs)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %q is not a non-empty Errors", err, err)
			}
			for _, line := range errs {
				if !fuzzErrLine.MatchString(line) || strings.ContainsAny(line, "\n\r") {
					t.Fatalf("malformed error line %q", line)
				}
			}
			return
		}
		if len(cfg.Inputs) == 0 || len(cfg.Outputs) == 0 {
			t.Fatalf("accepted config without inputs or outputs: %+v", cfg)
		}
		for _, r := range cfg.Rules {
			if r.Match == nil || (r.Pair != nil && r.Pair.Match == nil) {
				t.Fatalf("rule %q has no matcher", r.Name)
			}
			MatchText(r.Match, data)
		}
	})
}
