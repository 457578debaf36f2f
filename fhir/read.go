package fhir

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of JSON objects and arrays that ParseResource accepts.
const maxDepth = 512

// ParseResource parses the FHIR JSON of one resource (R4 §2.6.2 json.html), typed by the
// element metadata: every value gets its [Element], primitives are checked with
// [ValidPrimitive], numbers keep their JSON text ("1.50"). Resources in Resource-typed
// elements (Bundle.entry.resource, contained) become nested [Resource] values (see
// [MakeResource]); references stay strings (Reference.reference). A resource's "id" goes to
// [Resource.ID]. Primitive extensions ("_birthDate", "_given": [null, {…}]) are kept in
// [Value].Ext.
//
// The first problem ends parsing with a *[JSONError] giving the byte offset and the element
// path ("Bundle.entry[3].resource.name[0].given[1]"): invalid JSON, unknown elements, a JSON
// kind that does not fit the element (an array for a single element, a string for a
// boolean, …), invalid primitives, duplicate keys, empty objects, arrays and strings, and
// nulls without a matching extension. Conflicting choice variants and cardinality are left to
// [Validate]. Where a primitive list and its "_name" list differ in length, the shorter one is
// padded with nulls.
//
// ParseResource does not retain data.
func ParseResource(data []byte) (*Resource, error) {
	p := parser{data: data}
	return p.parse()
}

// ParseResourceLenient is [ParseResource] for FHIR from the wild: a problem inside an element
// leaves that element out and is returned in problems, and parsing goes on. Unknown elements
// (an R5 element, a typo), invalid primitives ("2025-01-01T00:00:00-0500"), a JSON kind that
// does not fit, empty values, duplicates and unknown contained resource types are all
// recoverable; invalid JSON, nesting too deep and a root that is not a known resource are
// not (err). A problem's Detail may quote input data; its Path and Err do not.
func ParseResourceLenient(data []byte) (r *Resource, problems []*JSONError, err error) {
	p := parser{data: data, lenient: true}
	r, err = p.parse()
	return r, p.problems, err
}

func (p *parser) parse() (*Resource, error) {
	data := p.data
	p.skipWS()
	if p.pos >= len(data) || data[p.pos] != '{' {
		return nil, p.fail(p.pos, ErrKind, "expected a resource object")
	}
	r, err := p.resource()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(data) {
		return nil, p.fail(p.pos, ErrSyntax, "data after the resource")
	}
	return r, nil
}

type pathSeg struct {
	name  string
	index int // -1: not a list item
}

type parser struct {
	data  []byte
	pos   int
	depth int
	path  []pathSeg
	buf   []byte     // scratch for strings with escapes
	nulls []nullSlot // nulls in primitive lists of the objects being parsed

	lenient  bool         // leave out elements with problems (ParseResourceLenient)
	problems []*JSONError // what was left out
}

// recover, in lenient mode, turns err — a problem with the value of the member that started
// at valOff — into a problem report: the value is skipped and parsing goes on. It returns
// err when it cannot: not lenient, invalid JSON, nesting too deep.
func (p *parser) recover(err error, valOff, pathLen, nulls int) error {
	je, ok := err.(*JSONError)
	if !p.lenient || !ok || je.Err == ErrSyntax || je.Err == ErrTooDeep {
		return err
	}
	p.problems = append(p.problems, je)
	p.path = p.path[:pathLen]
	p.nulls = p.nulls[:nulls]
	p.pos = valOff
	return p.skip()
}

// nullSlot is a null in a primitive list ("given": [null]) or its extension list
// ("_given": [null]); the other list must fill the slot.
type nullSlot struct {
	e     *Element
	index int
	off   int
}

func (p *parser) fail(off int, err error, detail string) *JSONError {
	return &JSONError{Offset: int64(off), Path: formatPath(p.path), Err: err, Detail: detail}
}

