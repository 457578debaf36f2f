package fhir

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"sync"
	"unsafe"
)

// BundleType is the type of a Bundle (Bundle.type, R4 valueset bundle-type).
type BundleType string

// The bundle types [Assemble] builds.
const (
	Transaction BundleType = "transaction" // entries with request POST and conditional create
	Batch       BundleType = "batch"       // as transaction, processed entry by entry
	Collection  BundleType = "collection"  // no request; the zero AssembleOptions.Type
	Message     BundleType = "message"     // the first entry is the MessageHeader
	Document    BundleType = "document"    // the first entry is the Composition
	Searchset   BundleType = "searchset"   // search results, without search metadata
)

// AssembleOptions configures [Assemble]. The zero value builds a collection Bundle with
// urn:uuid fullUrls.
type AssembleOptions struct {
	Type       BundleType // "" means Collection
	Timestamp  string     // Bundle.timestamp, an instant; "" = omit (a document needs one)
	Identifier *Object    // Bundle.identifier (an Identifier); for a document, nil means urn:uuid of the Bundle id

	// FullURLBase, when set ("https://example.org/fhir"), makes fullUrls
	// "<base>/<Type>/<id>" and writes references relative ("<Type>/<id>", R4 §3.1.4.4
	// references.html#literal); by default fullUrls are "urn:uuid:<id>" and references use them.
	FullURLBase string

	// NoConditionalCreate leaves ifNoneExist out of transaction and batch requests.
	NoConditionalCreate bool
}

// Bundle is an assembled Bundle. It is immutable and safe for concurrent reading; so are the
// resources it holds, which must not be modified any more.
type Bundle struct {
	Type BundleType
	ID   string // deterministic: from the type, timestamp, identifier and entry ids

	opt         AssembleOptions
	entries     []*Resource
	ifNoneExist []string // per entry, for transaction and batch

	resOnce sync.Once
	res     *Resource // the Bundle resource, built on demand
}

// Resources returns the entries' resources in Bundle order. The slice is shared: do not
// modify it.
func (b *Bundle) Resources() []*Resource { return b.entries }

// Resource returns the Bundle as a resource tree (for [Validate], or to walk it), built on
// the first call. Do not modify it.
func (b *Bundle) Resource() *Resource {
	b.resOnce.Do(func() { b.res = buildBundle(b) })
	return b.res
}

// AppendJSON appends the Bundle's compact canonical JSON to dst. It allocates only to grow
// dst.
func (b *Bundle) AppendJSON(dst []byte) []byte {
	w := writer{b: dst, pruned: true}
	w.b = append(w.b, `{"resourceType":"Bundle","id":"`...)
	w.b = append(w.b, b.ID...)
	w.b = append(w.b, '"')
	if b.opt.Identifier != nil {
		w.b = append(w.b, `,"identifier":`...)
		w.object(b.opt.Identifier, nil)
	}
	w.b = append(w.b, `,"type":"`...)
	w.b = append(w.b, b.Type...)
	w.b = append(w.b, '"')
	if b.opt.Timestamp != "" {
		w.b = append(w.b, `,"timestamp":`...)
		w.b = appendString(w.b, b.opt.Timestamp)
	}
	if len(b.entries) > 0 {
		w.b = append(w.b, `,"entry":[`...)
		for i, r := range b.entries {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, `{"fullUrl":`...)
			w.b = b.appendFullURL(w.b, r)
			w.b = append(w.b, `,"resource":`...)
			w.resource(r)
			if b.ifNoneExist != nil {
				w.b = append(w.b, `,"request":{"method":"POST","url":"`...)
				w.b = append(w.b, r.Type.Name...)
				w.b = append(w.b, '"')
				if q := b.ifNoneExist[i]; q != "" {
					w.b = append(w.b, `,"ifNoneExist":`...)
					w.b = appendString(w.b, q)
				}
				w.b = append(w.b, '}')
			}
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	}
	return append(w.b, '}')
}

