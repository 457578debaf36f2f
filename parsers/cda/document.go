package cda

import (
	"strconv"
	"strings"
	"sync"

	"github.com/antchfx/xmlquery"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// Document is one parsed ClinicalDocument. A Document is read by one conversion at a time;
// the nodes it hands out live as long as it does.
type Document struct {
	root   *xmlquery.Node // the XML document node
	elem   *xmlquery.Node // the ClinicalDocument element
	index  int
	offset int64
	line   int // the input line of the document's first byte

	idsOnce sync.Once
	ids     map[string]*xmlquery.Node // narrative ID → element, for ref()

	mu   sync.Mutex
	slab []node
}

// Index returns the 0-based position of the document in its input.
func (d *Document) Index() int { return d.index }

// Line returns the input line where the document starts.
func (d *Document) Line() int { return d.line }

// Offset returns the byte offset where the document starts.
func (d *Document) Offset() int64 { return d.offset }

// XML returns the ClinicalDocument element, for callers that want xmlquery directly.
func (d *Document) XML() *xmlquery.Node { return d.elem }

// Root returns the ClinicalDocument element as a mapping source node; paths in message
// mappings are relative to it.
func (d *Document) Root() tree.Node { return d.newNode(node{d: d, x: d.elem, attr: -1}) }

// TemplateIDs returns the @root of every ClinicalDocument/templateId, in document order
// (C-CDA documents list the US Realm Header first and the document type after it).
func (d *Document) TemplateIDs() []string {
	var out []string
	for c := d.elem.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode && c.Data == "templateId" {
			if v := attr(c, "root"); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// child returns the first child element named name.
func child(n *xmlquery.Node, name string) *xmlquery.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode && c.Data == name && c.Prefix == "" {
			return c
		}
	}
	return nil
}

func attr(n *xmlquery.Node, name string) string {
	for _, a := range n.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// Code returns ClinicalDocument/code/@code (a LOINC document type code), or "".
func (d *Document) Code() string {
	if c := child(d.elem, "code"); c != nil {
		return attr(c, "code")
	}
	return ""
}

// ID returns ClinicalDocument/id as "root" or "root^extension", or "".
func (d *Document) ID() string {
	c := child(d.elem, "id")
	if c == nil {
		return ""
	}
	if ext := attr(c, "extension"); ext != "" {
		return attr(c, "root") + "^" + ext
	}
	return attr(c, "root")
}

// EffectiveTime returns ClinicalDocument/effectiveTime/@value, or "".
func (d *Document) EffectiveTime() string {
	if c := child(d.elem, "effectiveTime"); c != nil {
		return attr(c, "value")
	}
	return ""
}

// byID returns the element whose ID attribute is id (narrative references, "#id" or "id").
func (d *Document) byID(id string) *xmlquery.Node {
	d.idsOnce.Do(func() {
		d.ids = map[string]*xmlquery.Node{}
		var walk func(n *xmlquery.Node)
		walk = func(n *xmlquery.Node) {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type != xmlquery.ElementNode {
					continue
				}
				for _, a := range c.Attr {
					if a.Name.Local == "ID" {
						if _, dup := d.ids[a.Value]; !dup {
							d.ids[a.Value] = c
						}
					}
				}
				walk(c)
			}
		}
		walk(d.elem)
	})
	return d.ids[strings.TrimPrefix(strings.TrimSpace(id), "#")]
}

// newNode returns a node from the document's slab: nodes are allocated in chunks.
func (d *Document) newNode(n node) *node {
	d.mu.Lock()
	if len(d.slab) == cap(d.slab) {
		d.slab = make([]node, 0, 128)
	}
	d.slab = append(d.slab, n)
	p := &d.slab[len(d.slab)-1]
	d.mu.Unlock()
	return p
}

// location names an element as an XPath with 1-based indexes among same-named siblings.
func location(n *xmlquery.Node) string {
	var parts []string
	for c := n; c != nil && c.Type == xmlquery.ElementNode; c = c.Parent {
		name := c.Data
		if c.Prefix != "" {
			name = c.Prefix + ":" + name
		}
		if c.Parent != nil && c.Parent.Type == xmlquery.ElementNode {
			k := 1
			for s := c.PrevSibling; s != nil; s = s.PrevSibling {
				if s.Type == xmlquery.ElementNode && s.Data == c.Data && s.Prefix == c.Prefix {
					k++
				}
			}
			name += "[" + strconv.Itoa(k) + "]"
		}
		parts = append(parts, name)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}
