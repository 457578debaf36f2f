package transform

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/internal/suggest"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// Program is a compiled set of mappings: every message mapping, map and code map, with every
// source path and expression compiled and every FHIR target checked against the R4 metadata.
// A Program is immutable and safe for concurrent use.
type Program struct {
	messages []*Message
	maps     map[string]*mapDoc
	codes    map[string]*CodeMap
	schemas  map[string]tree.Schema
	aliases  map[string]int // alias name → id
	paths    map[string]map[string]tree.Path
	docs     []*document
	structs  map[string]map[string]string
	byKey    map[string]*Message // format + "\x00" + match key → the first message mapping
}

// Message is one compiled message mapping: the entry point for inputs whose type it matches.
type Message struct {
	Name        string   // "ADT_A01"
	Format      string   // "hl7v2"
	Match       []string // the input message types it converts, as the format names them ("ADT^A01")
	Structure   string   // the source structure used to group segments, if the format has one
	Bundle      string   // default Bundle type; "" leaves it to the caller
	Description string
	File        string
	timezone    tree.Path
	zone        *time.Location // the source's zone for local times, from the zone key
	rules       []*rule
}

// mapDoc is a reusable map; it is compiled once per source format that uses it.
type mapDoc struct {
	doc      *document
	target   *fhir.Type
	compiled map[string]*compiledMap
}

type compiledMap struct {
	source string // the map's source type, for typed paths (tree.Typed)
	rules  []*rule
	value  *vm.Program    // maps with a primitive target
	free   map[string]pos // aliases the map uses but does not define
	done   bool
}

// valueKind is what a rule puts at its target.
type valueKind uint8

const (
	valNone  valueKind = iota // only nested rules or a map
	valText                   // the selected node's text, converted to the target type
	valConst                  // a constant
	valExpr                   // an expression's result, converted
	valRef                    // a Reference to a named resource
)

// rule is one compiled rule.
type rule struct {
	at       pos
	from     tree.Path
	fromType string // the data type from is written with ("CX" in "CX.4"), see tree.Typed
	when     *vm.Program
	whenFast *fastExpr // when's native form, if it has one (fastexpr.go)
	whenSrc  string
	on       int // alias id, or -1
	resource *fhir.Type
	to       []step
	final    *fhir.Element
	kind     valueKind
	constant fhir.Value
	value    *vm.Program
	valFast  *fastExpr // value's native form, if it has one
	codes    *CodeMap
	ref      int // alias id for valRef
	mp       *compiledMap
	mapName  string
	rules    []*rule
	as       int // alias id, or -1
	scoped   bool
	// guard holds the from-paths of the nested rules when every nested rule reads from a path
	// (and there is no map): if none of them reaches anything, the rule has nothing to build
	// and is skipped before it creates an object.
	guard []*rule
}

// stepMode says how a target path step chooses among the items of a list element.
type stepMode uint8

const (
	stepAuto stepMode = iota // intermediate: the last item, created if none; final: a new item
	stepNew                  // [+]: always a new item
	stepSame                 // [=]: the last item, created if none
)

type step struct {
	elem *fhir.Element
	mode stepMode
	ext  bool // into the extension part of the primitive elem ("birthDate.extension")
}

// Option configures [Compile].
type Option func(*config)

type config struct {
	schemas []tree.Schema
	layers  [][]File
	funcs   *Registry
	types   []func(string) *fhir.Type
	vmOnly  bool
}

// WithVMOnly runs every expression on expr's VM, not natively (see fastexpr.go): for
// checking that both give the same results, and for debugging.
func WithVMOnly() Option {
	return func(c *config) { c.vmOnly = true }
}

// WithSchema registers the path language of a source format. Message mappings whose format has
// no registered schema are errors.
func WithSchema(s tree.Schema) Option {
	return func(c *config) { c.schemas = append(c.schemas, s) }
}

// WithOverlay adds a layer of mapping files over the ones given to [Compile]. A message, map or
// code map in a later layer replaces the one of the same name in an earlier layer; an `extend`
// document adds rules to a message or map of any layer.
func WithOverlay(files []File) Option {
	return func(c *config) { c.layers = append(c.layers, files) }
}

