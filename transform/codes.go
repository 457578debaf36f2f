package transform

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// codeTarget is what a source code translates to.
type codeTarget struct {
	Code, Display, System string
}

// CodeMap translates the codes of one source vocabulary (an HL7 table, a CDA value set, an
// EDIFACT code list) into one target vocabulary. A CodeMap is immutable.
type CodeMap struct {
	Name    string
	System  string // target code system URI, when the map produces codes of one system
	entries map[string]codeTarget
	fold    map[string]codeTarget // case-folded keys, used when the exact key is absent
	dflt    *codeTarget
}

// Lookup translates code. It tries the exact code, then the code case-folded and trimmed, then
// the map's default. ok is false when nothing matched and there is no default.
func (m *CodeMap) Lookup(code string) (t codeTarget, ok bool) {
	if t, ok = m.entries[code]; ok {
		return m.withSystem(t), true
	}
	if t, ok = m.fold[strings.ToUpper(strings.TrimSpace(code))]; ok {
		return m.withSystem(t), true
	}
	if m.dflt != nil {
		return m.withSystem(*m.dflt), true
	}
	return codeTarget{}, false
}

func (m *CodeMap) withSystem(t codeTarget) codeTarget {
	if t.System == "" {
		t.System = m.System
	}
	return t
}

// Len is the number of source codes the map knows.
func (m *CodeMap) Len() int { return len(m.entries) }

func parseCodes(file string, n *yaml.Node) (*document, []Diagnostic) {
	m, ps, diags := fields(file, n, "codes", "codes", "description", "system", "source", "map", "default")
	d := &document{kind: "codes", at: at(file, n)}
	src := &codeMapSrc{at: d.at, entries: map[string]codeTarget{}}
	d.codes = src
	for key, dst := range map[string]*string{"codes": &d.name, "description": &d.description, "system": &src.system, "source": &src.source} {
		v, e := scalar(file, m[key], key)
		if e != nil {
			diags = append(diags, *e)
		}
		*dst = v
	}
	if d.name == "" {
		diags = append(diags, d.at.diag(KindSchema, "codes needs a name"))
	}
	if dn := m["default"]; dn != nil {
		t, ds := codeTargetOf(file, dn)
		diags = append(diags, ds...)
		src.dflt = &t
	}
	mn := m["map"]
	if mn == nil {
		diags = append(diags, d.at.diag(KindSchema, "codes %q needs a map of source code to target code", d.name))
		return d, diags
	}
	if mn.Kind != yaml.MappingNode {
		diags = append(diags, ps["map"].diag(KindSchema, "map must be a mapping of source code to target code"))
		return d, diags
	}
	for i := 0; i+1 < len(mn.Content); i += 2 {
		k, v := mn.Content[i], mn.Content[i+1]
		if _, dup := src.entries[k.Value]; dup {
			diags = append(diags, at(file, k).diag(KindDuplicate, "code %q mapped twice", k.Value))
			continue
		}
		t, ds := codeTargetOf(file, v)
		diags = append(diags, ds...)
		src.entries[k.Value] = t
	}
	return d, diags
}

func codeTargetOf(file string, n *yaml.Node) (codeTarget, []Diagnostic) {
	if n.Kind == yaml.ScalarNode {
		return codeTarget{Code: n.Value}, nil
	}
	m, _, diags := fields(file, n, "a code", "code", "display", "system")
	var t codeTarget
	for key, dst := range map[string]*string{"code": &t.Code, "display": &t.Display, "system": &t.System} {
		v, e := scalar(file, m[key], key)
		if e != nil {
			diags = append(diags, *e)
		}
		*dst = v
	}
	return t, diags
}

func buildCodeMap(name string, src *codeMapSrc) *CodeMap {
	cm := &CodeMap{Name: name, System: src.system, entries: src.entries, dflt: src.dflt, fold: make(map[string]codeTarget, len(src.entries))}
	for k, v := range src.entries {
		fk := strings.ToUpper(strings.TrimSpace(k))
		if _, exact := src.entries[fk]; exact && fk != k {
			continue
		}
		cm.fold[fk] = v
	}
	return cm
}
