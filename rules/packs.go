package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// Pack is a built-in set of rules for one known source of harmless errors.
type Pack struct {
	Name        string
	Description string
	Default     bool // used when a configuration has no `use` key
	Rules       []*Rule
	// load, when set, parses the pack's file into Rules on first need
	// (see lazyPacks); Description is then left empty.
	load func() *Pack
}

// rules returns the pack's rules, parsing its file first if it is lazy.
func (p *Pack) rules() []*Rule {
	if p.load != nil {
		full := p.load()
		p.Rules, p.Description, p.load = full.Rules, full.Description, nil
	}
	return p.Rules
}

//go:embed packs/*.yaml
var packFiles embed.FS

var packKeys = []string{"pack", "description", "default", "rules"}

// Packs returns the built-in packs, sorted by name, freshly compiled (the
// caller may keep them). It panics if an embedded pack is invalid, which
// the package's tests rule out.
func Packs() []*Pack {
	packs := lazyPacks()
	for i, p := range packs {
		packs[i] = p.load()
	}
	return packs
}

// lazyPacks returns the built-in packs, sorted by name, with their names
// and Default flags known and their rules parsed only when asked for: a
// configuration pays for compiling the packs it uses, not for the others
// (each regexp costs fresh memory and a fraction of a millisecond at
// every start). The name comes from the file name and the flag from the
// file's top-level `default: true` line; the package's tests check both
// against a full parse of every pack.
func lazyPacks() []*Pack {
	files, err := fs.Glob(packFiles, "packs/*.yaml")
	if err != nil {
		panic(fmt.Sprintf("rules: listing embedded packs: %v", err))
	}
	packs := make([]*Pack, 0, len(files))
	for _, file := range files {
		data, err := packFiles.ReadFile(file)
		if err != nil {
			panic(fmt.Sprintf("rules: reading embedded pack: %v", err))
		}
		name := strings.TrimSuffix(path.Base(file), ".yaml")
		packs = append(packs, &Pack{Name: name, Default: declaresDefault(data), load: func() *Pack {
			p, err := ParsePack(file, data)
			if err != nil {
				panic(fmt.Sprintf("rules: embedded pack %s is invalid:\n%v", file, err))
			}
			if p.Name != name {
				panic(fmt.Sprintf("rules: embedded pack %s is named %q; the name must match the file", file, p.Name))
			}
			return p
		}})
	}
	slices.SortFunc(packs, func(a, b *Pack) int { return strings.Compare(a.Name, b.Name) })
	return packs
}

// declaresDefault reports whether a pack file has the top-level line
// `default: true`.
func declaresDefault(data []byte) bool {
	for line := range strings.Lines(string(data)) {
		if strings.TrimRight(line, " \r\n") == "default: true" {
			return true
		}
	}
	return false
}

// ParsePack parses a pack file with the same strict decoding as a
// configuration: `pack` (name), `description`, `default` and `rules`.
// The error, if any, is of type Errors.
func ParsePack(file string, data []byte) (*Pack, error) {
	d := newDecoder(file)
	p := d.pack(d.Document(data))
	if err := d.result(); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) pack(root *yaml.Node) *Pack {
	s := d.scope("")
	if root == nil {
		d.Add(nil, "empty pack: pack and rules are required")
		return nil
	}
	m, ok := s.Mapping(root, "", "pack", packKeys)
	if !ok {
		return nil
	}
	root = yamlstrict.Deref(root)
	p := &Pack{}
	if e, has := m["pack"]; has {
		p.Name, _ = s.name(e.Val, "pack")
	} else {
		s.Errorf(root, "pack is required (the pack's name)")
	}
	if e, has := m["description"]; has {
		p.Description, _ = s.Str(e.Val, "description")
	}
	if e, has := m["default"]; has {
		p.Default, _ = s.boolean(e.Val, "default")
	}
	e, has := m["rules"]
	if !has {
		s.Errorf(root, "rules is required")
		return p
	}
	p.Rules, _ = d.rules(e.Val, p.Name)
	if items, ok := s.List(e.Val, "rules"); ok && len(items) == 0 {
		s.Errorf(yamlstrict.Deref(e.Val), "rules: a pack needs at least one rule")
	}
	return p
}
