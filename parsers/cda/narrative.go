package cda

import (
	"strings"

	"github.com/antchfx/xmlquery"
)

// Narrative converts CDA narrative (StrucDocText: a section's text element, or any element
// inside it) to a FHIR xhtml div (FHIR R4 §2.4 Narrative: the XHTML subset, no scripts, no
// forms, no external references other than links and images):
//
//	paragraph → p       content → span        list → ul, or ol (listType="ordered")
//	item → li           linkHtml → a          br, sub, sup, table, thead, tbody, tfoot,
//	caption → caption   (in a table), else    tr, th, td, col, colgroup → the same
//	          a span of class caption        footnote, footnoteRef → span
//	renderMultiMedia → its caption            any other element → its content only
//
// styleCode becomes the class attribute (the codes as class names) and, for Bold, Italics,
// Underline and Emphasis, a style; ID becomes id; the table attributes XHTML allows are kept
// (border, cellpadding, cellspacing, width, summary, align, valign, colspan, rowspan, span,
// scope, headers, abbr). Comments and processing instructions are dropped. linkHtml keeps
// href only for http, https and mailto URLs and local "#" links.
//
// A table row converted on its own is wrapped in a table, so the result is always valid.
// The result is "" when the narrative has no text at all (FHIR requires some content).
func Narrative(x *xmlquery.Node) string {
	var w narrWriter
	w.b.WriteString(`<div xmlns="http://www.w3.org/1999/xhtml">`)
	switch x.Data {
	case "tr":
		w.b.WriteString("<table><tbody>")
		w.element(x, true)
		w.b.WriteString("</tbody></table>")
	case "thead", "tbody", "tfoot":
		w.b.WriteString("<table>")
		w.element(x, true)
		w.b.WriteString("</table>")
	case "item":
		w.b.WriteString("<ul>")
		w.element(x, true)
		w.b.WriteString("</ul>")
	default:
		w.children(x, false)
	}
	if !w.text {
		return ""
	}
	w.b.WriteString("</div>")
	return w.b.String()
}

type narrWriter struct {
	b     strings.Builder
	text  bool // some non-white-space text was written
	table int  // table nesting depth
}

func (w *narrWriter) children(x *xmlquery.Node, inTable bool) {
	for c := x.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case xmlquery.TextNode, xmlquery.CharDataNode:
			if strings.TrimSpace(c.Data) != "" {
				w.text = true
			}
			escape(&w.b, c.Data, false)
		case xmlquery.ElementNode:
			w.element(c, inTable)
		}
	}
}

var narrTags = map[string]string{
	"paragraph": "p", "content": "span", "item": "li", "linkHtml": "a", "br": "br",
	"sub": "sub", "sup": "sup", "table": "table", "thead": "thead", "tbody": "tbody",
	"tfoot": "tfoot", "tr": "tr", "th": "th", "td": "td", "col": "col", "colgroup": "colgroup",
	"footnote": "span", "footnoteRef": "span",
}

var keptAttrs = map[string]bool{
	"border": true, "cellpadding": true, "cellspacing": true, "width": true, "summary": true,
	"align": true, "valign": true, "colspan": true, "rowspan": true, "span": true, "scope": true,
	"headers": true, "abbr": true,
}

func (w *narrWriter) element(x *xmlquery.Node, inTable bool) {
	if x.Prefix != "" && x.NamespaceURI != namespace {
		w.children(x, inTable) // sdtc and other extensions: content only
		return
	}
	name := x.Data
	tag := narrTags[name]
	switch name {
	case "list":
		if cap := child(x, "caption"); cap != nil {
			w.b.WriteString(`<span class="caption">`)
			w.children(cap, false)
			w.b.WriteString("</span>")
		}
		tag = "ul"
		if attr(x, "listType") == "ordered" {
			tag = "ol"
		}
	case "caption":
		if !inTable {
			tag = "span"
		} else {
			tag = "caption"
		}
	case "renderMultiMedia":
		if cap := child(x, "caption"); cap != nil {
			w.b.WriteString(`<span class="caption">`)
			w.children(cap, false)
			w.b.WriteString("</span>")
		}
		return
	}
	if tag == "" {
		w.children(x, inTable)
		return
	}
	w.b.WriteByte('<')
	w.b.WriteString(tag)
	var style []string
	for _, a := range x.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch k := a.Name.Local; {
		case k == "ID":
			if validID(a.Value) {
				writeAttr(&w.b, "id", a.Value)
			}
		case k == "styleCode":
			codes := strings.Fields(a.Value)
			writeAttr(&w.b, "class", strings.Join(codes, " "))
			for _, c := range codes {
				switch c {
				case "Bold":
					style = append(style, "font-weight: bold")
				case "Italics":
					style = append(style, "font-style: italic")
				case "Underline":
					style = append(style, "text-decoration: underline")
				case "Emphasis":
					style = append(style, "font-style: italic")
				}
			}
		case k == "href" && tag == "a":
			v := strings.TrimSpace(a.Value)
			lv := strings.ToLower(v)
			if strings.HasPrefix(lv, "http://") || strings.HasPrefix(lv, "https://") || strings.HasPrefix(lv, "mailto:") || strings.HasPrefix(v, "#") {
				writeAttr(&w.b, "href", v)
			}
		case keptAttrs[k] && tag != "span" && tag != "p" && tag != "a" && tag != "li":
			writeAttr(&w.b, k, a.Value)
		}
	}
	if len(style) > 0 {
		writeAttr(&w.b, "style", strings.Join(style, "; "))
	}
	if tag == "br" || tag == "col" {
		w.b.WriteString("/>")
		return
	}
	w.b.WriteByte('>')
	switch name {
	case "table":
		w.table++
		w.tableBody(x)
		w.table--
	case "list":
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == xmlquery.ElementNode && c.Data == "item" {
				w.element(c, false)
			}
		}
	default:
		w.children(x, name == "table")
	}
	w.b.WriteString("</")
	w.b.WriteString(tag)
	w.b.WriteByte('>')
}

// tableBody writes a table's parts; rows directly in the table are wrapped in a tbody.
func (w *narrWriter) tableBody(x *xmlquery.Node) {
	open := false
	for c := x.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != xmlquery.ElementNode {
			continue
		}
		if c.Data == "tr" {
			if !open {
				w.b.WriteString("<tbody>")
				open = true
			}
		} else if open {
			w.b.WriteString("</tbody>")
			open = false
		}
		w.element(c, true)
	}
	if open {
		w.b.WriteString("</tbody>")
	}
}

func validID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func writeAttr(b *strings.Builder, k, v string) {
	b.WriteByte(' ')
	b.WriteString(k)
	b.WriteString(`="`)
	escape(b, v, true)
	b.WriteByte('"')
}

func escape(b *strings.Builder, s string, attr bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			if attr {
				b.WriteString("&quot;")
			} else {
				b.WriteByte(c)
			}
		default:
			if c < 0x20 && c != '\n' && c != '\t' && c != '\r' {
				continue
			}
			b.WriteByte(c)
		}
	}
}