// appendFullURL appends the JSON string of r's fullUrl.
func (b *Bundle) appendFullURL(dst []byte, r *Resource) []byte {
	if base := b.opt.FullURLBase; base != "" {
		return appendString(dst, base+"/"+r.Type.Name+"/"+r.ID)
	}
	dst = append(dst, `"urn:uuid:`...)
	dst = append(dst, r.ID...)
	return append(dst, '"')
}

// AppendJSONIndent appends the Bundle's JSON indented with indent (and no prefix); the result
// equals encoding/json.Indent of [Bundle.AppendJSON]'s output.
func (b *Bundle) AppendJSONIndent(dst []byte, indent string) []byte {
	buf := bufPool.Get().(*[]byte)
	compact := b.AppendJSON((*buf)[:0])
	dst = appendIndent(dst, compact, indent)
	if cap(compact) <= 1<<20 {
		*buf = compact[:0]
		bufPool.Put(buf)
	}
	return dst
}

// uuidNamespace is the RFC 4122 name space of resource ids: the version 5 UUID of the URL
// https://github.com/fhirbridge/fhirbridge/fhir in the URL name space,
// 200eaadb-0073-5954-a8b1-d2d57b3fcfed.
var uuidNamespace = [16]byte{0x20, 0x0e, 0xaa, 0xdb, 0x00, 0x73, 0x59, 0x54, 0xa8, 0xb1, 0xd2, 0xd5, 0x7b, 0x3f, 0xcf, 0xed}

// Assemble builds a Bundle of type opt.Type from resources. It takes ownership of the
// resources and their values, which it modifies:
//
//   - Pruning: empty values and objects are removed recursively; a resource left empty is
//     dropped, and so is every reference to it (a Reference whose only content was such a
//     reference disappears). Resources referred to by a RefValue but missing from resources
//     are added after them.
//   - Merging: resources of the same type whose canonical content (their JSON without id,
//     with references written as the target's urn:uuid) is identical become one, the first
//     created (earliest in resources) is kept, references to the others resolve to it
//     ([Resource.Identity]), and identical references in one list element collapse
//     (DiagnosticReport.result).
//   - Ids: a resource's id is the version 5 UUID (RFC 4122 §4.3, SHA-1) of its canonical
//     content in a fhirbridge name space, so the same content gets the same id in every
//     Bundle; ids are computed targets first. Resources in a reference cycle cannot include
//     each other's ids: their content is hashed with references inside the cycle written as
//     "cycle:<k>" (k: the target's position in the cycle by creation order) plus their own
//     position; they are never merged.
//   - Entries keep creation order, except that the MessageHeader (message) or Composition
//     (document) comes first; every entry has fullUrl "urn:uuid:<id>" (see
//     AssembleOptions.FullURLBase); ids set before (Resource.ID or an "id" element) are
//     replaced; transaction and batch entries have request POST <Type>
//     with ifNoneExist "identifier=<system>|<value>" from the first identifier having both.
//
// opt.Identifier is pruned too. Same input, same output, byte for byte. Errors: [ErrBundleType], [ErrNotResource],
// [ErrNoMessageHeader], [ErrNoComposition], [ErrTimestamp].
func Assemble(resources []*Resource, opt AssembleOptions) (*Bundle, error) {
	bt := opt.Type
	switch bt {
	case "":
		bt = Collection
	case Transaction, Batch, Collection, Message, Document, Searchset:
	default:
		return nil, fmt.Errorf("%w %q", ErrBundleType, string(bt))
	}
	if opt.Timestamp != "" && !ValidPrimitive("instant", opt.Timestamp) {
		return nil, fmt.Errorf("%w %q", ErrTimestamp, opt.Timestamp)
	}
	if bt == Document && opt.Timestamp == "" {
		return nil, fmt.Errorf("%w: a document needs one (bdl-10)", ErrTimestamp)
	}
	for _, r := range resources {
		if r == nil || r.Type == nil || r.Type.Kind != KindResource || r.Type.Abstract {
			return nil, ErrNotResource
		}
	}
	a := &assembly{res: make([]*Resource, 0, len(resources)), info: make([]resInfo, 0, len(resources)), base: opt.FullURLBase,
		kept: make([]keptID, 0, min(len(resources), maxKept)), stack: make([]int32, 0, len(resources))}
	a.buf = *bufPool.Get().(*[]byte)
	defer a.release()
	for _, r := range resources {
		if r.asm != a {
			a.add(r)
		}
	}
	a.pruneAll()
	if opt.Identifier != nil && !a.prune(opt.Identifier) {
		opt.Identifier = nil
	}
	for i := range a.res {
		if a.info[i].alive && a.info[i].index == 0 {
			a.strongConnect(int32(i))
		}
	}
	entries := make([]*Resource, 0, len(a.res))
	for i, r := range a.res {
		if a.info[i].alive && r.merged == nil {
			entries = append(entries, r)
		}
	}
	switch bt {
	case Message:
		if !moveFirst(entries, "MessageHeader") {
			return nil, ErrNoMessageHeader
		}
	case Document:
		if !moveFirst(entries, "Composition") {
			return nil, ErrNoComposition
		}
	}
	b := &Bundle{Type: bt, entries: entries}
	b.ID = a.bundleID(b, &opt)
	if bt == Document && opt.Identifier == nil {
		be := bundleOnce()
		opt.Identifier = NewObject(be.identifierType)
		opt.Identifier.Set(be.system, MakeString("urn:ietf:rfc:3986"))
		opt.Identifier.Set(be.idValue, MakeString("urn:uuid:"+b.ID))
	}
	opt.Type = bt
	b.opt = opt
	if bt == Transaction || bt == Batch {
		b.ifNoneExist = make([]string, len(entries))
		if !opt.NoConditionalCreate {
			be := bundleOnce()
			for i, r := range entries {
				b.ifNoneExist[i] = ifNoneExist(r, be)
			}
		}
	}
	return b, nil
}

