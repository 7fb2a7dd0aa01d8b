package rules

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/logsift/logsift/internal/yamlstrict"
)

// Action is what a matching rule does with an event.
type Action int

const (
	// Drop suppresses the event (subject to Sample and Pair).
	Drop Action = iota
	// Keep forwards the event and ends evaluation: an explicit exception
	// to the rules after it.
	Keep
)

// String returns the action as written in the config.
func (a Action) String() string {
	if a == Keep {
		return "keep"
	}
	return "drop"
}

// Rule is one compiled rule. Rules are immutable once loaded and safe for
// concurrent use.
type Rule struct {
	Name        string
	Description string
	Pack        string // the built-in pack it comes from, "" for user rules
	Match       Matcher
	Pair        *Pair // nil when the rule needs no partner event
	Action      Action
	Sample      int       // let 1 in Sample matched events through; 0 = none
	Expires     time.Time // UTC midnight of the expiry date; zero when unset
	Pos         string    // "FILE:LINE:COL" of the rule, for messages
	// Overridden lists the settings of a pack rule that the configuration's
	// overrides changed ("pair.drop_partner: false"), for `logsift rules`.
	Overridden []string
}

// Pair makes a rule suppress an event only together with a partner event
// from the same source.
type Pair struct {
	Match       Matcher
	Within      int           // the partner is among this many events before or after
	MaxWait     time.Duration // longest an event is held back waiting for its partner
	DropPartner bool          // suppress the partner too
	// Direction is where the partner may be: "any" (default), "before" or
	// "after" the matched event. A server that always logs the access line
	// first (Werkzeug) or last (eventlet, gunicorn) pairs more safely when
	// the rule says so: a look-alike cannot borrow the next event's partner.
	Direction string
}

// Defaults of a rule's optional settings.
const (
	DefaultPairWithin  = 64
	DefaultPairMaxWait = 2 * time.Second
)

var (
	ruleKeys  = []string{"name", "description", "match", "pair", "action", "sample", "expires"}
	matchKeys = []string{"contains", "regex", "field", "not", "any", "all"}
	pairKeys  = []string{"match", "within", "max_wait", "drop_partner", "direction"}
)

// ruleRef is where a rule name was defined. It is kept even for rules with
// other errors, so that duplicate names are reported in the same pass.
type ruleRef struct {
	name string
	node *yaml.Node // the rule's mapping
	pos  string
}

// rules decodes a list of rules. It returns the valid rules and a ruleRef
// for every rule that has a name, and reports duplicate names in the list.
func (d *decoder) rules(n *yaml.Node, pack string) ([]*Rule, []ruleRef) {
	s := d.scope("")
	items, ok := s.List(n, "rules")
	if !ok {
		return nil, nil
	}
	var out []*Rule
	var refs []ruleRef
	seen := make(map[string]ruleRef)
	for i, item := range items {
		r, ref := d.rule(item, i+1, pack)
		if r != nil {
			out = append(out, r)
		}
		if ref.name == "" {
			continue
		}
		if first, dup := seen[ref.name]; dup {
			d.Add(ref.node, fmt.Sprintf("rule %q: name already used by the rule at %s", ref.name, first.pos))
			continue
		}
		seen[ref.name] = ref
		refs = append(refs, ref)
	}
	return out, refs
}

// rule decodes one rule; index (from 1) names it in messages until its
// name is known. The rule is nil if it has any error.
func (d *decoder) rule(n *yaml.Node, index int, pack string) (*Rule, ruleRef) {
	prefix := fmt.Sprintf("rule %d: ", index)
	if name := peek(n, "name"); name != "" {
		prefix = fmt.Sprintf("rule %q: ", name)
	}
	s := d.scope(prefix)
	before := d.Reported()
	m, ok := s.Mapping(n, "", "rule", ruleKeys)
	if !ok {
		return nil, ruleRef{}
	}
	n = yamlstrict.Deref(n)
	r := &Rule{Pack: pack, Action: Drop, Pos: d.Pos(n)}
	var ref ruleRef
	if e, has := m["name"]; has {
		if v, ok := s.name(e.Val, "name"); ok {
			r.Name = v
			ref = ruleRef{name: v, node: n, pos: r.Pos}
		}
	} else {
		s.Errorf(n, "name is required")
	}
	if e, has := m["description"]; has {
		r.Description, _ = s.Str(e.Val, "description")
	}
	if e, has := m["match"]; has {
		r.Match = s.match(e.Val, "match")
	} else {
		s.Errorf(n, "match is required")
	}
	if e, has := m["action"]; has {
		if v, ok := s.enum(e.Val, "action", "drop", "keep"); ok && v == "keep" {
			r.Action = Keep
		}
	}
	if e, has := m["pair"]; has {
		r.Pair = s.pair(e.Val)
		if r.Action == Keep {
			s.Errorf(yamlstrict.Deref(e.Key), "pair: only applies to action drop")
		}
	}
	if e, has := m["sample"]; has {
		r.Sample, _ = s.integer(e.Val, "sample", 0)
		if r.Action == Keep && r.Sample > 0 {
			s.Errorf(yamlstrict.Deref(e.Key), "sample: only applies to action drop")
		}
	}
	if e, has := m["expires"]; has {
		if v, ok := s.Str(e.Val, "expires"); ok {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				s.Errorf(yamlstrict.Deref(e.Val), "expires: invalid date %q (want YYYY-MM-DD)", v)
			}
			r.Expires = t
		}
	}
	if d.Reported() > before {
		return nil, ref
	}
	return r, ref
}

