package transform

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// RunOptions are the per-run settings of [Program.Run].
type RunOptions struct {
	// TimeZone is the zone of timestamps that carry no offset when the message gives none
	// either (see the message mapping's timezone key). nil means UTC.
	TimeZone *time.Location
	// MaxResources bounds the resources one input may produce; 0 means 100,000. Past it the
	// run stops with an error rather than exhaust memory on a hostile input.
	MaxResources int
	// Params are values that expressions read with param('name').
	Params map[string]string
}

// Result is what one run of a message mapping produced.
type Result struct {
	// Resources are the created resources in creation order, not yet given ids (see
	// fhir.Assemble). Empty resources are left out.
	Resources []*fhir.Resource
	// Diagnostics are run-time warnings: values that could not be converted (and were left
	// out), expressions that failed. They name the mapping rule and the input location, never
	// the input's data.
	Diagnostics []Diagnostic
}

// maxMapDepth bounds nested map applications, so a map that uses itself without descending
// into the input stops with an error instead of exhausting the stack.
const maxMapDepth = 200

type binding struct {
	id  int
	res *fhir.Resource
}

// run is the mutable state of one run. It is pooled; a Program itself is never mutated.
type run struct {
	p        *Program
	msg      *Message
	format   string
	out      []*fhir.Resource
	aliases  []binding
	diags    []Diagnostic
	zone     zone
	env      exprEnv
	cur      tree.Node
	vm       vm.VM
	bufs     [][]tree.Node
	depth    int
	fillPath []string // fillRequired's element path
	objs     fhir.ObjectSlab
	res      fhir.ResourceSlab
	maxRes   int
	err      error
	scratch  []tree.Node
	mapRoot  tree.Node // the node the innermost map was applied to
	mapSrc   string    // that map's source type ("CX")
	mapDepth int       // maps being applied, nested
	params   map[string]string
	counts   []int // per enclosing rule with a from: the nodes it has run on so far (index())
	missed   bool  // set by a native expression that leaves the result to the VM
}

var runPool = sync.Pool{New: func() any {
	r := &run{}
	r.env = exprEnv{Get: r.get, Has: r.has, All: r.all, Code: r.code, System: r.system, Display: r.display, Param: r.param, Index: r.index}
	return r
}}

// Run converts one input, whose root node is root, with the message mapping m (found with
// [Program.Find]). It returns an error only when the run could not complete (a cancelled
// context, a resource limit); problems with single values are warnings in the Result.
func (p *Program) Run(ctx context.Context, m *Message, root tree.Node, opt RunOptions) (*Result, error) {
	r := runPool.Get().(*run)
	defer func() {
		r.p, r.msg, r.cur, r.out, r.diags, r.err, r.params = nil, nil, nil, nil, nil, nil, nil
		r.objs.Reset()
		r.res.Reset()
		r.aliases = r.aliases[:0]
		r.counts = r.counts[:0]
		r.mapDepth = 0
		for i := range r.bufs {
			clear(r.bufs[i])
			r.bufs[i] = r.bufs[i][:0]
		}
		runPool.Put(r)
	}()
	r.p, r.msg, r.format, r.params = p, m, m.Format, opt.Params
	r.maxRes = opt.MaxResources
	if r.maxRes <= 0 {
		r.maxRes = 100_000
	}
	// The zone of local times: the message's own offset (timezone path) wins, then the
	// mapping's zone (a fact about the source, e.g. NHS EDIFACT is Europe/London), then the
	// caller's default, then UTC.
	r.zone = zone{loc: m.zone}
	if r.zone.loc == nil {
		r.zone.loc = opt.TimeZone
	}
	if r.zone.loc == nil {
		r.zone.loc = time.UTC
	}
	if m.timezone != nil {
		if ns := m.timezone.Select(root, r.scratch[:0]); len(ns) > 0 {
			if t, ok := parseTimestamp(ns[0].Text()); ok && t.hasOffset {
				r.zone.fixed = formatOffset(t.offset)
			}
			clear(ns)
		}
	}
	for _, ru := range m.rules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.apply(ru, root, nil)
		if r.err != nil {
			return nil, r.err
		}
	}
	res := &Result{Diagnostics: r.diags}
	res.Resources = make([]*fhir.Resource, 0, len(r.out))
	// Resources left empty are dropped; references to them go too, before required elements
	// are filled, so a required reference to a dropped resource gets a data-absent-reason
	// rather than vanishing at assembly.
	var dropped map[*fhir.Resource]bool
	for _, x := range r.out {
		if x.Empty() {
			if dropped == nil {
				dropped = map[*fhir.Resource]bool{}
			}
			dropped[x] = true
		}
	}
	for _, x := range r.out {
		if dropped[x] {
			continue
		}
		if dropped != nil {
			dropRefs(&x.Object, dropped)
		}
		r.fillRequired(&x.Object, x)
		res.Resources = append(res.Resources, x)
	}
	res.Diagnostics = r.diags
	return res, nil
}

