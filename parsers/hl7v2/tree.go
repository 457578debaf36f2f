package hl7v2

import (
	"fmt"
	"github.com/fhirbridge/fhirbridge/internal/segtree"
	"strconv"
	"strings"
	"sync"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// This file adapts a grouped message to the mapping engine's source contract
// (package transform/tree). Paths, as mappings write them:
//
//	ORDER_OBSERVATION/OBSERVATION    groups, each instance in order (from a group)
//	OBR  or  ORDER_OBSERVATION[1]/OBR segments by name ([n]: only the n-th)
//	PID-3   PID-3[2]   PID-5.1   PID-3.4.2   fields, repetitions, components, subcomponents
//	.1   .4.2   CX.1   HD.2      a component (or subcomponent) of the current field or component;
//	                             the data type name is documentation and must be 2–3 letters
//	/MSH-7                       from the message root
//
// A field step selects every non-empty repetition. A segment path from a group selects only
// the group's own children; a segment path from inside a segment that names another segment
// (OBR-7 from an OBX) finds the nearest segment of that name in the enclosing groups, so a
// map can read its context without knowing the message structure. A bare segment name from
// inside a segment (NTE from an OBX) selects the segments of that name in the same group
// only: the notes that follow this observation, never those of its order.

// Schema compiles HL7 v2 paths for the mapping engine.
type Schema struct{}

// Name returns "hl7v2".
func (Schema) Name() string { return "hl7v2" }

// Compile compiles a path.
func (Schema) Compile(p string) (tree.Path, error) {
	return compileNodePath(p)
}

// Tree is a message with its segments grouped by a [Structure]; its nodes are what mappings
// read.
type Tree struct {
	msg  *Message
	root *Group
	// segGroup maps each segment index to the group holding it.
	segGroup []*Group
	slab     []node
	chunks   []*nodeChunk // the chunks slab came from, for Release
	chunkBuf [8]*nodeChunk
	read     []bool // per segment: whether a mapping selected it or anything in it
}

// NewTree groups m by s (nil: no grouping) for mapping.
func NewTree(m *Message, s *Structure) *Tree {
	t := &Tree{msg: m, root: s.Group(m)}
	t.chunks = t.chunkBuf[:0]
	t.segGroup = make([]*Group, m.NumSegments())
	t.read = make([]bool, m.NumSegments())
	var walk func(g *Group)
	walk = func(g *Group) {
		for _, c := range g.Children {
			if c.Group != nil {
				walk(c.Group)
			} else {
				t.segGroup[c.Segment] = g
			}
		}
	}
	walk(t.root)
	return t
}

// Root returns the message node.
func (t *Tree) Root() tree.Node { return t.newNode(node{t: t, kind: kindGroup, g: t.root}) }

// Release lets later trees reuse the memory of t's nodes. Neither t nor any node obtained
// from it (Root, or selected by a path) may be used afterwards; strings read from nodes stay
// valid (they belong to the message).
func (t *Tree) Release() {
	for _, c := range t.chunks {
		clear(c[:]) // drop the references to this message
		nodeChunks.Put(c)
	}
	clear(t.chunks)
	t.chunks, t.slab = t.chunks[:0], nil
}

// Message returns the message.
func (t *Tree) Message() *Message { return t.msg }

// Unread returns the locations of segments that nothing selected — no rule read them or
// anything in them — so a caller can report what a mapping left out. Batch and envelope
// segments are not part of a message and never appear.
func (t *Tree) Unread() []string {
	var out []string
	for i, r := range t.read {
		if !r {
			out = append(out, t.segLocation(i))
		}
	}
	return out
}

// Unexpected returns the locations of segments the structure did not expect where they stand.
func (t *Tree) Unexpected() []string {
	var out []string
	for _, i := range t.root.Unexpected() {
		out = append(out, t.segLocation(i))
	}
	return out
}

type nodeKind uint8

const (
	kindGroup nodeKind = iota
	kindSegment
	kindRep
	kindComp
	kindSub
)

// node is a place in a Tree. Nodes below a segment carry their own span, so reading them
// never walks the message again.
type node struct {
	t    *Tree
	kind nodeKind
	g    *Group // kindGroup
	seg  int    // segment index, for kindSegment and below
	v    span   // kindRep, kindComp, kindSub: the node's bytes and coordinates
}

// nodeChunk is a block of nodes; chunks of released trees are reused.
type nodeChunk [64]node

var nodeChunks = sync.Pool{New: func() any { return new(nodeChunk) }}

// newNode returns a node from the tree's slab: nodes are allocated in chunks, so selecting
// a node costs no allocation of its own. Nodes live as long as the tree (until Release).
func (t *Tree) newNode(n node) *node {
	if n.kind >= kindSegment {
		t.read[n.seg] = true
	}
	if len(t.slab) == cap(t.slab) {
		c := nodeChunks.Get().(*nodeChunk)
		t.chunks = append(t.chunks, c)
		t.slab = c[:0]
	}
	t.slab = append(t.slab, n)
	return &t.slab[len(t.slab)-1]
}

func (n *node) segment() Segment { return n.t.msg.Segment(n.seg) }

// Text returns the node's decoded text. A field repetition's text is its first component; a
// component's text is the whole component, with any subcomponent separator kept as data
// (a stray "&" in a name is far more common than a subcomponent nobody asked for). The HL7
// null value "" reads as empty.
func (n *node) Text() string {
	if n.kind < kindRep || n.v.null() {
		return ""
	}
	if n.kind == kindRep && !n.v.lit {
		c := Rep{n.v}.Component(1)
		if c.v.null() {
			return ""
		}
		return c.Text()
	}
	return n.v.text()
}

// Empty reports whether the node holds no data.
func (n *node) Empty() bool {
	if n.kind < kindRep {
		return false
	}
	return n.v.start >= n.v.end || n.v.null()
}

// Location names the node: "ORDER_OBSERVATION", "OBX[3]", "PID[1]-5[2].1.2".
func (n *node) Location() string {
	if n.kind == kindGroup {
		if n.g.Name == "" {
			return "message"
		}
		return n.g.Name
	}
	var b strings.Builder
	b.WriteString(n.t.segLocation(n.seg))
	if n.kind >= kindRep {
		fmt.Fprintf(&b, "-%d[%d]", n.v.field, n.v.rep)
	}
	if n.kind >= kindComp {
		fmt.Fprintf(&b, ".%d", n.v.comp)
	}
	if n.kind >= kindSub {
		fmt.Fprintf(&b, ".%d", n.v.sub)
	}
	return b.String()
}

// segLocation names segment i as NAME[k], k counting segments of that name from 1.
func (t *Tree) segLocation(i int) string {
	name := t.msg.Segment(i).Name()
	k := 0
	for j := 0; j <= i; j++ {
		if t.msg.Segment(j).Name() == name {
			k++
		}
	}
	return name + "[" + strconv.Itoa(k) + "]"
}

// nodePath is a compiled path.
type nodePath struct {
	src    string
	abs    bool
	steps  []groupStep // group/segment steps
	field  int         // 0: none
	rep    int         // 0: every repetition
	comp   int         // 0: none
	sub    int         // 0: none
	rel    bool        // a relative component path (".1", "CX.1")
	typed  string      // the data type it is written with ("CX" in "CX.1"), or ""
	relDep int         // number of relative levels (1 or 2)
}

type groupStep struct {
	name string
	code int // name's segment code (nameCode), or -1: no segment has the name
	idx  int // 0: every instance
}

// is reports whether child c of a group has the step's name.
func (st *groupStep) is(m *Message, c Child) bool {
	if c.Group != nil {
		return c.Group.Name == st.name
	}
	return int(m.segs[c.Segment].code) == st.code
}

func (p *nodePath) String() string { return p.src }

// DataType returns the data type a component path is written with ("CX" for "CX.4"), or ""
// (see tree.Typed).
func (p *nodePath) DataType() string { return p.typed }

func compileNodePath(src string) (*nodePath, error) {
	p := &nodePath{src: src}
	s := strings.TrimSpace(src)
	if s == "" {
		return nil, fmt.Errorf("hl7v2: empty path")
	}
	bad := func(why string) error { return fmt.Errorf("hl7v2: bad path %q: %s", src, why) }
	// Relative component paths: ".1", ".4.2", "CX.1", "HD.2".
	if s[0] == '.' || (len(s) >= 3 && strings.IndexByte(s, '-') < 0 && strings.IndexByte(s, '/') < 0 && strings.IndexByte(s, '.') > 0) {
		name, rest, _ := strings.Cut(s, ".")
		if name != "" && (len(name) < 2 || len(name) > 3 || !segtree.ValidName(name)) {
			return nil, bad("a component path is .N or TYPE.N (e.g. CX.1); use SEG-N for a field")
		}
		nums := strings.Split(rest, ".")
		if len(nums) < 1 || len(nums) > 2 {
			return nil, bad("a component path has one or two numbers")
		}
		for i, x := range nums {
			v, err := strconv.Atoi(x)
			if err != nil || v < 1 {
				return nil, bad("component numbers start at 1")
			}
			if i == 0 {
				p.comp = v
			} else {
				p.sub = v
			}
		}
		p.rel, p.relDep, p.typed = true, len(nums), name
		return p, nil
	}
	if s[0] == '/' {
		p.abs, s = true, s[1:]
	}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		last := i == len(parts)-1
		name, fieldSpec, hasField := strings.Cut(part, "-")
		if hasField && !last {
			return nil, bad("only the last step can name a field")
		}
		st := groupStep{name: name}
		if j := strings.IndexByte(name, '['); j >= 0 {
			if !strings.HasSuffix(name, "]") {
				return nil, bad("missing ]")
			}
			v, err := strconv.Atoi(name[j+1 : len(name)-1])
			if err != nil || v < 1 {
				return nil, bad("an index is a number from 1")
			}
			st.name, st.idx = name[:j], v
		}
		if !segtree.ValidName(st.name) {
			if strings.Contains(st.name, ".") {
				return nil, bad("use SEG-N for a field (PID-3, not PID.3)")
			}
			return nil, bad(fmt.Sprintf("%q is not a segment or group name", st.name))
		}
		if hasField && len(st.name) != 3 {
			return nil, bad("a field belongs to a segment, whose name has 3 characters")
		}
		st.code = -1
		if len(st.name) == 3 {
			st.code = nameCode([]byte(st.name))
		}
		p.steps = append(p.steps, st)
		if hasField {
			if err := p.parseField(fieldSpec); err != nil {
				return nil, bad(err.Error())
			}
		}
	}
	return p, nil
}

