package hl7v2

import (
	"bytes"
	"unsafe"
)

// span is a part of a message: a field, repetition, component or subcomponent, with its
// coordinates so that it can name its own [Path].
type span struct {
	m          *Message
	start, end int32 // m.data[start:end]
	seg        int32
	field      int32
	rep        int32
	comp       int32
	sub        int32
	lit        bool // MSH-1 or MSH-2: raw, never split or unescaped
}

func (v span) raw() []byte {
	if v.m == nil {
		return nil
	}
	return v.m.data[v.start:v.end:v.end]
}

func (v span) text() string {
	if v.start >= v.end {
		return ""
	}
	b := v.m.data[v.start:v.end]
	if v.lit || bytes.IndexByte(b, v.m.delims.Escape) < 0 {
		if v.m.shared {
			return string(b)
		}
		// The message's bytes are never modified once it is returned, so the string can
		// share them.
		return unsafe.String(&b[0], len(b))
	}
	out := Unescape(make([]byte, 0, len(b)), b, v.m.delims)
	if len(out) == 0 {
		return ""
	}
	return unsafe.String(&out[0], len(out))
}

func (v span) appendText(dst []byte) []byte {
	if v.start >= v.end {
		return dst
	}
	b := v.m.data[v.start:v.end]
	if v.lit {
		return append(dst, b...)
	}
	return Unescape(dst, b, v.m.delims)
}

func (v span) offset() int { return int(v.start) }

func (v span) null() bool {
	return v.end-v.start == 2 && v.m.data[v.start] == '"' && v.m.data[v.start+1] == '"'
}

// count returns the number of parts of v split by sep: 0 if v is empty.
func (v span) count(sep byte) int {
	if v.start >= v.end {
		return 0
	}
	if v.lit {
		return 1
	}
	return bytes.Count(v.m.data[v.start:v.end], []byte{sep}) + 1
}

// bounds returns the bounds of the i-th (1-based) part of v split by sep. Past the last
// part it returns an empty span at the end of v.
func (v span) bounds(sep byte, i int) (start, end int32) {
	if v.lit {
		if i == 1 {
			return v.start, v.end
		}
		return v.end, v.end
	}
	b := v.m.data[v.start:v.end]
	if len(b) > shortSpan {
		k := 0
		for ; i > 1; i-- {
			j := bytes.IndexByte(b[k:], sep)
			if j < 0 {
				return v.end, v.end
			}
			k += j + 1
		}
		e := len(b)
		if j := bytes.IndexByte(b[k:], sep); j >= 0 {
			e = k + j
		}
		return v.start + int32(k), v.start + int32(e)
	}
	// Most fields and components are short: a plain loop beats a call per separator.
	k := 0
	for ; i > 1; i-- {
		for k < len(b) && b[k] != sep {
			k++
		}
		if k == len(b) {
			return v.end, v.end
		}
		k++
	}
	e := k
	for e < len(b) && b[e] != sep {
		e++
	}
	return v.start + int32(k), v.start + int32(e)
}

// shortSpan is the length up to which bounds scans byte by byte rather than with
// bytes.IndexByte.
const shortSpan = 64

func (v span) path() Path {
	if v.m == nil {
		return Path{}
	}
	p := Segment{m: v.m, i: v.seg}.Path()
	p.Field, p.Rep, p.Component, p.Subcomponent = int(v.field), int(v.rep), int(v.comp), int(v.sub)
	return p
}

// A Field is one field of a segment, with all its repetitions. It is a small value;
// obtaining one does not allocate. Past the last field of a segment, Field returns an empty
// Field.
type Field struct{ v span }

// NumReps returns the number of repetitions: 0 for an empty field.
func (f Field) NumReps() int { return f.v.count(f.delim(repSep)) }

// Rep returns repetition i (1-based), or an empty Rep past the last one.
func (f Field) Rep(i int) Rep {
	v := f.v
	if v.m == nil || i < 1 {
		return Rep{}
	}
	start, end := v.bounds(v.m.delims.Repetition, i)
	return Rep{span{m: v.m, start: start, end: end, seg: v.seg, field: v.field, rep: int32(i), lit: v.lit}}
}

// Text returns the whole field, all repetitions, with escape sequences decoded and the
// repetition, component and subcomponent separators kept as they are: "Doe^John~Roe^Jane".
// Decoded escapes are not re-escaped, so a decoded \S\ reads like a component separator; use
// [Field.Rep] and [Rep.Component] to read structure. MSH-1 and MSH-2 are returned raw.
// Text does not allocate when the field holds no escape character and the message does not
// reuse buffers.
func (f Field) Text() string { return f.v.text() }

// AppendText appends [Field.Text] to dst and returns the extended slice.
func (f Field) AppendText(dst []byte) []byte { return f.v.appendText(dst) }

// Raw returns the field as written, without decoding. The caller must not modify it.
func (f Field) Raw() []byte { return f.v.raw() }

// Offset returns the byte offset of the field within [Message.Bytes]; see
// [Message.InputPosition] for its place in the input.
func (f Field) Offset() int { return f.v.offset() }

// Empty reports whether the field holds no characters.
func (f Field) Empty() bool { return f.v.start >= f.v.end }

