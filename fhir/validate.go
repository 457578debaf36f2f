package fhir

import (
	"strconv"
	"strings"
)

// Issue is a problem found by [Validate].
type Issue struct {
	Severity string // "error" or "warning"
	Path     string // "Bundle.entry[3].resource.name[0].given[1]"
	Message  string
}

// String returns "severity path: message".
func (i Issue) String() string { return i.Severity + " " + i.Path + ": " + i.Message }

// Validate checks r against the R4 element metadata and returns the issues found, errors and
// warnings, in tree order; nil means valid. It checks:
//
//   - that every element belongs to its object's type and every value has the element's kind;
//   - cardinality (min and max; a required choice needs one variant) and empty values (ele-1);
//   - choice exclusivity: at most one variant of value[x] per object;
//   - primitive formats ([ValidPrimitive]);
//   - required bindings with enumerable codes, for code, Coding and CodeableConcept (at least
//     one coding of a CodeableConcept must be in the value set);
//   - Extension: a value or nested extensions, not both (ext-1);
//   - Reference targets: the referenced resource type is allowed (a warning, as the official
//     validators give);
//   - in a Bundle: every reference resolves to an entry, by fullUrl or Type/id (absolute
//     http(s) URLs and '#' references are not checked), and the invariants bdl-1 to bdl-5,
//     bdl-7 and bdl-9 to bdl-12.
//
// It does not evaluate other FHIRPath invariants, check XHTML, or check extensible bindings.
func Validate(r *Resource) []Issue {
	if r == nil || r.Type == nil {
		return []Issue{{Severity: "error", Message: "no resource"}}
	}
	v := &validator{}
	v.path = append(v.path, pathSeg{name: r.Type.Name, index: -1})
	if r.Type.Kind != KindResource || r.Type.Abstract {
		v.errorf("%s is not a concrete resource type", r.Type.Name)
		return v.issues
	}
	if r.ID != "" && !ValidPrimitive("id", r.ID) {
		v.errorf("invalid id %s", quoteShort(r.ID))
	}
	if r.Type.Name == "Bundle" {
		v.bundleContext(r)
	}
	v.object(&r.Object)
	return v.issues
}

type validator struct {
	issues []Issue
	path   []pathSeg

	inBundle bool
	known    map[string]bool    // fullUrls and Type/id of the Bundle's entries
	entries  map[*Resource]bool // the entries' resources
}

func (v *validator) add(sev, msg string) {
	v.issues = append(v.issues, Issue{Severity: sev, Path: formatPath(v.path), Message: msg})
}

func (v *validator) errorf(format string, args ...string) { v.add("error", sprintf(format, args...)) }

func (v *validator) warnf(format string, args ...string) { v.add("warning", sprintf(format, args...)) }

// sprintf replaces each %s in format with the next argument.
func sprintf(format string, args ...string) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "%s")
		if i < 0 || len(args) == 0 {
			b.WriteString(format)
			return b.String()
		}
		b.WriteString(format[:i])
		b.WriteString(args[0])
		format, args = format[i+2:], args[1:]
	}
}

func (v *validator) object(o *Object) {
	t := o.Type
	if t == nil {
		v.errorf("object without type")
		return
	}
	for i := range o.Props {
		p := &o.Props[i]
		e := p.Elem
		v.path = append(v.path, pathSeg{name: e.Name, index: -1})
		v.prop(o, i, p)
		v.path = v.path[:len(v.path)-1]
	}
	// Minimum cardinality; a choice counts once.
	for i, e := range t.Elements {
		if e.Min == 0 || (i > 0 && t.Elements[i-1].Order == e.Order) || (t.Kind == KindResource && e.Name == "id") {
			continue
		}
		n := 0
		for j := range o.Props {
			if o.Props[j].Elem.Order == e.Order {
				n += countValues(&o.Props[j])
			}
		}
		if n < e.Min {
			name := e.Name
			if e.Choice != "" {
				name = e.Choice + "[x]"
			}
			v.errorf("missing required element %s (min %s, found %s)", name, strconv.Itoa(e.Min), strconv.Itoa(n))
		}
	}
	if t.Name == "Extension" {
		hasValue, hasExt := false, false
		for j := range o.Props {
			hasValue = hasValue || o.Props[j].Elem.Choice == "value"
			hasExt = hasExt || o.Props[j].Elem.Name == "extension"
		}
		if hasValue && hasExt {
			v.errorf("an extension has a value or extensions, not both (ext-1)")
		}
	}
}

func countValues(p *Prop) int {
	n := 0
	for i := range p.Vals {
		if !p.Vals[i].Empty() {
			n++
		}
	}
	return n
}