// WithTargetTypes adds a lookup for target types that are not FHIR's, consulted after the
// FHIR R4 metadata: a format that is written by mappings (FHIR → HL7 v2, EDIFACT, CDA)
// describes its segments or elements as types (see fhir.NewType), so `resource: PID` and
// `to: "5.1"` are checked like FHIR targets.
func WithTargetTypes(lookup func(name string) *fhir.Type) Option {
	return func(c *config) { c.types = append(c.types, lookup) }
}

// WithFunctions replaces the registry of expression functions (see [DefaultRegistry]).
func WithFunctions(r *Registry) Option {
	return func(c *config) { c.funcs = r }
}

// Compile compiles mapping files into a [Program]. It performs no I/O: files come as bytes, so
// the same code serves the CLI, the WASM build and a Beam worker. When any file holds an error,
// Compile returns a *[CompileError] that lists every error found, each naming file:line:column.
func Compile(files []File, opts ...Option) (*Program, error) {
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.funcs == nil {
		cfg.funcs = DefaultRegistry()
	}
	layers := append([][]File{files}, cfg.layers...)
	c := &compiler{
		p: &Program{
			maps:    map[string]*mapDoc{},
			codes:   map[string]*CodeMap{},
			schemas: map[string]tree.Schema{},
			aliases: map[string]int{},
			paths:   map[string]map[string]tree.Path{},
			structs: map[string]map[string]string{},
			byKey:   map[string]*Message{},
		},
		vmOnly: cfg.vmOnly,
		funcs:  cfg.funcs,
		types:  cfg.types,
		exprs:  map[exprKey]*vm.Program{},
		fast:   map[*vm.Program]*fastExpr{},
	}
	for _, s := range cfg.schemas {
		c.p.schemas[s.Name()] = s
	}
	c.collect(layers)
	c.compileAll()
	sort.SliceStable(c.diags, func(i, j int) bool {
		a, b := c.diags[i], c.diags[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	for _, d := range c.diags {
		if d.Severity == SeverityError {
			return nil, &CompileError{Diagnostics: c.diags}
		}
	}
	return c.p, nil
}

// Lint compiles the mappings and returns every diagnostic, errors and warnings, without
// stopping at the first.
func Lint(files []File, opts ...Option) []Diagnostic {
	_, err := Compile(files, opts...)
	if ce, ok := err.(*CompileError); ok {
		return ce.Diagnostics
	}
	return nil
}

type compiler struct {
	exprs    map[exprKey]*vm.Program // compiled expressions, by format and source
	p        *Program
	funcs    *Registry
	types    []func(string) *fhir.Type
	diags    []Diagnostic
	messages map[string]*document
	extends  []*document
	msgOrder []string
	vmOnly   bool
	fast     map[*vm.Program]*fastExpr // native forms of the compiled expressions
}

func (c *compiler) errorf(p pos, k Kind, format string, args ...any) {
	c.diags = append(c.diags, p.diag(k, format, args...))
}

// collect loads every layer and resolves which document wins for each name.
func (c *compiler) collect(layers [][]File) {
	c.messages = map[string]*document{}
	mapDocs := map[string]*document{}
	codeDocs := map[string]*document{}
	for _, files := range layers {
		docs, diags := loadFiles(files)
		c.diags = append(c.diags, diags...)
		seen := map[string]*document{}
		for _, d := range docs {
			c.p.docs = append(c.p.docs, d)
			key := d.kind + "\x00" + d.name
			if d.kind != "extend" && d.kind != "structures" {
				if prev, dup := seen[key]; dup {
					c.errorf(d.at, KindDuplicate, "%s %q is defined twice in one layer (first at %s:%d)", d.kind, d.name, prev.at.file, prev.at.line)
					continue
				}
				seen[key] = d
			}
			switch d.kind {
			case "message":
				if _, ok := c.messages[d.name]; !ok {
					c.msgOrder = append(c.msgOrder, d.name)
				}
				c.messages[d.name] = d
			case "map":
				mapDocs[d.name] = d
			case "codes":
				codeDocs[d.name] = d
			case "extend":
				c.extends = append(c.extends, d)
			case "structures":
				byName := c.p.structs[d.name]
				if byName == nil {
					byName = map[string]string{}
					c.p.structs[d.name] = byName
				}
				for k, v := range d.structures {
					byName[k] = v // a later layer replaces a structure of the same name
				}
			}
		}
	}
	for name, d := range codeDocs {
		c.p.codes[name] = buildCodeMap(name, d.codes)
	}
	for name, d := range mapDocs {
		t := c.lookupType(d.target)
		if t == nil && d.target != "" {
			c.errorf(d.at, KindTarget, "map %q: unknown FHIR type %q", name, d.target)
		}
		c.p.maps[name] = &mapDoc{doc: d, target: t, compiled: map[string]*compiledMap{}}
	}
	for _, e := range c.extends {
		if m, ok := c.messages[e.name]; ok {
			m.rules = append(m.rules, e.rules...)
		} else if md, ok := c.p.maps[e.name]; ok {
			md.doc.rules = append(md.doc.rules, e.rules...)
		} else {
			c.errorf(e.at, KindReference, "extend: no message or map named %q", e.name)
		}
	}
}

// lookupType finds a target type: FHIR's first, then those of WithTargetTypes.
func (c *compiler) lookupType(name string) *fhir.Type {
	if t := fhir.LookupType(name); t != nil {
		return t
	}
	for _, l := range c.types {
		if t := l(name); t != nil {
			return t
		}
	}
	return nil
}

func (c *compiler) compileAll() {
	for _, name := range c.msgOrder {
		d := c.messages[name]
		m := &Message{Name: d.name, Format: d.format, Match: d.match, Structure: d.structure, Bundle: d.bundle, Description: d.description, File: d.at.file}
		schema, ok := c.p.schemas[d.format]
		if !ok {
			c.errorf(d.at, KindReference, "message %q: unknown format %q", d.name, d.format)
			continue
		}
		if d.bundle != "" && !validBundleType(d.bundle) {
			c.errorf(d.at, KindSchema, "message %q: unknown bundle type %q (transaction, batch, collection, message, document)", d.name, d.bundle)
		}
		if d.timezone != "" {
			m.timezone = c.path(schema, d.at, d.timezone)
		}
		if d.zone != "" {
			loc, err := time.LoadLocation(d.zone)
			if err != nil {
				c.errorf(d.zonePos, KindSchema, "zone %q: not an IANA time zone name (such as Europe/London)", d.zone)
			}
			m.zone = loc
		}
		sc := &scope{names: map[string]*fhir.Type{}}
		m.rules = c.rules(schema, d.rules, nil, sc, nil)
		c.p.messages = append(c.p.messages, m)
		for _, k := range m.Match {
			if _, taken := c.p.byKey[m.Format+"\x00"+k]; !taken {
				c.p.byKey[m.Format+"\x00"+k] = m
			}
		}
	}
	// Maps that no message uses are still checked, so a mistake in an unused map is found at
	// load time too: against the schema of their format key, or, without one, against each
	// schema in turn, reporting errors only if the map compiles under none of them.
	for _, name := range keys(c.p.maps) {
		md := c.p.maps[name]
		if len(md.compiled) > 0 {
			continue
		}
		if md.doc.format != "" {
			if s, ok := c.p.schemas[md.doc.format]; ok {
				c.compileMap(s, md, md.doc.at)
			} else {
				c.errorf(md.doc.at, KindReference, "map %q: unknown format %q", name, md.doc.format)
			}
			continue
		}
		var best []Diagnostic
		for _, s := range c.schemas() {
			before := len(c.diags)
			c.compileMap(s, md, md.doc.at)
			errs := c.diags[before:]
			if len(errs) == 0 {
				best = nil
				break
			}
			if best == nil || len(errs) < len(best) {
				best = append([]Diagnostic(nil), errs...)
			}
			c.diags = c.diags[:before]
			delete(md.compiled, s.Name())
		}
		c.diags = append(c.diags, best...)
	}
}

// Zone returns the time zone the mapping declares for the source's local times (its zone
// key), or nil.
func (m *Message) Zone() *time.Location { return m.zone }

func (c *compiler) schemas() []tree.Schema {
	names := make([]string, 0, len(c.p.schemas))
	for n := range c.p.schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]tree.Schema, len(names))
	for i, n := range names {
		out[i] = c.p.schemas[n]
	}
	return out
}

func validBundleType(s string) bool {
	switch s {
	case "transaction", "batch", "collection", "message", "document":
		return true
	}
	return false
}

func (c *compiler) path(s tree.Schema, p pos, src string) tree.Path {
	pp, err := s.Compile(src)
	if err != nil {
		c.errorf(p, KindPath, "%v", err)
		return nil
	}
	return pp
}

func (c *compiler) alias(name string) int {
	id, ok := c.p.aliases[name]
	if !ok {
		id = len(c.p.aliases)
		c.p.aliases[name] = id
	}
	return id
}

// scope tracks, at compile time, the resource aliases visible to a rule and their types. In a
// map (free != nil) an unknown alias is recorded as free and checked where the map is used.
type scope struct {
	parent *scope
	names  map[string]*fhir.Type
	free   map[string]pos
}

func (s *scope) lookup(name string) (*fhir.Type, bool) {
	for ; s != nil; s = s.parent {
		if t, ok := s.names[name]; ok {
			return t, true
		}
	}
	return nil, false
}

func (s *scope) root() *scope {
	for s.parent != nil {
		s = s.parent
	}
	return s
}

// rules compiles a list of rules whose target is an object of type target (nil at message
// level, where rules may only create resources or switch to one with `on`).
func (c *compiler) rules(s tree.Schema, srcs []*ruleSrc, target *fhir.Type, sc *scope, free map[string]pos) []*rule {
	out := make([]*rule, 0, len(srcs))
	for _, rs := range srcs {
		if r := c.rule(s, rs, target, sc, free); r != nil {
			out = append(out, r)
		}
	}
	return out
}

func (c *compiler) useAlias(sc *scope, free map[string]pos, p pos, name, key string) (*fhir.Type, int) {
	if t, ok := sc.lookup(name); ok {
		return t, c.alias(name)
	}
	if free != nil {
		if _, ok := free[name]; !ok {
			free[name] = p
		}
		return nil, c.alias(name)
	}
	var known []string
	for s := sc; s != nil; s = s.parent {
		for n := range s.names {
			known = append(known, n)
		}
	}
	sort.Strings(known)
	c.errorf(p, KindReference, "%s: no resource named %q is in scope here%s", key, name, suggest.Hint(name, known))
	return nil, -1
}

func (c *compiler) rule(s tree.Schema, rs *ruleSrc, target *fhir.Type, sc *scope, free map[string]pos) *rule {
	r := &rule{at: rs.at, on: -1, as: -1, ref: -1}
	kp := func(k string) pos {
		if p, ok := rs.keyPos[k]; ok {
			return p
		}
		return rs.at
	}
	if rs.from != "" {
		r.from = c.path(s, kp("from"), rs.from)
		if t, ok := r.from.(tree.Typed); ok {
			r.fromType = t.DataType()
		}
	}
	if rs.when != "" {
		r.whenSrc = rs.when
		r.when = c.expr(s, rs.whenPos, rs.when, true)
		if f := c.fast[r.when]; f != nil && f.bl != nil {
			r.whenFast = f
		}
	}
	cur := target
	if rs.on != "" {
		if rs.resource != "" {
			c.errorf(kp("on"), KindSchema, "a rule takes either on or resource, not both")
		}
		t, id := c.useAlias(sc, free, kp("on"), rs.on, "on")
		r.on, cur = id, t
	}
	if rs.resource != "" {
		t := c.lookupType(rs.resource)
		if t == nil || t.Kind != fhir.KindResource {
			c.errorf(kp("resource"), KindTarget, "unknown FHIR resource type %q%s", rs.resource, suggest.Hint(rs.resource, resourceNames()))
			return nil
		}
		r.resource = t
	}
	if rs.as != "" {
		if rs.resource == "" {
			c.errorf(kp("as"), KindSchema, "as names a created resource; this rule creates none (add resource: Type)")
		} else {
			r.as = c.alias(rs.as)
			sc.names[rs.as] = r.resource
		}
	}
	// Target path.
	var final *fhir.Type // the type the value/map/rules apply to
	if rs.to != "" {
		if cur == nil && r.on < 0 {
			c.errorf(kp("to"), KindTarget, "to %q: there is no target object here; create a resource (resource: Type) or pick one (on: name)", rs.to)
			return nil
		}
		if cur == nil { // on: an alias of unknown type (in a map); checked at use
			c.errorf(kp("to"), KindTarget, "to %q: the type of %q is not known in this map; declare the map's target instead", rs.to, rs.on)
			return nil
		}
		steps, err := compileTarget(cur, rs.to)
		if err != nil {
			c.errorf(kp("to"), KindTarget, "%v", err)
			return nil
		}
		r.to, r.final = steps, steps[len(steps)-1].elem
		final = r.final.Elem
		if r.resource != nil {
			if r.final.Type != "Reference" {
				c.errorf(kp("to"), KindTarget, "to %q is a %s; a created resource can only be put in a Reference", rs.to, r.final.Type)
				return nil
			}
			if !targetAllowed(r.final, r.resource.Name) {
				c.errorf(kp("resource"), KindTarget, "%s cannot refer to a %s (allowed: %s)", rs.to, r.resource.Name, strings.Join(r.final.Targets, ", "))
			}
		}
	}
	if r.resource != nil {
		final = r.resource
	} else if r.to == nil {
		final = cur
	}
	// Value.
	n := 0
	if rs.hasConst {
		n++
	}
	if rs.ref != "" {
		n++
	}
	if rs.value != "" {
		n++
	}
	if n > 1 {
		c.errorf(rs.at, KindSchema, "a rule takes at most one of const, value and ref")
		return nil
	}
	if rs.codes != "" {
		cm, ok := c.p.codes[rs.codes]
		if !ok {
			c.errorf(kp("codes"), KindReference, "unknown code map %q%s", rs.codes, suggest.Hint(rs.codes, keys(c.p.codes)))
		}
		r.codes = cm
	}
	switch {
	case rs.hasConst:
		r.kind = valConst
	case rs.value != "":
		r.kind = valExpr
		r.value = c.expr(s, rs.valuePos, rs.value, false)
		r.valFast = c.fast[r.value]
	case rs.ref != "":
		r.kind = valRef
		t, id := c.useAlias(sc, free, kp("ref"), rs.ref, "ref")
		r.ref = id
		if r.final != nil && r.final.Type != "Reference" {
			c.errorf(kp("ref"), KindTarget, "ref needs a Reference target; %s is a %s", rs.to, r.final.Type)
		} else if r.final != nil && t != nil && !targetAllowed(r.final, t.Name) {
			c.errorf(kp("ref"), KindTarget, "%s cannot refer to a %s (allowed: %s)", rs.to, t.Name, strings.Join(r.final.Targets, ", "))
		}
		if r.final == nil {
			c.errorf(kp("ref"), KindSchema, "ref needs a to: the Reference element to fill")
		}
	case r.final != nil && isPrimitive(r.final.Type) && rs.mapName == "" && !rs.rulesSet:
		r.kind = valText
	case r.final != nil && r.codes != nil && (r.final.Type == "Coding" || r.final.Type == "CodeableConcept"):
		r.kind = valText
	}
	if r.kind == valConst {
		if r.final == nil || !isPrimitive(r.final.Type) {
			c.errorf(kp("const"), KindTarget, "const needs a primitive target (to: an element of type string, code, …)")
		} else {
			v, ok := primitiveValue(r.final.Type, rs.constant)
			if !ok {
				c.errorf(kp("const"), KindTarget, "const %q is not a valid FHIR %s", rs.constant, r.final.Type)
			}
			r.constant = v
		}
	}
	if (r.kind == valText || r.kind == valExpr) && r.final != nil && !isPrimitive(r.final.Type) {
		if !(r.codes != nil && (r.final.Type == "Coding" || r.final.Type == "CodeableConcept")) {
			c.errorf(kp("to"), KindTarget, "%s is a %s: give a map or nested rules to fill it, not a value", rs.to, r.final.Type)
		}
	}
	if md := c.p.maps[rs.mapName]; r.kind == valNone && r.final != nil && isPrimitive(r.final.Type) && md != nil && md.target != nil && md.target.Kind != fhir.KindPrimitive {
		c.errorf(kp("map"), KindTarget, "%s is a primitive %s; a map fills complex types", rs.to, r.final.Type)
	}
	// Map and nested rules.
	inner := sc
	if rs.rulesSet || rs.resource != "" {
		inner = &scope{parent: sc, names: map[string]*fhir.Type{}}
		r.scoped = true
	}
	if rs.mapName != "" {
		md, ok := c.p.maps[rs.mapName]
		if !ok {
			c.errorf(kp("map"), KindReference, "unknown map %q%s", rs.mapName, suggest.Hint(rs.mapName, keys(c.p.maps)))
			return nil
		}
		if md.target != nil && md.target.Kind == fhir.KindPrimitive {
			if r.final == nil || !isPrimitive(r.final.Type) || r.kind == valConst || r.kind == valRef || rs.value != "" {
				c.errorf(kp("map"), KindTarget, "map %q gives a %s value: use it with to: a primitive element, without const, value or ref", rs.mapName, md.target.Name)
				return nil
			}
			cm := c.compileMap(s, md, kp("map"))
			r.mapName, r.kind, r.value = rs.mapName, valExpr, cm.value
			r.valFast = c.fast[r.value]
			if r.value == nil {
				return nil
			}
			return r
		}
		if final == nil {
			c.errorf(kp("map"), KindTarget, "map %q needs a target: create a resource, pick one with on, or give to", rs.mapName)
			return nil
		}
		if md.target != nil && md.target != final {
			c.errorf(kp("map"), KindTarget, "map %q builds a %s, but the target here is a %s", rs.mapName, md.target.Name, final.Name)
			return nil
		}
		r.mapName = rs.mapName
		r.mp = c.compileMap(s, md, kp("map"))
		for name, p := range r.mp.free {
			if _, ok := inner.lookup(name); !ok {
				if free != nil {
					free[name] = p
				} else {
					c.errorf(kp("map"), KindReference, "map %q refers to %q (at %s:%d), which is not in scope here", rs.mapName, name, p.file, p.line)
				}
			}
		}
	}
	if rs.rulesSet {
		if final == nil && r.to == nil && r.on < 0 && r.resource == nil {
			final = target
		}
		r.rules = c.rules(s, rs.rules, final, inner, free)
	}
	if r.mp == nil && r.resource == nil && r.kind == valNone && len(r.rules) > 0 {
		r.guard = r.rules
		for _, sub := range r.rules {
			if sub.from == nil {
				r.guard = nil
				break
			}
		}
	}
	if r.kind == valNone && r.mp == nil && !rs.rulesSet && r.resource == nil {
		c.errorf(rs.at, KindSchema, "this rule produces nothing: give to with a value, const, ref, codes, map or nested rules")
	}
	return r
}

func (c *compiler) compileMap(s tree.Schema, md *mapDoc, use pos) *compiledMap {
	if cm, ok := md.compiled[s.Name()]; ok {
		// A map may use itself (nested CDA sections, EDIFACT groups in groups): the recursion
		// follows the input's nesting and is bounded at run time (maxMapDepth).
		return cm
	}
	cm := &compiledMap{free: map[string]pos{}, source: md.doc.source}
	md.compiled[s.Name()] = cm
	if md.target != nil && md.target.Kind == fhir.KindPrimitive {
		if md.doc.value == "" || len(md.doc.rules) > 0 {
			c.errorf(md.doc.at, KindSchema, "map %q has a primitive target (%s): give it a value expression and no rules", md.doc.name, md.target.Name)
		} else {
			cm.value = c.expr(s, md.doc.valuePos, md.doc.value, false)
		}
		cm.done = true
		return cm
	}
	if md.doc.value != "" {
		c.errorf(md.doc.valuePos, KindSchema, "map %q: only a map with a primitive target takes a value", md.doc.name)
	}
	sc := &scope{names: map[string]*fhir.Type{}}
	cm.rules = c.rules(s, md.doc.rules, md.target, sc, cm.free)
	cm.done = true
	return cm
}

func targetAllowed(e *fhir.Element, typ string) bool {
	if len(e.Targets) == 0 {
		return true
	}
	for _, t := range e.Targets {
		if t == typ || t == "Resource" {
			return true
		}
	}
	return false
}

// compileTarget resolves a dotted target path ("name.given", "extension[+].valueString")
// against the FHIR R4 element metadata of t.
func compileTarget(t *fhir.Type, p string) ([]step, error) {
	var steps []step
	cur := t
	parts := strings.Split(p, ".")
	for i, part := range parts {
		mode := stepAuto
		name := part
		switch {
		case strings.HasSuffix(part, "[+]"):
			mode, name = stepNew, strings.TrimSuffix(part, "[+]")
		case strings.HasSuffix(part, "[=]"):
			mode, name = stepSame, strings.TrimSuffix(part, "[=]")
		case strings.Contains(part, "["):
			return nil, fmt.Errorf("%q: use [+] for a new item or [=] for the last one; numeric indexes are not supported", part)
		}
		if cur == nil {
			// A primitive's own id and extensions (FHIR JSON "_birthDate"): step into them.
			if name != "extension" && name != "id" {
				return nil, fmt.Errorf("%q: %s is a primitive; only its extension and id can follow", p, strings.Join(parts[:i], "."))
			}
			steps = append(steps, step{elem: steps[len(steps)-1].elem, ext: true})
			cur = fhir.LookupType("Element")
		}
		e := cur.Element(name)
		if e == nil {
			var names []string
			for _, el := range cur.Elements {
				names = append(names, el.Name)
			}
			return nil, fmt.Errorf("%s has no element %q%s", cur.Name, name, suggest.Hint(name, names))
		}
		if mode != stepAuto && !e.List() {
			return nil, fmt.Errorf("%s.%s holds one value; [+] and [=] apply to lists", cur.Name, name)
		}
		steps = append(steps, step{elem: e, mode: mode})
		if isPrimitive(e.Type) {
			cur = nil
		} else {
			cur = e.Elem
		}
	}
	return steps, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func resourceNames() []string {
	var out []string
	for _, t := range fhir.Types() {
		if t.Kind == fhir.KindResource {
			out = append(out, t.Name)
		}
	}
	return out
}

// isPrimitive reports whether a FHIR type code names a primitive type.
func isPrimitive(code string) bool {
	t := fhir.LookupType(code)
	return t != nil && t.Kind == fhir.KindPrimitive
}

// Structures returns the structure notations given for a format (name → notation), for the
// format's adapter to compile. The map must not be modified.
func (p *Program) Structures(format string) map[string]string { return p.structs[format] }

// Messages returns the compiled message mappings, in the order they were defined.
func (p *Program) Messages() []*Message { return p.messages }

// CodeMap returns the named code map, or nil.
func (p *Program) CodeMap(name string) *CodeMap { return p.codes[name] }

// Find returns the message mapping of format that matches the first of keys that any mapping
// matches (callers pass keys from the most to the least specific, e.g. "ADT^A04", "ADT_A01").
// Among mappings that match the same key, the first defined wins. It is a map lookup per key:
// the index is built when the mappings compile.
func (p *Program) Find(format string, keys ...string) *Message {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if m := p.byKey[format+"\x00"+k]; m != nil {
			return m
		}
	}
	return nil
}

// Definition describes one named mapping document, for tools like `fhirbridge mappings
// explain`.
type Definition struct {
	Kind        string // "message", "map", "codes"
	Name        string
	File        string
	Line        int
	Description string
	Source      string // maps: the source type; messages: the format
	Target      string // maps: the FHIR type
	Match       []string
	Codes       int // code maps: how many source codes
}

// Definitions returns every message, map and code map in effect (after layering), sorted by
// kind and name.
func (p *Program) Definitions() []Definition {
	var out []Definition
	for _, m := range p.messages {
		out = append(out, Definition{Kind: "message", Name: m.Name, File: m.File, Description: m.Description, Source: m.Format, Match: m.Match})
	}
	for name, md := range p.maps {
		out = append(out, Definition{Kind: "map", Name: name, File: md.doc.at.file, Line: md.doc.at.line, Description: md.doc.description, Source: md.doc.source, Target: md.doc.target})
	}
	for i := len(p.docs) - 1; i >= 0; i-- { // the last layer wins
		d := p.docs[i]
		if d.kind == "codes" && p.codes[d.name] != nil {
			out = append(out, Definition{Kind: "codes", Name: d.name, File: d.at.file, Line: d.at.line, Description: d.description, Target: p.codes[d.name].System, Codes: p.codes[d.name].Len()})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind > out[j].Kind // messages, then maps, then codes
		}
		return out[i].Name < out[j].Name
	})
	// A code map replaced by a later layer appears once, from the winning layer.
	uniq := out[:0]
	seen := map[string]bool{}
	for _, d := range out {
		k := d.Kind + "\x00" + d.Name
		if seen[k] {
			continue
		}
		seen[k] = true
		uniq = append(uniq, d)
	}
	return uniq
}
