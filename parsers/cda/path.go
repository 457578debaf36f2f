package cda

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// Schema compiles CDA paths for the mapping engine (see the package documentation for the
// path language). It is the tree.Schema named "cda".
type Schema struct{}

// Name returns "cda".
func (Schema) Name() string { return "cda" }

// Compile compiles a path once; the result is immutable and safe for concurrent use.
func (Schema) Compile(p string) (tree.Path, error) { return compilePath(p) }

// modifier transforms the nodes a path's XPath selects.
type modifier uint8

const (
	modRef   modifier = iota + 1 // ref(P): "#id" → the element with that ID
	modText                      // text(P): the whole text content, whitespace collapsed
	modXHTML                     // xhtml(P): narrative converted to a FHIR xhtml div
)

var modNames = map[string]modifier{"ref": modRef, "text": modText, "xhtml": modXHTML}

// path is a compiled CDA path.
type path struct {
	src  string
	expr *xpath.Expr
	mods []modifier // innermost first
}

func (p *path) String() string { return p.src }

// tplCall is the template shorthand tpl('OID'): a templateId of that root or of the same
// root followed by ".1" (C-CDA's "entries optional" x and "entries required" x.1 pairs),
// with any @extension.
var tplCall = regexp.MustCompile(`tpl\(\s*['"]([0-9.]+)['"]\s*\)`)

func compilePath(src string) (*path, error) {
	p := &path{src: src}
	s := strings.TrimSpace(src)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cda: bad path %q: %s", src, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return nil, bad("empty")
	}
	// Wrappers, outermost first: xhtml(ref(text/reference/@value)).
	var outer []modifier
	for {
		i := strings.IndexByte(s, '(')
		if i <= 0 || !strings.HasSuffix(s, ")") {
			break
		}
		m, ok := modNames[s[:i]]
		if !ok || s[i+1:] == ")" { // text() is XPath's own node test
			break
		}
		outer = append(outer, m)
		s = strings.TrimSpace(s[i+1 : len(s)-1])
	}
	for i := len(outer) - 1; i >= 0; i-- {
		p.mods = append(p.mods, outer[i])
	}
	for i, m := range p.mods {
		if m == modXHTML && i != len(p.mods)-1 {
			return nil, bad("xhtml( ) must be the outermost function")
		}
	}
	x := tplCall.ReplaceAllString(s, "templateId[@root='$1' or @root='$1.1']")
	if strings.Contains(x, "tpl(") {
		return nil, bad("tpl takes one OID in single quotes: tpl('2.16.840.1.113883.10.20.22.2.6')")
	}
	e, err := xpath.Compile(x)
	if err != nil {
		return nil, bad("%v", err)
	}
	if err := tryPath(e); err != nil {
		return nil, bad("%v", err)
	}
	p.expr = e
	return p, nil
}

var probe = func() *xmlquery.Node {
	d, err := xmlquery.Parse(strings.NewReader(`<ClinicalDocument><templateId root="1"/><text ID="a"/></ClinicalDocument>`))
	if err != nil {
		panic(err)
	}
	return d
}()

// tryPath runs a compiled expression once on a tiny document: an expression that is not a
// node set (count(…), concat(…)) fails here, when the mapping is compiled, not at run time.
func tryPath(e *xpath.Expr) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a node set: %v", r)
		}
	}()
	if _, ok := e.Evaluate(xmlquery.CreateXPathNavigator(probe.FirstChild)).(*xpath.NodeIterator); !ok {
		return fmt.Errorf("expression must select nodes, not compute a value")
	}
	it := e.Select(xmlquery.CreateXPathNavigator(probe.FirstChild))
	for it.MoveNext() {
		if _, ok := it.Current().(*xmlquery.NodeNavigator); !ok {
			return fmt.Errorf("not a node set")
		}
	}
	return nil
}

// Select implements tree.Path.
func (p *path) Select(from tree.Node, dst []tree.Node) []tree.Node {
	n, ok := from.(*node)
	if !ok || n.x == nil {
		return dst
	}
	d := n.d
	it := p.expr.Select(xmlquery.CreateXPathNavigator(n.x))
	for it.MoveNext() {
		nav, ok := it.Current().(*xmlquery.NodeNavigator)
		if !ok {
			continue
		}
		x := nav.Current()
		c := node{d: d, x: x, attr: -1}
		switch nav.NodeType() {
		case xpath.AttributeNode:
			c.attr = attrIndex(x, nav.Prefix(), nav.LocalName())
			if c.attr < 0 {
				continue
			}
		case xpath.ElementNode, xpath.TextNode:
		default:
			continue
		}
		if !p.apply(&c) {
			continue
		}
		dst = append(dst, d.newNode(c))
	}
	return dst
}

