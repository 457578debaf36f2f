package fhir

import (
	"slices"
	"unicode/utf8"
)

// JSON kinds of element values, computed from Element.Type when the metadata is decoded.
const (
	jsonString uint8 = iota
	jsonNumber
	jsonBool
	jsonObject
	jsonResource
	jsonReference // a Reference object: RefValues are written as {"reference": …}
)

func jsonKindOf(e *Element) uint8 {
	switch e.Type {
	case "integer", "decimal", "positiveInt", "unsignedInt":
		return jsonNumber
	case "boolean":
		return jsonBool
	case "Resource":
		return jsonResource
	case "Reference":
		return jsonReference
	}
	if e.Elem != nil && e.Elem.Kind == KindPrimitive {
		return jsonString
	}
	return jsonObject
}

// AppendResourceJSON appends the compact JSON of r to dst and returns the extended slice.
// Elements are written in FHIR element order, lists as arrays, numbers and booleans unquoted,
// strings escaped per RFC 8259 §7 (without HTML escaping; U+2028 and U+2029 escaped; invalid
// UTF-8 replaced by U+FFFD). Empty values are left out. A RefValue is written with its target's
// id, so r should have been through [Assemble]; references to resources without id are left
// out.
func AppendResourceJSON(dst []byte, r *Resource) []byte {
	w := writer{b: dst}
	w.resource(r)
	return w.b
}

// AppendObjectJSON appends the compact JSON of o (a datatype, backbone element or resource
// content) to dst, as [AppendResourceJSON] does.
func AppendObjectJSON(dst []byte, o *Object) []byte {
	w := writer{b: dst}
	w.object(o, nil)
	return w.b
}

// writer writes the JSON of a value tree.
type writer struct {
	b      []byte
	pruned bool      // the tree went through Assemble's pruning: Ext objects are non-empty
	canon  *Resource // canonical mode for this resource: cycle placeholders, Reference list dedupe
}

func (w *writer) resource(r *Resource) {
	w.object(&r.Object, r)
}