// moveFirst moves the first resource of type typ to the front, keeping the others' order.
func moveFirst(entries []*Resource, typ string) bool {
	for i, r := range entries {
		if r.Type.Name == typ {
			copy(entries[1:i+1], entries[:i])
			entries[0] = r
			return true
		}
	}
	return false
}

// bufPool holds scratch buffers for canonical JSON.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// release returns the scratch buffer; the assembly stays reachable from its resources
// (for Resource.Identity and FullURLBase) but no longer writes.
func (a *assembly) release() {
	if cap(a.buf) <= 1<<20 {
		b := a.buf[:0]
		bufPool.Put(&b)
	}
	a.buf, a.stack, a.kept, a.keptMap, a.ids = nil, nil, nil, nil, nil
}

type assembly struct {
	base    string // AssembleOptions.FullURLBase
	res     []*Resource
	info    []resInfo
	buf     []byte // scratch: the 16-byte name space, then a resource's canonical JSON
	stack   []int32
	counter int32
	nscc    int32
	kept    []keptID
	keptMap map[[16]byte]*Resource
	ids     []byte // the text of the ids given so far; never overwritten, the ids share it
}

type resInfo struct {
	alive    bool
	cyclic   bool // member of a reference cycle
	onStack  bool
	selfLoop bool
	index    int32 // Tarjan's DFS number, 0 = not visited
	low      int32
	scc      int32
	pos      int32 // position in its cycle, by creation order
}

type keptID struct {
	id [16]byte
	r  *Resource
}

func (a *assembly) add(r *Resource) {
	r.asm = a
	r.idx = int32(len(a.res))
	r.merged = nil
	r.ID = ""
	for i := range r.Props { // an id set as an element gives way to the assigned one
		if p := &r.Props[i]; p.Elem.Order == 0 && p.Elem.Name == "id" {
			for j := range p.Vals {
				p.Vals[j].S = ""
			}
		}
	}
	a.res = append(a.res, r)
	a.info = append(a.info, resInfo{alive: true})
}