func formatOffset(minutes int) string {
	sign := byte('+')
	if minutes < 0 {
		sign, minutes = '-', -minutes
	}
	b := []byte{sign}
	b = appendInt(b, minutes/60, 2)
	b = append(b, ':')
	return string(appendInt(b, minutes%60, 2))
}

func (r *run) warn(ru *rule, k Kind, n tree.Node, format string, args ...any) {
	d := ru.at.diag(k, format, args...)
	d.Severity = SeverityWarning
	if n != nil {
		d.Input = n.Location()
	}
	r.diags = append(r.diags, d)
}

// apply runs one rule against the context node n and the target object t.
func (r *run) apply(ru *rule, n tree.Node, t *fhir.Object) {
	if ru.from == nil {
		r.applyOne(ru, n, t)
		return
	}
	if r.depth == len(r.bufs) {
		r.bufs = append(r.bufs, nil)
	}
	d := r.depth
	nodes := ru.from.Select(r.origin(ru.fromType, n), r.bufs[d][:0])
	r.bufs[d] = nodes
	r.depth++
	r.counts = append(r.counts, 0)
	c := len(r.counts) - 1
	for i := 0; i < len(nodes) && r.err == nil; i++ {
		if r.applyOne(ru, nodes[i], t) {
			r.counts[c]++
		}
	}
	r.counts = r.counts[:c]
	r.depth--
	clear(nodes)
}