// parseField reads "5", "5[2]", "5.1", "5[2].1.2".
func (p *nodePath) parseField(s string) error {
	nums := strings.Split(s, ".")
	if len(nums) > 3 {
		return fmt.Errorf("too many parts after the field")
	}
	f := nums[0]
	if j := strings.IndexByte(f, '['); j >= 0 {
		if !strings.HasSuffix(f, "]") {
			return fmt.Errorf("missing ]")
		}
		v, err := strconv.Atoi(f[j+1 : len(f)-1])
		if err != nil || v < 1 {
			return fmt.Errorf("a repetition is a number from 1")
		}
		p.rep, f = v, f[:j]
	}
	v, err := strconv.Atoi(f)
	if err != nil || v < 1 {
		return fmt.Errorf("field numbers start at 1")
	}
	p.field = v
	for i, x := range nums[1:] {
		v, err := strconv.Atoi(x)
		if err != nil || v < 1 {
			return fmt.Errorf("component numbers start at 1")
		}
		if i == 0 {
			p.comp = v
		} else {
			p.sub = v
		}
	}
	return nil
}

// Select implements tree.Path.
func (p *nodePath) Select(from tree.Node, dst []tree.Node) []tree.Node {
	n, ok := from.(*node)
	if !ok {
		return dst
	}
	if p.rel {
		return p.selectRel(n, dst)
	}
	t := n.t
	// Where the first step is looked up.
	var scopes []*Group
	switch {
	case p.abs:
		scopes = []*Group{t.root}
	case n.kind == kindGroup:
		scopes = []*Group{n.g}
	default:
		// From inside a segment: the segment itself when the names agree and it is a
		// one-step path, else the nearest enclosing group that has the name.
		if len(p.steps) == 1 && int(t.msg.segs[n.seg].code) == p.steps[0].code && p.steps[0].idx == 0 {
			return p.selectFields(n.t, n.seg, dst)
		}
		for g := t.segGroup[n.seg]; g != nil; g = g.Parent {
			scopes = append(scopes, g)
			if p.field == 0 {
				break // a segment selection looks at its own group only: NTE after this OBX
			}
		}
	}
	for _, g := range scopes {
		before := len(dst)
		dst = p.selectSteps(t, g, 0, dst)
		if len(dst) > before || n.kind == kindGroup || p.abs {
			break
		}
	}
	return dst
}

