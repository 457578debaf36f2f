package cda

import (
	"encoding/xml"
	"io"
	"net/url"
	"strings"
)

// NarrativeFromXHTML converts a FHIR narrative (an XHTML div, FHIR R4 §2.4) to the content
// of a CDA narrative block (StrucDocText, CDA R2 §4.3.5), the reverse of [Narrative]:
//
//	p, h1…h6 → paragraph           span → content        ul → list, ol → list listType="ordered"
//	li → item      b, strong → content styleCode="Bold"   i, em → content styleCode="Italics"
//	u → content styleCode="Underline"                     a (http, https, mailto, #) → linkHtml
//	br, sub, sup, table, caption, thead, tbody, tfoot, tr, th, td, col, colgroup → the same
//
// A div inside the narrative's div gives its content and a line break. id becomes ID (when
// it is an NCName); class names that are CDA style codes (Bold, Italics, Underline, Emphasis,
// Lrule, Rrule, Toprule, Botrule, Arabic, LittleRoman, BigRoman, LittleAlpha, BigAlpha,
// Disc, Circle, Square) become styleCode; the table attributes CDA allows are kept. Anything
// else — images, forms, unknown elements — gives its text only. CDA's content model is kept:
// a block (paragraph, list, table) met where only inline content may be (in a paragraph or a
// content) gives its inline content followed by a line break. The result is never invalid
// XML; XHTML that does not parse gives its text alone.
func NarrativeFromXHTML(div string) []*Node {
	d := xml.NewDecoder(strings.NewReader(div))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &Node{Name: "text"}
	stack := []*xnode{{n: root, block: true}}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return plainNarrative(div)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			text.Reset()
			stack = append(stack, top.open(t))
		case xml.EndElement:
			if len(stack) > 1 {
				stack[len(stack)-1].close()
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			top.text(string(t))
		}
	}
	// The div itself is the first element: its content is the narrative.
	if len(root.Children) == 1 && root.Children[0].Name == "" && strings.TrimSpace(root.Children[0].Text) == "" {
		return nil
	}
	return trimSpace(root.Children)
}

// plainNarrative is the text of markup that does not parse, tags removed.
func plainNarrative(s string) []*Node {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	t := strings.Join(strings.Fields(b.String()), " ")
	if t == "" {
		return nil
	}
	return []*Node{{Name: "paragraph", Children: []*Node{TextNode(t)}}}
}

// An xnode is an open XHTML element while converting.
type xnode struct {
	n      *Node // the CDA element that receives content; nil: the content goes to parent
	parent *xnode
	block  bool // block content (paragraph, list, table) is allowed in n
	table  bool // n is a table part: text directly in it is dropped
	brk    bool // a block flattened into inline content: a br follows it
}

// target is the node that content of x goes to.
func (x *xnode) target() *xnode {
	for x.n == nil {
		x = x.parent
	}
	return x
}

func (x *xnode) text(s string) {
	t := x.target()
	if t.table || strings.TrimSpace(s) == "" && t.block && afterBlock(t.n) {
		return
	}
	if k := len(t.n.Children); k > 0 && t.n.Children[k-1].Name == "" {
		t.n.Children[k-1].Text += s
		return
	}
	t.n.Children = append(t.n.Children, TextNode(s))
}

// afterBlock reports whether n has no children yet or ends with a block or a line break,
// where white space between elements means nothing.
func afterBlock(n *Node) bool {
	k := len(n.Children)
	if k == 0 {
		return true
	}
	switch n.Children[k-1].Name {
	case "paragraph", "list", "table", "br":
		return true
	}
	return false
}

var cdaStyleCodes = map[string]bool{"Bold": true, "Italics": true, "Underline": true, "Emphasis": true,
	"Lrule": true, "Rrule": true, "Toprule": true, "Botrule": true, "Arabic": true, "LittleRoman": true,
	"BigRoman": true, "LittleAlpha": true, "BigAlpha": true, "Disc": true, "Circle": true, "Square": true}

var tableAttrs = map[string]bool{"border": true, "width": true, "cellpadding": true, "cellspacing": true,
	"summary": true, "align": true, "valign": true, "colspan": true, "rowspan": true, "span": true,
	"scope": true, "abbr": true, "frame": true, "rules": true}

