// Package rules loads logsift's configuration and its built-in rule packs,
// and compiles rules into matchers.
//
// Decoding is strict: the YAML is walked node by node, so an unknown key is
// an error at every level, and every error carries the position of the
// value it is about ("FILE:LINE:COL: message"). All errors of a file are
// reported at once.
package rules

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
	"github.com/logsift/logsift/record"
)

// Config is a loaded, validated configuration with defaults applied.
type Config struct {
	File   string // the path passed to Load or Parse; "" for Default
	Inputs []Input
	// InputsGiven is whether the file has an inputs section (without one,
	// Inputs is stdin).
	InputsGiven bool
	// OutputsGiven is whether the file has an outputs section (without
	// one, Outputs is stdout).
	OutputsGiven bool
	Use          []string // packs in use
	Disable      []string // pack rules switched off
	Outputs      []OutputSpec
	Summary      Summary
	Positions    Positions
	Metrics      Metrics
	// Rules are the effective rules in evaluation order: the user's rules
	// first, then the rules of each pack in Use, in pack order, minus
	// Disable.
	Rules []*Rule
}

// Input is one source of lines: files matched by globs, or stdin.
type Input struct {
	Name string // metric label
	// Type is InputFiles (the default) or InputJournald; Journal applies
	// to the latter, the file settings to the former.
	Type    string
	Journal Journal
	Paths   []string // globs; exactly ["-"] for stdin
	Exclude []string // globs of paths to skip
	StartAt string   // "end" or "beginning", for files without a saved position
	// Rotated are extra globs naming a followed file's rotated files,
	// beyond the built-in names ({name} is the file's base name, {dir} its
	// directory; relative to that directory).
	Rotated []string
	// RotateWait is how long a rotated file is kept open after its last
	// write, for writers that reopen their log late.
	RotateWait time.Duration
	// Format is how records are framed: record.Auto (decided per source
	// from its first record), record.Text, record.JSON,
	// record.DockerJSON or record.CRI.
	Format    string
	Prefix    Prefix
	Suffix    Suffix
	Multiline Multiline
}

// Suffix describes what a logging formatter appends after the message on a
// record's last line (" (taskName=None)", " [in app.py:42]", ...). Like the
// prefix it is left out of the text rules see and always written out.
type Suffix struct {
	// Kind is "auto" (the default: the shapes record.SuffixLen knows, line
	// by line), "none" or "regex".
	Kind  string
	Regex *regexp.Regexp // set only for Kind "regex"; anchored at the end
}

// Prefix describes a per-line prefix that is stripped for grouping and
// matching (outputs still write it).
type Prefix struct {
	// Kind is "auto" (the default: any of the known prefixes, recognised
	// line by line), "none", "docker-compose", "journald-short",
	// "kubernetes-cri" or "regex".
	Kind  string
	Regex *regexp.Regexp // set only for Kind "regex"
}

// Multiline configures how lines are grouped into events.
type Multiline struct {
	Preset string // "python", "none" or "custom"
	// Start and Continue are set only for the custom preset.
	Start, Continue *regexp.Regexp
	MaxLines        int
	MaxBytes        int
	FlushAfter      time.Duration // a held event is emitted after this much quiet
}

// OutputSpec is one configured output.
type OutputSpec struct {
	Name       string  // metric label
	Type       string  // "stdout", "file" or "journald"
	Path       string  // for type file
	Events     string  // "forwarded", "suppressed" or "all"
	Identifier string  // SYSLOG_IDENTIFIER, for type journald
	OTLP       *OTLP   // for type otlp
	Syslog     *Syslog // for type syslog
}

// Summary configures periodic suppression summaries.
type Summary struct {
	Every time.Duration // 0 = off
}

// Positions configures where read offsets are saved.
type Positions struct {
	Path string // "" = not saved
}

// Metrics configures the HTTP server for /metrics and health.
type Metrics struct {
	Listen string // "" = no server
}

