package transform

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fhirbridge/fhirbridge/internal/suggest"
)

// File is one mapping file: its name (for diagnostics and for layering) and its YAML bytes.
type File struct {
	Name string
	Data []byte
}

// A document is one YAML document of a mapping file, of one of four kinds.
type document struct {
	kind string // "message", "map", "codes", "extend", "structures"
	name string
	at   pos

	// message
	format, structure, bundle, timezone string
	zone                                string // IANA zone of the source's local times
	zonePos                             pos
	match                               []string
	// map; a map with a primitive target has a value expression instead of rules
	source, target, value string
	valuePos              pos
	// message, map, extend
	rules []*ruleSrc
	// codes
	codes *codeMapSrc
	// structures: name → a format's structure notation
	structures map[string]string
	// free text shown by `mappings explain`
	description string
}

// ruleSrc is one rule as written, with the position of each key.
type ruleSrc struct {
	at                                  pos
	from, when, to, resource, on, value string
	mapName, codes, ref, as, constant   string
	hasConst                            bool
	constKind                           string // "string", "bool", "number"
	rules                               []*ruleSrc
	keyPos                              map[string]pos
	fromPos, whenPos, valuePos, toPos   pos
	description                         string
	rulesSet                            bool
	fromAll                             bool
}

type codeMapSrc struct {
	system, display, source string
	dflt                    *codeTarget
	entries                 map[string]codeTarget
	at                      pos
}

// loadFiles parses every file into documents, recording diagnostics for what it cannot read.
func loadFiles(files []File) ([]*document, []Diagnostic) {
	var docs []*document
	var diags []Diagnostic
	for _, f := range files {
		d, ds := loadFile(f)
		docs = append(docs, d...)
		diags = append(diags, ds...)
	}
	return docs, diags
}

// FilesFromFS reads every *.yaml and *.yml file below root in fsys, in lexical order, skipping
// files whose name ends in _test.yaml (mapping tests). Names are "root/rel/path.yaml" with
// forward slashes.
func FilesFromFS(fsys fs.FS, root string) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		ext := path.Ext(p)
		if ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if strings.HasSuffix(strings.TrimSuffix(p, ext), "_test") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, File{Name: p, Data: b})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, err
}

func loadFile(f File) ([]*document, []Diagnostic) {
	var docs []*document
	var diags []Diagnostic
	dec := yaml.NewDecoder(strings.NewReader(string(f.Data)))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			diags = append(diags, yamlDiag(f.Name, err))
			break
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			d, ds := parseDocument(f.Name, n.Content[0])
			diags = append(diags, ds...)
			if d != nil {
				docs = append(docs, d)
			}
		}
	}
	return docs, diags
}

func yamlDiag(file string, err error) Diagnostic {
	msg := err.Error()
	line := 0
	// yaml.v3 errors read "yaml: line 12: did not find expected key".
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			fmt.Sscanf(rest[:i], "%d", &line)
			msg = strings.TrimSpace(rest[i+1:])
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Diagnostic{File: file, Line: line, Kind: KindYAML, Message: msg}
}

func at(file string, n *yaml.Node) pos { return pos{file: file, line: n.Line, col: n.Column} }

// fields returns a mapping node's keys and values, reporting keys that are not allowed.
func fields(file string, n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, map[string]pos, []Diagnostic) {
	var diags []Diagnostic
	if n.Kind != yaml.MappingNode {
		return nil, nil, []Diagnostic{at(file, n).diag(KindSchema, "%s must be a mapping of keys to values", what)}
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	ps := make(map[string]pos, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ok := false
		for _, a := range allowed {
			if a == k.Value {
				ok = true
				break
			}
		}
		if !ok {
			diags = append(diags, at(file, k).diag(KindSchema, "unknown key %q in %s%s", k.Value, what, suggest.Hint(k.Value, allowed)))
			continue
		}
		if _, dup := m[k.Value]; dup {
			diags = append(diags, at(file, k).diag(KindSchema, "key %q given twice", k.Value))
		}
		m[k.Value] = v
		ps[k.Value] = at(file, v)
	}
	return m, ps, diags
}

// scalar returns a scalar's value, or a diagnostic when the node is not a scalar.
func scalar(file string, n *yaml.Node, key string) (string, *Diagnostic) {
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		d := at(file, n).diag(KindSchema, "%s must be a single value", key)
		return "", &d
	}
	return n.Value, nil
}

