package fhirbridge

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
	"github.com/fhirbridge/fhirbridge/transform"
)

// Writing C-CDA (the reverse direction, docs/reverse-ccda.md). The mappings in
// mappings/fhir-to-ccda build a ClinicalDocument as if it were a resource: every class of
// the CDA model of parsers/cda (model.txt) is a synthetic type named "cda.<Class>" (FHIR's
// type names win lookups, so CDA's Observation is cda.Observation). cda.ClinicalDocument is
// the only resource-kind type; everything else is nested below it with `to:` paths whose
// element names are the CDA ones: attributes as "@classCode" and "@xsi:type", child elements
// by tag ("templateId", a list), an element's text as "#text", and "#xhtml" for a FHIR
// narrative div that the writer converts to CDA narrative. Attributes and text are FHIR
// strings. The writer puts attributes first and child elements in the CDA schema's order.

var cdaReverse = &reverseFormat{types: cdaTargetTypes, keys: cdaContentKeys, write: writeCDA}

// cdaTypePrefix starts the names of the synthetic CDA types.
const cdaTypePrefix = "cda."

var (
	cdaTypesOnce sync.Once
	cdaTypes     map[string]*fhir.Type
)

func initCDATypes() {
	str := fhir.LookupType("string")
	classes := cda.Classes()
	cdaTypes = make(map[string]*fhir.Type, len(classes))
	type pending struct {
		e     *fhir.Element
		class string
	}
	var links []pending
	for _, c := range classes {
		elems := make([]*fhir.Element, len(c.Members))
		for i, m := range c.Members {
			e := &fhir.Element{Name: m.Name, Order: m.Order, Max: 1, Type: "string", Elem: str}
			if m.Many {
				e.Max = -1
			}
			if m.Class != "" {
				e.Type = cdaTypePrefix + m.Class
				links = append(links, pending{e, m.Class})
			}
			elems[i] = e
		}
		kind := fhir.KindComplex
		if c.Name == "ClinicalDocument" {
			kind = fhir.KindResource
		}
		cdaTypes[c.Name] = fhir.NewType(cdaTypePrefix+c.Name, kind, elems)
	}
	// Classes refer to each other (an organizer's component holds organizers): the element
	// types are set once every type exists.
	for _, l := range links {
		l.e.Elem = cdaTypes[l.class]
	}
}

// cdaTargetTypes describes the CDA classes as target types: "cda.ClinicalDocument",
// "cda.Observation", "cda.CD", …
func cdaTargetTypes(name string) *fhir.Type {
	class, ok := strings.CutPrefix(name, cdaTypePrefix)
	if !ok {
		return nil
	}
	cdaTypesOnce.Do(initCDATypes)
	return cdaTypes[class]
}

// cdaContentKeys are the match keys of FHIR input by its content: a Composition's type
// codes (the LOINC document type, "34133-9"), then "CCD" for a Bundle with a Composition or
// a Patient.
func cdaContentKeys(res []*fhir.Resource) []string {
	var keys []string
	ccd := false
	for _, r := range res {
		switch r.Type.Name {
		case "Composition":
			ccd = true
			typ, ok := r.Get(r.Type.Element("type"))
			if !ok || typ.O == nil {
				continue
			}
			if cs := typ.O.Prop(typ.O.Type.Element("coding")); cs != nil {
				for _, c := range cs.Vals {
					if c.O == nil {
						continue
					}
					if code, ok := c.O.Get(c.O.Type.Element("code")); ok && code.S != "" && !containsString(keys, code.S) {
						keys = append(keys, code.S)
					}
				}
			}
		case "Patient":
			ccd = true
		}
	}
	if ccd {
		keys = append(keys, "CCD")
	}
	return keys
}