// Defaults applied to settings a configuration leaves out.
const (
	DefaultMetricsListen = "127.0.0.1:9468" // for configs read from a file
	DefaultMaxLines      = 1000
	DefaultMaxBytes      = 1 << 20
	DefaultFlushAfter    = 250 * time.Millisecond
)

var (
	topKeys       = []string{"inputs", "use", "disable", "overrides", "rules", "outputs", "summary", "positions", "metrics"}
	inputKeys     = []string{"name", "type", "paths", "exclude", "start_at", "rotated", "rotate_wait", "format", "prefix", "suffix", "multiline", "units", "identifiers", "matches", "directory", "files"}
	multilineKeys = []string{"preset", "start", "continue", "max_lines", "max_bytes", "flush_after"}
	outputKeys    = []string{"type", "path", "events", "name", "identifier"}
	prefixKinds   = []string{"auto", "none", "docker-compose", "journald-short", "kubernetes-cri"}
)

// Load reads and parses the configuration file at path. A file that cannot
// be read yields a plain error; a file with problems yields Errors.
//
// Relative paths in the file (input globs, file outputs, the positions
// file) are taken from the file's directory, not the working directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	cfg.resolveRelative(filepath.Dir(path))
	return cfg, nil
}

// Parse parses a configuration; file names it in errors and in Config.File.
// Empty data is a valid configuration with every default. The error, if
// any, is of type Errors.
func Parse(file string, data []byte) (*Config, error) {
	return parse(file, data, lazyPacks())
}

// Default is the zero-config setup of logsift as a pipeline stage: stdin
// through the default packs to stdout, with no metrics server.
func Default() *Config {
	cfg, err := parse("", nil, lazyPacks())
	if err != nil {
		panic(fmt.Sprintf("rules: default configuration is invalid: %v", err))
	}
	cfg.Metrics.Listen = ""
	return cfg
}

func parse(file string, data []byte, packs []*Pack) (*Config, error) {
	d := newDecoder(file)
	cfg := d.config(d.Document(data), packs)
	if err := d.result(); err != nil {
		return nil, err
	}
	cfg.File = file
	return cfg, nil
}

func (d *decoder) config(root *yaml.Node, packs []*Pack) *Config {
	s := d.scope("")
	cfg := &Config{
		Inputs:  []Input{stdinInput()},
		Outputs: []OutputSpec{{Name: "stdout", Type: "stdout", Events: "forwarded"}},
		Metrics: Metrics{Listen: DefaultMetricsListen},
	}
	m := map[string]yamlstrict.Entry{}
	if root != nil {
		var ok bool
		if m, ok = s.Mapping(root, "", "", topKeys); !ok {
			return cfg
		}
	}
	if e, has := m["inputs"]; has {
		cfg.Inputs = d.inputs(e.Val)
		cfg.InputsGiven = true
	}
	if e, has := m["outputs"]; has {
		cfg.OutputsGiven = true
		cfg.Outputs = d.outputs(e.Val)
	}
	var userRules []*Rule
	var userRefs []ruleRef
	if e, has := m["rules"]; has {
		userRules, userRefs = d.rules(e.Val, "")
	}
	var use, disable []*yaml.Node
	e, useGiven := m["use"]
	if useGiven {
		use, _ = s.StrList(e.Val, "use")
	}
	if e, has := m["disable"]; has {
		disable, _ = s.StrList(e.Val, "disable")
	}
	var ovs map[string]*override
	if e, has := m["overrides"]; has {
		ovs = d.overrides(e.Val)
	}
	d.effectiveRules(cfg, userRules, userRefs, use, useGiven, disable, packs, ovs)

	if e, has := m["summary"]; has {
		if sm, ok := s.Mapping(e.Val, "summary", "summary", []string{"every"}); ok {
			if e, has := sm["every"]; has {
				cfg.Summary.Every, _ = s.duration(e.Val, "every", false)
			}
		}
	}
	if e, has := m["positions"]; has {
		if pm, ok := s.Mapping(e.Val, "positions", "positions", []string{"path"}); ok {
			if e, has := pm["path"]; has {
				cfg.Positions.Path, _ = s.Str(e.Val, "path")
			}
		}
	}
	if e, has := m["metrics"]; has {
		if mm, ok := s.Mapping(e.Val, "metrics", "metrics", []string{"listen"}); ok {
			if e, has := mm["listen"]; has {
				cfg.Metrics.Listen = s.listen(e.Val)
			}
		}
	}
	return cfg
}

