package rules

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// override changes some settings of one pack rule, so that keeping a
// pack's partner lines (drop_partner: false), widening its window or
// sampling it needs no copy of the rule.
type override struct {
	node    *yaml.Node // the rule name's key, for messages
	pair    map[string]yamlstrict.Entry
	sample  *yaml.Node
	applied bool
}

var overrideKeys = []string{"pair", "sample"}

// overridablePairKeys are the pair settings an override may change; the
// partner's match is the rule's substance, not a setting.
var overridablePairKeys = []string{"within", "max_wait", "drop_partner", "direction"}

func (d *decoder) overrides(n *yaml.Node) map[string]*override {
	s := d.scope("")
	n = yamlstrict.Deref(n)
	if n.Kind != yaml.MappingNode {
		s.Errorf(n, "overrides: expected a mapping of pack rule names to settings, got %s", yamlstrict.Describe(n))
		return nil
	}
	out := map[string]*override{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		rs := d.scope(fmt.Sprintf("overrides: rule %q: ", name))
		m, ok := rs.Mapping(val, "", "override", overrideKeys)
		if !ok {
			continue
		}
		ov := &override{node: key}
		if e, has := m["pair"]; has {
			if pm, ok := rs.Mapping(e.Val, "pair", "pair override", overridablePairKeys); ok {
				ov.pair = pm
			}
		}
		if e, has := m["sample"]; has {
			ov.sample = e.Val
		}
		out[name] = ov
	}
	return out
}

// apply returns a copy of the pack rule r with the override's settings and
// records what changed in the copy's Overridden.
func (d *decoder) apply(ov *override, r *Rule) *Rule {
	ov.applied = true
	s := d.scope(fmt.Sprintf("overrides: rule %q: ", r.Name))
	cp := *r
	cp.Overridden = nil
	if ov.pair != nil {
		if r.Pair == nil {
			d.Add(ov.node, fmt.Sprintf("overrides: rule %q has no pair to override", r.Name))
		} else {
			p := *r.Pair
			for _, k := range overridablePairKeys {
				e, has := ov.pair[k]
				if !has {
					continue
				}
				switch k {
				case "within":
					p.Within, _ = s.integer(e.Val, "within", 1)
				case "max_wait":
					p.MaxWait, _ = s.duration(e.Val, "max_wait", true)
				case "drop_partner":
					p.DropPartner, _ = s.boolean(e.Val, "drop_partner")
				case "direction":
					p.Direction, _ = s.enum(e.Val, "direction", "any", "before", "after")
				}
				cp.Overridden = append(cp.Overridden, "pair."+k+": "+yamlstrict.Deref(e.Val).Value)
			}
			cp.Pair = &p
		}
	}
	if ov.sample != nil {
		cp.Sample, _ = s.integer(ov.sample, "sample", 0)
		if cp.Action == Keep && cp.Sample > 0 {
			s.Errorf(yamlstrict.Deref(ov.sample), "sample: a keep rule forwards every event already")
		}
		cp.Overridden = append(cp.Overridden, "sample: "+yamlstrict.Deref(ov.sample).Value)
	}
	return &cp
}

// unusedOverrides reports overrides of rules that are not enabled pack
// rules.
func (d *decoder) unusedOverrides(ovs map[string]*override, user []*Rule, inUse map[string]bool, disabled map[string]bool) {
	names := make([]string, 0, len(ovs))
	for name := range ovs {
		names = append(names, name)
	}
	slices.Sort(names)
	var enabled []string
	for name := range inUse {
		if !disabled[name] {
			enabled = append(enabled, name)
		}
	}
	slices.Sort(enabled)
	for _, name := range names {
		ov := ovs[name]
		if ov.applied {
			continue
		}
		switch {
		case slices.ContainsFunc(user, func(r *Rule) bool { return r.Name == name }):
			d.Add(ov.node, fmt.Sprintf("overrides: %q is a rule of this file: change it where it is defined", name))
		case disabled[name]:
			d.Add(ov.node, fmt.Sprintf("overrides: rule %q is disabled", name))
		default:
			d.Add(ov.node, fmt.Sprintf("overrides: no enabled pack rule %q (enabled: %s)", name, strings.Join(enabled, ", ")))
		}
	}
}
