package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The FHIR → C-CDA ConceptMaps of the C-CDA on FHIR IG (ConceptMap-FC-*.xml) become code
// maps for mappings/fhir-to-ccda: one per ConceptMap, named ccda.FC-<Name>, from the FHIR
// code to the CDA code of its first target whose equivalence is not unmatched or disjoint
// (groups in file order; a source code listed twice keeps its first target). Two derived
// maps are written too:
//
//   - ccda.FC-AllergyIntoleranceCategoryType: "category type" (food allergy) → the SNOMED CT
//     code both the Category and the Type ConceptMaps list for them (the CDA allergy
//     observation has one value for both); "category" alone → the category's code that no type
//     lists (the "propensity" code); "type" alone → its code that the most categories list;
//     the Type map's unmapped code as the default.
//   - cda.CodeSystemOID: FHIR code system URI → OID, the reverse of ccda.CodeSystem
//     (mappings/codes/ccda-oids.yaml); where several OIDs share a URI, the first is kept.

// xval is a FHIR XML primitive: <code value="…"/>.
type xval struct {
	V string `xml:"value,attr"`
}

type conceptMap struct {
	ID     xval `xml:"id"`
	Title  xval `xml:"title"`
	Groups []struct {
		Source   xval `xml:"source"`
		Target   xval `xml:"target"`
		Elements []struct {
			Code    xval `xml:"code"`
			Targets []struct {
				Code        xval `xml:"code"`
				Display     xval `xml:"display"`
				Equivalence xval `xml:"equivalence"`
			} `xml:"target"`
		} `xml:"element"`
		Unmapped struct {
			Mode    xval `xml:"mode"`
			Code    xval `xml:"code"`
			Display xval `xml:"display"`
		} `xml:"unmapped"`
	} `xml:"group"`
}

// fcTarget is one FHIR code's CDA targets, in ConceptMap order.
type fcTarget struct {
	code, display, system string
}

type fcMap struct {
	name, title, source, system string
	codes                       []string
	targets                     map[string][]fcTarget
	unmatched                   []string
	fixed                       fcTarget // the unmapped fixed code, if any
}

func readConceptMap(path string) (*fcMap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cm conceptMap
	if err := xml.Unmarshal(data, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	m := &fcMap{name: "ccda." + cm.ID.V, title: cm.Title.V, targets: map[string][]fcTarget{}}
	for _, g := range cm.Groups {
		src, _, _ := strings.Cut(g.Source.V, "|")
		sys, _, _ := strings.Cut(g.Target.V, "|")
		if m.source == "" {
			m.source, m.system = src, sys
		}
		if g.Unmapped.Mode.V == "fixed" && m.fixed.code == "" {
			m.fixed = fcTarget{g.Unmapped.Code.V, g.Unmapped.Display.V, sys}
		}
		for _, e := range g.Elements {
			for _, t := range e.Targets {
				if t.Code.V == "" || t.Equivalence.V == "unmatched" || t.Equivalence.V == "disjoint" {
					continue
				}
				if _, seen := m.targets[e.Code.V]; !seen {
					m.codes = append(m.codes, e.Code.V)
				}
				m.targets[e.Code.V] = append(m.targets[e.Code.V], fcTarget{t.Code.V, t.Display.V, sys})
			}
			if len(m.targets[e.Code.V]) == 0 && !containsStr(m.unmatched, e.Code.V) {
				m.unmatched = append(m.unmatched, e.Code.V)
			}
		}
	}
	return m, nil
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// ConceptMaps converts the FC ConceptMaps of dir, and the OID code map of oidFile, into one
// YAML file of code maps, and returns it with the number of maps.
func ConceptMaps(dir, oidFile string) ([]byte, int, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "ConceptMap-FC-*.xml"))
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("no ConceptMap-FC-*.xml in %s", dir)
	}
	sort.Strings(files)
	var maps []*fcMap
	byID := map[string]*fcMap{}
	for _, f := range files {
		m, err := readConceptMap(f)
		if err != nil {
			return nil, 0, err
		}
		maps = append(maps, m)
		byID[m.name] = m
	}
	var docs []*yaml.Node
	for _, m := range maps {
		entries := map[string]fcTarget{}
		for _, c := range m.codes {
			entries[c] = m.targets[c][0]
		}
		desc := fmt.Sprintf("C-CDA on FHIR IG ConceptMap %s (%s): %s → %s, the first target of each code.",
			strings.TrimPrefix(m.name, "ccda."), m.title, m.source, m.system)
		if len(m.unmatched) > 0 {
			desc += " Unmatched (left out): " + strings.Join(m.unmatched, ", ") + "."
		}
		docs = append(docs, codeMapNode(m.name, desc, m.source, m.system, m.codes, entries, nil))
	}
	if cat, typ := byID["ccda.FC-AllergyIntoleranceCategory"], byID["ccda.FC-AllergyIntoleranceType"]; cat != nil && typ != nil {
		docs = append(docs, allergyCategoryType(cat, typ))
	}
	oids, err := reverseOIDs(oidFile)
	if err != nil {
		return nil, 0, err
	}
	docs = append(docs, oids)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `# GENERATED FILE: do not edit. Regenerate with
#
#   go run ./internal/igtool conceptmaps
#
# Code maps converted from the FHIR → C-CDA ConceptMaps (ConceptMap-FC-*.xml) of the HL7
# C-CDA on FHIR Implementation Guide, Copyright HL7 International, and the reverse of the
# OID map mappings/codes/ccda-oids.yaml. See internal/igtool/conceptmaps.go for the rules.
`)
	for _, d := range docs {
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, 0, err
		}
		enc.Close()
	}
	return buf.Bytes(), len(docs), nil
}

