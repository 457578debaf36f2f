package fhir

import (
	"sort"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -o .

// Kind classifies a [Type].
type Kind uint8

// The kinds of types.
const (
	KindPrimitive Kind = iota // string, date, boolean, …: a JSON scalar
	KindComplex               // a datatype: HumanName, Reference, Element, BackboneElement, …
	KindResource              // a resource type, including the abstract Resource and DomainResource
	KindBackbone              // an element defined inline in a type: Patient.contact, Timing.repeat
)

var kindNames = [...]string{"primitive", "complex", "resource", "backbone"}

// String returns "primitive", "complex", "resource" or "backbone".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + itoa(int(k)) + ")"
}

// Type describes a FHIR R4 type: a primitive type, a complex datatype, a resource type or a
// backbone element. Types are created once, on the first call of [LookupType] or
// [IsResourceType], and are shared and immutable: never modify one.
type Type struct {
	Name     string     // "Patient", "HumanName", "Patient.contact", "string"
	Kind     Kind       // what the type is
	Abstract bool       // Resource, DomainResource, Element, BackboneElement, …: never instantiated
	Elements []*Element // in FHIR element order; choice variants are consecutive with equal Order

	byName []uint16 // positions in Elements, sorted by Element.Name
	nElems int32    // len(Elements), known before the type's group is decoded
	group  int32    // 0: datatypes; else the group of a resource type and its backbones
}

// Element returns the element with the given JSON name ("identifier", "valueQuantity"), or nil
// if the type has none. It does not allocate; its cost is a binary search.
func (t *Type) Element(jsonName string) *Element {
	idx := t.byName
	lo, hi := 0, len(idx)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.Elements[idx[m]].Name < jsonName {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(idx) && t.Elements[idx[lo]].Name == jsonName {
		return t.Elements[idx[lo]]
	}
	return nil
}

// elementBytes is Element for a name held in a byte slice, without allocating.
func (t *Type) elementBytes(name []byte) *Element {
	idx := t.byName
	lo, hi := 0, len(idx)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.Elements[idx[m]].Name < string(name) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(idx) && t.Elements[idx[lo]].Name == string(name) {
		return t.Elements[idx[lo]]
	}
	return nil
}

// Choices returns the variants of the choice element with the given base name ("value" for
// value[x]) in definition order, or nil if the type has no such choice element. The slice
// is shared: do not modify it.
func (t *Type) Choices(base string) []*Element {
	for i, e := range t.Elements {
		if e.Choice == base {
			j := i + 1
			for j < len(t.Elements) && t.Elements[j].Order == e.Order {
				j++
			}
			return t.Elements[i:j:j]
		}
	}
	return nil
}

// NewResource returns a new, empty resource of type t, or nil if t is not a concrete
// resource type. It is [NewResource] without the name lookup.
func (t *Type) NewResource() *Resource {
	if t == nil || t.Kind != KindResource || t.Abstract {
		return nil
	}
	return newResource(t)
}

// String returns the type's name.
func (t *Type) String() string { return t.Name }

// Element describes one element of a [Type], as it appears in JSON: a choice element such as
// Observation.value[x] is described by one Element per allowed type (valueQuantity,
// valueString, …), all with the same Order and Choice.
type Element struct {
	Name       string   // JSON name: "valueQuantity", "birthDate"; resourceType is not an element
	Order      int      // position within the type; serialization order
	Min, Max   int      // cardinality; Max == -1 means "*"
	Type       string   // FHIR type code: "string", "code", "dateTime", "Identifier", "Reference", "BackboneElement", "Resource"
	Elem       *Type    // the value's type: LookupType(Type), or the backbone Type ("Patient.contact") for BackboneElement and Element
	Choice     string   // base name ("value") if this is a choice variant, else ""
	Targets    []string // Reference target resource types ("Patient", "Group"); ["Resource"] for any
	Binding    []string // required binding: the allowed codes; nil when none or not enumerable
	BindingURL string   // required binding: the ValueSet's canonical URL without version, else ""

	jsonKind uint8 // how values are written: jsonString, jsonNumber, …
}

// List reports whether the element repeats (Max != 1), which makes its JSON value an array.
func (e *Element) List() bool { return e.Max != 1 }

// Primitive reports whether the element's values are primitives (JSON scalars).
func (e *Element) Primitive() bool { return e.Elem.Kind == KindPrimitive }

// AllowsCode reports whether code is in the element's required binding. It returns true when
// the element has no enumerable required binding.
func (e *Element) AllowsCode(code string) bool {
	if e.Binding == nil {
		return true
	}
	for _, c := range e.Binding {
		if c == code {
			return true
		}
	}
	return false
}

// metadata is the decoded form of r4data. The type table and the datatypes (group 0) are
// decoded by load; each concrete resource type and its backbone elements form a group of
// their own, decoded on first lookup, since elements of datatypes never refer to resources.
type metadata struct {
	types    []Type // sorted by name
	byName   map[string]*Type
	strs     []string
	lists    [][]string
	elemData string  // the element section
	offsets  []int32 // per type: offset of its elements in elemData
	groups   []group
}

type group struct {
	once  sync.Once
	types []int32
}

var (
	loadOnce sync.Once
	meta     *metadata
)

// load decodes r4data once. The data is generated, so a malformed encoding is a build error
// and panics.
func load() *metadata {
	loadOnce.Do(func() { meta = decode(r4data) })
	return meta
}

type decoder struct {
	s   string
	pos int
}

func (d *decoder) uvarint() int {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := d.s[d.pos] // an index out of range is corrupt data: panic
		d.pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int(v)
		}
	}
	panic("fhir: corrupt r4.bin")
}

