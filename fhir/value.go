package fhir

import "strconv"

// ValueKind says what a [Value] holds.
type ValueKind uint8

// The kinds of values. The zero Value is an empty StringValue.
const (
	StringValue ValueKind = iota // S holds the primitive's lexical form
	NumberValue                  // S holds the JSON number text ("1.50"), kept verbatim
	BoolValue                    // S holds "true" or "false"
	ObjectValue                  // O holds a complex value; for a resource nested in a Resource-typed element (Bundle.entry.resource, contained) R holds it too
	RefValue                     // R is a resource of the Bundle, referred to
)

var valueKindNames = [...]string{"string", "number", "bool", "object", "ref"}

// String returns "string", "number", "bool", "object" or "ref".
func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return "ValueKind(" + itoa(int(k)) + ")"
}

// Value is one value of an element.
//
// A primitive value (StringValue, NumberValue, BoolValue) with S == "" has no value; it is
// written only if it has extensions (Ext), as FHIR JSON's "_name" form does for
// data-absent-reason. The JSON form of a primitive follows its element's type, not the kind:
// a StringValue "1.50" on a decimal element is written as the number 1.50.
//
// A RefValue is written, once [Assemble] has given ids, as the reference string
// "urn:uuid:<id>" on a string-typed element (Reference.reference), or as the object
// {"reference": "urn:uuid:<id>"} on a Reference-typed element.
type Value struct {
	Kind ValueKind
	S    string    // primitive lexical form; NumberValue and BoolValue hold their JSON text
	O    *Object   // ObjectValue
	R    *Resource // RefValue: the referenced resource; ObjectValue: the nested resource, if any
	Ext  *Object   // primitive values only: the "_name" part (id, extension), or nil
}

// MakeString returns a string-like primitive value (string, code, date, uri, …).
func MakeString(s string) Value { return Value{Kind: StringValue, S: s} }

// MakeNumber returns a number value from its JSON text, which is kept verbatim, so that
// decimals keep their precision ("1.50").
func MakeNumber(text string) Value { return Value{Kind: NumberValue, S: text} }

// MakeInt returns an integer number value.
func MakeInt(n int64) Value { return Value{Kind: NumberValue, S: strconv.FormatInt(n, 10)} }

// MakeBool returns a boolean value.
func MakeBool(b bool) Value {
	if b {
		return Value{Kind: BoolValue, S: "true"}
	}
	return Value{Kind: BoolValue, S: "false"}
}

// MakeObject returns a complex value.
func MakeObject(o *Object) Value { return Value{Kind: ObjectValue, O: o} }

// MakeRef returns a reference to a resource of the Bundle being built.
func MakeRef(r *Resource) Value { return Value{Kind: RefValue, R: r} }

// MakeResource returns r as the value of a Resource-typed element (contained,
// Bundle.entry.resource, Parameters.parameter.resource): r is written inline.
func MakeResource(r *Resource) Value { return Value{Kind: ObjectValue, O: &r.Object, R: r} }

// Empty reports whether v carries nothing: a primitive without value and extensions, an empty
// object, or a reference to nothing.
func (v *Value) Empty() bool {
	switch v.Kind {
	case ObjectValue:
		return v.O == nil || v.O.Empty()
	case RefValue:
		return v.R == nil
	}
	return v.S == "" && (v.Ext == nil || v.Ext.Empty())
}

// present reports whether a value is there for the purpose of Set: objects count even when
// still empty, because the caller may fill them later.
func (v *Value) present() bool {
	switch v.Kind {
	case ObjectValue:
		return v.O != nil
	case RefValue:
		return v.R != nil
	}
	return v.S != "" || v.Ext != nil
}

// Prop is the values of one element of an [Object].
type Prop struct {
	Elem *Element
	Vals []Value
}

// Object is a complex value: a datatype, a backbone element or a resource's content.
// Its Props keep insertion order; the JSON writer orders them by Element.Order.
//
// An Object is not safe for concurrent modification. It does not check that an element
// belongs to its type; [Validate] does.
type Object struct {
	Type  *Type
	Props []Prop

	spare []Value // unused inline value slots, for single values of new props
}