// allergyCategoryType derives the map from "category type" to the one CDA allergy value
// code that both ConceptMaps give.
func allergyCategoryType(cat, typ *fcMap) *yaml.Node {
	var keys []string
	entries := map[string]fcTarget{}
	typed := map[string]bool{}
	for _, t := range typ.codes {
		for _, x := range typ.targets[t] {
			typed[x.code] = true
		}
	}
	for _, c := range cat.codes {
		for _, t := range typ.codes {
			for _, x := range cat.targets[c] {
				if containsTarget(typ.targets[t], x.code) {
					keys = append(keys, c+" "+t)
					entries[c+" "+t] = x
					break
				}
			}
		}
		for _, x := range cat.targets[c] {
			if !typed[x.code] {
				keys = append(keys, c)
				entries[c] = x
				break
			}
		}
	}
	// A type alone: its code that the most categories list, when one does (allergy → allergy
	// to substance); a tie (intolerance: to food, to drug) gives no entry.
	for _, t := range typ.codes {
		best, n, tie := fcTarget{}, 0, false
		for _, x := range typ.targets[t] {
			k := 0
			for _, c := range cat.codes {
				if containsTarget(cat.targets[c], x.code) {
					k++
				}
			}
			switch {
			case k > n:
				best, n, tie = x, k, false
			case k == n:
				tie = true
			}
		}
		if n > 0 && !tie {
			keys = append(keys, t)
			entries[t] = best
		}
	}
	desc := "Derived from the ConceptMaps FC-AllergyIntoleranceCategory and FC-AllergyIntoleranceType: " +
		"\"category type\" → the code both list; \"category\" → its code no type lists; \"type\" → its code " +
		"the most categories list (none on a tie); else the unmapped code."
	var def *fcTarget
	if typ.fixed.code != "" {
		def = &typ.fixed
	}
	return codeMapNode("ccda.FC-AllergyIntoleranceCategoryType", desc, cat.source+" + "+typ.source, cat.system, keys, entries, def)
}

func containsTarget(ts []fcTarget, code string) bool {
	for _, t := range ts {
		if t.code == code {
			return true
		}
	}
	return false
}

// reverseOIDs turns the code map OID → URI of file around.
func reverseOIDs(file string) (*yaml.Node, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Codes string    `yaml:"codes"`
		Map   yaml.Node `yaml:"map"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var keys []string
	entries := map[string]fcTarget{}
	for i := 0; i+1 < len(doc.Map.Content); i += 2 {
		oid, uri := doc.Map.Content[i].Value, doc.Map.Content[i+1].Value
		if uri == "" || strings.HasPrefix(uri, "urn:oid:") {
			continue
		}
		if _, dup := entries[uri]; dup {
			continue
		}
		keys = append(keys, uri)
		entries[uri] = fcTarget{code: oid}
	}
	desc := fmt.Sprintf("FHIR code system URI → OID (CD/@codeSystem), the reverse of %s (mappings/codes/%s); "+
		"where several OIDs share a URI the first is kept.", doc.Codes, filepath.Base(file))
	return codeMapNode("cda.CodeSystemOID", desc, "FHIR code system URI", "", keys, entries, nil), nil
}

func codeMapNode(name, desc, source, system string, keys []string, entries map[string]fcTarget, def *fcTarget) *yaml.Node {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { doc.Content = append(doc.Content, scalar(k), v) }
	add("codes", scalar(name))
	add("description", scalar(desc))
	add("source", scalar(source))
	if system != "" {
		add("system", scalar(system))
	}
	entry := func(t fcTarget) *yaml.Node {
		if t.display == "" && (t.system == system || t.system == "") {
			return scalar(t.code)
		}
		v := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		v.Content = append(v.Content, scalar("code"), scalar(t.code))
		if t.display != "" {
			v.Content = append(v.Content, scalar("display"), scalar(t.display))
		}
		if t.system != system && t.system != "" {
			v.Content = append(v.Content, scalar("system"), scalar(t.system))
		}
		return v
	}
	mp := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		mp.Content = append(mp.Content, scalar(k), entry(entries[k]))
	}
	add("map", mp)
	if def != nil {
		add("default", entry(*def))
	}
	return doc
}