// decode decodes the tables and the datatypes group.
func decode(s string) *metadata {
	if !strings.HasPrefix(s, "FR4\x02") {
		panic("fhir: corrupt r4.bin")
	}
	d := &decoder{s: s, pos: 4}
	m := &metadata{strs: make([]string, d.uvarint())}
	for i := range m.strs {
		n := d.uvarint()
		m.strs[i] = s[d.pos : d.pos+n]
		d.pos += n
	}
	nLists := d.uvarint()
	m.lists = make([][]string, nLists)
	start := d.pos
	total := 0
	for range nLists { // first pass: size the shared backing array
		n := d.uvarint()
		total += n
		for range n {
			d.uvarint()
		}
	}
	d.pos = start
	backing := make([]string, total)
	for i := range m.lists {
		n := d.uvarint()
		l := backing[:n:n]
		backing = backing[n:]
		for j := range l {
			l[j] = m.strs[d.uvarint()]
		}
		m.lists[i] = l
	}
	m.types = make([]Type, d.uvarint())
	m.offsets = make([]int32, len(m.types))
	m.byName = make(map[string]*Type, len(m.types))
	for i := range m.types {
		t := &m.types[i]
		t.Name = m.strs[d.uvarint()]
		k := s[d.pos]
		d.pos++
		t.Kind, t.Abstract = Kind(k&0xf), k&0x10 != 0
		t.nElems = int32(d.uvarint())
		m.offsets[i] = int32(d.uvarint())
		m.byName[t.Name] = t
	}
	n := d.uvarint()
	m.elemData = s[d.pos : d.pos+n]
	// Groups: 0 for datatypes (and Resource, DomainResource), then one per concrete resource.
	m.groups = make([]group, 1, 160)
	for i := range m.types {
		t := &m.types[i]
		root, _, _ := strings.Cut(t.Name, ".")
		rt := m.byName[root]
		if rt.Kind != KindResource || rt.Abstract {
			continue
		}
		if rt.group == 0 {
			rt.group = int32(len(m.groups))
			m.groups = append(m.groups, group{})
		}
		t.group = rt.group
	}
	for i := range m.types {
		g := &m.groups[m.types[i].group]
		g.types = append(g.types, int32(i))
	}
	m.decodeGroup(0)
	m.groups[0].once.Do(func() {})
	return m
}

