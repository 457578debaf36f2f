package cda

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// The CDA R2 model the writer knows, as data (model.txt): the classes of the CDA R2 schema
// (POCD_MT000040) and its datatypes that C-CDA documents use, each with its members in schema
// order. The reverse direction (FHIR → C-CDA) describes these classes to the mapping engine;
// [Encode] writes elements in this order.

//go:embed model.txt
var modelText string

// A Class is a CDA class or datatype: ClinicalDocument, Observation, CD, StrucDocTable.
type Class struct {
	Name    string
	Members []*Member // in schema order: attributes first, then text, then child elements
}

// A Member is one attribute, child element or text of a [Class].
type Member struct {
	Name  string // "@classCode", "code", "sdtc:raceCode", "#text", "#xhtml"
	XML   string // the XML name: "classCode", "code", "sdtc:raceCode"; "" for text
	Kind  MemberKind
	Class string // the class of a child element; "" for text-only elements and attributes
	Many  bool   // the element repeats
	Order int    // position in the class, from 1
}

// MemberKind says what a [Member] is.
type MemberKind uint8

// The kinds of members.
const (
	Attribute MemberKind = iota // an XML attribute
	Child                       // a child element of a class, or (Class == "") holding text only
	Text                        // the element's own text (#text)
	XHTML                       // FHIR XHTML converted to CDA narrative on writing (#xhtml)
)

var (
	modelOnce    sync.Once
	modelClasses map[string]*Class
	modelOrder   []*Class
	modelErr     error
)

// Classes returns the classes of the model, in the order model.txt lists them. The classes
// are shared: do not modify them.
func Classes() []*Class {
	modelOnce.Do(loadModel)
	if modelErr != nil {
		panic(modelErr) // model.txt is embedded and tested
	}
	return modelOrder
}

// LookupClass returns the named class of the model ("Observation", "CD"), or nil.
func LookupClass(name string) *Class {
	Classes()
	return modelClasses[name]
}

// Member returns the member with the given name ("@code", "translation"), or nil.
func (c *Class) Member(name string) *Member {
	for _, m := range c.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func loadModel() {
	modelOrder, modelErr = parseModel(modelText)
	modelClasses = make(map[string]*Class, len(modelOrder))
	for _, c := range modelOrder {
		modelClasses[c.Name] = c
	}
	if modelErr == nil {
		modelErr = checkModel(modelClasses)
	}
}

// parseModel reads the model notation (see model.txt).
func parseModel(text string) ([]*Class, error) {
	var out []*Class
	var cur *Class
	for n, line := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(line); t == "" || t == "#" || strings.HasPrefix(t, "# ") {
			continue // blank, or a comment
		}
		fields := strings.Fields(line)
		if line[0] != ' ' && line[0] != '\t' {
			name, ok := strings.CutSuffix(fields[0], ":")
			if !ok {
				return nil, fmt.Errorf("cda: model.txt:%d: %q: a class line starts with Name:", n+1, fields[0])
			}
			cur = &Class{Name: name}
			out = append(out, cur)
			fields = fields[1:]
		} else if cur == nil {
			return nil, fmt.Errorf("cda: model.txt:%d: continuation line before any class", n+1)
		}
		for _, f := range fields {
			m, err := parseMember(f)
			if err != nil {
				return nil, fmt.Errorf("cda: model.txt:%d: %w", n+1, err)
			}
			m.Order = len(cur.Members) + 1
			cur.Members = append(cur.Members, m)
		}
	}
	return out, nil
}

func parseMember(f string) (*Member, error) {
	switch {
	case f == "#text":
		return &Member{Name: f, Kind: Text}, nil
	case f == "#xhtml", f == "#xhtml*":
		return &Member{Name: "#xhtml", Kind: XHTML, Many: f == "#xhtml*"}, nil
	case strings.HasPrefix(f, "@"):
		return &Member{Name: f, XML: f[1:], Kind: Attribute}, nil
	}
	i := strings.LastIndexByte(f, ':')
	if i <= 0 {
		return nil, fmt.Errorf("member %q: write name:Class, name:# or @name", f)
	}
	m := &Member{Name: f[:i], XML: f[:i], Kind: Child}
	cls := f[i+1:]
	m.Many = strings.HasSuffix(cls, "*")
	cls = strings.TrimSuffix(cls, "*")
	if cls != "#" {
		m.Class = cls
	}
	return m, nil
}

// checkModel reports a member whose class is not defined, or a name defined twice.
func checkModel(byName map[string]*Class) error {
	for _, c := range byName {
		seen := map[string]bool{}
		for _, m := range c.Members {
			if seen[m.Name] {
				return fmt.Errorf("cda: model.txt: %s.%s is defined twice", c.Name, m.Name)
			}
			seen[m.Name] = true
			if m.Class != "" && byName[m.Class] == nil {
				return fmt.Errorf("cda: model.txt: %s.%s: no class %q", c.Name, m.Name, m.Class)
			}
		}
	}
	return nil
}