// apply runs the path's modifiers on c; false drops the node.
func (p *path) apply(c *node) bool {
	for _, m := range p.mods {
		switch m {
		case modRef:
			t := c.d.byID(c.Text())
			if t == nil {
				return false
			}
			*c = node{d: c.d, x: t, attr: -1}
		case modText:
			s := collapse(c.fullText())
			if s == "" {
				return false
			}
			c.str, c.computed = s, true
		case modXHTML:
			if c.attr >= 0 || c.x.Type != xmlquery.ElementNode {
				return false
			}
			s := Narrative(c.x)
			if s == "" {
				return false
			}
			c.str, c.computed = s, true
		}
	}
	if !c.computed && c.attr < 0 && c.x.Type == xmlquery.ElementNode && nullOnly(c.x) {
		return false
	}
	return true
}

// nullOnly reports whether an element is only a null flavor: a nullFlavor attribute (and
// perhaps xsi:type) and no content. Such elements are not selected; read @nullFlavor from
// the parent to map the reason.
func nullOnly(x *xmlquery.Node) bool {
	null := false
	for _, a := range x.Attr {
		switch {
		case a.Name.Local == "nullFlavor":
			null = true
		case a.Name.Local == "type" && a.Name.Space != "":
		default:
			return false
		}
	}
	if !null {
		return false
	}
	for c := x.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode || (c.Type == xmlquery.TextNode || c.Type == xmlquery.CharDataNode) && strings.TrimSpace(c.Data) != "" {
			return false
		}
	}
	return true
}

func attrIndex(x *xmlquery.Node, prefix, local string) int {
	for i, a := range x.Attr {
		if a.Name.Local == local && a.Name.Space == prefix {
			return i
		}
	}
	for i, a := range x.Attr {
		if a.Name.Local == local {
			return i
		}
	}
	return -1
}

// node is a place in a Document: an element, an attribute (attr ≥ 0), a text node, or a
// computed value (text( ), xhtml( )).
type node struct {
	d        *Document
	x        *xmlquery.Node
	attr     int
	computed bool
	str      string
}

// Text returns an attribute's value (trimmed); an element's own text — its direct text
// children, whitespace collapsed, not the text of child elements; the converted value of
// text( ) and xhtml( ).
func (n *node) Text() string {
	switch {
	case n.computed:
		return n.str
	case n.attr >= 0:
		return strings.TrimSpace(n.x.Attr[n.attr].Value)
	case n.x.Type == xmlquery.TextNode || n.x.Type == xmlquery.CharDataNode:
		return collapse(n.x.Data)
	}
	var first, multi bool
	var s string
	var b strings.Builder
	for c := n.x.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.TextNode || c.Type == xmlquery.CharDataNode {
			if !first {
				s, first = c.Data, true
				continue
			}
			if !multi {
				b.WriteString(s)
				multi = true
			}
			b.WriteString(c.Data)
		}
	}
	if multi {
		s = b.String()
	}
	return collapse(s)
}

// fullText is the text of the node and all its descendants.
func (n *node) fullText() string {
	if n.attr >= 0 || n.computed {
		return n.Text()
	}
	return n.x.InnerText()
}

// collapse trims s and replaces each run of white space inside it by one space.
func collapse(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == '\t' || (c == ' ' && i+1 < len(s) && s[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Location names the node as an XPath with 1-based indexes, and its input line:
// "/ClinicalDocument/recordTarget[1]/patientRole[1]/id[2]/@root (line 40)".
func (n *node) Location() string {
	x := n.x
	suffix := ""
	if x.Type != xmlquery.ElementNode {
		suffix = "/text()"
		x = x.Parent
	}
	loc := location(x) + suffix
	if n.attr >= 0 {
		a := x.Attr[n.attr].Name
		if a.Space != "" {
			loc += "/@" + a.Space + ":" + a.Local
		} else {
			loc += "/@" + a.Local
		}
	}
	if n.x.LineNumber > 0 {
		loc += " (line " + strconv.Itoa(n.d.line+n.x.LineNumber-1) + ")"
	}
	return loc
}