// ensure decodes the group of t, if not done yet.
func (m *metadata) ensure(t *Type) {
	if t.group != 0 {
		g := &m.groups[t.group]
		g.once.Do(func() { m.decodeGroup(t.group) })
	}
}

func (m *metadata) decodeGroup(gi int32) {
	g := &m.groups[gi]
	nElems := 0
	for _, ti := range g.types {
		nElems += int(m.types[ti].nElems)
	}
	elems := make([]Element, nElems)
	ptrs := make([]*Element, nElems)
	perms := make([]uint16, nElems)
	opt := func(i int) int { return i - 1 }
	d := &decoder{s: m.elemData}
	for _, ti := range g.types {
		t := &m.types[ti]
		d.pos = int(m.offsets[ti])
		n := int(t.nElems)
		t.Elements, ptrs = ptrs[:n:n], ptrs[n:]
		for i := range n {
			e := &elems[0]
			elems = elems[1:]
			t.Elements[i] = e
			e.Name = m.strs[d.uvarint()]
			e.Order = d.uvarint()
			e.Min = d.uvarint()
			e.Max = d.uvarint() - 1
			e.Type = m.strs[d.uvarint()]
			if et := opt(d.uvarint()); et >= 0 {
				e.Elem = &m.types[et]
			}
			if c := opt(d.uvarint()); c >= 0 {
				e.Choice = m.strs[c]
			}
			if l := opt(d.uvarint()); l >= 0 {
				e.Targets = m.lists[l]
			}
			if l := opt(d.uvarint()); l >= 0 {
				e.Binding = m.lists[l]
			}
			if u := opt(d.uvarint()); u >= 0 {
				e.BindingURL = m.strs[u]
			}
			e.jsonKind = jsonKindOf(e)
		}
		t.byName, perms = perms[:n:n], perms[n:]
		for i := range n {
			t.byName[i] = uint16(d.uvarint())
		}
	}
}

// LookupType returns the type with the given name ("Patient", "HumanName", "date",
// "Patient.contact"), or nil if there is none. The first call decodes the datatypes, the first
// lookup of a resource type (or one of its backbone elements) that resource type; later calls
// are a map lookup. LookupType is safe for concurrent use.
func LookupType(name string) *Type {
	m := load()
	t := m.byName[name]
	if t != nil && t.group != 0 {
		m.ensure(t)
	}
	return t
}

// IsResourceType reports whether name is a concrete FHIR R4 resource type ("Patient"; not
// "Resource" or "DomainResource").
func IsResourceType(name string) bool {
	t := load().byName[name]
	return t != nil && t.Kind == KindResource && !t.Abstract
}

// Types returns all types sorted by name. The slice is freshly allocated; the types are shared.
func Types() []*Type {
	m := load()
	out := make([]*Type, len(m.types))
	for i := range m.types {
		m.ensure(&m.types[i])
		out[i] = &m.types[i]
	}
	return out
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// NewType returns a type that is not part of FHIR, for formats that describe their own
// targets to the mapping engine in FHIR's terms — the reverse direction writes HL7 v2
// segments as "resources" whose elements are numbered fields. elems must be in the order they
// are to be written; NewType sets each element's Order from its position when it is zero.
// The type is immutable once returned.
func NewType(name string, kind Kind, elems []*Element) *Type {
	t := &Type{Name: name, Kind: kind, Elements: elems, nElems: int32(len(elems))}
	t.byName = make([]uint16, len(elems))
	for i, e := range elems {
		t.byName[i] = uint16(i)
		if e.Order == 0 {
			e.Order = i
		}
	}
	sort.Slice(t.byName, func(a, b int) bool { return elems[t.byName[a]].Name < elems[t.byName[b]].Name })
	return t
}