// applyOne runs a rule on one node. It reports whether the rule ran (its when held and its
// nested rules had something to read), for index().
func (r *run) applyOne(ru *rule, x tree.Node, t *fhir.Object) bool {
	if f := ru.whenFast; f != nil {
		prev, prevV := r.cur, r.env.V
		r.cur, r.env.V = x, x.Text()
		ok := f.bl(r)
		r.cur, r.env.V = prev, prevV
		if !ok {
			return false
		}
	} else if ru.when != nil {
		ok, err := r.eval(ru.when, x)
		if err != nil {
			r.warn(ru, KindRuntime, x, "when: %v (rule skipped)", err)
			return false
		}
		if b, _ := ok.(bool); !b {
			return false
		}
	}
	if ru.guard != nil && !r.anySelects(ru.guard, x) {
		return false
	}
	tgt := t
	if ru.on >= 0 {
		res := r.lookup(ru.on)
		if res == nil {
			return true // the named resource was not created for this input
		}
		tgt = &res.Object
	}
	var created *fhir.Resource
	if ru.resource != nil {
		if len(r.out) >= r.maxRes {
			r.err = fmt.Errorf("transform: input produces more than %d resources", r.maxRes)
			return true
		}
		created = r.res.New(ru.resource)
		r.out = append(r.out, created)
		if ru.as >= 0 {
			r.aliases = append(r.aliases, binding{ru.as, created})
		}
	}
	mark := len(r.aliases)
	var detached *fhir.Object
	var attachTo *fhir.Object
	var attachStep step
	if ru.to != nil {
		parent := r.navigate(tgt, ru.to[:len(ru.to)-1])
		fin := ru.to[len(ru.to)-1]
		switch {
		case created != nil:
			r.put(parent, fin, fhir.Value{Kind: fhir.ObjectValue, O: r.refTo(fin.elem, created)})
			tgt = &created.Object
		case ru.kind == valRef:
			if res := r.lookup(ru.ref); res != nil {
				r.put(parent, fin, fhir.Value{Kind: fhir.ObjectValue, O: r.refTo(fin.elem, res)})
			}
			return true
		case fin.elem.Elem != nil && fin.elem.Elem.Kind == fhir.KindPrimitive:
			if v, ok := r.value(ru, x, fin.elem.Type); ok {
				r.put(parent, fin, v)
			}
			return true
		case ru.kind == valText || ru.kind == valExpr: // codes into a Coding or CodeableConcept
			if c := r.coding(ru, x, fin.elem); c != nil {
				r.put(parent, fin, fhir.Value{Kind: fhir.ObjectValue, O: c})
			}
			return true
		default:
			obj, isNew := r.child(parent, fin)
			tgt = obj
			if isNew {
				detached, attachTo, attachStep = obj, parent, fin
			}
		}
	} else if created != nil {
		tgt = &created.Object
	}
	if ru.mp != nil {
		if r.mapDepth >= maxMapDepth {
			r.err = fmt.Errorf("%s:%d: maps nested more than %d deep at %s (a map that uses itself without descending into the input?)", ru.at.file, ru.at.line, maxMapDepth, x.Location())
			return true
		}
		prevRoot, prevSrc := r.mapRoot, r.mapSrc
		r.mapRoot, r.mapSrc = x, ru.mp.source
		r.mapDepth++
		for _, sub := range ru.mp.rules {
			r.apply(sub, x, tgt)
		}
		r.mapDepth--
		r.mapRoot, r.mapSrc = prevRoot, prevSrc
	}
	for _, sub := range ru.rules {
		r.apply(sub, x, tgt)
	}
	if ru.scoped {
		clear(r.aliases[mark:])
		r.aliases = r.aliases[:mark]
	}
	if detached != nil && !detached.Empty() {
		r.put(attachTo, attachStep, fhir.Value{Kind: fhir.ObjectValue, O: detached})
	}
	return true
}

// anySelects reports whether any of the rules' from-paths reaches a node from x.
func (r *run) anySelects(rules []*rule, x tree.Node) bool {
	for _, sub := range rules {
		r.scratch = sub.from.Select(r.origin(sub.fromType, x), r.scratch[:0])
		n := len(r.scratch)
		clear(r.scratch)
		if n > 0 {
			return true
		}
	}
	return false
}

// refTo builds a Reference object pointing at res.
func (r *run) refTo(e *fhir.Element, res *fhir.Resource) *fhir.Object {
	o := r.objs.New(e.Elem)
	o.Set(e.Elem.Element("reference"), fhir.Value{Kind: fhir.RefValue, R: res})
	return o
}

func (r *run) lookup(id int) *fhir.Resource {
	for i := len(r.aliases) - 1; i >= 0; i-- {
		if r.aliases[i].id == id {
			return r.aliases[i].res
		}
	}
	return nil
}