func (p *nodePath) selectSteps(t *Tree, g *Group, i int, dst []tree.Node) []tree.Node {
	st := &p.steps[i]
	last := i == len(p.steps)-1
	k := 0
	for _, c := range g.Children {
		if !st.is(t.msg, c) {
			continue
		}
		k++
		if st.idx != 0 && k != st.idx {
			continue
		}
		switch {
		case c.Group != nil && last:
			dst = append(dst, t.newNode(node{t: t, kind: kindGroup, g: c.Group}))
		case c.Group != nil:
			dst = p.selectSteps(t, c.Group, i+1, dst)
		case last && p.field == 0:
			dst = append(dst, t.newNode(node{t: t, kind: kindSegment, seg: c.Segment}))
		case last:
			dst = p.selectFields(t, c.Segment, dst)
		}
	}
	return dst
}

// selectFields appends the non-empty field repetitions (or their components) of segment seg.
func (p *nodePath) selectFields(t *Tree, seg int, dst []tree.Node) []tree.Node {
	if p.field == 0 {
		return append(dst, t.newNode(node{t: t, kind: kindSegment, seg: seg}))
	}
	f := t.msg.Segment(seg).Field(p.field)
	if f.Empty() {
		return dst
	}
	reps := f.NumReps()
	for r := 1; r <= reps; r++ {
		if p.rep != 0 && r != p.rep {
			continue
		}
		n := node{t: t, kind: kindRep, seg: seg, v: f.Rep(r).v}
		if p.comp > 0 {
			n.kind, n.v = kindComp, Rep{n.v}.Component(p.comp).v
		}
		if p.sub > 0 {
			n.kind, n.v = kindSub, Component{n.v}.Sub(p.sub).v
		}
		if !n.Empty() {
			dst = append(dst, t.newNode(n))
		}
	}
	return dst
}

// selectRel appends the component (or subcomponent) of a field repetition or component node.
func (p *nodePath) selectRel(n *node, dst []tree.Node) []tree.Node {
	c := *n
	switch n.kind {
	case kindRep:
		c.kind, c.v = kindComp, Rep{n.v}.Component(p.comp).v
		if p.relDep == 2 {
			c.kind, c.v = kindSub, Component{c.v}.Sub(p.sub).v
		}
	case kindComp:
		if p.relDep == 2 {
			return dst // a component has no sub-subcomponents
		}
		c.kind, c.v = kindSub, Component{n.v}.Sub(p.comp).v
	default:
		return dst
	}
	if c.Empty() {
		return dst
	}
	return append(dst, n.t.newNode(c))
}
