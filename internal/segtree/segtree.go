package segtree

import (
	"fmt"
	"strings"
)

// Structure is a message structure: the segments of a message type and how they group —
// HL7 v2's abstract message syntax (v2.5.1 §2.12) or an EDIFACT message's segment groups
// (ISO 9735 §5.5, a group triggered by its first segment). A Structure is immutable.
type Structure struct {
	Name string
	root *groupDef
}

type groupDef struct {
	name  string
	elems []elemDef
	first map[string]bool // segment names that can start the group
}

type elemDef struct {
	name     string    // segment or group name
	group    *groupDef // nil for a segment
	optional bool
	repeat   bool
}

// Parse parses the bracket notation of the HL7 standard's abstract message syntax, which
// fhirbridge uses for EDIFACT too: segments by (3-character) name, [ ] for optional, { } for
// repeating, and NAME( … ) for a named group:
//
//	MSH [{SFT}] EVN PID [PD1] [{NK1}] PV1 [PV2] [{PROCEDURE(PR1 [{ROL}])}]
//	UNH BGM {DTM} {SG1(S01 NAD {RFF} SPR)} {SG18(GIS INV [SEQ] {RSL})} UNT
//
// Errors name the structure but carry no package prefix; callers add theirs.
func Parse(name, notation string) (*Structure, error) {
	p := &structParser{src: notation}
	p.tokens()
	g, err := p.seq(name, "")
	if err != nil {
		return nil, fmt.Errorf("structure %s: %w", name, err)
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("structure %s: unexpected %q", name, p.toks[p.i])
	}
	if len(g.elems) == 0 {
		return nil, fmt.Errorf("structure %s is empty", name)
	}
	return &Structure{Name: name, root: g}, nil
}

type structParser struct {
	src  string
	toks []string
	i    int
}

func (p *structParser) tokens() {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case strings.IndexByte("[]{}()", c) >= 0:
			p.toks = append(p.toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n\r,[]{}()", s[j]) < 0 {
				j++
			}
			p.toks = append(p.toks, s[i:j])
			i = j
		}
	}
}

func (p *structParser) seq(name, closer string) (*groupDef, error) {
	g := &groupDef{name: name}
	for p.i < len(p.toks) && p.toks[p.i] != closer {
		e, err := p.item()
		if err != nil {
			return nil, err
		}
		g.elems = append(g.elems, e)
	}
	if closer != "" {
		if p.i >= len(p.toks) {
			return nil, fmt.Errorf("missing %q", closer)
		}
		p.i++
	}
	g.first = firstSet(g)
	return g, nil
}

func (p *structParser) item() (elemDef, error) {
	t := p.toks[p.i]
	switch t {
	case "[", "{":
		closer := "]"
		if t == "{" {
			closer = "}"
		}
		p.i++
		if p.i >= len(p.toks) {
			return elemDef{}, fmt.Errorf("missing %q", closer)
		}
		e, err := p.item()
		if err != nil {
			return elemDef{}, err
		}
		if p.i >= len(p.toks) || p.toks[p.i] != closer {
			return elemDef{}, fmt.Errorf("expected %q after %s (name a group with NAME( … ) to bracket several items)", closer, e.name)
		}
		p.i++
		if t == "[" {
			e.optional = true
		} else {
			e.repeat = true
		}
		return e, nil
	case "]", "}", "(", ")":
		return elemDef{}, fmt.Errorf("unexpected %q", t)
	}
	p.i++
	if !ValidName(t) {
		return elemDef{}, fmt.Errorf("bad segment or group name %q", t)
	}
	if p.i < len(p.toks) && p.toks[p.i] == "(" {
		p.i++
		g, err := p.seq(t, ")")
		if err != nil {
			return elemDef{}, err
		}
		return elemDef{name: t, group: g}, nil
	}
	if len(t) != 3 {
		return elemDef{}, fmt.Errorf("segment name %q must have 3 characters (a group needs ( … ))", t)
	}
	return elemDef{name: t}, nil
}

// ValidName reports whether s can name a segment or a group: upper-case letters, digits and
// underscores.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// declares reports whether the group lists the segment itself (not in a nested group).
func (g *groupDef) declares(name string) bool {
	for _, e := range g.elems {
		if e.group == nil && e.name == name {
			return true
		}
	}
	return false
}

// firstSet is the set of segment names that can start g: its first element's, and the next
// one's while the elements before are optional.
func firstSet(g *groupDef) map[string]bool {
	out := map[string]bool{}
	for _, e := range g.elems {
		if e.group != nil {
			for k := range e.group.first {
				out[k] = true
			}
		} else {
			out[e.name] = true
		}
		if !e.optional {
			break
		}
	}
	return out
}