// writeCDA writes the ClinicalDocument a run created (the first; any other resource is left
// out with a warning) and reads it back with the CDA reader before returning it.
func writeCDA(rs []*fhir.Resource, params map[string]string) (*reverseOutput, error) {
	var warnings []transform.Diagnostic
	var doc *fhir.Resource
	for _, r := range rs {
		if r.Type == cdaTargetTypes(cdaTypePrefix+"ClinicalDocument") && doc == nil {
			doc = r
			continue
		}
		warnings = append(warnings, notOfFormat(FormatCDA, r.Type.Name))
	}
	if doc == nil {
		return nil, fmt.Errorf("fhirbridge: the C-CDA mapping made no ClinicalDocument")
	}
	root := cdaNode("ClinicalDocument", &doc.Object)
	b, err := cda.Encode(root)
	if err != nil {
		return nil, err
	}
	// Self-check: what we write must be a well-formed CDA document. (The round-trip tests
	// read every output with cda.Reader and convert it forward; here the tokenizer alone
	// checks it, for a third of the cost.)
	if err := cda.Check(b); err != nil {
		return nil, fmt.Errorf("fhirbridge: the C-CDA output does not parse: %w", err)
	}
	typ := params["messageType"]
	if typ == "" {
		typ = childAttr(root, "code", "code")
	}
	id := childAttr(root, "id", "root")
	if ext := childAttr(root, "id", "extension"); ext != "" {
		id += "^" + ext
	}
	return &reverseOutput{Bytes: b, MessageType: typ, ControlID: id, Warnings: warnings}, nil
}

// cdaNode turns an object of a synthetic CDA type into the element name: attributes, text
// and child elements in the order of the CDA model. Empty elements are left out, but for
// table cells.
func cdaNode(name string, o *fhir.Object) *cda.Node {
	n := &cda.Node{Name: name}
	cls := cda.LookupClass(strings.TrimPrefix(o.Type.Name, cdaTypePrefix))
	if cls == nil {
		return n
	}
	props := make([]*fhir.Prop, 0, len(o.Props))
	for i := range o.Props {
		props = append(props, &o.Props[i])
	}
	sort.SliceStable(props, func(i, j int) bool { return props[i].Elem.Order < props[j].Elem.Order })
	for _, p := range props {
		m := cls.Member(p.Elem.Name)
		if m == nil {
			continue
		}
		for _, v := range p.Vals {
			switch {
			case m.Kind == cda.Attribute:
				if v.S != "" && n.Attr(m.XML) == "" {
					n.Attrs = append(n.Attrs, cda.Attr{Name: m.XML, Value: v.S})
				}
			case m.Kind == cda.Text:
				if v.S != "" {
					n.Children = append(n.Children, cda.TextNode(v.S))
				}
			case m.Kind == cda.XHTML:
				ns := cda.NarrativeFromXHTML(v.S)
				if len(p.Vals) > 1 && !hasBlock(ns) && len(ns) > 0 {
					// several narratives one after the other: each its own paragraph
					ns = []*cda.Node{{Name: "paragraph", Children: ns}}
				}
				n.Children = append(n.Children, ns...)
			case m.Class == "":
				if v.S != "" {
					n.Children = append(n.Children, &cda.Node{Name: m.XML, Children: []*cda.Node{cda.TextNode(v.S)}})
				}
			case v.O != nil:
				// An element left empty (a path a rule walked through without filling it) is
				// left out, but a table cell: the columns must line up.
				if c := cdaNode(m.XML, v.O); len(c.Attrs)+len(c.Children) > 0 || m.Class == "StrucDocCell" {
					n.Children = append(n.Children, c)
				}
			}
		}
	}
	return n
}

// hasBlock reports whether narrative nodes hold a block (paragraph, list, table).
func hasBlock(ns []*cda.Node) bool {
	for _, x := range ns {
		if x.Name == "paragraph" || x.Name == "list" || x.Name == "table" {
			return true
		}
	}
	return false
}

// childAttr returns attribute attr of n's first child element named name, or "".
func childAttr(n *cda.Node, name, attr string) string {
	for _, c := range n.Children {
		if c.Name == name {
			return c.Attr(attr)
		}
	}
	return ""
}
