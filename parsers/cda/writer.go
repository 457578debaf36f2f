package cda

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Namespaces of the documents [Encode] writes.
const (
	NamespaceV3   = "urn:hl7-org:v3"
	NamespaceXSI  = "http://www.w3.org/2001/XMLSchema-instance"
	NamespaceSDTC = "urn:hl7-org:sdtc"
)

// A Node is an element to write with [Encode], or, when Name is "", a text node.
type Node struct {
	Name     string // the XML name with its prefix: "code", "sdtc:raceCode"; "" for text
	Attrs    []Attr
	Children []*Node
	Text     string // a text node's text
}

// An Attr is an XML attribute.
type Attr struct {
	Name, Value string
}

// TextNode returns a text node.
func TextNode(s string) *Node { return &Node{Text: s} }

// Attr returns the value of attribute name, or "".
func (n *Node) Attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// inlineNarrative are the narrative elements whose content is inline (CDA R2 §4.3.5): they
// are written on one line even when they hold only elements.
var inlineNarrative = map[string]bool{"td": true, "th": true, "content": true, "paragraph": true,
	"item": true, "caption": true, "linkHtml": true, "sub": true, "sup": true, "footnote": true}

// mixed reports whether n holds text among its children, or is inline narrative: such an
// element, and all it holds, is written on one line so that indentation adds no white space
// to its content.
func (n *Node) mixed() bool {
	if inlineNarrative[n.Name] {
		return true
	}
	for _, c := range n.Children {
		if c.Name == "" {
			return true
		}
	}
	return false
}

// Encode writes root as an XML document: the XML declaration, root with the CDA namespaces
// (urn:hl7-org:v3 as the default namespace, xsi, and sdtc when any sdtc: name is used),
// elements indented by two spaces except inside mixed content, and text and attribute values
// escaped (XML 1.0 §2.4; characters XML 1.0 does not allow are dropped). It fails only when
// the root is missing or an element name is not a name.
func Encode(root *Node) ([]byte, error) {
	if root == nil || root.Name == "" {
		return nil, fmt.Errorf("cda: no root element to write")
	}
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	ns := []Attr{{"xmlns", NamespaceV3}, {"xmlns:xsi", NamespaceXSI}}
	if usesPrefix(root, "sdtc:") {
		ns = append(ns, Attr{"xmlns:sdtc", NamespaceSDTC})
	}
	r := *root
	r.Attrs = append(ns, root.Attrs...)
	if err := writeNode(&b, &r, 0, true); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func usesPrefix(n *Node, prefix string) bool {
	if strings.HasPrefix(n.Name, prefix) {
		return true
	}
	for _, a := range n.Attrs {
		if strings.HasPrefix(a.Name, prefix) {
			return true
		}
	}
	for _, c := range n.Children {
		if usesPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func writeNode(b *bytes.Buffer, n *Node, depth int, indent bool) error {
	if n.Name == "" {
		escapeText(b, n.Text, false)
		return nil
	}
	if strings.ContainsAny(n.Name, " <>&\"'=/") {
		return fmt.Errorf("cda: bad element name %q", n.Name)
	}
	b.WriteByte('<')
	b.WriteString(n.Name)
	for _, a := range n.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escapeText(b, a.Value, true)
		b.WriteByte('"')
	}
	if len(n.Children) == 0 {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	inner := indent && !n.mixed()
	for _, c := range n.Children {
		if inner {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("  ", depth+1))
		}
		if err := writeNode(b, c, depth+1, inner); err != nil {
			return err
		}
	}
	if inner {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", depth))
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteByte('>')
	return nil
}

// escapeText writes s with &, < and > escaped, and in attribute values also " and the white
// space characters that attribute-value normalisation would turn into spaces.
func escapeText(b *bytes.Buffer, s string, attr bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case (r == '\n' || r == '\r' || r == '\t') && attr:
			fmt.Fprintf(b, "&#%d;", r)
		case r == '\r':
			b.WriteString("&#13;")
		case !xmlChar(r) || r == utf8.RuneError && size == 1:
			// not allowed in XML 1.0 (§2.2): dropped
		default:
			b.WriteRune(r)
		}
	}
}

// xmlChar reports whether r is a Char of XML 1.0 §2.2.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// Check reads an XML document through once with the standard tokenizer, strictly, and says
// whether it is a well-formed CDA document: every tag closed in order, every entity and
// character valid, namespaces declared, and the root a ClinicalDocument in the HL7 v3
// namespace. An error names the line. It is the writer's self-check — the tokenizer under
// [Reader] without the tree [Reader] builds, at a fraction of its cost.
func Check(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	root := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root {
				return fmt.Errorf("cda: %w", ErrTruncated)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("cda: %w: %v", ErrSyntax, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root {
			root = false
			if se.Name.Space != NamespaceV3 || se.Name.Local != "ClinicalDocument" {
				return fmt.Errorf("cda: %w: {%s}%s", ErrNotClinicalDocument, se.Name.Space, se.Name.Local)
			}
		}
	}
}