// navigate walks the intermediate steps of a target path, creating objects as needed.
func (r *run) navigate(o *fhir.Object, steps []step) *fhir.Object {
	for _, s := range steps {
		e := s.elem
		if s.ext {
			o = primitiveExt(o, e)
			continue
		}
		p := o.Prop(e)
		if p != nil && len(p.Vals) > 0 && s.mode != stepNew {
			if last := p.Vals[len(p.Vals)-1]; last.Kind == fhir.ObjectValue {
				o = last.O
				continue
			}
		}
		child := r.objs.New(e.Elem)
		if e.List() {
			o.Add(e, fhir.Value{Kind: fhir.ObjectValue, O: child})
		} else {
			o.Set(e, fhir.Value{Kind: fhir.ObjectValue, O: child})
		}
		o = child
	}
	return o
}

var elementType = fhir.LookupType("Element")

// primitiveExt returns the extension part of the last value of primitive element e, creating
// it, and a value-less primitive to carry it, when needed (data-absent-reason, birth time).
func primitiveExt(o *fhir.Object, e *fhir.Element) *fhir.Object {
	p := o.Prop(e)
	if p == nil || len(p.Vals) == 0 {
		ext := fhir.NewObject(elementType)
		if e.List() {
			o.Add(e, fhir.Value{Ext: ext})
		} else {
			o.Set(e, fhir.Value{Ext: ext})
		}
		return ext
	}
	v := &p.Vals[len(p.Vals)-1]
	if v.Ext == nil {
		v.Ext = fhir.NewObject(elementType)
	}
	return v.Ext
}

// child returns the object a complex final step fills: an existing one where the step reuses
// ([=], or a single element already present), else a new one that the caller attaches once it
// holds data.
func (r *run) child(parent *fhir.Object, s step) (*fhir.Object, bool) {
	e := s.elem
	if p := parent.Prop(e); p != nil && len(p.Vals) > 0 && (s.mode == stepSame || !e.List()) {
		if last := p.Vals[len(p.Vals)-1]; last.Kind == fhir.ObjectValue {
			return last.O, false
		}
	}
	return r.objs.New(e.Elem), true
}

func (r *run) put(parent *fhir.Object, s step, v fhir.Value) {
	if s.elem.List() {
		parent.Add(s.elem, v)
	} else {
		parent.Set(s.elem, v)
	}
}

// text returns the rule's input text for x: the value expression's result, or x's own text.
func (r *run) text(ru *rule, x tree.Node) (string, bool) {
	switch ru.kind {
	case valExpr:
		if ru.mp != nil { // a value map: its typed paths are relative to x
			prevRoot, prevSrc := r.mapRoot, r.mapSrc
			r.mapRoot, r.mapSrc = x, ru.mp.source
			defer func() { r.mapRoot, r.mapSrc = prevRoot, prevSrc }()
		}
		if f := ru.valFast; f != nil {
			prev, prevV := r.cur, r.env.V
			r.cur, r.env.V = x, x.Text()
			defer func() { r.cur, r.env.V = prev, prevV }()
			if f.bl != nil {
				return strconv.FormatBool(f.bl(r)), true
			}
			r.missed = false
			if s := f.str(r); !r.missed {
				return s, s != ""
			}
			r.missed = false // the native form could not decide: the VM runs it and reports
		}
		out, err := r.eval(ru.value, x)
		if err != nil {
			r.warn(ru, KindRuntime, x, "value: %v (rule skipped)", err)
			return "", false
		}
		switch v := out.(type) {
		case nil:
			return "", false
		case string:
			return v, v != ""
		case bool:
			return strconv.FormatBool(v), true
		case int:
			return strconv.Itoa(v), true
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true
		default:
			r.warn(ru, KindRuntime, x, "value: the expression gave a %T, not a single value (rule skipped)", out)
			return "", false
		}
	default:
		s := x.Text()
		return s, s != ""
	}
}

