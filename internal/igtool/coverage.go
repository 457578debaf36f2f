package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	beginMarker = "<!-- coverage:begin -->"
	endMarker   = "<!-- coverage:end -->"
)

// ourMap is one `map:` document of our mappings, with the HL7 v2 fields its rules read.
type ourMap struct {
	name, target, file string
	partOf             []string        // IG maps it is declared part of ("part of IG RXO[MedicationRequest]")
	fields             map[string]bool // "PID-3": read by a from path or a get/has/all call
	refs               []string        // maps it applies (followed when counting fields)
}

var (
	segMapName = regexp.MustCompile(`^([A-Z][A-Z0-9]{2})\[(.+)\]$`)
	fieldPath  = regexp.MustCompile(`^([A-Z][A-Z0-9]{2})(?:\[\d+\])?-(\d+)`)
	exprPath   = regexp.MustCompile(`\b(?:get|has|all)\(\s*'([^']+)'\s*\)`)
	partOfIG   = regexp.MustCompile(`part of IG ([A-Z][A-Z0-9]{2}\[[^\]]+\])`)
)

// normField reduces a source path to the field it reads: "/PATIENT/PID[2]-3[1].4.1" → "PID-3".
// Component paths ("CX.1", ".2") and segment or group paths give "".
func normField(p string) string {
	p = strings.TrimSpace(p)
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	m := fieldPath.FindStringSubmatch(p)
	if m == nil {
		return ""
	}
	return m[1] + "-" + m[2]
}

// loadOurMaps reads every YAML file below dir and returns its map documents by name, with
// extend documents folded into the maps they extend.
func loadOurMaps(dir string) (map[string]*ourMap, error) {
	maps := map[string]*ourMap{}
	type ext struct {
		name  string
		rules *yaml.Node
	}
	var exts []ext
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", path, err)
			}
			if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
				continue
			}
			top := doc.Content[0]
			switch {
			case value(top, "map") != nil:
				m := &ourMap{name: value(top, "map").Value, file: path, fields: map[string]bool{}}
				if t := value(top, "target"); t != nil {
					m.target = t.Value
				}
				if v := value(top, "value"); v != nil {
					m.addExpr(v.Value)
				}
				if d := value(top, "description"); d != nil {
					for _, x := range partOfIG.FindAllStringSubmatch(strings.Join(strings.Fields(d.Value), " "), -1) {
						m.partOf = append(m.partOf, x[1])
					}
				}
				m.addRules(value(top, "rules"))
				maps[m.name] = m
			case value(top, "extend") != nil:
				exts = append(exts, ext{value(top, "extend").Value, value(top, "rules")})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, e := range exts {
		if m := maps[e.name]; m != nil {
			m.addRules(e.rules)
		}
	}
	return maps, nil
}

// value returns the value node of key in mapping node m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (m *ourMap) addExpr(src string) {
	for _, x := range exprPath.FindAllStringSubmatch(src, -1) {
		if f := normField(x[1]); f != "" {
			m.fields[f] = true
		}
	}
}

func (m *ourMap) addRules(rules *yaml.Node) {
	if rules == nil || rules.Kind != yaml.SequenceNode {
		return
	}
	for _, r := range rules.Content {
		if f := value(r, "from"); f != nil {
			if fld := normField(f.Value); fld != "" {
				m.fields[fld] = true
			}
		}
		for _, k := range []string{"value", "when"} {
			if v := value(r, k); v != nil {
				m.addExpr(v.Value)
			}
		}
		if mp := value(r, "map"); mp != nil {
			m.refs = append(m.refs, mp.Value)
		}
		m.addRules(value(r, "rules"))
	}
}

// allFields returns the fields m reads, itself or through the maps it applies.
func allFields(maps map[string]*ourMap, name string, seen map[string]bool, out map[string]bool) {
	m := maps[name]
	if m == nil || seen[name] {
		return
	}
	seen[name] = true
	for f := range m.fields {
		out[f] = true
	}
	for _, r := range m.refs {
		allFields(maps, r, seen, out)
	}
}

// igSegmentMap is one IG segment map sheet: the fields it gives a FHIR attribute.
type igSegmentMap struct {
	name, target, file string
	fields             []string
}