// inlineProps and inlineVals are how many props and single values an object carries in its
// own allocation, so that small objects (Coding, Identifier, …) cost one allocation.
const (
	inlineProps = 4
	inlineVals  = 4
)

// spareVals is how many value slots an object takes at a time once its inline ones are used.
const spareVals = 4

type objectBlock struct {
	o     Object
	props [inlineProps]Prop
	vals  [inlineVals]Value
}

// NewObject returns a new, empty object of type t. It costs one allocation for the object and
// its first few values.
func NewObject(t *Type) *Object { return (&objectBlock{}).init(t) }

func (b *objectBlock) init(t *Type) *Object {
	b.o.Type = t
	b.o.Props = b.props[:0]
	b.o.spare = b.vals[:]
	return &b.o
}

// ObjectSlab hands out new objects from blocks allocated several at a time, for code that
// builds many objects which live and die together (the objects of one Bundle): it trades a
// little memory (the unused rest of the last block, and blocks kept alive by any object in
// them) for far fewer allocations. The zero value is ready; it is not safe for concurrent use.
// Reset forgets the blocks without reusing them, so objects handed out stay valid.
type ObjectSlab struct{ s slab[objectBlock] }

// New returns a new, empty object of type t, as [NewObject] does.
func (s *ObjectSlab) New(t *Type) *Object { return s.s.alloc().init(t) }

// Reset lets the next object come from a new block, sized by how many objects were handed
// out since the last Reset (a run of similar inputs then costs one block each).
func (s *ObjectSlab) Reset() { s.s.reset() }

// ResourceSlab is [ObjectSlab] for resources.
type ResourceSlab struct{ s slab[resourceBlock] }

// New returns a new, empty resource of type t, as [Type.NewResource] does, or nil if t is
// not a concrete resource type.
func (s *ResourceSlab) New(t *Type) *Resource {
	if t == nil || t.Kind != KindResource || t.Abstract {
		return nil
	}
	return s.s.alloc().init(t)
}

// Reset is [ObjectSlab.Reset] for resources.
func (s *ResourceSlab) Reset() { s.s.reset() }

// slab hands out zeroed Ts from blocks: the first block after a reset holds as many as were
// used before it (up to maxSlabHint), the following ones 8, 16, 32, then 64.
type slab[T any] struct {
	blocks []T
	next   int // the size of the last block
	used   int // handed out since the last reset
	hint   int // handed out before the last reset
}

// maxSlabHint bounds the first block, so one large input does not make every later one
// allocate for it.
const maxSlabHint = 256

func (s *slab[T]) alloc() *T {
	if len(s.blocks) == 0 {
		n := min(max(s.next*2, 8), 64)
		if s.next == 0 && s.hint > n {
			n = min(s.hint, maxSlabHint)
		}
		s.next = n
		s.blocks = make([]T, n)
	}
	b := &s.blocks[0]
	s.blocks = s.blocks[1:]
	s.used++
	return b
}

func (s *slab[T]) reset() { *s = slab[T]{hint: s.used} }

// Prop returns the values of element e, or nil if o has none.
func (o *Object) Prop(e *Element) *Prop {
	for i := range o.Props {
		if o.Props[i].Elem == e {
			return &o.Props[i]
		}
	}
	return nil
}

// Get returns the first value of element e and whether there is one.
func (o *Object) Get(e *Element) (Value, bool) {
	if p := o.Prop(e); p != nil && len(p.Vals) > 0 {
		return p.Vals[0], true
	}
	return Value{}, false
}

// Add appends v to the values of element e. Empty primitive values (S == "" without
// extensions) are ignored. For a single-valued element Add behaves as [Object.Set]; use Set
// there to learn whether the value was taken.
func (o *Object) Add(e *Element, v Value) {
	if !e.List() {
		o.Set(e, v)
		return
	}
	if !v.present() {
		return
	}
	if p := o.Prop(e); p != nil {
		if len(p.Vals) == cap(p.Vals) && cap(p.Vals) < 4 {
			// A list that grows past its first value usually has a few: skip the steps.
			p.Vals = append(make([]Value, 0, 4), p.Vals...)
		}
		p.Vals = append(p.Vals, v)
		return
	}
	o.newProp(e, v)
}