func (v *validator) prop(o *Object, i int, p *Prop) {
	e := p.Elem
	if o.Type.Element(e.Name) != e {
		v.errorf("element %s is not an element of %s", e.Name, o.Type.Name)
		return
	}
	if e.Choice != "" {
		for j := range i {
			if q := o.Props[j].Elem; q.Order == e.Order && q != e {
				v.errorf("only one of %s and %s may be present (choice %s[x])", q.Name, e.Name, e.Choice)
			}
		}
	}
	for j := 0; j < i; j++ {
		if o.Props[j].Elem == e {
			v.errorf("element %s appears twice in the object", e.Name)
		}
	}
	n := countValues(p)
	if n == 0 {
		v.errorf("empty value (ele-1)")
		return
	}
	if !e.List() && n > 1 || e.Max > 1 && n > e.Max {
		v.errorf("too many values (max %s, found %s)", maxText(e.Max), strconv.Itoa(n))
	}
	list := e.List()
	for j := range p.Vals {
		if list {
			v.path[len(v.path)-1].index = j
		}
		v.value(e, &p.Vals[j])
	}
	v.path[len(v.path)-1].index = -1
}

func maxText(m int) string {
	if m < 0 {
		return "*"
	}
	return strconv.Itoa(m)
}

func (v *validator) value(e *Element, x *Value) {
	if x.Empty() {
		v.errorf("empty value (ele-1)")
		return
	}
	if e.Primitive() {
		switch x.Kind {
		case ObjectValue:
			v.errorf("expected a %s, found an object", e.Type)
			return
		case RefValue:
			v.refTarget(e, x.R)
			return
		}
		if x.S != "" {
			if !ValidPrimitive(e.Type, x.S) {
				v.errorf("invalid %s %s", e.Type, quoteShort(x.S))
			} else if e.Binding != nil && !e.AllowsCode(x.S) {
				v.errorf("code %s is not in the required value set %s", quoteShort(x.S), e.BindingURL)
			}
			if v.inBundle && e.Name == "reference" && e.Type == "string" {
				v.refString(x.S)
			}
		}
		if x.Ext != nil {
			v.object(x.Ext)
		}
		return
	}
	switch x.Kind {
	case RefValue:
		if e.jsonKind != jsonReference {
			v.errorf("a reference where %s is expected", e.Type)
			return
		}
		v.refTarget(e, x.R)
		return
	case ObjectValue:
	default:
		v.errorf("expected %s, found a primitive %s", e.Type, quoteShort(x.S))
		return
	}
	o := x.O
	if e.jsonKind == jsonResource {
		if o.Type == nil || o.Type.Kind != KindResource || o.Type.Abstract {
			v.errorf("expected a resource")
			return
		}
		if x.R != nil && x.R.ID != "" && !ValidPrimitive("id", x.R.ID) {
			v.errorf("invalid id %s", quoteShort(x.R.ID))
		}
	} else if o.Type != e.Elem {
		name := "nil"
		if o.Type != nil {
			name = o.Type.Name
		}
		v.errorf("expected %s, found %s", e.Elem.Name, name)
		return
	}
	if e.Binding != nil {
		v.binding(e, o)
	}
	v.object(o)
	if e.jsonKind == jsonReference && x.R == nil {
		v.referenceTypes(e, o)
	}
}

// binding checks a Coding or CodeableConcept against a required binding.
func (v *validator) binding(e *Element, o *Object) {
	switch o.Type.Name {
	case "Coding":
		if c, ok := o.Get(o.Type.Element("code")); ok && c.S != "" && !e.AllowsCode(c.S) {
			v.errorf("code %s is not in the required value set %s", quoteShort(c.S), e.BindingURL)
		}
	case "CodeableConcept":
		p := o.Prop(o.Type.Element("coding"))
		if p == nil {
			return
		}
		var codes []string
		for _, c := range p.Vals {
			if c.Kind != ObjectValue || c.O == nil {
				continue
			}
			if code, ok := c.O.Get(c.O.Type.Element("code")); ok && code.S != "" {
				if e.AllowsCode(code.S) {
					return
				}
				codes = append(codes, quoteShort(code.S))
			}
		}
		if len(codes) > 0 {
			v.errorf("no coding in the required value set %s (codes %s)", e.BindingURL, strings.Join(codes, ", "))
		}
	}
}

// refTarget checks a RefValue: its target type and, in a Bundle, that it is an entry.
func (v *validator) refTarget(e *Element, r *Resource) {
	if r == nil {
		v.errorf("reference to nothing")
		return
	}
	t := r.Identity()
	if v.inBundle && !v.entries[t] {
		v.errorf("reference to a %s that is not an entry of the Bundle", t.Type.Name)
	}
	if e.jsonKind == jsonReference {
		v.checkTarget(e, t.Type.Name)
	} // on Reference.reference, the enclosing Reference element's targets are checked by referenceTypes
}