// pruneAll prunes every resource until no more resources die.
func (a *assembly) pruneAll() {
	for {
		died := false
		for i := 0; i < len(a.res); i++ { // a.res grows as referenced resources are found
			if a.info[i].alive && !a.prune(&a.res[i].Object) {
				a.info[i].alive = false
				died = true
			}
		}
		if !died {
			return
		}
	}
}

// prune removes empty values from o and reports whether anything is left.
func (a *assembly) prune(o *Object) bool {
	k := 0
	for i := range o.Props {
		p := o.Props[i]
		vals := p.Vals[:0]
		for j := range p.Vals {
			v := p.Vals[j]
			if a.pruneValue(&v) {
				vals = append(vals, v)
			}
		}
		clear(p.Vals[len(vals):])
		if len(vals) > 0 {
			p.Vals = vals
			o.Props[k] = p
			k++
		}
	}
	clear(o.Props[k:])
	o.Props = o.Props[:k]
	return k > 0
}

func (a *assembly) pruneValue(v *Value) bool {
	switch v.Kind {
	case ObjectValue:
		if v.R != nil {
			// A nested (contained) resource: it lives with its parent.
			return a.prune(&v.R.Object)
		}
		return v.O != nil && a.prune(v.O)
	case RefValue:
		t := v.R
		if t == nil || t.Type == nil || t.Type.Kind != KindResource || t.Type.Abstract {
			return false
		}
		if t.asm != a {
			a.add(t)
		}
		return a.info[t.idx].alive
	}
	if v.Ext != nil && !a.prune(v.Ext) {
		v.Ext = nil
	}
	return v.S != "" || v.Ext != nil
}

// strongConnect is Tarjan's algorithm (1972); it finishes a strongly connected component
// after every component it refers to, so ids are computed targets first.
func (a *assembly) strongConnect(v int32) {
	a.counter++
	inf := &a.info[v]
	inf.index, inf.low, inf.onStack = a.counter, a.counter, true
	a.stack = append(a.stack, v)
	a.edges(v, &a.res[v].Object)
	inf = &a.info[v]
	if inf.low != inf.index {
		return
	}
	start := len(a.stack) - 1
	for a.stack[start] != v {
		start--
	}
	members := a.stack[start:]
	a.stack = a.stack[:start]
	scc := a.nscc
	a.nscc++
	cyclic := len(members) > 1 || inf.selfLoop
	if cyclic {
		slices.Sort(members) // creation order
	}
	for k, m := range members {
		mi := &a.info[m]
		mi.onStack, mi.scc, mi.cyclic, mi.pos = false, scc, cyclic, int32(k)
	}
	for _, m := range members {
		a.identify(a.res[m])
	}
}

func (a *assembly) edges(v int32, o *Object) {
	for i := range o.Props {
		p := &o.Props[i]
		for j := range p.Vals {
			x := &p.Vals[j]
			switch x.Kind {
			case ObjectValue:
				if x.R != nil {
					a.edges(v, &x.R.Object)
				} else if x.O != nil {
					a.edges(v, x.O)
				}
			case RefValue:
				w := x.R.idx
				wi := &a.info[w]
				if w == v {
					wi.selfLoop = true
				} else if wi.index == 0 {
					a.strongConnect(w)
					a.info[v].low = min(a.info[v].low, a.info[w].low)
				} else if wi.onStack {
					a.info[v].low = min(a.info[v].low, wi.index)
				}
			default:
				if x.Ext != nil {
					a.edges(v, x.Ext)
				}
			}
		}
	}
}