// match decodes a match form: a mapping whose keys must all hold.
func (s scope) match(n *yaml.Node, key string) Matcher {
	before := s.d.Reported()
	m, ok := s.Mapping(n, key, "match", matchKeys)
	if !ok {
		return nil
	}
	// A mapping of only unknown keys has been reported already.
	keysOK := s.d.Reported() == before
	if len(m) == 0 {
		if keysOK {
			s.Errorf(yamlstrict.Deref(n), "%s: needs at least one of contains, regex, field, not, any or all", key)
		}
		return nil
	}
	// Cheapest first: a substring scan rejects most events before any
	// regexp or nested form runs.
	var parts []Matcher
	valid := keysOK
	keep := func(x Matcher, ok bool) {
		if ok && x != nil {
			parts = append(parts, x)
		} else {
			valid = false
		}
	}
	if e, has := m["contains"]; has {
		keep(s.contains(e.Val))
	}
	if e, has := m["field"]; has {
		keep(s.field(e.Val))
	}
	if e, has := m["not"]; has {
		if inner := s.match(e.Val, "not"); inner != nil {
			keep(notMatcher{inner}, true)
		} else {
			keep(nil, false)
		}
	}
	if e, has := m["regex"]; has {
		keep(s.regexMatcher(e.Val))
	}
	if e, has := m["any"]; has {
		subs, ok := s.matchList(e.Val, "any")
		keep(anyMatcher(subs), ok)
	}
	if e, has := m["all"]; has {
		subs, ok := s.matchList(e.Val, "all")
		keep(allMatcher(subs), ok)
	}
	if !valid {
		return nil
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return allMatcher(parts)
}

func (s scope) matchList(n *yaml.Node, key string) ([]Matcher, bool) {
	items, ok := s.List(n, key)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		s.Errorf(yamlstrict.Deref(n), "%s: needs at least one match form", key)
		return nil, false
	}
	out := make([]Matcher, 0, len(items))
	for _, item := range items {
		m := s.match(item, key)
		if m == nil {
			ok = false
			continue
		}
		out = append(out, m)
	}
	return out, ok
}

// contains decodes a string or a non-empty list of strings.
func (s scope) contains(n *yaml.Node) (Matcher, bool) {
	items, ok := s.StrList(n, "contains")
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		s.Errorf(yamlstrict.Deref(n), "contains: needs at least one string")
		return nil, false
	}
	needles := make([]string, 0, len(items))
	for _, item := range items {
		if item.Value == "" {
			s.Errorf(item, "contains: the empty string matches every event")
			ok = false
			continue
		}
		needles = append(needles, item.Value)
	}
	if !ok {
		return nil, false
	}
	return newContains(needles), true
}

func (s scope) pair(n *yaml.Node) *Pair {
	m, ok := s.Mapping(n, "pair", "pair", pairKeys)
	if !ok {
		return nil
	}
	p := &Pair{Within: DefaultPairWithin, MaxWait: DefaultPairMaxWait, DropPartner: true, Direction: "any"}
	if e, has := m["match"]; has {
		p.Match = s.match(e.Val, "match")
	} else {
		s.Errorf(yamlstrict.Deref(n), "pair: match is required")
	}
	if e, has := m["within"]; has {
		p.Within, _ = s.integer(e.Val, "within", 1)
	}
	if e, has := m["max_wait"]; has {
		p.MaxWait, _ = s.duration(e.Val, "max_wait", true)
	}
	if e, has := m["drop_partner"]; has {
		p.DropPartner, _ = s.boolean(e.Val, "drop_partner")
	}
	if e, has := m["direction"]; has {
		p.Direction, _ = s.enum(e.Val, "direction", "any", "before", "after")
	}
	return p
}