func (s scope) listen(n *yaml.Node) string {
	v, ok := s.Str(n, "listen")
	if !ok || v == "" {
		return v
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		s.Errorf(yamlstrict.Deref(n), `listen: invalid address %q (want host:port such as 127.0.0.1:9468, or "" for no server)`, v)
	}
	return v
}

// effectiveRules resolves use and disable against the packs and sets
// cfg.Use, cfg.Disable and cfg.Rules, reporting rule names defined twice.
func (d *decoder) effectiveRules(cfg *Config, user []*Rule, userRefs []ruleRef,
	use []*yaml.Node, useGiven bool, disable []*yaml.Node, packs []*Pack, ovs map[string]*override,
) {
	byName := make(map[string]*Pack, len(packs))
	var available []string
	for _, p := range packs {
		byName[p.Name] = p
		available = append(available, p.Name)
	}

	var used []*Pack
	useNode := make(map[string]*yaml.Node) // for messages about a pack
	if !useGiven {
		for _, p := range packs {
			if p.Default {
				used = append(used, p)
			}
		}
	}
	for _, n := range use {
		p, ok := byName[n.Value]
		switch {
		case !ok:
			d.Add(n, fmt.Sprintf("use: unknown pack %q (available: %s)", n.Value, strings.Join(available, ", ")))
		case useNode[n.Value] != nil:
			d.Add(n, fmt.Sprintf("use: pack %q listed twice", n.Value))
		default:
			useNode[n.Value] = n
			used = append(used, p)
		}
	}
	cfg.Use = make([]string, 0, len(used))
	inUse := make(map[string]bool)
	for _, p := range used {
		cfg.Use = append(cfg.Use, p.Name)
		for _, r := range p.rules() {
			inUse[r.Name] = true
		}
	}

	disabled := make(map[string]bool)
	for _, n := range disable {
		name := n.Value
		switch {
		case disabled[name]:
			d.Add(n, fmt.Sprintf("disable: %q listed twice", name))
		case !inUse[name]:
			d.Add(n, "disable: "+notInUse(name, cfg.Use, packs))
		default:
			disabled[name] = true
			cfg.Disable = append(cfg.Disable, name)
		}
	}

	cfg.Rules = append(cfg.Rules, user...)
	owner := make(map[string]*Rule)
	for _, r := range user {
		owner[r.Name] = r
	}
	userAt := make(map[string]ruleRef, len(userRefs))
	for _, ref := range userRefs {
		userAt[ref.name] = ref
	}
	for _, p := range used {
		for _, r := range p.rules() {
			if disabled[r.Name] {
				continue
			}
			if ref, clash := userAt[r.Name]; clash {
				d.Add(ref.node, fmt.Sprintf("rule %q: name already used by pack %q (%s); add it to disable to replace the pack's rule",
					r.Name, p.Name, r.Pos))
				continue
			}
			if first, clash := owner[r.Name]; clash {
				d.Add(useNode[p.Name], fmt.Sprintf("use: pack %q rule %q has the same name as a rule of pack %q (%s); disable one of them",
					p.Name, r.Name, first.Pack, first.Pos))
				continue
			}
			if ov := ovs[r.Name]; ov != nil {
				r = d.apply(ov, r)
			}
			owner[r.Name] = r
			cfg.Rules = append(cfg.Rules, r)
		}
	}
	d.unusedOverrides(ovs, user, inUse, disabled)
}