// referenceTypes checks the type of a Reference object's literal or Ref reference.
func (v *validator) referenceTypes(e *Element, o *Object) {
	p := o.Prop(o.Type.Element("reference"))
	if p == nil || len(p.Vals) == 0 {
		return
	}
	x := p.Vals[0]
	switch {
	case x.Kind == RefValue && x.R != nil:
		v.checkTarget(e, x.R.Identity().Type.Name)
	case x.S != "" && x.S[0] != '#' && !strings.HasPrefix(x.S, "urn:"):
		// [base/]Type/id[/_history/v]
		s := x.S
		if i := strings.Index(s, "/_history/"); i >= 0 {
			s = s[:i]
		}
		parts := strings.Split(s, "/")
		if len(parts) >= 2 && IsResourceType(parts[len(parts)-2]) {
			v.checkTarget(e, parts[len(parts)-2])
		}
	}
}

func (v *validator) checkTarget(e *Element, typ string) {
	for _, t := range e.Targets {
		if t == typ || t == "Resource" {
			return
		}
	}
	if e.Targets != nil {
		v.warnf("reference to %s, expected %s", typ, strings.Join(e.Targets, " or "))
	}
}

// refString checks that a reference string inside a Bundle resolves to an entry.
func (v *validator) refString(ref string) {
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return
	}
	if !v.known[ref] {
		v.errorf("dangling reference %s: no entry has this fullUrl or Type/id", quoteShort(ref))
	}
}

// bundleContext collects the entries of Bundle b and checks the Bundle invariants.
func (v *validator) bundleContext(b *Resource) {
	bt := b.Type
	entryE := bt.Element("entry")
	et := entryE.Elem
	v.inBundle = true
	v.known = map[string]bool{}
	v.entries = map[*Resource]bool{}
	typ := ""
	if x, ok := b.Get(bt.Element("type")); ok {
		typ = x.S
	}
	if x, ok := b.Get(bt.Element("total")); ok && x.S != "" && typ != "searchset" && typ != "history" {
		v.errorf("total only when a search or history (bdl-1)")
	}
	if typ == "document" {
		idOK := false
		if x, ok := b.Get(bt.Element("identifier")); ok && x.O != nil {
			s, ok1 := x.O.Get(x.O.Type.Element("system"))
			val, ok2 := x.O.Get(x.O.Type.Element("value"))
			idOK = ok1 && ok2 && s.S != "" && val.S != ""
		}
		if !idOK {
			v.errorf("a document must have an identifier with a system and a value (bdl-9)")
		}
		if x, ok := b.Get(bt.Element("timestamp")); !ok || x.S == "" {
			v.errorf("a document must have a timestamp (bdl-10)")
		}
	}
	p := b.Prop(entryE)
	if p == nil {
		if typ == "document" || typ == "message" {
			v.errorf("a %s must have entries", typ)
		}
		return
	}
	fullURL, resourceE := et.Element("fullUrl"), et.Element("resource")
	requestE, responseE, searchE := et.Element("request"), et.Element("response"), et.Element("search")
	seen := map[string]int{}
	for i, x := range p.Vals {
		if x.Kind != ObjectValue || x.O == nil || x.O.Type != et {
			continue
		}
		v.path = append(v.path, pathSeg{name: "entry", index: i})
		eo := x.O
		var res *Resource
		if rv, ok := eo.Get(resourceE); ok && rv.R != nil {
			res = rv.R
			v.entries[res] = true
			if res.ID != "" {
				v.known[res.Type.Name+"/"+res.ID] = true
			}
		}
		if u, ok := eo.Get(fullURL); ok && u.S != "" {
			if j, dup := seen[u.S]; dup {
				v.errorf("fullUrl %s is also the fullUrl of entry[%s] (bdl-7)", quoteShort(u.S), strconv.Itoa(j))
			}
			seen[u.S] = i
			v.known[u.S] = true
		}
		_, hasReq := eo.Get(requestE)
		_, hasResp := eo.Get(responseE)
		_, hasSearch := eo.Get(searchE)
		if res == nil && !hasReq && !hasResp {
			v.errorf("an entry must have a resource, a request or a response (bdl-5)")
		}
		needReq := typ == "batch" || typ == "transaction" || typ == "history"
		if needReq && !hasReq {
			v.errorf("a %s entry must have a request (bdl-3)", typ)
		} else if !needReq && hasReq {
			v.errorf("a %s entry must not have a request (bdl-3)", typ)
		}
		if hasResp && typ != "batch-response" && typ != "transaction-response" && typ != "history" {
			v.errorf("a %s entry must not have a response (bdl-4)", typ)
		}
		if hasSearch && typ != "searchset" {
			v.errorf("only searchset entries have search (bdl-2)")
		}
		if i == 0 {
			if typ == "message" && (res == nil || res.Type.Name != "MessageHeader") {
				v.errorf("the first entry of a message must be a MessageHeader (bdl-12)")
			}
			if typ == "document" && (res == nil || res.Type.Name != "Composition") {
				v.errorf("the first entry of a document must be a Composition (bdl-11)")
			}
		}
		v.path = v.path[:len(v.path)-1]
	}
}