// identify computes r's canonical JSON and id, and merges r with an identical resource.
func (a *assembly) identify(r *Resource) {
	inf := &a.info[r.idx]
	start := len(a.buf)
	a.buf = append(a.buf, uuidNamespace[:]...)
	w := writer{b: a.buf, pruned: true, canon: r}
	w.object(&r.Object, r)
	a.buf = w.b
	if inf.cyclic {
		a.buf = append(a.buf, 0)
		a.buf = appendInt(a.buf, int(inf.pos))
	}
	id := uuid5(a.buf[start:])
	a.buf = a.buf[:start]
	r.ID = a.formatUUID(id)
	if inf.cyclic {
		return // never merged
	}
	if k := a.lookup(id); k != nil {
		if k.idx < r.idx {
			r.merged = k
		} else {
			k.merged = r
			a.setKept(id, r)
		}
		return
	}
	a.setKept(id, r)
}

func (a *assembly) lookup(id [16]byte) *Resource {
	if a.keptMap != nil {
		return a.keptMap[id]
	}
	for _, k := range a.kept {
		if k.id == id {
			return k.r
		}
	}
	return nil
}

// maxKept is how many kept ids are searched linearly before a map takes over.
const maxKept = 64

func (a *assembly) setKept(id [16]byte, r *Resource) {
	if a.keptMap != nil {
		a.keptMap[id] = r
		return
	}
	for i := range a.kept {
		if a.kept[i].id == id {
			a.kept[i].r = r
			return
		}
	}
	a.kept = append(a.kept, keptID{id, r})
	if len(a.kept) > maxKept {
		a.keptMap = make(map[[16]byte]*Resource, 2*len(a.kept))
		for _, k := range a.kept {
			a.keptMap[k.id] = k.r
		}
		a.kept = nil
	}
}

