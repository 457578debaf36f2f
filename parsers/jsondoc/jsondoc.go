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
//	patches[path='/name/0/family']
//	                   the items whose member "path" is that text (see [Schema.Compile])
//
// A string's Text is the string; a number's its digits as written; true and false are
// "true" and "false"; null and objects have no text. A null member is still a node: a path
// reaches it (a rule with from: runs on it, and a filter sees its siblings), but, having no
// text, get() gives "" and has() is false for it — a mapping tells a JSON Patch "replace with
// null" from a "remove" by the operation's op, not by its value.
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

	"github.com/fhirbridge/fhirbridge/internal/dotpath"
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

// ParseError is the error of [Parse]: where the document went wrong, and why.
type ParseError struct {
	Offset       int64 // byte offset of the problem
	Line, Column int   // 1-based; Column counts bytes
	Err          error // a *json.SyntaxError, [ErrTrailingData], [ErrTooDeep], or io.ErrUnexpectedEOF
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("json: line %d, column %d (byte %d): %v", e.Line, e.Column, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// The errors that can be returned in ParseError.Err, besides the *json.SyntaxError and
// io.ErrUnexpectedEOF of invalid or truncated JSON.
var (
	ErrTrailingData = errors.New("data after the JSON document")
	ErrTooDeep      = fmt.Errorf("nesting deeper than %d", maxDepth)
)

// Parse reads one JSON document. An error is a *[ParseError] naming the line, column and
// byte offset.
func Parse(data []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := parseValue(dec, nil, "", -1, 0)
	if err != nil {
		return nil, posError(data, dec.InputOffset(), err)
	}
	if off := dec.InputOffset(); dec.More() {
		return nil, posError(data, off, ErrTrailingData)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, posError(data, dec.InputOffset(), ErrTrailingData)
	}
	return root, nil
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 512

func parseValue(dec *json.Decoder, parent *Node, name string, index, depth int) (*Node, error) {
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := &Node{Name: name, Index: index, Parent: parent}
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
				if err := parseMember(dec, n, key, depth+1); err != nil {
					return nil, err
				}
			}
		case '[':
			n.Kind = Array
			for i := 0; dec.More(); i++ {
				item, err := parseValue(dec, n, "", i, depth+1)
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
func parseMember(dec *json.Decoder, o *Node, key string, depth int) error {
	v, err := parseValue(dec, o, key, -1, depth)
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

// posError positions err at off, the decoder's input offset when it failed (for a
// *json.SyntaxError, the offending byte; its own Offset counts from an internal buffer),
// moved past white space to the byte that is wrong.
func posError(data []byte, off int64, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	off = min(max(off, 0), int64(len(data)))
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return &ParseError{Offset: off, Line: line, Column: col, Err: err}
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

// Compile compiles a path: dotted member names, each optionally with an index [n] from 0 or a
// filter [member='text'], and a leading / to start from the root. A filter keeps the values
// (usually array items) whose member — a dotted path itself — has exactly that text:
// patches[path='/name/0/family'] is the JSON Patch operation on that path,
// patches[value.url='https://…'] the one whose value has that url. The text is quoted with '
// or " and may hold dots and slashes; it has no escapes.
func (Schema) Compile(src string) (tree.Path, error) {
	p := &path{src: src}
	s := strings.TrimSpace(src)
	if strings.HasPrefix(s, "/") {
		p.abs, s = true, s[1:]
	}
	if s == "" {
		return nil, fmt.Errorf("json: empty path %q", src)
	}
	parts, err := dotpath.Split(s, '[', ']')
	if err != nil {
		return nil, fmt.Errorf("json: bad path %q: %w", src, err)
	}
	for _, part := range parts {
		st := step{idx: -1}
		if j := strings.IndexByte(part, '['); j >= 0 {
			if !strings.HasSuffix(part, "]") {
				return nil, fmt.Errorf("json: bad path %q: %q: an index is written [n], a filter [member='text']", src, part)
			}
			inner := part[j+1 : len(part)-1]
			if k := strings.IndexByte(inner, '='); k >= 0 {
				f, err := compileFilter(inner[:k], inner[k+1:])
				if err != nil {
					return nil, fmt.Errorf("json: bad path %q: %w", src, err)
				}
				st.filter = f
			} else {
				v, err := strconv.Atoi(inner)
				if err != nil || v < 0 {
					return nil, fmt.Errorf("json: bad path %q: an index is a number from 0", src)
				}
				st.idx = v
			}
			part = part[:j]
		}
		if !validName(part) {
			return nil, fmt.Errorf("json: bad path %q: %q is not a member name", src, part)
		}
		st.name = part
		p.steps = append(p.steps, st)
	}
	return p, nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "()[]='\" ")
}

// compileFilter compiles the member path and the quoted text of a filter [member='text'].
func compileFilter(member, text string) (*filter, error) {
	text = strings.TrimSpace(text)
	if len(text) < 2 || (text[0] != '\'' && text[0] != '"') || text[len(text)-1] != text[0] {
		return nil, fmt.Errorf("the text of a filter is quoted: [member='text']")
	}
	f := &filter{text: text[1 : len(text)-1]}
	for _, n := range strings.Split(strings.TrimSpace(member), ".") {
		if !validName(n) {
			return nil, fmt.Errorf("%q is not a member name in a filter", n)
		}
		f.member = append(f.member, step{name: n, idx: -1})
	}
	return f, nil
}

// A filter keeps the nodes whose member path has the text.
type filter struct {
	member []step
	text   string
}

func (f *filter) match(n *Node) bool {
	sub := path{steps: f.member}
	for _, m := range sub.walk(n, 0, nil) {
		if m.(*Node).Value == f.text && m.(*Node).Kind != Null {
			return true
		}
	}
	return false
}

type step struct {
	name   string
	idx    int     // -1: every value
	filter *filter // nil: no filter
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
		if st.filter != nil && !st.filter.match(m) {
			continue
		}
		if st.idx < 0 || st.idx == k {
			dst = p.walk(m, i+1, dst)
		}
		k++
	}
	return dst
}