// formatPath formats a path as "Bundle.entry[3].resource.name[0].given[1]".
func formatPath(path []pathSeg) string {
	var b strings.Builder
	for i, s := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (p *parser) push(name string) {
	p.path = append(p.path, pathSeg{name: name, index: -1})
}

func (p *parser) pop() { p.path = p.path[:len(p.path)-1] }

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	p.skipWS()
	if p.peek() != c {
		return p.syntax("expected " + strconv.QuoteRune(rune(c)))
	}
	p.pos++
	return nil
}

func (p *parser) syntax(detail string) error {
	if p.pos >= len(p.data) {
		return p.fail(p.pos, ErrSyntax, "unexpected end of input")
	}
	return p.fail(p.pos, ErrSyntax, detail)
}

// kindName names the JSON kind of the value starting at p.pos, for error details.
func (p *parser) kindName() string {
	switch p.peek() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// resource parses the object at p.pos as a resource, finding its resourceType first.
func (p *parser) resource() (*Resource, error) {
	start := p.pos
	name, off, err := p.findResourceType()
	if err != nil {
		return nil, err
	}
	p.pos = start
	if name == "" {
		return nil, p.fail(start, ErrMissingResourceType, "")
	}
	t := LookupType(name)
	if t == nil || t.Kind != KindResource || t.Abstract {
		return nil, p.fail(off, ErrUnknownResourceType, strconv.Quote(name))
	}
	r := newResource(t)
	if len(p.path) == 0 {
		p.push(t.Name)
		defer p.pop()
	}
	if err := p.object(&r.Object, r); err != nil {
		return nil, err
	}
	return r, nil
}

// findResourceType scans the object at p.pos for its resourceType member.
func (p *parser) findResourceType() (string, int, error) {
	p.pos++ // '{'
	for first := true; ; first = false {
		p.skipWS()
		if p.peek() == '}' {
			return "", 0, nil
		}
		if !first {
			if err := p.expect(','); err != nil {
				return "", 0, err
			}
			p.skipWS()
		}
		key, err := p.key()
		if err != nil {
			return "", 0, err
		}
		if err := p.expect(':'); err != nil {
			return "", 0, err
		}
		p.skipWS()
		if string(key) == "resourceType" {
			off := p.pos
			if p.peek() != '"' {
				return "", 0, p.fail(off, ErrKind, "resourceType must be a string")
			}
			s, err := p.str()
			return s, off, err
		}
		if err := p.skip(); err != nil {
			return "", 0, err
		}
	}
}

// object parses the object at p.pos into o; r is the resource whose content o is, if any.
func (p *parser) object(o *Object, r *Resource) error {
	open := p.pos
	p.pos++ // '{'
	p.depth++
	if p.depth > maxDepth {
		return p.fail(open, ErrTooDeep, "")
	}
	defer func() { p.depth-- }()
	sawType := false
	n := 0
	nulls := len(p.nulls)
	for first := true; ; first = false {
		p.skipWS()
		if p.peek() == '}' {
			p.pos++
			break
		}
		if !first {
			if err := p.expect(','); err != nil {
				return err
			}
			p.skipWS()
		}
		keyOff := p.pos
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		p.skipWS()
		n++
		if r != nil && string(key) == "resourceType" {
			if sawType {
				p.push("resourceType")
				return p.fail(keyOff, ErrDuplicate, `"resourceType"`)
			}
			sawType = true
			if err := p.skip(); err != nil {
				return err
			}
			continue
		}
		if r != nil && string(key) == "id" {
			p.push("id")
			if r.ID != "" {
				return p.fail(keyOff, ErrDuplicate, `"id"`)
			}
			id, err := p.primitive(o.Type.Element("id"))
			p.pop()
			if err != nil {
				return err
			}
			r.ID = id.S
			continue
		}
		ext := len(key) > 1 && key[0] == '_'
		name := key
		if ext {
			name = key[1:]
		}
		e := o.Type.elementBytes(name)
		valOff, pathLen, nullsAt, propsAt := p.pos, len(p.path), len(p.nulls), len(o.Props)
		if e == nil || (ext && !e.Primitive()) {
			p.push(string(key))
			err := p.fail(keyOff, ErrUnknownElement, strconv.Quote(string(key)))
			if err := p.recover(err, valOff, pathLen, nullsAt); err != nil {
				return err
			}
			continue
		}
		p.push(e.Name)
		if ext {
			err = p.extension(o, e, keyOff)
		} else {
			err = p.member(o, e, keyOff)
		}
		if err != nil {
			if err := p.recover(err, valOff, pathLen, nullsAt); err != nil {
				return err
			}
			if len(o.Props) > propsAt { // a list element appended before the problem
				o.Props = o.Props[:propsAt]
			}
			continue
		}
		p.pop()
	}
	if n == 0 {
		return p.fail(open, ErrEmpty, "empty object")
	}
	// Every primitive value needs a value or an extension: nulls are placeholders.
	for _, ns := range p.nulls[nulls:] {
		if v := &o.Prop(ns.e).Vals[ns.index]; v.S == "" && v.Ext == nil {
			p.push(ns.e.Name)
			p.path[len(p.path)-1].index = ns.index
			err := p.fail(ns.off, ErrNull, "")
			if !p.lenient {
				return err
			}
			p.problems = append(p.problems, err) // the empty value stays: its text is ""
			p.pop()
		}
	}
	p.nulls = p.nulls[:nulls]
	return nil
}

func primitiveKind(e *Element) ValueKind {
	switch e.jsonKind {
	case jsonNumber:
		return NumberValue
	case jsonBool:
		return BoolValue
	}
	return StringValue
}

// member parses the value of element e.
func (p *parser) member(o *Object, e *Element, keyOff int) error {
	pr := o.Prop(e)
	prim := e.Primitive()
	if pr != nil && (!prim || anyPrimitive(pr.Vals)) {
		return p.fail(keyOff, ErrDuplicate, strconv.Quote(e.Name))
	}
	if !e.List() {
		var arrayErr *JSONError
		if p.peek() == '[' {
			arrayErr = p.fail(p.pos, ErrKind, "expected a single value, found an array")
			if !p.lenient {
				return arrayErr
			}
			// Lenient: an array of exactly one value stands for the value, as HAPI reads it
			// ("managingOrganization": {"identifier": [{…}]} in the NHS adaptors' inputs).
			p.pos++
			if p.skipWS(); p.peek() == ']' {
				return arrayErr
			}
		}
		var v Value
		var err error
		if prim {
			if p.peek() == 'n' {
				return p.fail(p.pos, ErrNull, "")
			}
			v, err = p.primitive(e)
		} else {
			v, err = p.complex(e)
		}
		if err != nil {
			return err
		}
		if arrayErr != nil {
			if p.skipWS(); p.peek() != ']' {
				return arrayErr // several values: the element is left out
			}
			p.pos++
			p.problems = append(p.problems, arrayErr)
		}
		if pr != nil { // "_name" came first
			pr.Vals[0].S, pr.Vals[0].Kind = v.S, v.Kind
			return nil
		}
		o.Props = append(o.Props, Prop{Elem: e, Vals: []Value{v}})
		return nil
	}
	if p.peek() != '[' {
		return p.fail(p.pos, ErrKind, "expected an array, found "+p.kindName())
	}
	open := p.pos
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	var vals []Value
	if pr != nil {
		vals = pr.Vals
	}
	i := 0
	for first := true; ; first = false {
		p.skipWS()
		if p.peek() == ']' {
			p.pos++
			break
		}
		if !first {
			if err := p.expect(','); err != nil {
				return err
			}
			p.skipWS()
		}
		p.path[len(p.path)-1].index = i
		var v Value
		var err error
		switch {
		case prim && p.peek() == 'n':
			p.nulls = append(p.nulls, nullSlot{e, i, p.pos})
			if err := p.literal("null"); err != nil {
				return err
			}
			v = Value{Kind: primitiveKind(e)}
		case prim:
			v, err = p.primitive(e)
		default:
			v, err = p.complex(e)
		}
		if err != nil {
			return err
		}
		if i < len(vals) {
			vals[i].S, vals[i].Kind = v.S, v.Kind
		} else {
			vals = append(vals, v)
		}
		i++
	}
	p.path[len(p.path)-1].index = -1
	if i == 0 {
		return p.fail(open, ErrEmpty, "empty array")
	}
	if pr != nil {
		pr.Vals = vals
	} else {
		o.Props = append(o.Props, Prop{Elem: e, Vals: vals})
	}
	return nil
}

func anyPrimitive(vals []Value) bool {
	for i := range vals {
		if vals[i].S != "" {
			return true
		}
	}
	return false
}

// extension parses "_name": the extensions of primitive element e.
func (p *parser) extension(o *Object, e *Element, keyOff int) error {
	pr := o.Prop(e)
	if pr != nil {
		for i := range pr.Vals {
			if pr.Vals[i].Ext != nil {
				return p.fail(keyOff, ErrDuplicate, strconv.Quote("_"+e.Name))
			}
		}
	}
	ext := func() (*Object, error) {
		if p.peek() != '{' {
			return nil, p.fail(p.pos, ErrKind, "expected an object, found "+p.kindName())
		}
		x := NewObject(e.Elem)
		return x, p.object(x, nil)
	}
	if !e.List() {
		x, err := ext()
		if err != nil {
			return err
		}
		if pr == nil {
			o.Props = append(o.Props, Prop{Elem: e, Vals: []Value{{Kind: primitiveKind(e), Ext: x}}})
		} else {
			pr.Vals[0].Ext = x
		}
		return nil
	}
	if p.peek() != '[' {
		return p.fail(p.pos, ErrKind, "expected an array, found "+p.kindName())
	}
	open := p.pos
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	var vals []Value
	if pr != nil {
		vals = pr.Vals
	}
	i := 0
	for first := true; ; first = false {
		p.skipWS()
		if p.peek() == ']' {
			p.pos++
			break
		}
		if !first {
			if err := p.expect(','); err != nil {
				return err
			}
			p.skipWS()
		}
		p.path[len(p.path)-1].index = i
		var x *Object
		if p.peek() == 'n' {
			p.nulls = append(p.nulls, nullSlot{e, i, p.pos})
			if err := p.literal("null"); err != nil {
				return err
			}
		} else {
			var err error
			if x, err = ext(); err != nil {
				return err
			}
		}
		if i >= len(vals) {
			vals = append(vals, Value{Kind: primitiveKind(e)})
		}
		vals[i].Ext = x
		i++
	}
	p.path[len(p.path)-1].index = -1
	if i == 0 {
		return p.fail(open, ErrEmpty, "empty array")
	}
	if pr != nil {
		pr.Vals = vals
	} else {
		o.Props = append(o.Props, Prop{Elem: e, Vals: vals})
	}
	return nil
}

// complex parses an object value of element e: a datatype, backbone element or resource.
func (p *parser) complex(e *Element) (Value, error) {
	if p.peek() != '{' {
		return Value{}, p.fail(p.pos, ErrKind, "expected an object, found "+p.kindName())
	}
	if e.jsonKind == jsonResource {
		r, err := p.resource()
		if err != nil {
			return Value{}, err
		}
		return MakeResource(r), nil
	}
	o := NewObject(e.Elem)
	if err := p.object(o, nil); err != nil {
		return Value{}, err
	}
	return MakeObject(o), nil
}

// primitive parses a primitive value of element e.
func (p *parser) primitive(e *Element) (Value, error) {
	off := p.pos
	c := p.peek()
	switch e.jsonKind {
	case jsonNumber:
		if c != '-' && (c < '0' || c > '9') {
			return Value{}, p.fail(off, ErrKind, "expected a number, found "+p.kindName())
		}
		n := scanNumber(p.data[p.pos:])
		if n == 0 {
			return Value{}, p.syntax("invalid number")
		}
		p.pos += n
		s := string(p.data[off:p.pos])
		if !ValidPrimitive(e.Type, s) {
			return Value{}, p.fail(off, ErrInvalidPrimitive, s+" is not a valid "+e.Type)
		}
		return Value{Kind: NumberValue, S: s}, nil
	case jsonBool:
		switch c {
		case 't':
			return Value{Kind: BoolValue, S: "true"}, p.literal("true")
		case 'f':
			return Value{Kind: BoolValue, S: "false"}, p.literal("false")
		}
		return Value{}, p.fail(off, ErrKind, "expected a boolean, found "+p.kindName())
	}
	if c != '"' {
		return Value{}, p.fail(off, ErrKind, "expected a string, found "+p.kindName())
	}
	s, err := p.str()
	if err != nil {
		return Value{}, err
	}
	if s == "" {
		return Value{}, p.fail(off, ErrEmpty, "empty string")
	}
	if !ValidPrimitive(e.Type, s) {
		return Value{}, p.fail(off, ErrInvalidPrimitive, quoteShort(s)+" is not a valid "+e.Type)
	}
	return Value{Kind: StringValue, S: s}, nil
}

func quoteShort(s string) string {
	if len(s) > 100 {
		s = strings.ToValidUTF8(s[:100], "") + "…"
	}
	return strconv.Quote(s)
}

func (p *parser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.syntax("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

// key reads an object key. Without escapes it returns a slice of the input.
func (p *parser) key() ([]byte, error) {
	if p.peek() != '"' {
		return nil, p.syntax("expected a string key")
	}
	start := p.pos + 1
	for i := start; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			p.pos = i + 1
			return p.data[start:i], nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			s, err := p.str()
			return []byte(s), err
		}
	}
	p.pos = len(p.data)
	return nil, p.syntax("")
}

// str reads a JSON string (RFC 8259 §7) at p.pos, which must be '"'.
func (p *parser) str() (string, error) {
	start := p.pos + 1
	i := start
	for i < len(p.data) {
		c := p.data[i]
		if c == '"' {
			s := p.data[start:i]
			if !utf8.Valid(s) {
				return "", p.fail(p.pos, ErrSyntax, "invalid UTF-8")
			}
			p.pos = i + 1
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		i++
	}
	b := append(p.buf[:0], p.data[start:i]...)
	for {
		if i >= len(p.data) {
			p.pos = i
			return "", p.syntax("")
		}
		c := p.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return "", p.fail(p.pos, ErrSyntax, "invalid UTF-8")
			}
			p.pos = i + 1
			p.buf = b
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.syntax("control character in string")
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		i++
		if i >= len(p.data) {
			p.pos = i
			return "", p.syntax("")
		}
		switch c := p.data[i]; c {
		case '"', '\\', '/':
			b = append(b, c)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(p.data, i+1)
			if !ok {
				p.pos = i - 1
				return "", p.syntax("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+2 < len(p.data) && p.data[i+1] == '\\' && p.data[i+2] == 'u' {
					r2, ok = hex4(p.data, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			p.pos = i - 1
			return "", p.syntax("invalid escape")
		}
		i++
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip skips over one JSON value, checking its syntax.
func (p *parser) skip() error {
	p.skipWS()
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return p.fail(p.pos, ErrTooDeep, "")
		}
		p.pos++
		for first := true; ; first = false {
			p.skipWS()
			if p.peek() == end {
				p.pos++
				return nil
			}
			if !first {
				if err := p.expect(','); err != nil {
					return err
				}
				p.skipWS()
			}
			if c == '{' {
				if _, err := p.key(); err != nil {
					return err
				}
				if err := p.expect(':'); err != nil {
					return err
				}
			}
			if err := p.skip(); err != nil {
				return err
			}
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		n := scanNumber(p.data[p.pos:])
		if n == 0 {
			return p.syntax("invalid value")
		}
		p.pos += n
		return nil
	}
}