func notInUse(name string, inUse []string, packs []*Pack) string {
	for _, p := range packs {
		if slices.Contains(inUse, p.Name) {
			continue
		}
		for _, r := range p.rules() {
			if r.Name == name {
				return fmt.Sprintf("rule %q belongs to pack %q, which is not in use", name, p.Name)
			}
		}
	}
	if len(inUse) == 0 {
		return fmt.Sprintf("no rule %q: no packs are in use", name)
	}
	return fmt.Sprintf("no rule %q in the packs in use (%s)", name, strings.Join(inUse, ", "))
}

func stdinInput() Input {
	return Input{
		Name:      "stdin",
		Paths:     []string{"-"},
		StartAt:   "end",
		Format:    record.Auto,
		Prefix:    Prefix{Kind: "auto"},
		Suffix:    Suffix{Kind: "auto"},
		Multiline: defaultMultiline(),
	}
}

func defaultMultiline() Multiline {
	return Multiline{
		Preset:     "python",
		MaxLines:   DefaultMaxLines,
		MaxBytes:   DefaultMaxBytes,
		FlushAfter: DefaultFlushAfter,
	}
}

func (d *decoder) inputs(n *yaml.Node) []Input {
	s := d.scope("")
	items, ok := s.List(n, "inputs")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		s.Errorf(yamlstrict.Deref(n), "inputs: needs at least one input (paths: [\"-\"] reads stdin)")
		return nil
	}
	type seen struct {
		pos     string
		derived bool
	}
	names := make(map[string]seen)
	stdinAt := ""
	var out []Input
	for i, item := range items {
		in, derived, ok := d.input(item, i+1)
		if in.Name == "" {
			continue
		}
		at := yamlstrict.Deref(item)
		if first, dup := names[in.Name]; dup {
			msg := fmt.Sprintf("input %q: name already used by the input at %s", in.Name, first.pos)
			if derived || first.derived {
				msg += " (names are derived from the first path; set name to tell them apart)"
			}
			d.Add(at, msg)
		} else {
			names[in.Name] = seen{pos: d.Pos(at), derived: derived}
		}
		if slices.Equal(in.Paths, []string{"-"}) {
			if stdinAt != "" {
				d.Add(at, fmt.Sprintf("input %q: stdin is already read by the input at %s", in.Name, stdinAt))
			}
			stdinAt = d.Pos(at)
		}
		if ok {
			out = append(out, in)
		}
	}
	return out
}

// input decodes one input. derived reports that its name comes from its
// first path; ok that it has no errors. in.Name is set whenever a name is
// known, for duplicate checks.
func (d *decoder) input(n *yaml.Node, index int) (in Input, derived, ok bool) {
	prefix := fmt.Sprintf("input %d: ", index)
	if name := peek(n, "name"); name != "" {
		prefix = fmt.Sprintf("input %q: ", name)
	} else if first := peek(n, "paths"); first != "" {
		prefix = fmt.Sprintf("input %q: ", deriveName(first))
	}
	s := d.scope(prefix)
	before := d.Reported()
	m, ok := s.Mapping(n, "", "input", inputKeys)
	if !ok {
		return in, false, false
	}
	n = yamlstrict.Deref(n)
	if e, has := m["type"]; has {
		if t, _ := s.enum(e.Val, "type", InputFiles, InputJournald); t == InputJournald {
			return d.journalInput(s, m, before)
		}
	}
	s.notForFiles(m)
	in = Input{Type: InputFiles, StartAt: "end", Format: record.Auto, Prefix: Prefix{Kind: "auto"}, Suffix: Suffix{Kind: "auto"}, Multiline: defaultMultiline()}
	if e, has := m["name"]; has {
		in.Name, _ = s.name(e.Val, "name")
	} else if first := firstString(m["paths"].Val); first != "" {
		in.Name, derived = deriveName(first), true
	}
	if e, has := m["paths"]; has {
		in.Paths = s.paths(e.Val)
	} else {
		s.Errorf(n, "paths is required")
	}
	in.Exclude = s.globs(m, "exclude", nil)
	in.Rotated = s.globs(m, "rotated", func(g string) string {
		return strings.ReplaceAll(strings.ReplaceAll(g, "{name}", "x"), "{dir}", "x")
	})
	if e, has := m["rotate_wait"]; has {
		in.RotateWait, _ = s.duration(e.Val, "rotate_wait", true)
	}
	in.common(s, m)
	return in, derived, d.Reported() == before
}

