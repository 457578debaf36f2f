package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A vocabulary sheet ("HL7 Concept Map_ <Name> - Sheet1.csv") has these columns (the header
// text varies; see the research note §2.2):
//
//	Code, Text, Code System            the HL7 v2 code, its text, its table (HL70001)
//	Computable ANTLR/FHIRPath, Narrative   a condition (rare; only "IF NOT MAPPED ERROR" occurs)
//	Code, [unnamed], Display, Code System  the FHIR code, its display (some sheets put the
//	                                   display in the unnamed column), its system URI
//	Comments
//
// Rows without a v2 code list FHIR codes that no v2 code maps to; rows without a FHIR code
// are v2 codes the IG leaves unmapped. Both are left out of the code map (the unmapped codes
// are named in its description). A v2 code written "L,M,N" stands for three codes; pattern
// rows such as "Q<integer>H" (table 0335) are not codes and are skipped.

type vocabEntry struct {
	code, display, system string
}

type vocabMap struct {
	name       string
	source     string // the v2 table, e.g. HL70001
	system     string // the most frequent target system
	codes      []string
	entries    map[string]vocabEntry
	unmapped   []string
	duplicates []string
	patterns   int
}

var patternCode = regexp.MustCompile(`<[^>]+>|^".*"$`)

func parseVocabulary(path string) (*vocabMap, error) {
	t, err := readTable(path)
	if err != nil {
		return nil, err
	}
	codeCols, sysCols := t.cols("Code"), t.cols("Code System")
	if len(codeCols) < 2 || len(sysCols) < 2 {
		return nil, fmt.Errorf("%s: expected two Code and two Code System columns, header is %q", filepath.Base(path), t.header)
	}
	v2Code, fhirCode := codeCols[0], codeCols[1]
	v2Sys, fhirSys := sysCols[0], sysCols[1]
	display := -1
	for _, i := range t.cols("Display") {
		if i > fhirCode {
			display = i
			break
		}
	}
	unnamed := -1
	if fhirCode+1 < len(t.header) && t.header[fhirCode+1] == "" && fhirCode+1 != display {
		unnamed = fhirCode + 1
	}
	m := &vocabMap{name: sheetName(path), entries: map[string]vocabEntry{}}
	sources, systems := map[string]int{}, map[string]int{}
	for _, row := range t.rows {
		raw := cell(row, v2Code)
		if raw == "" {
			continue
		}
		if patternCode.MatchString(raw) {
			m.patterns++
			continue
		}
		target := cell(row, fhirCode)
		if target == "" {
			m.unmapped = append(m.unmapped, raw)
			continue
		}
		e := vocabEntry{code: target, display: cell(row, display), system: cell(row, fhirSys)}
		if e.display == "" {
			e.display = cell(row, unnamed)
		}
		if s := cell(row, v2Sys); s != "" {
			sources[s]++
		}
		for _, c := range strings.Split(raw, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if _, dup := m.entries[c]; dup {
				m.duplicates = append(m.duplicates, c) // the first row wins
				continue
			}
			m.entries[c] = e
			m.codes = append(m.codes, c)
			systems[e.system]++
		}
	}
	m.source = mostFrequent(sources)
	m.system = mostFrequent(systems)
	return m, nil
}

func mostFrequent(counts map[string]int) string {
	best, n := "", 0
	for k, c := range counts {
		if c > n || c == n && k < best {
			best, n = k, c
		}
	}
	return best
}

// Vocabulary converts every vocabulary sheet under igDir/vocabulary into one YAML file of
// code maps, one document per IG ConceptMap, and returns it with the number of maps.
func Vocabulary(igDir string) ([]byte, int, error) {
	commit, err := igCommit(igDir)
	if err != nil {
		return nil, 0, err
	}
	files, _ := filepath.Glob(filepath.Join(igDir, "vocabulary", "*.csv"))
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("no vocabulary CSVs in %s", filepath.Join(igDir, "vocabulary"))
	}
	sort.Strings(files)
	var maps []*vocabMap
	var empty []string
	for _, f := range files {
		m, err := parseVocabulary(f)
		if err != nil {
			return nil, 0, err
		}
		if len(m.codes) == 0 {
			empty = append(empty, m.name)
			continue
		}
		maps = append(maps, m)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `# GENERATED FILE: do not edit. Regenerate with
#
#   go run ./internal/igtool vocab
#
# Code maps converted from the vocabulary tables (ConceptMaps) of the HL7 v2-to-FHIR
# Implementation Guide, https://github.com/HL7/v2-to-fhir, commit %s
# (mappings/codesystems/*.csv), Copyright HL7 International, Apache License 2.0.
#
# One document per IG ConceptMap, named as the IG names it. Rows whose FHIR code is empty are
# left out (a code not in a map is left out of the output with a warning, see docs/mappings.md);
# rows that are patterns rather than codes ("Q<integer>H") are skipped; "L,M,N" is three codes.
# Hand-written maps with fhirbridge's own additions live in the other files of this folder.
`, commit)
	if len(empty) > 0 {
		fmt.Fprintf(&buf, "#\n# IG ConceptMaps without any mapped code (not written):\n#   %s.\n", wrapList(empty, "#   "))
	}
	for _, m := range maps {
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(m.node()); err != nil {
			return nil, 0, err
		}
		enc.Close()
	}
	return buf.Bytes(), len(maps), nil
}

func wrapList(items []string, prefix string) string {
	var b strings.Builder
	line := 0
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
			line += 2
		}
		if line > 0 && line+len(it) > 86 {
			b.WriteString("\n" + prefix)
			line = 0
		}
		b.WriteString(it)
		line += len(it)
	}
	return b.String()
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func (m *vocabMap) description() string {
	var b strings.Builder
	fmt.Fprintf(&b, "IG ConceptMap %s", m.name)
	if m.source != "" {
		fmt.Fprintf(&b, " (%s", m.source)
		if m.system != "" {
			fmt.Fprintf(&b, " → %s", m.system)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ": %d codes.", len(m.codes))
	if n := len(m.unmapped); n > 0 {
		shown := m.unmapped
		more := ""
		if n > 12 {
			shown, more = shown[:12], fmt.Sprintf(" and %d more", n-12)
		}
		fmt.Fprintf(&b, " Without a FHIR code in the IG (left out): %s%s.", strings.Join(shown, ", "), more)
	}
	if len(m.duplicates) > 0 {
		fmt.Fprintf(&b, " Listed twice (the first row is kept): %s.", strings.Join(m.duplicates, ", "))
	}
	if m.patterns > 0 {
		fmt.Fprintf(&b, " %d pattern rows skipped.", m.patterns)
	}
	return b.String()
}

func (m *vocabMap) node() *yaml.Node {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { doc.Content = append(doc.Content, scalar(k), v) }
	add("codes", scalar(m.name))
	desc := scalar(m.description())
	add("description", desc)
	if m.source != "" {
		add("source", scalar(m.source))
	}
	if m.system != "" {
		add("system", scalar(m.system))
	}
	mp := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range m.codes {
		e := m.entries[c]
		var v *yaml.Node
		if e.display == "" && (e.system == m.system || e.system == "") {
			v = scalar(e.code)
		} else {
			v = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			v.Content = append(v.Content, scalar("code"), scalar(e.code))
			if e.display != "" {
				v.Content = append(v.Content, scalar("display"), scalar(e.display))
			}
			if e.system != m.system && e.system != "" {
				v.Content = append(v.Content, scalar("system"), scalar(e.system))
			}
		}
		mp.Content = append(mp.Content, scalar(c), v)
	}
	add("map", mp)
	return doc
}