// Group is one instance of a group of a message structure, or the message itself (the root).
type Group struct {
	Name     string
	Parent   *Group
	Children []Child // in message order
	def      *groupDef
	pos      int // index in def.elems of the last element matched
	nkids    int // while grouping: the children found so far
}

// Unexpected returns, in message order, the indexes of the segments below g that the
// structure did not expect where they stand.
func (g *Group) Unexpected() []int {
	var out []int
	for _, c := range g.Children {
		if c.Group != nil {
			out = append(out, c.Group.Unexpected()...)
		} else if c.Unexpected {
			out = append(out, c.Segment)
		}
	}
	return out
}

// Child is a segment (Group == nil) or a nested group of a [Group].
type Child struct {
	Segment int    // segment index in the message, when Group is nil
	Group   *Group // a nested group
	// Unexpected is true for a segment that the structure does not allow where it stands. It
	// is kept in the group where it was found, so nothing is lost, and reported by Tree.
	Unexpected bool
}

// Group arranges a message's segments, given by their names in order, into the groups of s.
// It is tolerant, as real messages need: a segment the structure does not expect where it
// stands is kept in the nearest enclosing group that lists it (else the innermost open group)
// and marked Unexpected; a required segment that is missing is simply absent. With a nil
// Structure every segment is a child of the root.
func (s *Structure) Group(n int, name func(i int) string) *Group {
	if s == nil {
		root := &Group{Name: "", pos: -1, def: &groupDef{}}
		if n > 0 {
			root.Children = make([]Child, n)
			for i := range root.Children {
				root.Children[i] = Child{Segment: i}
			}
		}
		return root
	}
	// Place every segment first, recording (group, child) in order; then give each group
	// its children from one shared array, so grouping costs a few allocations, not a few per
	// group.
	gb := groupBuilder{placed: make([]placed, 0, n+n/2)}
	root := gb.newGroup(s.Name, nil, s.root)
	cur := root
	for i := 0; i < n; i++ {
		name := name(i)
		g := gb.place(cur, name)
		if g == nil {
			// Out of order (a real-world habit): keep it in the nearest enclosing group that
			// declares the segment at all, so a mapping that looks for it there finds it.
			home := cur
			for at := cur; at != nil; at = at.Parent {
				if at.def.declares(name) {
					home = at
					break
				}
			}
			gb.add(home, Child{Segment: i, Unexpected: true})
			continue
		}
		gb.add(g, Child{Segment: i})
		cur = g
	}
	all := make([]Child, len(gb.placed))
	off := 0
	for _, c := range gb.placed { // a group's first child comes after the group exists
		if g := c.g; g.Children == nil {
			g.Children = all[off : off : off+g.nkids]
			off += g.nkids
		}
	}
	for _, c := range gb.placed {
		c.g.Children = append(c.g.Children, c.c)
	}
	for _, c := range gb.placed {
		c.g.nkids = 0
	}
	return root
}

// groupBuilder holds the state of one Structure.Group call.
type groupBuilder struct {
	placed []placed // every child, in the order it was found
	groups []Group  // a block of groups to hand out
}

type placed struct {
	g *Group
	c Child
}

func (b *groupBuilder) add(g *Group, c Child) {
	g.nkids++
	b.placed = append(b.placed, placed{g, c})
}

func (b *groupBuilder) newGroup(name string, parent *Group, def *groupDef) *Group {
	if len(b.groups) == cap(b.groups) {
		b.groups = make([]Group, 0, 16) // a new block: groups handed out stay where they are
	}
	b.groups = append(b.groups, Group{Name: name, Parent: parent, def: def, pos: -1})
	return &b.groups[len(b.groups)-1]
}

// place finds where segment name goes, starting in group g at its current position, opening
// new group instances and closing finished ones. It returns the group the segment belongs to,
// with its position advanced, or nil when no place fits.
func (b *groupBuilder) place(g *Group, name string) *Group {
	for at := g; at != nil; at = at.Parent {
		if found := b.placeIn(at, name); found != nil {
			return found
		}
	}
	return nil
}

// placeIn looks for name in g from g.pos on: the current element again if it repeats, then
// the later ones.
func (b *groupBuilder) placeIn(g *Group, name string) *Group {
	start := g.pos
	if start < 0 {
		start = 0
	}
	for i := start; i < len(g.def.elems); i++ {
		e := g.def.elems[i]
		if i == g.pos && !e.repeat {
			continue
		}
		if e.group == nil {
			if e.name == name {
				g.pos = i
				return g
			}
			continue
		}
		if e.group.first[name] {
			g.pos = i
			child := b.newGroup(e.name, g, e.group)
			b.add(g, Child{Group: child})
			if inner := b.placeIn(child, name); inner != nil {
				return inner
			}
		}
	}
	return nil
}
