package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// File is one generated output file.
type File struct {
	Name string
	Data []byte
}

// Kinds, as in package fhir.
const (
	kindPrimitive = iota
	kindComplex
	kindResource
	kindBackbone
)

type gType struct {
	name     string
	kind     int
	abstract bool
	elems    []*gElem
	nOrder   int
}

type gElem struct {
	name       string
	order      int
	min, max   int
	typ        string
	elemType   string
	choice     string
	targets    []string
	binding    []string
	bindingURL string
}

// JSON shapes of the definitions (only what is used).
type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type structureDefinition struct {
	ResourceType string `json:"resourceType"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Derivation   string `json:"derivation"`
	FhirVersion  string `json:"fhirVersion"`
	Snapshot     struct {
		Element []elementDefinition `json:"element"`
	} `json:"snapshot"`
}

type elementDefinition struct {
	Path             string `json:"path"`
	Min              int    `json:"min"`
	Max              string `json:"max"`
	ContentReference string `json:"contentReference"`
	Base             struct {
		Path string `json:"path"`
	} `json:"base"`
	Type []struct {
		Code          string   `json:"code"`
		TargetProfile []string `json:"targetProfile"`
		Extension     []struct {
			URL      string `json:"url"`
			ValueURL string `json:"valueUrl"`
		} `json:"extension"`
	} `json:"type"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
}

type concept struct {
	Code    string    `json:"code"`
	Concept []concept `json:"concept"`
}

type terminology struct {
	ResourceType string    `json:"resourceType"`
	URL          string    `json:"url"`
	Content      string    `json:"content"`
	Concept      []concept `json:"concept"`
	Compose      *struct {
		Include []composeRule `json:"include"`
		Exclude []composeRule `json:"exclude"`
	} `json:"compose"`
}

type composeRule struct {
	System   string            `json:"system"`
	Concept  []concept         `json:"concept"`
	Filter   []json.RawMessage `json:"filter"`
	ValueSet []string          `json:"valueSet"`
}

type generator struct {
	types     map[string]*gType
	valueSets map[string]*terminology
	codeSys   map[string]*terminology
	expanded  map[string][]string
	resources map[string]bool // the R4 resource-types code system
}

// Generate reads the definitions in dir and returns the generated files.
func Generate(dir string) ([]File, error) {
	g := &generator{
		types:     map[string]*gType{},
		valueSets: map[string]*terminology{},
		codeSys:   map[string]*terminology{},
		expanded:  map[string][]string{},
		resources: map[string]bool{},
	}
	for _, f := range []string{"valuesets.json", "v3-codesystems.json"} {
		if err := g.loadTerminology(filepath.Join(dir, f)); err != nil {
			return nil, err
		}
	}
	rt := g.codeSys["http://hl7.org/fhir/resource-types"]
	if rt == nil {
		return nil, fmt.Errorf("no resource-types CodeSystem in %s", dir)
	}
	for _, c := range rt.Concept {
		g.resources[c.Code] = true
	}
	for _, f := range []string{"profiles-types.json", "profiles-resources.json"} {
		if err := g.loadProfiles(filepath.Join(dir, f)); err != nil {
			return nil, err
		}
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "..", "..", "..", "package.json")); err == nil {
		var p struct{ Name, Version string }
		if json.Unmarshal(b, &p) == nil && p.Name+"@"+p.Version != definitionsPackage {
			fmt.Fprintf(os.Stderr, "gen: warning: definitions are %s@%s, the committed data comes from %s\n", p.Name, p.Version, definitionsPackage)
		}
	}
	bin, stats := g.encode()
	return []File{
		{Name: "r4.bin", Data: bin},
		{Name: "r4_gen.go", Data: goSource(definitionsPackage, stats, len(bin))},
	}, nil
}

func readBundle(path string) ([]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]json.RawMessage, len(b.Entry))
	for i, e := range b.Entry {
		out[i] = e.Resource
	}
	return out, nil
}