// open starts the CDA counterpart of an XHTML element below x.
func (x *xnode) open(t xml.StartElement) *xnode {
	p := x.target()
	child := &xnode{parent: x}
	name, style := "", ""
	block, tablePart := false, false
	switch t.Name.Local {
	case "div":
		// The narrative's own div, and divs in it, hold their content; a nested div ends
		// with a line break.
		child.brk = x.parent != nil
		return child
	case "p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote":
		name = "paragraph"
		if t.Name.Local[0] == 'h' {
			style = "Bold"
		}
	case "span", "code", "small", "big", "abbr", "cite", "q", "var", "samp", "kbd", "dfn", "font":
		name = "content"
	case "b", "strong":
		name, style = "content", "Bold"
	case "i", "em":
		name, style = "content", "Italics"
	case "u":
		name, style = "content", "Underline"
	case "ul", "ol", "dl":
		name, tablePart = "list", true
	case "li", "dt", "dd":
		name, block = "item", true
	case "table":
		name, tablePart = "table", true
	case "thead", "tbody", "tfoot", "tr", "colgroup":
		name, tablePart = t.Name.Local, true
	case "th", "td":
		name, block = t.Name.Local, true
	case "caption":
		name = "caption"
	case "col":
		name = "col"
	case "br", "sub", "sup":
		name = t.Name.Local
	case "a":
		name = "linkHtml"
	default:
		return child // its text goes to the enclosing element
	}
	isBlock := name == "paragraph" || name == "list" || name == "table"
	if isBlock && !p.block {
		// A block inside inline content: keep its content inline, then break the line.
		child.brk = true
		return child
	}
	if part := listOrTablePart[name]; part != p.table || p.table && !tablePartAllowed(p.n.Name, name) {
		// a list or table part out of place, or anything else in a list or table: content only
		return child
	}
	n := &Node{Name: name}
	for _, a := range t.Attr {
		switch {
		case a.Name.Local == "id" && validNCName(a.Value):
			n.Attrs = append(n.Attrs, Attr{"ID", a.Value})
		case a.Name.Local == "class":
			for _, c := range strings.Fields(a.Value) {
				if cdaStyleCodes[c] {
					style = strings.TrimSpace(style + " " + c)
				}
			}
		case a.Name.Local == "href" && name == "linkHtml" && safeHref(a.Value):
			n.Attrs = append(n.Attrs, Attr{"href", a.Value})
		case tableAttrs[a.Name.Local] && (tablePart || name == "td" || name == "th" || name == "col"):
			n.Attrs = append(n.Attrs, Attr{a.Name.Local, a.Value})
		}
	}
	if style != "" {
		n.Attrs = append(n.Attrs, Attr{"styleCode", style})
	}
	if t.Name.Local == "ol" {
		n.Attrs = append(n.Attrs, Attr{"listType", "ordered"})
	}
	p.n.Children = append(p.n.Children, n)
	child.n, child.block, child.table = n, block, tablePart
	return child
}

// listOrTablePart are the elements that live only in a list or a table.
var listOrTablePart = map[string]bool{"item": true, "thead": true, "tbody": true, "tfoot": true, "tr": true,
	"th": true, "td": true, "caption": true, "col": true, "colgroup": true}

// tablePartAllowed reports whether a child element fits a table or list part.
func tablePartAllowed(parent, child string) bool {
	switch parent {
	case "list":
		return child == "item"
	case "table":
		return child == "caption" || child == "colgroup" || child == "col" || child == "thead" || child == "tbody" || child == "tfoot" || child == "tr"
	case "colgroup":
		return child == "col"
	case "thead", "tbody", "tfoot":
		return child == "tr"
	case "tr":
		return child == "th" || child == "td"
	}
	return false
}

// close ends x: a table whose rows came without a tbody gets one; a flattened block ends
// with a line break; an element left without content is removed, except br and col.
func (x *xnode) close() {
	if x.brk {
		t := x.target()
		if len(t.n.Children) > 0 {
			t.n.Children = append(t.n.Children, &Node{Name: "br"})
		}
		return
	}
	if x.n == nil {
		return
	}
	if x.n.Name == "table" {
		var rows, rest []*Node
		for _, c := range x.n.Children {
			if c.Name == "tr" {
				rows = append(rows, c)
			} else {
				rest = append(rest, c)
			}
		}
		if len(rows) > 0 {
			x.n.Children = append(rest, &Node{Name: "tbody", Children: rows})
		}
	}
	if len(x.n.Children) == 0 && x.n.Name != "br" && x.n.Name != "col" && x.n.Name != "td" && x.n.Name != "th" {
		p := x.parent.target()
		p.n.Children = p.n.Children[:len(p.n.Children)-1]
	}
}

func safeHref(h string) bool {
	if strings.HasPrefix(h, "#") {
		return validNCName(h[1:])
	}
	u, err := url.Parse(h)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "mailto")
}

// trimSpace removes white-space-only text nodes at the start and end of the top level.
func trimSpace(ns []*Node) []*Node {
	for len(ns) > 0 && ns[0].Name == "" && strings.TrimSpace(ns[0].Text) == "" {
		ns = ns[1:]
	}
	for len(ns) > 0 && ns[len(ns)-1].Name == "" && strings.TrimSpace(ns[len(ns)-1].Text) == "" {
		ns = ns[:len(ns)-1]
	}
	return ns
}

// validNCName reports whether s can be an ID of CDA narrative (xs:ID, an XML NCName), for
// the ASCII names FHIR narrative uses: a letter or _ first, then letters, digits, -, _ and .
func validNCName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] == '_') {
		return false
	}
	return validID(s) && !strings.Contains(s, ":")
}