// uuid5 returns the version 5 UUID of data, which starts with the name space (RFC 4122 §4.3).
func uuid5(data []byte) [16]byte {
	sum := sha1.Sum(data)
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// formatUUID returns the text of id. The ids of one assembly share one allocation: their
// bytes are appended to a.ids, which is never written over (a full buffer is replaced, not
// reused), so the strings stay valid and immutable.
func (a *assembly) formatUUID(id [16]byte) string {
	if cap(a.ids)-len(a.ids) < 36 {
		a.ids = make([]byte, 0, 36*(len(a.res)+1))
	}
	start := len(a.ids)
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			a.ids = append(a.ids, '-')
		}
		a.ids = append(a.ids, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return unsafe.String(&a.ids[start], 36)
}

// bundleID hashes the bundle type, timestamp, identifier and the entries' ids.
func (a *assembly) bundleID(b *Bundle, opt *AssembleOptions) string {
	start := len(a.buf)
	a.buf = append(a.buf, uuidNamespace[:]...)
	a.buf = append(a.buf, "Bundle\x00"...)
	a.buf = append(a.buf, b.Type...)
	a.buf = append(a.buf, 0)
	a.buf = append(a.buf, opt.Timestamp...)
	a.buf = append(a.buf, 0)
	if opt.Identifier != nil {
		w := writer{b: a.buf, pruned: true}
		w.object(opt.Identifier, nil)
		a.buf = w.b
	}
	a.buf = append(a.buf, 0)
	a.buf = append(a.buf, opt.FullURLBase...)
	for _, r := range b.entries {
		a.buf = append(a.buf, 0)
		a.buf = append(a.buf, r.Type.Name...)
		a.buf = append(a.buf, '/')
		a.buf = append(a.buf, r.ID...)
	}
	id := uuid5(a.buf[start:])
	a.buf = a.buf[:start]
	return a.formatUUID(id)
}

// bundleElements are the Bundle elements Assemble sets, looked up once.
type bundleElements struct {
	typ                                 *Type
	identifier, btype, timestamp, entry *Element
	entryType, requestType              *Type
	fullURL, resource, request          *Element
	method, url, ifNoneExist            *Element
	identifierType                      *Type
	identifierElem, system, idValue     *Element
}

var bundleOnce = sync.OnceValue(func() *bundleElements {
	be := &bundleElements{typ: LookupType("Bundle"), entryType: LookupType("Bundle.entry"),
		requestType: LookupType("Bundle.entry.request"), identifierType: LookupType("Identifier")}
	be.identifier = be.typ.Element("identifier")
	be.btype = be.typ.Element("type")
	be.timestamp = be.typ.Element("timestamp")
	be.entry = be.typ.Element("entry")
	be.fullURL = be.entryType.Element("fullUrl")
	be.resource = be.entryType.Element("resource")
	be.request = be.entryType.Element("request")
	be.method = be.requestType.Element("method")
	be.url = be.requestType.Element("url")
	be.ifNoneExist = be.requestType.Element("ifNoneExist")
	be.system = be.identifierType.Element("system")
	be.idValue = be.identifierType.Element("value")
	return be
})

func buildBundle(b *Bundle) *Resource {
	be := bundleOnce()
	opt := &b.opt
	res := be.typ.NewResource()
	res.ID = b.ID
	if opt.Identifier != nil {
		res.Set(be.identifier, MakeObject(opt.Identifier))
	}
	res.Set(be.btype, MakeString(string(b.Type)))
	if opt.Timestamp != "" {
		res.Set(be.timestamp, MakeString(opt.Timestamp))
	}
	request := b.Type == Transaction || b.Type == Batch
	entries := make([]Value, len(b.entries))
	for i, r := range b.entries {
		e := NewObject(be.entryType)
		if base := opt.FullURLBase; base != "" {
			e.Set(be.fullURL, MakeString(base+"/"+r.Type.Name+"/"+r.ID))
		} else {
			e.Set(be.fullURL, MakeString("urn:uuid:"+r.ID))
		}
		e.Set(be.resource, MakeResource(r))
		if request {
			rq := NewObject(be.requestType)
			rq.Set(be.method, MakeString("POST"))
			rq.Set(be.url, MakeString(r.Type.Name))
			if q := b.ifNoneExist[i]; q != "" {
				rq.Set(be.ifNoneExist, MakeString(q))
			}
			e.Set(be.request, MakeObject(rq))
		}
		entries[i] = MakeObject(e)
	}
	if len(entries) > 0 {
		res.Props = append(res.Props, Prop{Elem: be.entry, Vals: entries})
	}
	return res
}

// ifNoneExist returns "identifier=<system>|<value>" for the first identifier of r with both,
// or "".
func ifNoneExist(r *Resource, be *bundleElements) string {
	e := r.Type.Element("identifier")
	if e == nil || e.Type != "Identifier" {
		return ""
	}
	p := r.Prop(e)
	if p == nil {
		return ""
	}
	for _, v := range p.Vals {
		if v.Kind != ObjectValue || v.O == nil {
			continue
		}
		sys, ok1 := v.O.Get(be.system)
		val, ok2 := v.O.Get(be.idValue)
		if ok1 && ok2 && sys.S != "" && val.S != "" {
			b := make([]byte, 0, len("identifier=|")+len(sys.S)+len(val.S)+8)
			b = append(b, "identifier="...)
			b = appendSearchToken(b, sys.S)
			b = append(b, '|')
			b = appendSearchToken(b, val.S)
			return string(b)
		}
	}
	return ""
}

// appendSearchToken appends s as part of a token search parameter value: FHIR's search
// escapes (R4 §3.1.1.5.7 search.html#escaping: '\' before '\', ',', '$' and '|'), then
// percent-encoding of what cannot stand in a URL query value (space, '"', '#', '%', '&', '+',
// '<', '>', '[', ']', '^', '`', '{', '}', control characters and non-ASCII bytes, RFC 3986
// §3.4).
func appendSearchToken(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == ',' || c == '$' || c == '|':
			b = append(b, '\\', c)
		case c <= ' ' || c >= 0x7f || c == '"' || c == '#' || c == '%' || c == '&' || c == '+' ||
			c == '<' || c == '>' || c == '[' || c == ']' || c == '^' || c == '`' || c == '{' || c == '}':
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
