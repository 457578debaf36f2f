// Package jsondoc reads any JSON document as a mapping source (format "json"), for inputs that
// are JSON but not FHIR resources — such as the NHS registration adaptor's amendment bodies,
// {"nhsNumber": …, "patches": [JSON Patch operations]}.
//
// Paths are dotted member names, as in the FHIR path language:
//
//	patches            every value of the member "patches" (an array gives one node per item)
//	patches[2]         only the third (from 0)
//	value.url          members of an object value
//	/nhsNumber         from the root, wherever the rule is
//
// A string's Text is the string; a number's its digits as written; true and false are
// "true" and "false"; null and objects have no text. A null member is still a node, so
// has('valueString') is true for "valueString": null — which is how a JSON Patch says "erase".
// Location is the node's JSON Pointer (RFC 6901): "/patches/3/value".
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// Kind is the JSON type of a node.
type Kind uint8

// The JSON types.
const (
	Null Kind = iota
	Bool
	Number
	String
	Object
	Array
)

// Node is one JSON value. An array member's items are nodes of their own with the member's
// name and their index.
type Node struct {
	Kind    Kind
	Name    string // the member name ("" at the root)
	Index   int    // position in the enclosing array, -1 when not in one
	Value   string // the text of a string, number or boolean
	Members []*Node
	Parent  *Node
}

// Parse reads one JSON document. Errors name the byte offset and, where known, the line.
func Parse(data []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := parseValue(dec, nil, "", -1)
	if err != nil {
		return nil, posError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, posError(data, dec.InputOffset(), errors.New("data after the JSON document"))
	}
	return root, nil
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 512

func parseValue(dec *json.Decoder, parent *Node, name string, index int) (*Node, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := &Node{Name: name, Index: index, Parent: parent}
	depth := 0
	for p := parent; p != nil; p = p.Parent {
		depth++
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	switch t := tok.(type) {
	case nil:
		n.Kind = Null
	case bool:
		n.Kind, n.Value = Bool, strconv.FormatBool(t)
	case json.Number:
		n.Kind, n.Value = Number, t.String()
	case string:
		n.Kind, n.Value = String, t
	case json.Delim:
		switch t {
		case '{':
			n.Kind = Object
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				if err := parseMember(dec, n, key); err != nil {
					return nil, err
				}
			}
		case '[':
			n.Kind = Array
			for i := 0; dec.More(); i++ {
				item, err := parseValue(dec, n, "", i)
				if err != nil {
					return nil, err
				}
				n.Members = append(n.Members, item)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	}
	return n, nil
}

// parseMember reads the value of member key of object o. An array value becomes one node per
// item, each named key, so paths step through arrays as FHIRPath does.
func parseMember(dec *json.Decoder, o *Node, key string) error {
	v, err := parseValue(dec, o, key, -1)
	if err != nil {
		return err
	}
	if v.Kind != Array {
		o.Members = append(o.Members, v)
		return nil
	}
	for _, item := range v.Members {
		item.Name, item.Parent = key, o
		o.Members = append(o.Members, item)
	}
	if len(v.Members) == 0 { // an empty array is still a member: has() sees it
		v.Parent = o
		o.Members = append(o.Members, v)
	}
	return nil
}

func posError(data []byte, off int64, err error) error {
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		off = se.Offset
	}
	off = min(max(off, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("json: line %d (byte %d): %v", line, off, err)
}

// Member returns the first member named name, or nil.
func (n *Node) Member(name string) *Node {
	for _, m := range n.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Text returns the value of a string, number or boolean, "" otherwise.
func (n *Node) Text() string { return n.Value }

// Empty reports whether the node holds no data.
func (n *Node) Empty() bool {
	if n.Kind == Object || n.Kind == Array {
		for _, m := range n.Members {
			if !m.Empty() {
				return false
			}
		}
		return true
	}
	return n.Kind == Null || n.Value == ""
}

// Location returns the node's JSON Pointer: "/patches/3/value", "" for the root.
func (n *Node) Location() string {
	if n.Parent == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(n.Parent.Location())
	b.WriteByte('/')
	if n.Parent.Kind == Array {
		b.WriteString(strconv.Itoa(n.Index))
		return b.String()
	}
	b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(n.Name))
	if n.Index >= 0 {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(n.Index))
	}
	return b.String()
}

// Schema compiles JSON paths for the mapping engine. Its name is "json".
type Schema struct{}

// Name returns "json".
func (Schema) Name() string { return "json" }

// Compile compiles a path: dotted member names, each optionally with an index [n] from 0, and
// a leading / to start from the root.
func (Schema) Compile(src string) (tree.Path, error) {
	p := &path{src: src}
	s := strings.TrimSpace(src)
	if strings.HasPrefix(s, "/") {
		p.abs, s = true, s[1:]
	}
	if s == "" {
		return nil, fmt.Errorf("json: empty path %q", src)
	}
	for _, part := range strings.Split(s, ".") {
		st := step{idx: -1}
		if j := strings.IndexByte(part, '['); j >= 0 {
			if !strings.HasSuffix(part, "]") {
				return nil, fmt.Errorf("json: bad path %q: %q: an index is written [n]", src, part)
			}
			v, err := strconv.Atoi(part[j+1 : len(part)-1])
			if err != nil || v < 0 {
				return nil, fmt.Errorf("json: bad path %q: an index is a number from 0", src)
			}
			st.idx, part = v, part[:j]
		}
		if part == "" || strings.ContainsAny(part, "()'\" ") {
			return nil, fmt.Errorf("json: bad path %q: %q is not a member name", src, part)
		}
		st.name = part
		p.steps = append(p.steps, st)
	}
	return p, nil
}

type step struct {
	name string
	idx  int
}

type path struct {
	src   string
	abs   bool
	steps []step
}

func (p *path) String() string { return p.src }

// Select appends the nodes p reaches from n.
func (p *path) Select(n tree.Node, dst []tree.Node) []tree.Node {
	cur, ok := n.(*Node)
	if !ok {
		return dst
	}
	if p.abs {
		for cur.Parent != nil {
			cur = cur.Parent
		}
	}
	return p.walk(cur, 0, dst)
}

func (p *path) walk(n *Node, i int, dst []tree.Node) []tree.Node {
	if i == len(p.steps) {
		return append(dst, n)
	}
	st := p.steps[i]
	k := 0
	for _, m := range n.Members {
		if m.Name != st.name {
			continue
		}
		if m.Kind == Array && len(m.Members) == 0 { // an empty array member
			continue
		}
		if st.idx < 0 || st.idx == k {
			dst = p.walk(m, i+1, dst)
		}
		k++
	}
	return dst
}