// onlyFor reports the keys of m that only an output of type t has.
func onlyFor(s scope, m map[string]yamlstrict.Entry, keys []string, t string) {
	for _, k := range keys {
		if e, has := m[k]; has {
			s.Errorf(e.Key, "%s: only applies to type %s", k, t)
		}
	}
}

// journalInput decodes an input of type journald.
func (d *decoder) journalInput(s scope, m map[string]yamlstrict.Entry, before int) (in Input, derived, ok bool) {
	s.notForJournald(m)
	in = Input{Type: InputJournald, Name: "journald", StartAt: "end", Format: record.Auto,
		Prefix: Prefix{Kind: "auto"}, Suffix: Suffix{Kind: "auto"}, Multiline: defaultMultiline()}
	derived = true
	if e, has := m["name"]; has {
		in.Name, _ = s.name(e.Val, "name")
		derived = false
	}
	in.Journal = s.journal(m)
	in.common(s, m)
	return in, derived, d.Reported() == before
}

// common decodes the settings every input type has.
func (in *Input) common(s scope, m map[string]yamlstrict.Entry) {
	if e, has := m["start_at"]; has {
		in.StartAt, _ = s.enum(e.Val, "start_at", "end", "beginning")
	}
	if e, has := m["format"]; has {
		in.Format, _ = s.enum(e.Val, "format", record.Formats()...)
	}
	if e, has := m["prefix"]; has {
		in.Prefix = s.linePrefix(e.Val)
	}
	if e, has := m["suffix"]; has {
		in.Suffix = s.lineSuffix(e.Val)
	}
	if e, has := m["multiline"]; has {
		in.Multiline = s.multiline(e.Val)
	}
}