// value produces the primitive a rule puts at a primitive target of FHIR type typ.
func (r *run) value(ru *rule, x tree.Node, typ string) (fhir.Value, bool) {
	if ru.kind == valConst {
		return ru.constant, true
	}
	s, ok := r.text(ru, x)
	if !ok {
		return fhir.Value{}, false
	}
	if ru.codes != nil {
		t, ok := ru.codes.Lookup(s)
		if !ok {
			r.warn(ru, KindValue, x, "code not in code map %s (left out)", ru.codes.Name)
			return fhir.Value{}, false
		}
		s = t.Code
	}
	v, ok := convertPrimitive(typ, s, r.zone)
	if !ok {
		r.warn(ru, KindValue, x, "value is not a valid FHIR %s (left out)", typ)
	}
	return v, ok
}

// coding builds a Coding, or a CodeableConcept holding one, from a code map entry.
func (r *run) coding(ru *rule, x tree.Node, e *fhir.Element) *fhir.Object {
	s, ok := r.text(ru, x)
	if !ok {
		return nil
	}
	t, ok := ru.codes.Lookup(s)
	if !ok {
		r.warn(ru, KindValue, x, "code not in code map %s (left out)", ru.codes.Name)
		return nil
	}
	codingType := e.Elem
	if e.Type == "CodeableConcept" {
		codingType = e.Elem.Element("coding").Elem
	}
	c := r.objs.New(codingType)
	if t.System != "" {
		c.Set(codingType.Element("system"), fhir.Value{Kind: fhir.StringValue, S: t.System})
	}
	c.Set(codingType.Element("code"), fhir.Value{Kind: fhir.StringValue, S: t.Code})
	if t.Display != "" {
		c.Set(codingType.Element("display"), fhir.Value{Kind: fhir.StringValue, S: t.Display})
	}
	if e.Type == "CodeableConcept" {
		cc := r.objs.New(e.Elem)
		cc.Add(e.Elem.Element("coding"), fhir.Value{Kind: fhir.ObjectValue, O: c})
		return cc
	}
	return c
}

// eval runs an expression with x as the current node.
func (r *run) eval(prog *vm.Program, x tree.Node) (any, error) {
	prev, prevV := r.cur, r.env.V
	r.cur = x
	r.env.V = x.Text()
	out, err := r.vm.Run(prog, &r.env)
	r.cur, r.env.V = prev, prevV
	return out, err
}

func (r *run) sel(path string) []tree.Node {
	p := r.p.paths[r.format][path]
	if p == nil || r.cur == nil {
		return nil
	}
	dt := ""
	if t, ok := p.(tree.Typed); ok {
		dt = t.DataType()
	}
	r.scratch = p.Select(r.origin(dt, r.cur), r.scratch[:0])
	return r.scratch
}

// origin is the node a path is evaluated from: the node the current map was applied to when
// the path is written with that map's source type ("CX.4" in map CX[Identifier]), else n.
func (r *run) origin(dataType string, n tree.Node) tree.Node {
	if dataType != "" && dataType == r.mapSrc && r.mapRoot != nil {
		return r.mapRoot
	}
	return n
}

func (r *run) get(path string) string {
	ns := r.sel(path)
	if len(ns) == 0 {
		return ""
	}
	s := ns[0].Text()
	clear(ns)
	return s
}

func (r *run) has(path string) bool {
	ns := r.sel(path)
	for _, n := range ns {
		if n.Text() != "" {
			clear(ns)
			return true
		}
	}
	clear(ns)
	return false
}

func (r *run) all(path string) []string {
	ns := r.sel(path)
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		if s := n.Text(); s != "" {
			out = append(out, s)
		}
	}
	clear(ns)
	return out
}

func (r *run) codeTarget(name, code string) (codeTarget, bool) {
	cm := r.p.codes[name]
	if cm == nil {
		return codeTarget{}, false
	}
	return cm.Lookup(code)
}

func (r *run) param(name string) string { return r.params[name] }

// index implements index(): the count of the level-th enclosing rule with a from (0 the
// innermost), 0 when there is none.
func (r *run) index(level ...int) int {
	l := 0
	if len(level) > 0 {
		l = level[0]
	}
	if l < 0 || l >= len(r.counts) {
		return 0
	}
	return r.counts[len(r.counts)-1-l]
}