// Set sets the value of element e if it has none and reports whether it did; otherwise the
// first value is kept and Set returns false. For a choice variant (valueString), Set also
// refuses if another variant of the same choice (valueQuantity) is present. Setting an empty
// primitive value does nothing and returns true; a present but empty primitive does not block
// a later Set.
func (o *Object) Set(e *Element, v Value) bool {
	if !v.present() {
		return true
	}
	for i := range o.Props {
		p := &o.Props[i]
		if p.Elem == e || (e.Choice != "" && p.Elem.Order == e.Order && p.Elem.Choice == e.Choice) {
			for j := range p.Vals {
				if p.Vals[j].present() {
					return false
				}
			}
			if p.Elem == e {
				p.Vals = append(p.Vals[:0], v)
				return true
			}
		}
	}
	o.newProp(e, v)
	return true
}

func (o *Object) newProp(e *Element, v Value) {
	var vals []Value
	if len(o.spare) > 0 {
		vals = o.spare[:1:1]
		o.spare = o.spare[1:]
		vals[0] = v
	} else {
		// Out of inline slots: take several at once for this object's next props.
		chunk := make([]Value, spareVals)
		vals = chunk[:1:1]
		vals[0] = v
		o.spare = chunk[1:]
	}
	o.Props = append(o.Props, Prop{Elem: e, Vals: vals})
}

// Remove deletes element e's values and reports whether there were any.
func (o *Object) Remove(e *Element) bool {
	for i := range o.Props {
		if o.Props[i].Elem == e {
			o.Props = append(o.Props[:i], o.Props[i+1:]...)
			return true
		}
	}
	return false
}

// Empty reports whether o has no non-empty value, recursively.
func (o *Object) Empty() bool {
	if o == nil {
		return true
	}
	for i := range o.Props {
		p := &o.Props[i]
		for j := range p.Vals {
			if !p.Vals[j].Empty() {
				return false
			}
		}
	}
	return true
}

// Resource is a resource: its content, plus the id that [Assemble] assigns.
//
// A Resource must not be modified after it was passed to [Assemble]; it belongs to the Bundle of
// the last Assemble call that took it (directly or through a reference), so never pass it to
// two Assemble calls at once.
type Resource struct {
	Object
	ID string // assigned by Assemble; set by ParseResource from "id"

	merged *Resource // set by Assemble: the resource this one was merged into
	asm    *assembly // the Assemble call that owns the scratch fields below
	idx    int32     // position in asm.res
}

type resourceBlock struct {
	r     Resource
	props [2 * inlineProps]Prop
	vals  [2 * inlineVals]Value
}

func newResource(t *Type) *Resource { return (&resourceBlock{}).init(t) }

func (b *resourceBlock) init(t *Type) *Resource {
	b.r.Type = t
	b.r.Props = b.props[:0]
	b.r.spare = b.vals[:]
	return &b.r
}

// NewResource returns a new, empty resource of the named type, or nil if name is not a
// concrete resource type. Hot paths should look the [Type] up once and call [Type.NewResource].
func NewResource(typeName string) *Resource {
	return LookupType(typeName).NewResource()
}

// Identity returns the resource that stands for r in the Bundle: r itself, or, when
// [Assemble] merged r into an identical resource, that resource.
func (r *Resource) Identity() *Resource {
	for r.merged != nil {
		r = r.merged
	}
	return r
}

// FullURL returns the entry's fullUrl "urn:uuid:<id>" once [Assemble] has assigned the id
// (of r's [Resource.Identity]), or "" before.
func (r *Resource) FullURL() string {
	id := r.Identity().ID
	if id == "" {
		return ""
	}
	return "urn:uuid:" + id
}