func (g *generator) loadTerminology(path string) error {
	entries, err := readBundle(path)
	if err != nil {
		return err
	}
	for _, raw := range entries {
		var t terminology
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		m := g.codeSys
		if t.ResourceType == "ValueSet" {
			m = g.valueSets
		} else if t.ResourceType != "CodeSystem" {
			continue
		}
		if _, dup := m[t.URL]; !dup { // the first definition wins (valuesets.json is read first)
			m[t.URL] = &t
		}
	}
	return nil
}

func (g *generator) loadProfiles(path string) error {
	entries, err := readBundle(path)
	if err != nil {
		return err
	}
	for _, raw := range entries {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if head.ResourceType != "StructureDefinition" {
			continue
		}
		var sd structureDefinition
		if err := json.Unmarshal(raw, &sd); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if sd.Derivation == "constraint" || sd.Kind == "logical" {
			continue
		}
		if sd.FhirVersion != "" && sd.FhirVersion != "4.0.1" {
			continue // e.g. SubscriptionStatus (4.3.0), not part of R4
		}
		if sd.Kind == "resource" && !g.resources[sd.Type] {
			continue
		}
		if err := g.addStructure(&sd); err != nil {
			return fmt.Errorf("%s: %s: %w", path, sd.Name, err)
		}
	}
	return nil
}

func (g *generator) addStructure(sd *structureDefinition) error {
	root := sd.Type
	kind := kindComplex
	switch sd.Kind {
	case "primitive-type":
		kind = kindPrimitive
	case "resource":
		kind = kindResource
	}
	if _, dup := g.types[root]; dup {
		return fmt.Errorf("duplicate type %s", root)
	}
	g.types[root] = &gType{name: root, kind: kind, abstract: sd.Abstract}
	els := sd.Snapshot.Element
	if len(els) == 0 || els[0].Path != root {
		return fmt.Errorf("snapshot does not start with %s", root)
	}
	byPath := map[string]*elementDefinition{}
	hasChildren := map[string]bool{}
	for i := range els {
		byPath[els[i].Path] = &els[i]
		if j := strings.LastIndexByte(els[i].Path, '.'); j >= 0 {
			hasChildren[els[i].Path[:j]] = true
		}
	}
	for i := 1; i < len(els); i++ {
		ed := &els[i]
		dot := strings.LastIndexByte(ed.Path, '.')
		parent, name := ed.Path[:dot], ed.Path[dot+1:]
		if kind == kindPrimitive && parent == root && name == "value" {
			continue // the primitive's value is the JSON value itself
		}
		owner := g.types[parent]
		if owner == nil {
			return fmt.Errorf("%s: parent %s is not a backbone element", ed.Path, parent)
		}
		max := -1
		if ed.Max != "*" {
			n, err := strconv.Atoi(ed.Max)
			if err != nil {
				return fmt.Errorf("%s: max %q", ed.Path, ed.Max)
			}
			max = n
		}
		order := owner.nOrder
		owner.nOrder++
		var bindingURL string
		var binding []string
		if b := ed.Binding; b != nil && b.Strength == "required" {
			bindingURL, _, _ = strings.Cut(b.ValueSet, "|")
			binding = g.expand(bindingURL)
		}
		if ref := ed.ContentReference; ref != "" {
			_, target, _ := strings.Cut(ref, "#")
			td := byPath[target]
			if td == nil || len(td.Type) != 1 {
				return fmt.Errorf("%s: contentReference %s", ed.Path, ref)
			}
			owner.elems = append(owner.elems, &gElem{name: name, order: order, min: ed.Min, max: max,
				typ: td.Type[0].Code, elemType: target, binding: binding, bindingURL: bindingURL})
			continue
		}
		if len(ed.Type) == 0 {
			return fmt.Errorf("%s: no type", ed.Path)
		}
		base, choice := strings.CutSuffix(name, "[x]")
		for _, t := range ed.Type {
			code := t.Code
			if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
				code = "string"
				for _, x := range t.Extension {
					if strings.HasSuffix(x.URL, "/structuredefinition-fhir-type") && x.ValueURL != "" {
						code = x.ValueURL
					}
				}
			}
			if ed.Base.Path == "Resource.id" {
				code = "id" // R4 §2.6.1 (resource.html#id): Resource.id is an id
			}
			e := &gElem{name: name, order: order, min: ed.Min, max: max, typ: code, elemType: code,
				binding: binding, bindingURL: bindingURL}
			if code == "BackboneElement" || code == "Element" {
				if !hasChildren[ed.Path] {
					return fmt.Errorf("%s: %s without children", ed.Path, code)
				}
				e.elemType = ed.Path
				g.types[ed.Path] = &gType{name: ed.Path, kind: kindBackbone}
			}
			if choice {
				e.choice = base
				e.name = base + strings.ToUpper(code[:1]) + code[1:]
			}
			if code == "Reference" {
				for _, p := range t.TargetProfile {
					e.targets = append(e.targets, p[strings.LastIndexByte(p, '/')+1:])
				}
				if len(e.targets) == 0 {
					e.targets = []string{"Resource"}
				}
			}
			owner.elems = append(owner.elems, e)
		}
	}
	return nil
}

