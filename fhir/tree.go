package fhir

import (
	"fmt"
	"github.com/fhirbridge/fhirbridge/internal/suggest"
	"strconv"
	"strings"
	"sync"

	"github.com/fhirbridge/fhirbridge/internal/dotpath"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// This file adapts a parsed resource — usually a Bundle — to the mapping engine's source
// contract (package transform/tree), so that mappings can read FHIR: the reverse direction,
// FHIR R4 → HL7 v2. Paths, as mappings write them, are a small subset of FHIRPath:
//
//	Patient  Observation[0]    a resource type: from a Bundle, its entries of that type ([n]:
//	                           only the n-th, from 0); from a resource of that type, the
//	                           resource itself; from anything else, nothing (a filter after
//	                           resolve())
//	name.given  code.coding    dotted JSON element names; every value of a list is a node
//	name[0].given[1]           [n]: only the n-th value (from 0, as in FHIRPath)
//	code.coding[1:]            [n:]: the values from the n-th on (FHIRPath's skip(n))
//	value  effective           a choice element's base name: whichever variant is present
//	id                         a resource's id
//	resolve()                  follow a Reference (or a reference string) inside the Bundle:
//	                           by fullUrl (urn:uuid:…, absolute URLs), by Type/id, or #id
//	                           to a contained resource
//	referrers()                the other way: the Bundle's resources that refer to this one
//	                           (Observation.referrers().DiagnosticReport: the reports that
//	                           list an observation)
//	extension('URL')           the extensions with that url (also on primitives: birthDate.extension('…'))
//	/Patient  /timestamp       from the root (the Bundle), wherever the rule is
//
// A path that starts with a resource type is typed: every following element name is checked
// against the R4 metadata when the mapping compiles. Other paths are checked against the names
// of all R4 elements, which still catches most typos. Paths are compiled once.
//
// A primitive's Text is its lexical form as in FHIR JSON (numbers keep their digits, booleans
// are "true"/"false"); objects and resources have no text. Location names a node the way
// FHIRPath and [JSONError] do: "Bundle.entry[2].resource.name[0].given[1]".

// Schema compiles FHIR paths for the mapping engine. Its name is "fhir".
type Schema struct{}

// Name returns "fhir".
func (Schema) Name() string { return "fhir" }

// Compile compiles a path.
func (Schema) Compile(p string) (tree.Path, error) { return compilePath(p) }

// Tree is a parsed resource, usually a Bundle, whose nodes mappings read. A Tree is for one
// run: it is not safe for concurrent use, and its nodes live as long as it does.
type Tree struct {
	root    *node
	entries []*node // Bundle entry resources, in order
	byURL   map[string]*node
	byRes   map[*Resource]*node
	slab    []node

	referrers map[*node][]*node // entry → the entries that refer to it; built on first use
}

// NewTree returns the tree of r. When r is a Bundle, its entries' resources can be selected
// by type and references between them resolved.
func NewTree(r *Resource) *Tree {
	t := &Tree{}
	t.root = &node{t: t, res: r, obj: &r.Object, name: r.Type.Name, idx: -1}
	if r.Type.Name != "Bundle" {
		return t
	}
	entry := r.Type.Element("entry")
	p := r.Prop(entry)
	if p == nil {
		return t
	}
	resE := entry.Elem.Element("resource")
	urlE := entry.Elem.Element("fullUrl")
	t.byURL = make(map[string]*node, 2*len(p.Vals))
	t.byRes = make(map[*Resource]*node, len(p.Vals))
	nodes := make([]node, 2*len(p.Vals))
	for i := range p.Vals {
		v := p.Vals[i]
		if v.O == nil {
			continue
		}
		en := &nodes[2*i]
		*en = node{t: t, parent: t.root, name: "entry", idx: int32(i), obj: v.O, elem: entry}
		rv, ok := v.O.Get(resE)
		if !ok || rv.R == nil {
			continue
		}
		rn := &nodes[2*i+1]
		*rn = node{t: t, parent: en, name: "resource", idx: -1, res: rv.R, obj: &rv.R.Object, elem: resE}
		t.entries = append(t.entries, rn)
		t.byRes[rv.R] = rn
		if u, ok := v.O.Get(urlE); ok && u.S != "" {
			t.byURL[u.S] = rn
		}
		if rv.R.ID != "" {
			k := rv.R.Type.Name + "/" + rv.R.ID
			if _, dup := t.byURL[k]; !dup {
				t.byURL[k] = rn
			}
		}
	}
	return t
}

// Root returns the node of the resource the tree was made from.
func (t *Tree) Root() tree.Node { return t.root }

// Resources returns the resources of the Bundle's entries in order, or the root resource
// when it is not a Bundle.
func (t *Tree) Resources() []*Resource {
	if t.root.res.Type.Name != "Bundle" {
		return []*Resource{t.root.res}
	}
	out := make([]*Resource, len(t.entries))
	for i, n := range t.entries {
		out[i] = n.res
	}
	return out
}

// node is one place in a Tree: a resource, an object, or one primitive value.
type node struct {
	t      *Tree
	parent *node
	name   string // element name ("given"), or the resource type at the root
	idx    int32  // position in a list element, -1 for a single element
	res    *Resource
	obj    *Object // the object or the resource's content; nil for a primitive
	val    Value   // a primitive value
	elem   *Element
}

func (t *Tree) newNode(n node) *node {
	if len(t.slab) == cap(t.slab) {
		t.slab = make([]node, 0, 64)
	}
	t.slab = append(t.slab, n)
	return &t.slab[len(t.slab)-1]
}

// Text returns a primitive's lexical form, "" for objects and resources.
func (n *node) Text() string {
	if n.obj != nil {
		return ""
	}
	if n.val.Kind == RefValue {
		if n.val.R == nil {
			return ""
		}
		return n.val.R.FullURL()
	}
	return n.val.S
}

// Empty reports whether the node holds no data.
func (n *node) Empty() bool {
	if n.obj != nil {
		return n.res == nil && n.obj.Empty()
	}
	return n.val.Empty()
}

// Location names the node: "Bundle.entry[2].resource.name[0].given[1]".
func (n *node) Location() string {
	var parts []*node
	for x := n; x != nil; x = x.parent {
		parts = append(parts, x)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		x := parts[i]
		if i < len(parts)-1 {
			b.WriteByte('.')
		}
		b.WriteString(x.name)
		if x.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(int(x.idx)))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// stepKind says what a path step does.
type stepKind uint8

const (
	stepElem      stepKind = iota // an element by JSON name
	stepChoice                    // a choice element by base name: any variant
	stepType                      // a resource type
	stepResolve                   // resolve()
	stepReferrers                 // referrers()
	stepExt                       // extension('url')
	stepID                        // a resource's id
)

type pathStep struct {
	kind stepKind
	name string // element, choice base, resource type, or extension url
	idx  int    // -1: every value
	tail bool   // [idx:]: the values from idx on
}

// path is a compiled path. It is immutable.
type path struct {
	src   string
	abs   bool
	steps []pathStep
	typ   string // the resource type a typed path starts with
}

func (p *path) String() string { return p.src }

// DataType returns the resource type the path starts with ("Patient" in "Patient.name"), or
// "": in a map whose source is that type, the engine evaluates the path from the resource the
// map was applied to (see tree.Typed).
func (p *path) DataType() string { return p.typ }

func compilePath(src string) (*path, error) {
	p := &path{src: src}
	s := strings.TrimSpace(src)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("fhir: bad path %q: %s", src, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return nil, fmt.Errorf("fhir: empty path")
	}
	if s[0] == '/' {
		p.abs, s = true, s[1:]
	}
	parts, err := splitSteps(s)
	if err != nil {
		return nil, bad("%v", err)
	}
	var cur *Type // the type the next step is looked up in, when known
	for i, part := range parts {
		st := pathStep{idx: -1}
		if j := strings.IndexByte(part, '['); j >= 0 && strings.HasSuffix(part, "]") && !strings.Contains(part, "(") {
			num := part[j+1 : len(part)-1]
			num, st.tail = strings.CutSuffix(num, ":")
			v, err := strconv.Atoi(num)
			if err != nil || v < 0 {
				return nil, bad("an index is a number from 0, as in FHIRPath ([n], or [n:] for the values from the n-th on)")
			}
			st.idx, part = v, part[:j]
		}
		switch {
		case part == "resolve()":
			st.kind = stepResolve
			if cur != nil && cur.Name != "Reference" && cur.Name != "string" {
				return nil, bad("resolve() follows a Reference, not a %s", cur.Name)
			}
			cur = nil
		case strings.HasPrefix(part, "extension(") && strings.HasSuffix(part, ")"):
			arg := strings.TrimSpace(part[len("extension(") : len(part)-1])
			if len(arg) < 2 || (arg[0] != '\'' && arg[0] != '"') || arg[len(arg)-1] != arg[0] {
				return nil, bad("extension() takes a quoted url: extension('http://…')")
			}
			st.kind, st.name = stepExt, arg[1:len(arg)-1]
			cur = LookupType("Extension")
		case part == "referrers()":
			st.kind = stepReferrers
			cur = nil
		case strings.ContainsAny(part, "()"):
			return nil, bad("%q: the functions are resolve(), referrers() and extension('url')", part)
		case part == "":
			return nil, bad("empty step")
		case part[0] >= 'A' && part[0] <= 'Z':
			if !IsResourceType(part) {
				return nil, bad("%q is not an R4 resource type (element names start in lower case)", part)
			}
			st.kind, st.name = stepType, part
			if i == 0 {
				p.typ = part
			}
			cur = LookupType(part)
		case !validElementName(part):
			return nil, bad("%q is not an element name", part)
		case part == "id" && (cur == nil || cur.Kind == KindResource):
			st.kind, st.name = stepID, part
			cur = LookupType("id")
		default:
			st.kind, st.name = stepElem, part
			if cur != nil {
				if e := cur.Element(part); e != nil {
					cur = e.Elem
				} else if ch := cur.Choices(part); ch != nil {
					st.kind, cur = stepChoice, nil
				} else if cur.Kind == KindPrimitive && part == "extension" {
					cur = LookupType("Extension")
				} else {
					var names []string
					for _, e := range cur.Elements {
						names = append(names, e.Name)
					}
					return nil, bad("%s has no element %q%s", cur.Name, part, suggest.Hint(part, names))
				}
				if cur != nil && cur.Kind == KindResource {
					cur = nil // Resource-typed (contained, entry.resource): any type
				}
			} else {
				known, choice := elementNames()
				switch {
				case choice[part]:
					st.kind = stepChoice
				case !known[part]:
					return nil, bad("no R4 type has an element %q", part)
				}
			}
		}
		p.steps = append(p.steps, st)
	}
	return p, nil
}

// splitSteps splits a path at the dots that are not inside parentheses or quotes.
func splitSteps(s string) ([]string, error) { return dotpath.Split(s, '(', ')') }

func validElementName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

var (
	namesOnce   sync.Once
	allNames    map[string]bool
	choiceBases map[string]bool
)

// elementNames returns the JSON names of every R4 element and the base names of choice
// elements, for checking untyped paths. They are collected once.
func elementNames() (known, choice map[string]bool) {
	namesOnce.Do(func() {
		allNames, choiceBases = map[string]bool{}, map[string]bool{}
		for _, t := range Types() {
			for _, e := range t.Elements {
				allNames[e.Name] = true
				if e.Choice != "" {
					choiceBases[e.Choice] = true
				}
			}
		}
	})
	return allNames, choiceBases
}

// Select implements tree.Path.
func (p *path) Select(from tree.Node, dst []tree.Node) []tree.Node {
	n, ok := from.(*node)
	if !ok {
		return dst
	}
	if p.abs {
		n = n.t.root
	}
	return p.walk(n, 0, dst)
}

// walk appends the nodes that steps[i:] reach from n. Intermediate nodes may be empty
// primitives that carry extensions; the nodes appended are never empty.
func (p *path) walk(n *node, i int, dst []tree.Node) []tree.Node {
	if i == len(p.steps) {
		if !n.Empty() {
			dst = append(dst, n)
		}
		return dst
	}
	st := &p.steps[i]
	t := n.t
	k := 0 // position among the values the step reaches, for [n]
	visit := func(c *node) bool {
		if st.tail {
			k++
			if k-1 >= st.idx {
				dst = p.walk(c, i+1, dst)
			}
			return true
		}
		if st.idx >= 0 {
			k++
			if k-1 != st.idx {
				return k-1 < st.idx
			}
			dst = p.walk(c, i+1, dst)
			return false
		}
		dst = p.walk(c, i+1, dst)
		return true
	}
	switch st.kind {
	case stepType:
		if n.res != nil && n.res.Type.Name == st.name {
			visit(n)
			return dst
		}
		if n.res != nil && n.res.Type.Name == "Bundle" && n == t.root {
			for _, e := range t.entries {
				if e.res.Type.Name == st.name && !visit(e) {
					break
				}
			}
		}
	case stepID:
		if n.res != nil {
			if n.res.ID != "" {
				visit(t.newNode(node{t: t, parent: n, name: "id", idx: -1, val: MakeString(n.res.ID)}))
			}
			return dst
		}
		walkElem(n, st, visit)
	case stepResolve:
		if r := t.resolve(n); r != nil {
			visit(r)
		}
	case stepReferrers:
		for _, r := range t.referrersOf(n) {
			if !visit(r) {
				break
			}
		}
	case stepExt:
		o := n.obj
		if o == nil {
			o = n.val.Ext
		}
		if o == nil {
			return dst
		}
		e := o.Type.Element("extension")
		pr := o.Prop(e)
		if pr == nil {
			return dst
		}
		urlE := e.Elem.Element("url")
		for j := range pr.Vals {
			x := pr.Vals[j].O
			if x == nil {
				continue
			}
			if u, _ := x.Get(urlE); u.S != st.name {
				continue
			}
			if !visit(t.newNode(node{t: t, parent: n, name: "extension", idx: int32(j), obj: x, elem: e})) {
				break
			}
		}
	case stepElem, stepChoice:
		walkElem(n, st, visit)
	}
	return dst
}

// walkElem visits the values of the element (or choice) a step names. visit reports whether
// to go on.
func walkElem(n *node, st *pathStep, visit func(*node) bool) {
	t := n.t
	o := n.obj
	if o == nil {
		if st.name != "extension" && st.name != "id" {
			return
		}
		o = n.val.Ext // a primitive's own id and extensions
		if o == nil {
			return
		}
	}
	for pi := range o.Props {
		pr := &o.Props[pi]
		if pr.Elem.Name != st.name && (st.kind != stepChoice || pr.Elem.Choice != st.name) {
			continue
		}
		for j := range pr.Vals {
			v := pr.Vals[j]
			c := node{t: t, parent: n, name: pr.Elem.Name, idx: -1, elem: pr.Elem}
			if pr.Elem.List() {
				c.idx = int32(j)
			}
			if v.Kind == ObjectValue && v.O != nil {
				c.obj, c.res = v.O, v.R
			} else {
				c.val = v
			}
			if !visit(t.newNode(c)) {
				return
			}
		}
		if st.kind == stepElem {
			return
		}
	}
}

// referrersOf returns the entries whose resources refer to the entry resource n, in Bundle
// order, each once. The index is built on the first call, by resolving every Reference of
// every entry (contained resources are not entries: references to them are not indexed).
func (t *Tree) referrersOf(n *node) []*node {
	if n.res == nil || t.byRes[n.res] != n {
		return nil
	}
	if t.referrers == nil {
		t.referrers = map[*node][]*node{}
		for _, e := range t.entries {
			t.indexRefs(e, e.obj)
		}
	}
	return t.referrers[n]
}

// indexRefs records from as a referrer of every entry a Reference in o points to.
func (t *Tree) indexRefs(from *node, o *Object) {
	for pi := range o.Props {
		pr := &o.Props[pi]
		if pr.Elem.Type == "Resource" {
			continue // contained and nested resources
		}
		for _, v := range pr.Vals {
			if v.Kind != ObjectValue || v.O == nil {
				continue
			}
			if pr.Elem.Type != "Reference" {
				t.indexRefs(from, v.O)
				continue
			}
			to := t.resolve(&node{t: t, parent: from, obj: v.O})
			if to == nil || to == from || t.byRes[to.res] != to {
				continue
			}
			if rs := t.referrers[to]; len(rs) == 0 || rs[len(rs)-1] != from {
				t.referrers[to] = append(rs, from)
			}
		}
	}
}

// resolve finds the resource a Reference node (or a reference string) points to.
func (t *Tree) resolve(n *node) *node {
	v := n.val
	if n.obj != nil {
		if n.obj.Type.Name != "Reference" {
			return nil
		}
		var ok bool
		if v, ok = n.obj.Get(n.obj.Type.Element("reference")); !ok {
			return nil
		}
	}
	if v.Kind == RefValue {
		if v.R == nil {
			return nil
		}
		return t.byRes[v.R.Identity()]
	}
	ref := v.S
	if ref == "" {
		return nil
	}
	if ref[0] == '#' { // a contained resource of the enclosing resource
		for x := n; x != nil; x = x.parent {
			if x.res == nil {
				continue
			}
			ce := x.res.Type.Element("contained")
			if ce == nil {
				return nil
			}
			if pr := x.res.Prop(ce); pr != nil {
				for j, cv := range pr.Vals {
					if cv.R != nil && "#"+cv.R.ID == ref {
						return t.newNode(node{t: t, parent: x, name: "contained", idx: int32(j), res: cv.R, obj: cv.O, elem: ce})
					}
				}
			}
			return nil
		}
		return nil
	}
	if r := t.byURL[ref]; r != nil {
		return r
	}
	// An absolute or versioned reference: match its Type/id tail.
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	if r := t.byURL[ref]; r != nil {
		return r
	}
	parts := strings.Split(ref, "/")
	if len(parts) >= 2 {
		return t.byURL[parts[len(parts)-2]+"/"+parts[len(parts)-1]]
	}
	return nil
}