func (r *run) code(name, code string) string {
	t, _ := r.codeTarget(name, code)
	return t.Code
}

func (r *run) system(name, code string) string {
	t, _ := r.codeTarget(name, code)
	return t.System
}

func (r *run) display(name, code string) string {
	t, _ := r.codeTarget(name, code)
	return t.Display
}

// The data-absent-reason extension, which FHIR defines for a required element whose value
// the source does not give.
const darURL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

var (
	extensionType = fhir.LookupType("Extension")
	extURL        = extensionType.Element("url")
	extValueCode  = extensionType.Element("valueCode")
	elemExtension = elementType.Element("extension")
)

// darExtension returns an Extension saying the value is unknown.
func darExtension() *fhir.Object {
	x := fhir.NewObject(extensionType)
	x.Set(extURL, fhir.MakeString(darURL))
	x.Set(extValueCode, fhir.MakeString("unknown"))
	return x
}

// fillRequired gives every required element (min ≥ 1) that the input left empty a
// data-absent-reason, in o and in the objects below it, so the output is valid FHIR and says
// honestly what is missing. Choice elements are left alone (none of R4's required ones can
// be filled meaningfully), as are resources nested in Resource-typed elements.
func (r *run) fillRequired(o *fhir.Object, res *fhir.Resource) {
	for _, e := range o.Type.Elements {
		p := o.Prop(e)
		if p == nil || len(p.Vals) == 0 {
			if e.Min == 0 || e.Choice != "" || e.Type == "Resource" || e.Name == "url" && o.Type == extensionType {
				continue
			}
			d := Diagnostic{Severity: SeverityWarning, Kind: KindValue, Input: res.Type.Name + r.elemPath(e.Name),
				Message: "required element not in the input: marked data-absent-reason"}
			r.diags = append(r.diags, d)
			if e.Elem != nil && e.Elem.Kind == fhir.KindPrimitive {
				ext := r.objs.New(elementType)
				ext.Add(elemExtension, fhir.MakeObject(darExtension()))
				o.Add(e, fhir.Value{Ext: ext})
			} else if e.Elem != nil {
				c := r.objs.New(e.Elem)
				if xe := e.Elem.Element("extension"); xe != nil {
					c.Add(xe, fhir.MakeObject(darExtension()))
					o.Add(e, fhir.MakeObject(c))
				}
			}
			continue
		}
		for i := range p.Vals {
			if v := p.Vals[i]; v.Kind == fhir.ObjectValue && v.O != nil && v.R == nil && v.O.Type != extensionType {
				r.fillPath = append(r.fillPath, e.Name)
				r.fillRequired(v.O, res)
				r.fillPath = r.fillPath[:len(r.fillPath)-1]
			}
		}
	}
}

// elemPath returns ".contact.name.family": the path fillRequired is at, then name. It is built
// only for a warning.
func (r *run) elemPath(name string) string {
	var b strings.Builder
	for _, n := range r.fillPath {
		b.WriteByte('.')
		b.WriteString(n)
	}
	b.WriteByte('.')
	b.WriteString(name)
	return b.String()
}

// dropRefs removes from o the references to dropped resources, and the objects (Reference,
// participant, …) that are left empty by it.
func dropRefs(o *fhir.Object, dropped map[*fhir.Resource]bool) {
	for i := range o.Props {
		p := &o.Props[i]
		kept := p.Vals[:0]
		for _, v := range p.Vals {
			switch {
			case v.Kind == fhir.RefValue && dropped[v.R]:
				continue
			case v.Kind == fhir.ObjectValue && v.O != nil && v.R == nil:
				dropRefs(v.O, dropped)
				if v.O.Empty() {
					continue
				}
			}
			kept = append(kept, v)
		}
		clear(p.Vals[len(kept):])
		p.Vals = kept
	}
}