// Null reports whether the field is the HL7 explicit null `""` (v2.5.1 §2.5.3).
func (f Field) Null() bool { return f.v.null() }

// Path returns the field's location, such as "PID-5" or "OBX[2]-5".
func (f Field) Path() Path { return f.v.path() }

// A Rep is one repetition of a field.
type Rep struct{ v span }

// NumComponents returns the number of components: 0 for an empty repetition.
func (r Rep) NumComponents() int { return r.v.count(r.delim(compSep)) }

// Component returns component c (1-based), or an empty Component past the last one.
func (r Rep) Component(c int) Component {
	v := r.v
	if v.m == nil || c < 1 {
		return Component{}
	}
	start, end := v.bounds(v.m.delims.Component, c)
	return Component{span{m: v.m, start: start, end: end, seg: v.seg, field: v.field, rep: v.rep,
		comp: int32(c), lit: v.lit}}
}

// Text returns the repetition with escape sequences decoded and the component and
// subcomponent separators kept: "Doe^John" for a whole XPN.
func (r Rep) Text() string { return r.v.text() }

// AppendText appends [Rep.Text] to dst and returns the extended slice.
func (r Rep) AppendText(dst []byte) []byte { return r.v.appendText(dst) }

// Raw returns the repetition as written. The caller must not modify it.
func (r Rep) Raw() []byte { return r.v.raw() }

// Offset returns the byte offset of the repetition within [Message.Bytes].
func (r Rep) Offset() int { return r.v.offset() }

// Empty reports whether the repetition holds no characters.
func (r Rep) Empty() bool { return r.v.start >= r.v.end }

// Null reports whether the repetition is the HL7 explicit null `""`.
func (r Rep) Null() bool { return r.v.null() }

// Path returns the repetition's location, such as "PID-5[2]".
func (r Rep) Path() Path { return r.v.path() }

// A Component is one component of a field repetition.
type Component struct{ v span }

// NumSubcomponents returns the number of subcomponents: 0 for an empty component.
func (c Component) NumSubcomponents() int { return c.v.count(c.delim(subSep)) }

// Sub returns subcomponent s (1-based), or an empty Subcomponent past the last one.
func (c Component) Sub(s int) Subcomponent {
	v := c.v
	if v.m == nil || s < 1 {
		return Subcomponent{}
	}
	start, end := v.bounds(v.m.delims.Subcomponent, s)
	return Subcomponent{span{m: v.m, start: start, end: end, seg: v.seg, field: v.field, rep: v.rep,
		comp: v.comp, sub: int32(s), lit: v.lit}}
}

// Text returns the component with escape sequences decoded and subcomponent separators
// kept: "HOSP&1.2.3&ISO".
func (c Component) Text() string { return c.v.text() }

// AppendText appends [Component.Text] to dst and returns the extended slice.
func (c Component) AppendText(dst []byte) []byte { return c.v.appendText(dst) }

// Raw returns the component as written. The caller must not modify it.
func (c Component) Raw() []byte { return c.v.raw() }

// Offset returns the byte offset of the component within [Message.Bytes].
func (c Component) Offset() int { return c.v.offset() }

// Empty reports whether the component holds no characters.
func (c Component) Empty() bool { return c.v.start >= c.v.end }

// Null reports whether the component is the HL7 explicit null `""`.
func (c Component) Null() bool { return c.v.null() }

// Path returns the component's location, such as "PID-5.1" or "PID-5[2].1".
func (c Component) Path() Path { return c.v.path() }

// A Subcomponent is one subcomponent of a component.
type Subcomponent struct{ v span }

// Text returns the subcomponent with escape sequences decoded.
func (s Subcomponent) Text() string { return s.v.text() }

// AppendText appends [Subcomponent.Text] to dst and returns the extended slice.
func (s Subcomponent) AppendText(dst []byte) []byte { return s.v.appendText(dst) }

// Raw returns the subcomponent as written. The caller must not modify it.
func (s Subcomponent) Raw() []byte { return s.v.raw() }

// Offset returns the byte offset of the subcomponent within [Message.Bytes].
func (s Subcomponent) Offset() int { return s.v.offset() }

// Empty reports whether the subcomponent holds no characters.
func (s Subcomponent) Empty() bool { return s.v.start >= s.v.end }

// Null reports whether the subcomponent is the HL7 explicit null `""`.
func (s Subcomponent) Null() bool { return s.v.null() }

// Path returns the subcomponent's location, such as "PID-3.4.2".
func (s Subcomponent) Path() Path { return s.v.path() }

type sepKind uint8

const (
	repSep sepKind = iota
	compSep
	subSep
)

func delimOf(m *Message, k sepKind) byte {
	if m == nil {
		return 0
	}
	switch k {
	case repSep:
		return m.delims.Repetition
	case compSep:
		return m.delims.Component
	}
	return m.delims.Subcomponent
}

func (f Field) delim(k sepKind) byte     { return delimOf(f.v.m, k) }
func (r Rep) delim(k sepKind) byte       { return delimOf(r.v.m, k) }
func (c Component) delim(k sepKind) byte { return delimOf(c.v.m, k) }