func stringList(file string, n *yaml.Node, key string) ([]string, []Diagnostic) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, []Diagnostic{at(file, n).diag(KindSchema, "%s must be a list of values", key)}
	}
	var out []string
	var diags []Diagnostic
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			diags = append(diags, at(file, c).diag(KindSchema, "%s must hold single values", key))
			continue
		}
		out = append(out, c.Value)
	}
	return out, diags
}

var docKinds = []string{"message", "map", "codes", "extend", "structures"}

func parseDocument(file string, n *yaml.Node) (*document, []Diagnostic) {
	if n.Kind != yaml.MappingNode || len(n.Content) < 2 {
		return nil, []Diagnostic{at(file, n).diag(KindSchema, "a mapping document starts with one of the keys message, map, codes, extend or structures")}
	}
	kind := n.Content[0].Value
	switch kind {
	case "message":
		return parseMessage(file, n)
	case "map":
		return parseMap(file, n)
	case "codes":
		return parseCodes(file, n)
	case "extend":
		return parseExtend(file, n)
	case "structures":
		return parseStructures(file, n)
	}
	return nil, []Diagnostic{at(file, n.Content[0]).diag(KindSchema, "a mapping document starts with one of the keys message, map, codes, extend or structures, not %q%s", kind, suggest.Hint(kind, docKinds))}
}

func parseMessage(file string, n *yaml.Node) (*document, []Diagnostic) {
	m, ps, diags := fields(file, n, "message", "message", "description", "format", "match", "structure", "bundle", "timezone", "zone", "rules")
	d := &document{kind: "message", at: at(file, n), zonePos: ps["zone"]}
	for key, dst := range map[string]*string{"message": &d.name, "description": &d.description, "format": &d.format, "structure": &d.structure, "bundle": &d.bundle, "timezone": &d.timezone, "zone": &d.zone} {
		v, e := scalar(file, m[key], key)
		if e != nil {
			diags = append(diags, *e)
		}
		*dst = v
	}
	match, ds := stringList(file, m["match"], "match")
	diags = append(diags, ds...)
	d.match = match
	if d.name == "" {
		diags = append(diags, d.at.diag(KindSchema, "message needs a name"))
	}
	if d.format == "" {
		diags = append(diags, d.at.diag(KindSchema, "message %q needs a format (hl7v2, cda, edifact, fhir)", d.name))
	}
	if len(d.match) == 0 {
		diags = append(diags, d.at.diag(KindSchema, "message %q needs a match list (the message types it converts)", d.name))
	}
	rules, ds := parseRules(file, m["rules"])
	d.rules = rules
	return d, append(diags, ds...)
}

func parseMap(file string, n *yaml.Node) (*document, []Diagnostic) {
	m, _, diags := fields(file, n, "map", "map", "description", "format", "source", "target", "rules", "value")
	d := &document{kind: "map", at: at(file, n)}
	if v := m["value"]; v != nil {
		d.valuePos = scalarPos(file, v)
	}
	for key, dst := range map[string]*string{"map": &d.name, "description": &d.description, "format": &d.format, "source": &d.source, "target": &d.target, "value": &d.value} {
		v, e := scalar(file, m[key], key)
		if e != nil {
			diags = append(diags, *e)
		}
		*dst = v
	}
	if d.name == "" {
		diags = append(diags, d.at.diag(KindSchema, "map needs a name, such as CX[Identifier]"))
	}
	if d.target == "" {
		diags = append(diags, d.at.diag(KindSchema, "map %q needs a target FHIR type", d.name))
	}
	rules, ds := parseRules(file, m["rules"])
	d.rules = rules
	return d, append(diags, ds...)
}