// check makes sure every element's type exists.
func (g *generator) check() error {
	for _, name := range sortedKeys(g.types) {
		t := g.types[name]
		seen := map[string]bool{}
		for _, e := range t.elems {
			if g.types[e.elemType] == nil {
				return fmt.Errorf("%s.%s: unknown type %s", name, e.name, e.elemType)
			}
			if seen[e.name] {
				return fmt.Errorf("%s: duplicate element %s", name, e.name)
			}
			seen[e.name] = true
		}
	}
	return nil
}

// expand returns the codes of a ValueSet, or nil when they cannot be enumerated from the
// definitions (filters, unknown or incomplete code systems, external terminologies).
func (g *generator) expand(url string) []string {
	if codes, ok := g.expanded[url]; ok {
		return codes
	}
	g.expanded[url] = nil // guard against import cycles
	codes, ok := g.expandValueSet(url)
	if !ok {
		codes = nil
	}
	g.expanded[url] = codes
	return codes
}

func (g *generator) expandValueSet(url string) ([]string, bool) {
	vs := g.valueSets[url]
	if vs == nil || vs.Compose == nil {
		return nil, false
	}
	var codes []string
	for _, inc := range vs.Compose.Include {
		c, ok := g.rule(inc)
		if !ok {
			return nil, false
		}
		codes = append(codes, c...)
	}
	var excl []string
	for _, ex := range vs.Compose.Exclude {
		c, ok := g.rule(ex)
		if !ok {
			return nil, false
		}
		excl = append(excl, c...)
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range codes {
		if !seen[c] && !slices.Contains(excl, c) {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, len(out) > 0
}

func (g *generator) rule(r composeRule) ([]string, bool) {
	if len(r.Filter) > 0 {
		return nil, false
	}
	if len(r.ValueSet) > 0 {
		if r.System != "" || len(r.Concept) > 0 {
			return nil, false // intersections are not enumerated
		}
		var out []string
		for _, u := range r.ValueSet {
			u, _, _ = strings.Cut(u, "|")
			c := g.expand(u)
			if c == nil {
				return nil, false
			}
			out = append(out, c...)
		}
		return out, true
	}
	if len(r.Concept) > 0 {
		var out []string
		for _, c := range r.Concept {
			out = append(out, c.Code)
		}
		return out, true
	}
	cs := g.codeSys[r.System]
	if cs == nil || cs.Content != "complete" {
		return nil, false
	}
	var out []string
	var walk func([]concept)
	walk = func(cs []concept) {
		for _, c := range cs {
			out = append(out, c.Code)
			walk(c.Concept)
		}
	}
	walk(cs.Concept)
	return out, len(out) > 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type stats struct {
	types, elements, strings, lists, bindings int
}

// encode writes the binary form read by package fhir (see fhir/meta.go, decode):
//
//	"FR4\x02"
//	uvarint nStrings, then per string: uvarint len, bytes
//	uvarint nLists, then per list: uvarint n, n × uvarint string index
//	uvarint nTypes, then per type (sorted by name):
//	  uvarint name, byte kind|abstract<<4, uvarint nElements, uvarint offset of its elements
//	  in the element section
//	uvarint length of the element section, then per type:
//	  per element: uvarint name, order, min, max+1, type, elemType+1, choice+1, targets+1,
//	               binding+1, bindingURL+1  (+1: 0 means none)
//	  then nElements × uvarint: element positions sorted by name
//
// The per-type offsets let the reader decode a resource type and its backbone elements on
// first use.
func (g *generator) encode() ([]byte, stats) {
	var st stats
	strIdx := map[string]int{}
	var strs []string
	str := func(s string) int {
		if i, ok := strIdx[s]; ok {
			return i
		}
		strIdx[s] = len(strs)
		strs = append(strs, s)
		return len(strs) - 1
	}
	listIdx := map[string]int{}
	var lists [][]string
	list := func(l []string) int {
		if l == nil {
			return -1
		}
		key := strings.Join(l, "\x00")
		if i, ok := listIdx[key]; ok {
			return i
		}
		for _, s := range l {
			str(s)
		}
		listIdx[key] = len(lists)
		lists = append(lists, l)
		return len(lists) - 1
	}
	opt := func(i int) uint64 { return uint64(i + 1) }
	names := sortedKeys(g.types)
	typeIdx := map[string]int{}
	for i, n := range names {
		typeIdx[n] = i
		str(n)
	}
	var table, elems []byte
	tu := func(v uint64) { table = binary.AppendUvarint(table, v) }
	u := func(v uint64) { elems = binary.AppendUvarint(elems, v) }
	tu(uint64(len(names)))
	for _, n := range names {
		t := g.types[n]
		st.types++
		tu(uint64(str(n)))
		k := byte(t.kind)
		if t.abstract {
			k |= 1 << 4
		}
		table = append(table, k)
		tu(uint64(len(t.elems)))
		tu(uint64(len(elems)))
		for _, e := range t.elems {
			st.elements++
			u(uint64(str(e.name)))
			u(uint64(e.order))
			u(uint64(e.min))
			u(uint64(e.max + 1))
			u(uint64(str(e.typ)))
			u(opt(typeIdx[e.elemType]))
			choice := -1
			if e.choice != "" {
				choice = str(e.choice)
			}
			u(opt(choice))
			u(opt(list(e.targets)))
			if e.binding != nil {
				st.bindings++
			}
			u(opt(list(e.binding)))
			burl := -1
			if e.bindingURL != "" {
				burl = str(e.bindingURL)
			}
			u(opt(burl))
		}
		perm := make([]int, len(t.elems))
		for i := range perm {
			perm[i] = i
		}
		slices.SortFunc(perm, func(a, b int) int { return strings.Compare(t.elems[a].name, t.elems[b].name) })
		for _, p := range perm {
			u(uint64(p))
		}
	}
	out := []byte("FR4\x02")
	out = binary.AppendUvarint(out, uint64(len(strs)))
	for _, s := range strs {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	out = binary.AppendUvarint(out, uint64(len(lists)))
	for _, l := range lists {
		out = binary.AppendUvarint(out, uint64(len(l)))
		for _, s := range l {
			out = binary.AppendUvarint(out, uint64(strIdx[s]))
		}
	}
	out = append(out, table...)
	out = binary.AppendUvarint(out, uint64(len(elems)))
	out = append(out, elems...)
	st.strings, st.lists = len(strs), len(lists)
	return out, st
}

func goSource(version string, st stats, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by fhir/internal/gen from %s; DO NOT EDIT.

package fhir

import _ "embed"

// FHIRVersion is the FHIR version of the element metadata.
const FHIRVersion = "4.0.1"

// r4data holds the element metadata in the compact form decoded by [load]:
// %d types, %d elements, %d strings, %d string lists, %d required bindings with codes
// (%d bytes).
//
//go:embed r4.bin
var r4data string
`, version, st.types, st.elements, st.strings, st.lists, st.bindings, size)
	return b.Bytes()
}