// object writes o and reports whether it wrote any member. r is the resource whose content o
// is, if any.
func (w *writer) object(o *Object, r *Resource) bool {
	w.b = append(w.b, '{')
	n := 0
	if o.Type != nil && o.Type.Kind == KindResource {
		w.b = append(w.b, `"resourceType":"`...)
		w.b = append(w.b, o.Type.Name...)
		w.b = append(w.b, '"')
		n++
		if r != nil && r.ID != "" {
			w.b = append(w.b, `,"id":`...)
			w.b = appendString(w.b, r.ID)
		}
	}
	props := o.Props
	// Order by Element.Order, stable: insertion sort of positions, skipped when already sorted.
	var buf [48]int16
	var order []int16
	sorted := true
	for i := 1; i < len(props); i++ {
		if props[i].Elem.Order < props[i-1].Elem.Order {
			sorted = false
			break
		}
	}
	if !sorted {
		if len(props) <= len(buf) {
			order = buf[:len(props)]
		} else {
			order = make([]int16, len(props))
		}
		for i := range order {
			order[i] = int16(i)
			for j := i; j > 0 && props[order[j-1]].Elem.Order > props[i].Elem.Order; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
	}
	for i := range props {
		p := &props[i]
		if !sorted {
			p = &props[order[i]]
		}
		mark := len(w.b)
		if n > 0 {
			w.b = append(w.b, ',')
		}
		skipValue := r != nil && r.ID != "" && p.Elem.Order == 0 && p.Elem.Name == "id"
		if w.prop(p, skipValue) {
			n++
		} else {
			w.b = w.b[:mark]
		}
	}
	w.b = append(w.b, '}')
	return n > 0
}

func (w *writer) name(prefix byte, name string) {
	w.b = append(w.b, '"')
	if prefix != 0 {
		w.b = append(w.b, prefix)
	}
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// prop writes one element (and its "_name" companion for primitives), preceded by nothing; it
// reports whether it wrote anything.
func (w *writer) prop(p *Prop, skipValue bool) bool {
	e := p.Elem
	jk := e.jsonKind
	if jk <= jsonBool {
		return w.primitiveProp(p, jk, skipValue)
	}
	if !e.List() {
		for i := range p.Vals {
			mark := len(w.b)
			w.name(0, e.Name)
			if w.value(&p.Vals[i], jk) {
				return true
			}
			w.b = w.b[:mark]
		}
		return false
	}
	mark := len(w.b)
	w.name(0, e.Name)
	w.b = append(w.b, '[')
	n := 0
	dedupe := w.canon != nil && jk == jsonReference
	var spanBuf [16][2]int
	spans := spanBuf[:0]
	kept := p.Vals[:0]
	for i := range p.Vals {
		v := p.Vals[i]
		item := len(w.b)
		if n > 0 {
			w.b = append(w.b, ',')
		}
		start := len(w.b)
		if !w.value(&v, jk) {
			w.b = w.b[:item]
			continue
		}
		if dedupe {
			dup := false
			for _, sp := range spans {
				if string(w.b[sp[0]:sp[1]]) == string(w.b[start:]) {
					dup = true
					break
				}
			}
			if dup {
				w.b = w.b[:item]
				continue
			}
			spans = append(spans, [2]int{start, len(w.b)})
			kept = append(kept, v)
		}
		n++
	}
	if dedupe {
		clear(p.Vals[len(kept):])
		p.Vals = kept
	}
	if n == 0 {
		w.b = w.b[:mark]
		return false
	}
	w.b = append(w.b, ']')
	return true
}

// value writes one complex value (object, nested resource or reference) and reports whether
// it wrote anything.
func (w *writer) value(v *Value, jk uint8) bool {
	switch v.Kind {
	case ObjectValue:
		if v.R != nil {
			w.resource(v.R)
			return true
		}
		if v.O == nil {
			return false
		}
		if v.O.Type != nil && v.O.Type.Kind == KindResource {
			w.object(v.O, nil)
			return true
		}
		mark := len(w.b)
		if w.object(v.O, nil) {
			return true
		}
		w.b = w.b[:mark]
		return false
	case RefValue:
		if jk == jsonReference {
			mark := len(w.b)
			w.b = append(w.b, `{"reference":`...)
			if w.ref(v.R) {
				w.b = append(w.b, '}')
				return true
			}
			w.b = w.b[:mark]
			return false
		}
		return w.ref(v.R)
	}
	// A primitive where an object is expected: written as it is; Validate reports it.
	if v.S == "" {
		return false
	}
	w.b = appendString(w.b, v.S)
	return true
}

// ref writes the reference string for r and reports whether r has an id.
func (w *writer) ref(r *Resource) bool {
	if r == nil {
		return false
	}
	t := r.Identity()
	if pos := w.cyclePos(t); pos >= 0 {
		w.b = append(w.b, `"cycle:`...)
		w.b = appendInt(w.b, pos)
		w.b = append(w.b, '"')
		return true
	}
	if t.ID == "" {
		return false
	}
	w.b = append(w.b, '"')
	if w.canon == nil && t.asm != nil && t.asm.base != "" {
		// AssembleOptions.FullURLBase: relative references (canonical forms keep urn:uuid)
		w.b = append(w.b, t.Type.Name...)
		w.b = append(w.b, '/')
	} else {
		w.b = append(w.b, "urn:uuid:"...)
	}
	w.b = append(w.b, t.ID...) // ids are [A-Za-z0-9-.]: no escaping
	w.b = append(w.b, '"')
	return true
}

func (w *writer) hasExt(v *Value) bool {
	if v.Ext == nil {
		return false
	}
	return w.pruned || !v.Ext.Empty()
}

func (w *writer) hasPrimitive(v *Value) bool {
	if v.Kind == RefValue {
		if v.R == nil {
			return false
		}
		t := v.R.Identity()
		return t.ID != "" || w.cyclePos(t) >= 0
	}
	return v.Kind != ObjectValue && v.S != ""
}

// cyclePos returns the position of t in the reference cycle of the resource being
// canonicalized, or -1 if t is not in it.
func (w *writer) cyclePos(t *Resource) int {
	if c := w.canon; c != nil && c.asm != nil && t.asm == c.asm {
		if inf := &c.asm.info[t.idx]; inf.cyclic && inf.scc == c.asm.info[c.idx].scc {
			return int(inf.pos)
		}
	}
	return -1
}

// primitiveProp writes a primitive element: "name": value(s), then "_name": extension(s).
// In lists, values without value and extension are left out; a value without value gets null
// in "name", one without extension null in "_name" (R4 §2.6.2.3 json.html#primitive).
func (w *writer) primitiveProp(p *Prop, jk uint8, skipValue bool) bool {
	e := p.Elem
	vals := p.Vals
	if !e.List() {
		for i := range vals {
			v := &vals[i]
			hv, he := w.hasPrimitive(v) && !skipValue, w.hasExt(v)
			if !hv && !he {
				continue
			}
			if hv {
				w.name(0, e.Name)
				w.primitive(v, jk)
			}
			if he {
				if hv {
					w.b = append(w.b, ',')
				}
				w.name('_', e.Name)
				w.object(v.Ext, nil)
			}
			return true
		}
		return false
	}
	anyV, anyE := false, false
	for i := range vals {
		anyV = anyV || w.hasPrimitive(&vals[i])
		anyE = anyE || w.hasExt(&vals[i])
	}
	if !anyV && !anyE {
		return false
	}
	if anyV {
		w.name(0, e.Name)
		w.b = append(w.b, '[')
		n := 0
		for i := range vals {
			v := &vals[i]
			hv := w.hasPrimitive(v)
			if !hv && !w.hasExt(v) {
				continue
			}
			if n > 0 {
				w.b = append(w.b, ',')
			}
			n++
			if hv {
				w.primitive(v, jk)
			} else {
				w.b = append(w.b, "null"...)
			}
		}
		w.b = append(w.b, ']')
	}
	if anyE {
		if anyV {
			w.b = append(w.b, ',')
		}
		w.name('_', e.Name)
		w.b = append(w.b, '[')
		n := 0
		for i := range vals {
			v := &vals[i]
			he := w.hasExt(v)
			if !he && !w.hasPrimitive(v) {
				continue
			}
			if n > 0 {
				w.b = append(w.b, ',')
			}
			n++
			if he {
				w.object(v.Ext, nil)
			} else {
				w.b = append(w.b, "null"...)
			}
		}
		w.b = append(w.b, ']')
	}
	return true
}

// primitive writes a primitive value in the JSON form of its element's type.
func (w *writer) primitive(v *Value, jk uint8) {
	if v.Kind == RefValue {
		w.ref(v.R)
		return
	}
	switch jk {
	case jsonNumber:
		if validNumber(v.S) {
			w.b = append(w.b, v.S...)
			return
		}
	case jsonBool:
		if v.S == "true" || v.S == "false" {
			w.b = append(w.b, v.S...)
			return
		}
	}
	w.b = appendString(w.b, v.S)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 §7): '"', '\\' and control characters are
// escaped, U+2028 and U+2029 too (for JavaScript), invalid UTF-8 becomes U+FFFD; '<', '>'
// and '&' are not escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendInt(dst []byte, n int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// appendIndent appends src, compact JSON as written by this package, indented as
// encoding/json.Indent(dst, src, "", indent) would indent it.
func appendIndent(dst, src []byte, indent string) []byte {
	dst = slices.Grow(dst, len(src)+len(src)/2)
	depth := 0
	needIndent := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != ']' && c != '}' {
			needIndent = false
			depth++
			dst = appendNewline(dst, indent, depth)
		}
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			needIndent = true
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, indent, depth)
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if needIndent {
				needIndent = false // empty: {} or []
			} else {
				depth--
				dst = appendNewline(dst, indent, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendNewline(dst []byte, indent string, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