func loadIGSegmentMaps(igDir string) (map[string]*igSegmentMap, error) {
	files, _ := filepath.Glob(filepath.Join(igDir, "segments", "*.csv"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no segment map CSVs in %s", filepath.Join(igDir, "segments"))
	}
	out := map[string]*igSegmentMap{}
	for _, f := range files {
		t, err := readTable(f)
		if err != nil {
			return nil, err
		}
		id, attr := t.cols("Identifier"), t.cols("FHIR Attribute")
		if len(attr) == 0 {
			return nil, fmt.Errorf("%s: no FHIR Attribute column", filepath.Base(f))
		}
		idCol := 1 // one sheet leaves the first header cells blank; Identifier is column 2
		if len(id) > 0 {
			idCol = id[0]
		}
		m := &igSegmentMap{name: sheetName(f), file: filepath.Base(f)}
		if sm := segMapName.FindStringSubmatch(m.name); sm != nil {
			m.target = sm[2]
		}
		seen := map[string]bool{}
		for _, row := range t.rows {
			if cell(row, attr[0]) == "" {
				continue
			}
			if fld := normField(cell(row, idCol)); fld != "" && !seen[fld] {
				seen[fld] = true
				m.fields = append(m.fields, fld)
			}
		}
		sort.Slice(m.fields, func(i, j int) bool { return fieldLess(m.fields[i], m.fields[j]) })
		out[m.name] = m
	}
	return out, nil
}

// fieldLess orders "PID-2" before "PID-10".
func fieldLess(a, b string) bool {
	sa, na, _ := strings.Cut(a, "-")
	sb, nb, _ := strings.Cut(b, "-")
	if sa != sb {
		return sa < sb
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return na < nb
}

// CoverageTable compares our segment maps with the IG's and renders a Markdown table: per
// segment map (ours, named SEG[Target] as the IG names it, and the IG's that we lack), its
// FHIR target, the IG sheet it is measured against, and how many of the fields that sheet
// maps our map reads. A field counts when a from path, or a get/has/all call of a value or
// when expression, reads it, in the map itself, in the maps it applies, or in a map whose
// description says it is "part of IG SEG[Target]" (RXO[Medication] holds the Medication part
// of the IG's RXO[MedicationRequest]); those maps are named in the first column.
func CoverageTable(igDir, mappingsDir string) (string, error) {
	ours, err := loadOurMaps(mappingsDir)
	if err != nil {
		return "", err
	}
	ig, err := loadIGSegmentMaps(igDir)
	if err != nil {
		return "", err
	}
	igSegs := map[string]bool{}
	for name := range ig {
		if sm := segMapName.FindStringSubmatch(name); sm != nil {
			igSegs[sm[1]] = true
		}
	}
	// Our segment maps: SEG[Target] names whose SEG the IG maps, or whose rules read SEG-n.
	var names []string
	for name, m := range ours {
		sm := segMapName.FindStringSubmatch(name)
		if sm == nil {
			continue
		}
		isSeg := igSegs[sm[1]]
		for f := range m.fields {
			if strings.HasPrefix(f, sm[1]+"-") {
				isSeg = true
			}
		}
		if isSeg {
			names = append(names, name)
		}
	}
	for name := range ig {
		if ours[name] == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| segment map | FHIR target | IG map (CSV) | IG fields implemented | % | IG fields not read |\n")
	b.WriteString("|---|---|---|---:|---:|---|\n")
	totalDone, totalAll, oursN, igOnly := 0, 0, 0, 0
	for _, name := range names {
		m, g := ours[name], ig[name]
		target := ""
		if m != nil {
			target = m.target
			oursN++
		} else {
			target = g.target
		}
		if m == nil && g == nil {
			continue
		}
		label := "`" + name + "`"
		var parts []string
		for _, pn := range sortedKeys(ours) {
			for _, po := range ours[pn].partOf {
				if po == name && pn != name {
					parts = append(parts, pn)
				}
			}
		}
		for _, pn := range parts {
			label += " + `" + pn + "`"
		}
		if m == nil && len(parts) == 0 {
			label += " (not implemented)"
			igOnly++
		}
		if g == nil {
			fmt.Fprintf(&b, "| %s | %s | — (no IG map) | — | — | |\n", label, target)
			continue
		}
		have := map[string]bool{}
		if m != nil {
			allFields(ours, name, map[string]bool{}, have)
		}
		for _, pn := range parts {
			allFields(ours, pn, map[string]bool{}, have)
		}
		done := 0
		var missing []string
		for _, f := range g.fields {
			if have[f] {
				done++
			} else {
				missing = append(missing, f)
			}
		}
		totalDone += done
		totalAll += len(g.fields)
		pct := "—"
		if len(g.fields) > 0 {
			pct = fmt.Sprintf("%d%%", done*100/len(g.fields))
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %d / %d | %s | %s |\n", label, target, g.file, done, len(g.fields), pct, strings.Join(missing, ", "))
	}
	pct := 0
	if totalAll > 0 {
		pct = totalDone * 100 / totalAll
	}
	fmt.Fprintf(&b, "| **total** | %d maps of ours, %d IG maps not implemented | | %d / %d | %d%% | |\n", oursN, igOnly, totalDone, totalAll, pct)
	return b.String(), nil
}

// WriteBetweenMarkers replaces the text between the coverage markers of file with table. It
// reports whether the file changed and whether it has the markers at all.
func WriteBetweenMarkers(file, table string) (changed, found bool, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return false, false, err
	}
	out, found := replaceBetween(string(b), table)
	if !found || out == string(b) {
		return false, found, nil
	}
	return true, true, os.WriteFile(file, []byte(out), 0o644)
}

// replaceBetween returns doc with the text between the markers replaced by table.
func replaceBetween(doc, table string) (string, bool) {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(beginMarker)] + "\n" + table + doc[j:], true
}

// betweenMarkers returns the text between the markers of doc.
func betweenMarkers(doc string) (string, bool) {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		return "", false
	}
	return strings.TrimPrefix(doc[i+len(beginMarker):j], "\n"), true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