func parseExtend(file string, n *yaml.Node) (*document, []Diagnostic) {
	m, _, diags := fields(file, n, "extend", "extend", "description", "rules")
	d := &document{kind: "extend", at: at(file, n)}
	v, e := scalar(file, m["extend"], "extend")
	if e != nil {
		diags = append(diags, *e)
	}
	d.name = v
	d.description, _ = scalar(file, m["description"], "description")
	rules, ds := parseRules(file, m["rules"])
	d.rules = rules
	return d, append(diags, ds...)
}

var ruleKeys = []string{"from", "when", "to", "resource", "on", "value", "const", "map", "codes", "ref", "as", "rules", "note"}

func parseRules(file string, n *yaml.Node) ([]*ruleSrc, []Diagnostic) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, []Diagnostic{at(file, n).diag(KindSchema, "rules must be a list")}
	}
	var out []*ruleSrc
	var diags []Diagnostic
	for _, c := range n.Content {
		r, ds := parseRule(file, c)
		diags = append(diags, ds...)
		if r != nil {
			out = append(out, r)
		}
	}
	return out, diags
}

func parseRule(file string, n *yaml.Node) (*ruleSrc, []Diagnostic) {
	m, ps, diags := fields(file, n, "a rule", ruleKeys...)
	if m == nil {
		return nil, diags
	}
	r := &ruleSrc{at: at(file, n), keyPos: ps}
	for key, dst := range map[string]*string{"from": &r.from, "when": &r.when, "to": &r.to, "resource": &r.resource, "on": &r.on, "value": &r.value, "map": &r.mapName, "codes": &r.codes, "ref": &r.ref, "as": &r.as, "note": &r.description} {
		v, e := scalar(file, m[key], key)
		if e != nil {
			diags = append(diags, *e)
		}
		*dst = v
	}
	if c, ok := m["const"]; ok {
		if c.Kind != yaml.ScalarNode {
			diags = append(diags, at(file, c).diag(KindSchema, "const must be a single value"))
		} else {
			r.hasConst, r.constant = true, c.Value
			switch c.Tag {
			case "!!bool":
				r.constKind = "bool"
			case "!!int", "!!float":
				r.constKind = "number"
			default:
				r.constKind = "string"
			}
		}
	}
	if v := m["value"]; v != nil {
		r.valuePos = scalarPos(file, v)
	}
	if v := m["when"]; v != nil {
		r.whenPos = scalarPos(file, v)
	}
	r.fromPos, r.toPos = ps["from"], ps["to"]
	if rs, ok := m["rules"]; ok {
		r.rulesSet = true
		sub, ds := parseRules(file, rs)
		diags = append(diags, ds...)
		r.rules = sub
	}
	return r, diags
}

// scalarPos is the position of a scalar's first character of content: for quoted and block
// scalars the text starts one character (or one line) later than the node.
func scalarPos(file string, n *yaml.Node) pos {
	p := at(file, n)
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		p.col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		p.line++
		p.col = 0 // unknown indentation; the line is still right
	}
	return p
}

// parseStructures reads format data that the engine passes through to a format: the message
// structures of HL7 v2 or the segment groups of EDIFACT messages, as name → notation.
//
//	structures: hl7v2
//	ADT_A01: MSH [{SFT}] EVN PID …
func parseStructures(file string, n *yaml.Node) (*document, []Diagnostic) {
	d := &document{kind: "structures", at: at(file, n), structures: map[string]string{}}
	var diags []Diagnostic
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			diags = append(diags, at(file, v).diag(KindSchema, "structure %q must be a single value (its notation)", k.Value))
			continue
		}
		if i == 0 {
			d.name = v.Value
			continue
		}
		if _, dup := d.structures[k.Value]; dup {
			diags = append(diags, at(file, k).diag(KindDuplicate, "structure %q given twice", k.Value))
		}
		d.structures[k.Value] = v.Value
	}
	return d, diags
}
