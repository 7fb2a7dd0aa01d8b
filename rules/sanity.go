package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// resolveRelative takes the relative paths of a configuration file from
// the file's directory: a config means the same files wherever logsift is
// started from.
func (c *Config) resolveRelative(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	join := func(p string) string {
		if p == "" || p == "-" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(abs, p)
	}
	for i := range c.Inputs {
		for j, p := range c.Inputs[i].Paths {
			c.Inputs[i].Paths[j] = join(p)
		}
		jr := &c.Inputs[i].Journal
		jr.Directory = join(jr.Directory)
		for j, p := range jr.Files {
			jr.Files[j] = join(p)
		}
	}
	for i := range c.Outputs {
		if c.Outputs[i].Type == "file" {
			c.Outputs[i].Path = join(c.Outputs[i].Path)
		}
	}
	c.Positions.Path = join(c.Positions.Path)
}

// CheckRun reports what makes a loaded configuration file unfit to run,
// beyond its schema: no inputs (an empty file would run a service that
// reads /dev/null), an input that would read logsift's own output or
// positions file back (a feedback loop), a directory given as a path.
// Each problem is one line naming the file.
func (c *Config) CheckRun() error {
	var errs Errors
	add := func(format string, args ...any) {
		errs = append(errs, c.File+": "+fmt.Sprintf(format, args...))
	}
	if c.File != "" && !c.InputsGiven {
		add(`no inputs: a configuration file names what to read, e.g. inputs: [{paths: ["/var/log/app/*.log"]}] (paths: ["-"] reads stdin)`)
	}
	written := map[string]string{} // path -> what writes it
	for _, o := range c.Outputs {
		if o.Type == "file" && o.Path != "" {
			written[o.Path] = fmt.Sprintf("output %q", o.Name)
		}
	}
	if c.Positions.Path != "" {
		written[c.Positions.Path] = "the positions file"
	}
	for _, in := range c.Inputs {
		for _, pat := range in.Paths {
			if pat == "-" {
				continue
			}
			for path, what := range written {
				if matchesInput(in, pat, path) {
					add("input %q reads %s back: its glob %q matches %s; add it to the input's exclude or write it elsewhere", in.Name, what, pat, path)
				}
			}
			if !hasGlobMeta(pat) {
				if fi, err := os.Stat(pat); err == nil && fi.IsDir() {
					add("input %q: path %q is a directory; name the files, e.g. %q", in.Name, pat, filepath.Join(pat, "*.log"))
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Warnings reports what is probably a mistake but not an error: input
// paths that match no file now (a typo'd directory, or a log the
// application has not created yet), and stdin as the only input of a
// configuration file (under systemd stdin is /dev/null).
func (c *Config) Warnings() []string {
	var out []string
	for _, in := range c.Inputs {
		for _, pat := range in.Paths {
			if pat == "-" {
				if c.File != "" && len(c.Inputs) == 1 && os.Getenv("INVOCATION_ID") != "" {
					out = append(out, fmt.Sprintf("%s: warning: input %q reads stdin, which is /dev/null under systemd", c.File, in.Name))
				}
				continue
			}
			if m, _ := filepath.Glob(pat); len(m) == 0 {
				why := "no file matches it yet"
				if dir := staticDir(pat); dir != "" {
					if _, err := os.Stat(dir); err != nil {
						why = fmt.Sprintf("its directory %s does not exist", dir)
					}
				}
				out = append(out, fmt.Sprintf("%s: warning: input %q: %q matches no file (%s)", c.File, in.Name, pat, why))
			}
		}
	}
	return out
}

// matchesInput reports whether the input's glob pat names path and the
// input does not exclude it.
func matchesInput(in Input, pat, path string) bool {
	if ok, _ := filepath.Match(pat, path); !ok {
		return false
	}
	for _, ex := range in.Exclude {
		if ok, _ := filepath.Match(ex, filepath.Base(path)); ok {
			return false
		}
		if ok, _ := filepath.Match(ex, path); ok {
			return false
		}
	}
	return true
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// staticDir is the longest leading directory of a glob without wildcards.
func staticDir(pat string) string {
	dir := filepath.Dir(pat)
	for hasGlobMeta(dir) {
		dir = filepath.Dir(dir)
	}
	return dir
}