// globs decodes the list of globs under key, reporting the invalid ones;
// probe, when set, turns a glob into what filepath.Match must accept (for
// placeholders).
func (s scope) globs(m map[string]yamlstrict.Entry, key string, probe func(string) string) []string {
	e, has := m[key]
	if !has {
		return nil
	}
	items, _ := s.StrList(e.Val, key)
	var out []string
	for _, it := range items {
		g := it.Value
		if probe != nil {
			g = probe(g)
		}
		if _, err := filepath.Match(g, ""); err != nil || it.Value == "" {
			s.Errorf(it, "%s: invalid glob %q", key, it.Value)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

func (s scope) paths(n *yaml.Node) []string {
	items, ok := s.StrList(n, "paths")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		s.Errorf(yamlstrict.Deref(n), "paths: needs at least one path or glob")
		return nil
	}
	var out []string
	for _, it := range items {
		p := it.Value
		switch {
		case p == "":
			s.Errorf(it, "paths: empty path")
			continue
		case p == "-":
			if len(items) > 1 {
				s.Errorf(it, `paths: "-" (stdin) must be the only path of its input`)
				continue
			}
		default:
			if _, err := filepath.Match(p, ""); err != nil {
				s.Errorf(it, "paths: invalid glob %q", p)
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// deriveName makes a metric-label name from a path or glob: the base name
// without extension and glob syntax, or the nearest directory name when
// nothing is left ("/var/log/webapp/*.log" -> "webapp").
func deriveName(path string) string {
	if path == "-" {
		return "stdin"
	}
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		part := parts[i]
		if ext := filepath.Ext(part); ext != part {
			part = strings.TrimSuffix(part, ext)
		}
		if name := sanitizeName(part); name != "" {
			return name
		}
	}
	return "input"
}

// sanitizeName drops glob syntax, lowercases, and turns every other
// character outside [a-z0-9_-] into a single '-'.
func sanitizeName(s string) string {
	var b strings.Builder
	inClass := false
	for _, r := range s {
		switch {
		case inClass:
			inClass = r != ']'
			continue
		case r == '[':
			inClass = true
			continue
		case strings.ContainsRune("*?{}\\", r):
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			r = '-'
		}
		if r == '-' && strings.HasSuffix(b.String(), "-") {
			continue
		}
		b.WriteRune(r)
	}
	return strings.Trim(b.String(), "-")
}

func (s scope) linePrefix(n *yaml.Node) Prefix {
	v := yamlstrict.Deref(n)
	if v != nil && v.Kind == yaml.MappingNode {
		m, ok := s.Mapping(n, "prefix", "prefix", []string{"regex"})
		if !ok {
			return Prefix{}
		}
		e, has := m["regex"]
		if !has {
			s.Errorf(v, "prefix: regex is required")
			return Prefix{}
		}
		re, _ := s.regex(e.Val, "regex")
		return Prefix{Kind: "regex", Regex: re}
	}
	kind, ok := s.Str(n, "prefix")
	if ok && !slices.Contains(prefixKinds, kind) {
		s.Errorf(v, "prefix: invalid value %q (want %s, or {regex: '...'})", kind, strings.Join(prefixKinds, ", "))
		return Prefix{}
	}
	return Prefix{Kind: kind}
}

func (s scope) lineSuffix(n *yaml.Node) Suffix {
	v := yamlstrict.Deref(n)
	if v != nil && v.Kind == yaml.MappingNode {
		m, ok := s.Mapping(n, "suffix", "suffix", []string{"regex"})
		if !ok {
			return Suffix{}
		}
		e, has := m["regex"]
		if !has {
			s.Errorf(v, "suffix: regex is required")
			return Suffix{}
		}
		re, ok := s.regex(e.Val, "regex")
		if !ok {
			return Suffix{}
		}
		// Only a match that ends the line is a suffix.
		re = regexp.MustCompile(`(?:` + re.String() + `)\z`)
		return Suffix{Kind: "regex", Regex: re}
	}
	kind, ok := s.Str(n, "suffix")
	if ok && kind != "auto" && kind != "none" {
		s.Errorf(v, "suffix: invalid value %q (want auto, none, or {regex: '...'})", kind)
		return Suffix{}
	}
	return Suffix{Kind: kind}
}

func (s scope) multiline(n *yaml.Node) Multiline {
	ml := defaultMultiline()
	m, ok := s.Mapping(n, "multiline", "multiline", multilineKeys)
	if !ok {
		return ml
	}
	if e, has := m["preset"]; has {
		ml.Preset, ok = s.enum(e.Val, "preset", "python", "none", "custom")
	}
	if ok {
		for _, key := range []string{"start", "continue"} {
			e, has := m[key]
			switch {
			case ml.Preset == "custom" && !has:
				s.Errorf(yamlstrict.Deref(m["preset"].Val), "preset custom: %s is required", key)
			case ml.Preset == "custom":
				re, _ := s.regex(e.Val, key)
				if key == "start" {
					ml.Start = re
				} else {
					ml.Continue = re
				}
			case has:
				s.Errorf(e.Key, "%s: only applies to preset custom", key)
			}
		}
	}
	if e, has := m["max_lines"]; has {
		ml.MaxLines, _ = s.integer(e.Val, "max_lines", 1)
	}
	if e, has := m["max_bytes"]; has {
		ml.MaxBytes, _ = s.size(e.Val, "max_bytes")
	}
	if e, has := m["flush_after"]; has {
		ml.FlushAfter, _ = s.duration(e.Val, "flush_after", true)
	}
	return ml
}

func (d *decoder) outputs(n *yaml.Node) []OutputSpec {
	s := d.scope("")
	items, ok := s.List(n, "outputs")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		s.Errorf(yamlstrict.Deref(n), "outputs: needs at least one output (leave the key out to write to stdout)")
		return nil
	}
	names := make(map[string]string)
	paths := make(map[string]string)
	var out []OutputSpec
	for i, item := range items {
		o, prefix, ok := d.output(item, i+1)
		at := yamlstrict.Deref(item)
		if o.Name != "" {
			if first, dup := names[o.Name]; dup {
				d.Add(at, fmt.Sprintf("%sname %q already used by the output at %s (set name to tell them apart)", prefix, o.Name, first))
				ok = false
			} else {
				names[o.Name] = d.Pos(at)
			}
		}
		if o.Path != "" {
			clean := filepath.Clean(o.Path)
			if first, dup := paths[clean]; dup {
				d.Add(at, fmt.Sprintf("%spath %q is already written by the output at %s", prefix, o.Path, first))
				ok = false
			} else {
				paths[clean] = d.Pos(at)
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
}

// output decodes one output; prefix is how its messages start.
func (d *decoder) output(n *yaml.Node, index int) (o OutputSpec, prefix string, ok bool) {
	prefix = fmt.Sprintf("output %d: ", index)
	if t := peek(n, "type"); t != "" {
		prefix = fmt.Sprintf("output %d (%s): ", index, t)
	}
	s := d.scope(prefix)
	before := d.Reported()
	m, ok := s.Mapping(n, "", "output", append(append(slices.Clip(outputKeys), otlpKeys...), syslogKeys...))
	if !ok {
		return o, prefix, false
	}
	n = yamlstrict.Deref(n)
	o.Events = "forwarded"
	if e, has := m["type"]; has {
		o.Type, _ = s.enum(e.Val, "type", "stdout", "file", "journald", "otlp", "syslog")
	} else {
		s.Errorf(n, "type is required (stdout, file, journald, otlp or syslog)")
	}
	switch o.Type {
	case "otlp":
		o.OTLP = s.otlp(n, m)
		onlyFor(s, m, syslogKeys, "syslog")
	case "syslog":
		o.Syslog = s.syslog(n, m)
		onlyFor(s, m, []string{"endpoint", "headers", "compression", "resource", "batch_bytes"}, "otlp")
	default:
		onlyFor(s, m, otlpKeys, "otlp")
		onlyFor(s, m, syslogKeys, "syslog")
	}
	if e, has := m["identifier"]; has {
		if o.Type != "journald" {
			s.Errorf(e.Key, "identifier: only applies to type journald")
		} else if o.Identifier, _ = s.Str(e.Val, "identifier"); o.Identifier == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "identifier: must not be empty")
		}
	}
	if o.Type == "journald" && o.Identifier == "" {
		o.Identifier = "logsift"
	}
	e, hasPath := m["path"]
	switch {
	case o.Type == "file" && !hasPath:
		s.Errorf(n, "path is required for type file")
	case o.Type == "file":
		var ok bool
		if o.Path, ok = s.Str(e.Val, "path"); ok && o.Path == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "path: must not be empty")
		}
	case o.Type != "file" && hasPath:
		s.Errorf(e.Key, "path: only applies to type file")
	}
	if e, has := m["events"]; has {
		o.Events, _ = s.enum(e.Val, "events", "forwarded", "suppressed", "all")
	}
	if e, has := m["name"]; has {
		var ok bool
		if o.Name, ok = s.Str(e.Val, "name"); ok && o.Name == "" {
			s.Errorf(yamlstrict.Deref(e.Val), "name: must not be empty")
		}
	} else if o.Type == "stdout" || o.Type == "journald" || o.Type == "otlp" || o.Type == "syslog" {
		o.Name = o.Type
	} else if o.Path != "" {
		o.Name = filepath.Base(o.Path)
	}
	return o, prefix, d.Reported() == before
}
