package edifact

import (
	"fmt"
	"github.com/fhirbridge/fhirbridge/internal/segtree"
	"strconv"
	"strings"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// This file adapts a grouped message to the mapping engine's source contract (package
// transform/tree). The path language is documented in docs/edifact.md:
//
//	SG16/SEQ  SG16[2]/SPC       segment groups and segments by tag ([n]: only the n-th)
//	NAD+PO  DTM+ISR             a segment whose first component (the qualifier) is PO
//	NAD-3  NAD-3.1  NAD-4.*     element 3 (its text is its first component), component 1,
//	                            every component
//	PNA-*[SU].2                 every element whose first component is SU; its component 2
//	NAD-3[2]                    the 2nd repetition (syntax version 4)
//	.2  .*                      a component of the current element
//	/UNB-2.1  /DTM+137-1.2      from the message root; the root also reaches UNB and UNG
//	SG18[SEQ]                   groups (or segments) for which a path reaches something
//	SG18[RFF+ARL-1.2=current()/SEQ-2]
//	                            … for which it reaches the text the path after current()/
//	                            reaches from the context node (a join on reference numbers)
//	SG1[NAD-1='PO']             … for which it reaches a literal text

// Schema compiles EDIFACT paths for the mapping engine.
type Schema struct{}

// Name returns "edifact".
func (Schema) Name() string { return "edifact" }

// Compile compiles a path.
func (Schema) Compile(p string) (tree.Path, error) { return compilePath(p) }

// Tree is a message with its segments arranged in the groups of a [Structure]; its nodes
// are what mappings read.
type Tree struct {
	msg      *Message
	root     *SegGroup
	segGroup []*SegGroup
	read     []bool
	peeking  int // >0 while a predicate looks: nothing is marked read
	slab     []node
}

// NewTree arranges m by s (nil: every segment a child of the root) for mapping.
func NewTree(m *Message, s *Structure) *Tree {
	t := &Tree{msg: m, root: s.Group(m)}
	t.segGroup = make([]*SegGroup, len(m.segs))
	t.read = make([]bool, len(m.segs))
	var walk func(g *SegGroup)
	walk = func(g *SegGroup) {
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
func (t *Tree) Root() tree.Node { return t.newNode(node{t: t, kind: kGroup, g: t.root, seg: -1}) }

// Message returns the message.
func (t *Tree) Message() *Message { return t.msg }

// Unread returns the locations of segments nothing selected (UNH and UNT excepted).
func (t *Tree) Unread() []string {
	var out []string
	for i, r := range t.read {
		if !r && i > 0 && i < len(t.read)-1 {
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
	kGroup nodeKind = iota
	kSegment
	kElement
	kComponent
)

type node struct {
	t    *Tree
	kind nodeKind
	g    *SegGroup
	seg  int      // index in the message; -1 for a group; -2 UNB, -3 UNG
	s    *Segment // the segment, for kSegment and below
	el   int32    // index in d.elems, for kElement and below
	comp int      // 1-based, for kComponent
}

func (t *Tree) newNode(n node) *node {
	if t.peeking == 0 {
		if n.seg >= 0 {
			t.read[n.seg] = true
		} else if n.kind == kGroup && len(n.g.Children) > 0 && n.g.Children[0].Group == nil {
			t.read[n.g.Children[0].Segment] = true // a group's trigger (S01, S16, GIS) is read with it
		}
	}
	if len(t.slab) == cap(t.slab) {
		t.slab = make([]node, 0, 64)
	}
	t.slab = append(t.slab, n)
	return &t.slab[len(t.slab)-1]
}

// Text returns the node's decoded text: a component's text, an element's first component,
// "" for a segment or group.
func (n *node) Text() string {
	switch n.kind {
	case kElement:
		er := n.s.d.elems[n.el]
		if er.count == 0 {
			return ""
		}
		sp := n.s.d.comps[er.first]
		return n.s.d.text[sp.start:sp.end]
	case kComponent:
		er := n.s.d.elems[n.el]
		if n.comp > int(er.count) {
			return ""
		}
		sp := n.s.d.comps[er.first+int32(n.comp)-1]
		return n.s.d.text[sp.start:sp.end]
	}
	return ""
}

// Empty reports whether the node holds no data.
func (n *node) Empty() bool {
	switch n.kind {
	case kElement:
		er := n.s.d.elems[n.el]
		for j := int32(0); j < er.count; j++ {
			if sp := n.s.d.comps[er.first+j]; sp.end > sp.start {
				return false
			}
		}
		return true
	case kComponent:
		return n.Text() == ""
	}
	return false
}

// Location names the node: "SG16[1]", "NAD[3]-2.1" (the third NAD of the message).
func (n *node) Location() string {
	if n.kind == kGroup {
		if n.g.Parent == nil {
			return "message"
		}
		return n.g.Name
	}
	var b strings.Builder
	switch n.seg {
	case -2:
		b.WriteString("UNB")
	case -3:
		b.WriteString("UNG")
	default:
		b.WriteString(n.t.segLocation(n.seg))
	}
	if n.kind >= kElement {
		er := n.s.d.elems[n.el]
		fmt.Fprintf(&b, "-%d", er.pos)
		if er.rep > 1 {
			fmt.Fprintf(&b, "[%d]", er.rep)
		}
	}
	if n.kind == kComponent {
		fmt.Fprintf(&b, ".%d", n.comp)
	}
	return b.String()
}

func (t *Tree) segLocation(i int) string {
	name := t.msg.segs[i].Tag
	k := 0
	for j := 0; j <= i; j++ {
		if t.msg.segs[j].Tag == name {
			k++
		}
	}
	return name + "[" + strconv.Itoa(k) + "]"
}

// path is a compiled path.
type path struct {
	src   string
	abs   bool
	steps []pstep
	elem  *elemSpec
	rel   *elemSpec // a relative component path (".2")
	typed string    // the composite a relative path is written with ("C080" in "C080.2")
}

// DataType returns the composite a relative component path is written with ("C080" for
// "C080.2"), or "" (see tree.Typed).
func (p *path) DataType() string { return p.typed }

type pstep struct {
	name  string
	qual  string // "+PO": the segment's first component
	hasQ  bool
	idx   int // 0: every instance
	preds []pred
}

type pred struct {
	sub     *path
	cmp     bool
	current *path  // current()/…: evaluated from the context node
	lit     string // a literal
}

type elemSpec struct {
	pos  int    // 0: every element ("*")
	rep  int    // 0: every repetition
	qual string // element filter on its first component ("*[SU]")
	comp int    // 0: none; -1: every component
}

func (p *path) String() string { return p.src }

func compilePath(src string) (*path, error) {
	s := strings.TrimSpace(src)
	if s == "" {
		return nil, fmt.Errorf("edifact: empty path")
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, fmt.Errorf("edifact: bad path %q: %v", src, err)
	}
	p.src = src
	return p, nil
}

func parsePath(s string) (*path, error) {
	p := &path{src: s}
	// Relative component paths: ".2", ".*", or written with the composite's name, "C080.2"
	// (typed: in a map whose source is C080, relative to the node the map was applied to).
	if name, rest, ok := strings.Cut(s, "."); ok && !strings.ContainsAny(s, "-/[+") && (name == "" || len(name) >= 2 && len(name) <= 4 && segtree.ValidName(name)) {
		first, second, two := strings.Cut(rest, ".")
		e, err := parseComp(first)
		if err != nil {
			return nil, err
		}
		if two {
			// EDIFACT components have no parts. A second number is accepted, and selects
			// nothing, so that maps written for formats with subcomponents (HL7 v2 "XCN.9.1"),
			// which the engine also checks against this schema, still compile.
			if _, err := parseComp(second); err != nil {
				return nil, err
			}
			e = 0
		}
		p.rel, p.typed = &elemSpec{comp: e}, name
		return p, nil
	}
	if s[0] == '/' {
		p.abs, s = true, s[1:]
	}
	for len(s) > 0 {
		// A step runs to the next '/' or '-' outside brackets.
		i, depth := 0, 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
			} else if depth == 0 && (c == '/' || c == '-') {
				break
			}
		}
		if depth != 0 {
			return nil, fmt.Errorf("unbalanced [ ]")
		}
		st, err := parseStep(s[:i])
		if err != nil {
			return nil, err
		}
		p.steps = append(p.steps, st)
		if i == len(s) {
			break
		}
		if s[i] == '-' {
			if len(st.name) != 3 {
				return nil, fmt.Errorf("an element belongs to a segment, whose tag has 3 characters")
			}
			e, err := parseElem(s[i+1:])
			if err != nil {
				return nil, err
			}
			p.elem = e
			break
		}
		s = s[i+1:]
		if s == "" {
			return nil, fmt.Errorf("empty step after /")
		}
	}
	return p, nil
}

func parseStep(s string) (pstep, error) {
	var st pstep
	name := s
	if j := strings.IndexByte(s, '['); j >= 0 {
		name = s[:j]
		rest := s[j:]
		for rest != "" {
			if rest[0] != '[' {
				return st, fmt.Errorf("unexpected %q", rest)
			}
			depth, k := 0, 0
			for ; k < len(rest); k++ {
				if rest[k] == '[' {
					depth++
				} else if rest[k] == ']' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if k == len(rest) {
				return st, fmt.Errorf("missing ]")
			}
			in := rest[1:k]
			rest = rest[k+1:]
			if v, err := strconv.Atoi(in); err == nil {
				if v < 1 {
					return st, fmt.Errorf("an index is a number from 1")
				}
				st.idx = v
				continue
			}
			pr, err := parsePred(in)
			if err != nil {
				return st, err
			}
			st.preds = append(st.preds, pr)
		}
	}
	if n, q, ok := strings.Cut(name, "+"); ok {
		name, st.qual, st.hasQ = n, q, true
	}
	if !segtree.ValidName(name) {
		return st, fmt.Errorf("%q is not a segment tag or group name", name)
	}
	if st.hasQ && len(name) != 3 {
		return st, fmt.Errorf("a qualifier (+Q) belongs to a segment")
	}
	st.name = name
	return st, nil
}

func parsePred(s string) (pred, error) {
	l, r, cmp := strings.Cut(s, "=")
	sub, err := parsePath(strings.TrimSpace(l))
	if err != nil {
		return pred{}, err
	}
	if sub.abs || sub.rel != nil {
		return pred{}, fmt.Errorf("a predicate's path is relative to the node it filters")
	}
	pr := pred{sub: sub, cmp: cmp}
	if cmp {
		r = strings.TrimSpace(r)
		switch {
		case strings.HasPrefix(r, "current()/"):
			c, err := parsePath(r[len("current()/"):])
			if err != nil {
				return pred{}, err
			}
			pr.current = c
		case len(r) >= 2 && (r[0] == '\'' || r[0] == '"') && r[len(r)-1] == r[0]:
			pr.lit = r[1 : len(r)-1]
		default:
			return pred{}, fmt.Errorf("compare with current()/PATH or a quoted literal")
		}
	}
	return pr, nil
}

// parseElem reads "3", "3.1", "3[2].1", "*[SU].2", "4.*".
func parseElem(s string) (*elemSpec, error) {
	e := &elemSpec{}
	head, comp, hasComp := strings.Cut(s, ".")
	if hasComp {
		c, err := parseComp(comp)
		if err != nil {
			return nil, err
		}
		e.comp = c
	}
	if j := strings.IndexByte(head, '['); j >= 0 {
		if !strings.HasSuffix(head, "]") {
			return nil, fmt.Errorf("missing ]")
		}
		in := head[j+1 : len(head)-1]
		if v, err := strconv.Atoi(in); err == nil && v >= 1 {
			e.rep = v
		} else if segtree.ValidName(in) || in == "" {
			e.qual = in
		} else {
			return nil, fmt.Errorf("[%s] after an element is a repetition number or a qualifier", in)
		}
		head = head[:j]
	}
	if head == "*" {
		return e, nil
	}
	v, err := strconv.Atoi(head)
	if err != nil || v < 1 {
		return nil, fmt.Errorf("element positions start at 1 (use SEG-N, N-th element after the tag)")
	}
	e.pos = v
	return e, nil
}

func parseComp(s string) (int, error) {
	if s == "*" {
		return -1, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("component positions start at 1")
	}
	return v, nil
}

// Select implements tree.Path.
func (p *path) Select(from tree.Node, dst []tree.Node) []tree.Node {
	n, ok := from.(*node)
	if !ok {
		return dst
	}
	return p.sel(n, n, dst)
}

func (p *path) sel(n, ctx *node, dst []tree.Node) []tree.Node {
	t := n.t
	if p.rel != nil {
		if n.kind != kElement {
			return dst
		}
		return p.rel.comps(t, *n, dst)
	}
	var scopes []*SegGroup
	switch {
	case p.abs:
		scopes = []*SegGroup{t.root}
	case n.kind == kGroup:
		scopes = []*SegGroup{n.g}
	default:
		if n.seg < 0 {
			return dst
		}
		if len(p.steps) == 1 && p.steps[0].matchesSeg(t, n.s) && p.steps[0].idx == 0 && len(p.steps[0].preds) == 0 {
			if p.elem == nil {
				return append(dst, t.newNode(node{t: t, kind: kSegment, seg: n.seg, s: n.s}))
			}
			return p.elem.sel(t, n.seg, n.s, dst)
		}
		for g := t.segGroup[n.seg]; g != nil; g = g.Parent {
			scopes = append(scopes, g)
			if p.elem == nil {
				break
			}
		}
	}
	for _, g := range scopes {
		before := len(dst)
		dst = p.steps0(t, g, 0, ctx, dst)
		if len(dst) > before || n.kind == kGroup || p.abs {
			break
		}
	}
	return dst
}

func (st *pstep) matchesSeg(t *Tree, s *Segment) bool {
	return s.Tag == st.name && (!st.hasQ || s.Value(1, 1) == st.qual)
}

func (p *path) steps0(t *Tree, g *SegGroup, i int, ctx *node, dst []tree.Node) []tree.Node {
	st := &p.steps[i]
	last := i == len(p.steps)-1
	if g.Parent == nil && i == 0 && (st.name == "UNB" || st.name == "UNG") {
		// The envelope, from the message root.
		var s *Segment
		seg := -2
		if st.name == "UNB" && t.msg.Interchange != nil {
			s = t.msg.Interchange.UNB
		} else if st.name == "UNG" && t.msg.Group != nil {
			s, seg = t.msg.Group.UNG, -3
		}
		if s == nil || !last {
			return dst
		}
		if p.elem == nil {
			return append(dst, t.newNode(node{t: t, kind: kSegment, seg: seg, s: s}))
		}
		return p.elem.sel(t, seg, s, dst)
	}
	k := 0
	for _, c := range g.Children {
		var cand node
		if c.Group != nil {
			if c.Group.Name != st.name {
				continue
			}
			cand = node{t: t, kind: kGroup, g: c.Group, seg: -1}
		} else {
			s := &t.msg.segs[c.Segment]
			if !st.matchesSeg(t, s) {
				continue
			}
			cand = node{t: t, kind: kSegment, seg: c.Segment, s: s}
		}
		if !st.accept(&cand, ctx) {
			continue
		}
		k++
		if st.idx != 0 && k != st.idx {
			continue
		}
		switch {
		case c.Group != nil && last:
			if p.elem == nil {
				dst = append(dst, t.newNode(cand))
			}
		case c.Group != nil:
			dst = p.steps0(t, c.Group, i+1, ctx, dst)
		case !last:
		case p.elem == nil:
			dst = append(dst, t.newNode(cand))
		default:
			dst = p.elem.sel(t, c.Segment, cand.s, dst)
		}
	}
	return dst
}

// accept evaluates the step's predicates on a candidate; ctx is the node the whole path
// is evaluated from (current()).
func (st *pstep) accept(cand, ctx *node) bool {
	if len(st.preds) == 0 {
		return true
	}
	t := cand.t
	var buf [8]tree.Node
	for _, pr := range st.preds {
		got := pr.sub.peek(cand, ctx, buf[:0])
		if !pr.cmp {
			if got == "" {
				return false
			}
			continue
		}
		want := pr.lit
		if pr.current != nil {
			want = pr.current.peek(ctx, ctx, buf[:0])
		}
		if got == "" || got != want {
			return false
		}
	}
	_ = t
	return true
}

// peek returns the text of the first node p reaches from n ("\x00" for a reached node
// without text), without marking segments as read.
func (p *path) peek(n, ctx *node, buf []tree.Node) string {
	t := n.t
	t.peeking++
	got := p.sel(n, ctx, buf)
	t.peeking--
	for _, x := range got {
		xn := x.(*node)
		if xn.kind < kElement {
			return "\x00"
		}
		if s := xn.Text(); s != "" {
			return s
		}
	}
	return ""
}

// sel appends the element (or component) nodes of segment s that e selects.
func (e *elemSpec) sel(t *Tree, seg int, s *Segment, dst []tree.Node) []tree.Node {
	if s.d == nil {
		return dst
	}
	for i := s.e0; i < s.e0+s.ne; i++ {
		er := s.d.elems[i]
		if e.pos != 0 && int(er.pos) != e.pos {
			continue
		}
		if e.rep != 0 && int(er.rep) != e.rep {
			continue
		}
		n := node{t: t, kind: kElement, seg: seg, s: s, el: i}
		if e.qual != "" && n.Text() != e.qual {
			continue
		}
		if e.comp == 0 {
			if !n.Empty() {
				dst = append(dst, t.newNode(n))
			}
			continue
		}
		dst = e.comps(t, n, dst)
	}
	return dst
}

// comps appends component e.comp (or every component) of element node n.
func (e *elemSpec) comps(t *Tree, n node, dst []tree.Node) []tree.Node {
	er := n.s.d.elems[n.el]
	lo, hi := e.comp, e.comp
	if e.comp == 0 {
		return dst
	}
	if e.comp < 0 {
		lo, hi = 1, int(er.count)
	}
	for c := lo; c <= hi; c++ {
		cn := n
		cn.kind, cn.comp = kComponent, c
		if cn.Text() != "" {
			dst = append(dst, t.newNode(cn))
		}
	}
	return dst
}
