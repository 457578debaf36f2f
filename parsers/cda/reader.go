package cda

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/antchfx/xmlquery"
)

// Reader reads CDA documents (ClinicalDocument elements) one at a time from a stream. A file
// may hold several documents one after the other; each [Reader.Read] returns the next one.
//
// The reader frames each document with a small XML lexer (start and end tags, comments,
// CDATA, processing instructions), so only one document is in memory at a time and a
// malformed document does not stop the stream: it is returned as a *[ParseError] and the
// next Read goes on with the document that follows. The framed bytes are then parsed by
// xmlquery into a tree with line numbers.
type Reader struct {
	// MaxDocumentSize bounds one document, in bytes; 0 means 64 MiB. A larger document is a
	// *ParseError wrapping ErrTooLarge; the stream goes on after it.
	MaxDocumentSize int

	br     *bufio.Reader
	off    int64 // bytes consumed
	line   int   // 1-based line at off
	index  int   // documents framed so far
	decl   []byte
	buf    []byte
	err    error // sticky: io.EOF or an error of the underlying reader
	noKeep bool  // discarding the rest of an oversized document
}

// NewReader returns a Reader reading from r. It never reads more than it needs for the
// document being returned (plus bufio's buffer).
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// InputOffset returns the byte offset just after the last document read (or the last byte
// consumed). It never decreases.
func (r *Reader) InputOffset() int64 { return r.off }

// Read returns the next document. At the end of input it returns nil, [io.EOF]. A document
// that cannot be read is a *[ParseError] (the next Read continues after it); an error of the
// underlying reader is returned as is, and by every later Read.
func (r *Reader) Read() (*Document, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		start, startLine := r.off, r.line
		b, err := r.byte()
		if err != nil {
			return nil, r.fail(err)
		}
		switch {
		case b == ' ' || b == '\t' || b == '\r' || b == '\n':
			continue
		case b == 0xEF && start == 0: // byte order mark
			r.byte()
			r.byte()
			continue
		case b != '<':
			perr := &ParseError{Document: r.index, Offset: start, Line: startLine, Err: ErrText}
			switch _, err := r.until('<', false); {
			case err == io.EOF:
				r.err = io.EOF // nothing but text up to the end
			case err != nil:
				return nil, r.fail(err)
			default:
				r.unread() // the "<" starts the next document
			}
			return nil, perr
		}
		c, err := r.peek()
		if err != nil {
			return nil, r.fail(r.truncated(start, startLine, err))
		}
		switch c {
		case '?':
			r.buf = r.buf[:0]
			r.buf = append(r.buf, '<')
			if err := r.skipTo("?>", true); err != nil {
				return nil, r.fail(r.truncated(start, startLine, err))
			}
			if bytes.HasPrefix(r.buf, []byte("<?xml ")) || bytes.HasPrefix(r.buf, []byte("<?xml\t")) {
				r.decl = append(r.decl[:0], r.buf...)
			}
		case '!':
			r.buf = append(r.buf[:0], '<')
			if perr, err := r.markup(start, startLine); err != nil {
				return nil, r.fail(err)
			} else if perr != nil {
				return nil, perr
			}
		default:
			return r.document(start, startLine)
		}
	}
}

// fail records a stream-level error; io.EOF stays io.EOF.
func (r *Reader) fail(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		r.err = io.EOF
		return err
	}
	r.err = err
	return err
}

func (r *Reader) truncated(start int64, line int, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		r.index++
		return &ParseError{Document: r.index - 1, Offset: start, Line: line, Path: "/", Err: ErrTruncated}
	}
	return err
}

func (r *Reader) byte() (byte, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, err
	}
	r.off++
	if b == '\n' {
		r.line++
	}
	return b, nil
}

func (r *Reader) unread() {
	if r.br.UnreadByte() == nil {
		r.off--
	}
}

func (r *Reader) peek() (byte, error) {
	p, err := r.br.Peek(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// keep appends p to the document buffer unless an oversized document is being discarded.
func (r *Reader) keep(p []byte) {
	if !r.noKeep {
		r.buf = append(r.buf, p...)
	}
}

// until consumes bytes up to and including delim, keeping them when keep is set.
func (r *Reader) until(delim byte, keep bool) ([]byte, error) {
	for {
		chunk, err := r.br.ReadSlice(delim)
		r.off += int64(len(chunk))
		r.line += bytes.Count(chunk, []byte{'\n'})
		if keep {
			r.keep(chunk)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return chunk, err
	}
}

// skipTo consumes bytes up to and including the terminator term, keeping them when keep is
// set.
func (r *Reader) skipTo(term string, keep bool) error {
	last := term[len(term)-1]
	var tail []byte
	for {
		chunk, err := r.until(last, keep)
		if err != nil {
			return err
		}
		tail = append(tail, chunk...)
		if len(tail) > len(term) {
			tail = tail[len(tail)-len(term):]
		}
		if bytes.HasSuffix(tail, []byte(term)) {
			return nil
		}
	}
}

// markup reads "<!…" after the "<": a comment, CDATA section or document type declaration.
func (r *Reader) markup(start int64, line int) (*ParseError, error) {
	head, _ := r.br.Peek(9)
	switch {
	case bytes.HasPrefix(head, []byte("!--")):
		return nil, r.truncated(start, line, r.skipTo("-->", true))
	case bytes.HasPrefix(head, []byte("![CDATA[")):
		return nil, r.truncated(start, line, r.skipTo("]]>", true))
	}
	// A declaration: <!DOCTYPE name [ internal subset ] >. Quotes and brackets nest.
	var decl []byte
	depth := 0
	var quote byte
	for {
		b, err := r.byte()
		if err != nil {
			return nil, r.truncated(start, line, err)
		}
		if len(decl) < 1<<20 {
			decl = append(decl, b)
		}
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			quote = b
		case b == '[':
			depth++
		case b == ']':
			depth--
		case b == '>' && depth <= 0:
			s := string(decl)
			if strings.Contains(s, "<!ENTITY") || strings.Contains(s, "ENTITY ") || hasWord(s, "SYSTEM") || hasWord(s, "PUBLIC") || !strings.HasPrefix(s, "!DOCTYPE") {
				return &ParseError{Document: r.index, Offset: start, Line: line, Path: "/", Err: ErrDoctype}, nil
			}
			r.keep(nil)
			return nil, nil
		}
	}
}

func hasWord(s, w string) bool {
	for i := strings.Index(s, w); i >= 0; {
		before := i == 0 || s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '\n' || s[i-1] == '\r'
		j := i + len(w)
		after := j == len(s) || s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '"' || s[j] == '\''
		if before && after {
			return true
		}
		k := strings.Index(s[j:], w)
		if k < 0 {
			return false
		}
		i = j + k
	}
	return false
}

// document frames one root element whose "<" has been consumed, then parses it.
func (r *Reader) document(start int64, line int) (*Document, error) {
	idx := r.index
	r.index++
	max := r.MaxDocumentSize
	if max <= 0 {
		max = 64 << 20
	}
	r.buf = append(r.buf[:0], r.decl...)
	declLen := len(r.buf)
	r.buf = append(r.buf, '<')
	r.noKeep = false
	depth := 0
	rootName := ""
	nameEnd := 0
	pe := func(err error) *ParseError {
		return &ParseError{Document: idx, Offset: start, Line: line, Path: "/" + rootName, Err: err}
	}
	for {
		// Just after a "<".
		b, err := r.peek()
		if err != nil {
			return nil, r.fail(pe(ErrTruncated))
		}
		switch b {
		case '/':
			if _, err := r.until('>', true); err != nil {
				return nil, r.fail(pe(ErrTruncated))
			}
			depth--
		case '?':
			if err := r.skipTo("?>", true); err != nil {
				return nil, r.fail(pe(ErrTruncated))
			}
		case '!':
			tagStart, tagLine := r.off-1, r.line
			perr, err := r.markup(tagStart, tagLine)
			if err != nil {
				return nil, r.fail(pe(ErrTruncated))
			}
			if perr != nil {
				perr.Document = idx
				r.skipDocument(depth)
				return nil, perr
			}
		default:
			// A start tag: its name, then attributes up to ">" or "/>", minding quotes.
			var quote byte
			var prev byte
			inName := true
			for {
				c, err := r.byte()
				if err != nil {
					return nil, r.fail(pe(ErrTruncated))
				}
				if !r.noKeep {
					r.buf = append(r.buf, c)
				}
				if inName && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>') {
					inName = false
					if depth == 0 && rootName == "" {
						nameEnd = len(r.buf) - 1
						rootName = string(r.buf[declLen+1 : nameEnd])
					}
				}
				if quote != 0 {
					if c == quote {
						quote = 0
					}
				} else if c == '"' || c == '\'' {
					quote = c
				} else if c == '>' {
					if prev != '/' {
						depth++
					}
					break
				}
				prev = c
			}
		}
		if len(r.buf) > max {
			r.noKeep = true
		}
		if depth <= 0 {
			break
		}
		// Character data up to the next tag.
		if _, err := r.until('<', true); err != nil {
			return nil, r.fail(pe(ErrTruncated))
		}
	}
	if r.noKeep {
		r.noKeep = false
		return nil, pe(ErrTooLarge)
	}
	if local := rootName[strings.IndexByte(rootName, ':')+1:]; local != "ClinicalDocument" {
		return nil, pe(ErrNotClinicalDocument)
	}
	return r.parse(idx, start, line, declLen, nameEnd)
}

// skipDocument discards the rest of the current document, depth levels deep.
func (r *Reader) skipDocument(depth int) {
	r.noKeep = true
	defer func() { r.noKeep = false }()
	for depth > 0 {
		if _, err := r.until('<', false); err != nil {
			return
		}
		b, err := r.peek()
		if err != nil {
			return
		}
		switch b {
		case '/':
			depth--
		case '!', '?':
		default:
			// Count start tags that are not self-closing.
			tag, err := r.until('>', false)
			if err != nil {
				return
			}
			if !bytes.HasSuffix(tag, []byte("/>")) {
				depth++
			}
		}
	}
}

// Namespaces that CDA documents often use without declaring them (the HL7 examples write
// xsi:type with no xmlns:xsi): they are declared on the root element before parsing, so such
// documents still parse.
var knownPrefixes = []struct{ prefix, uri string }{
	{"xsi", "http://www.w3.org/2001/XMLSchema-instance"},
	{"sdtc", "urn:hl7-org:sdtc"},
	{"voc", "urn:hl7-org:v3/voc"},
}

func (r *Reader) parse(idx int, start int64, line, declLen, nameEnd int) (*Document, error) {
	data := r.buf
	var extra []byte
	rootTag := data[nameEnd:]
	if i := bytes.IndexByte(rootTag, '>'); i >= 0 {
		rootTag = rootTag[:i]
	}
	for _, k := range knownPrefixes {
		// Declared on the root, the prefix is bound everywhere; a declaration on some inner
		// elements only (as in the HL7 examples) leaves other uses unbound.
		if bytes.Contains(data, []byte(k.prefix+":")) && !bytes.Contains(rootTag, []byte("xmlns:"+k.prefix+"=")) {
			extra = append(extra, " xmlns:"+k.prefix+"=\""+k.uri+"\""...)
		}
	}
	if extra != nil {
		fixed := make([]byte, 0, len(data)+len(extra))
		fixed = append(fixed, data[:nameEnd]...)
		fixed = append(fixed, extra...)
		data = append(fixed, data[nameEnd:]...)
	}
	root, err := xmlquery.ParseWithOptions(bytes.NewReader(data), xmlquery.ParserOptions{WithLineNumbers: true})
	if err != nil {
		perr := &ParseError{Document: idx, Offset: start, Line: line, Path: "/ClinicalDocument", Err: ErrSyntax}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			perr.Line = line + se.Line - 1
			perr.Err = &syntaxError{msg: se.Msg, cause: se}
		} else {
			perr.Err = &syntaxError{msg: strings.TrimPrefix(err.Error(), "xmlquery: "), cause: err}
		}
		return nil, perr
	}
	d := &Document{root: root, index: idx, offset: start, line: line}
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if n.Type == xmlquery.ElementNode {
			d.elem = n
			break
		}
	}
	normalize(d.elem)
	return d, nil
}

// syntaxError is malformed XML; it wraps ErrSyntax and the parser's own error.
type syntaxError struct {
	msg   string
	cause error
}

func (e *syntaxError) Error() string   { return "malformed XML: " + e.msg }
func (e *syntaxError) Unwrap() []error { return []error{ErrSyntax, e.cause} }

// The CDA namespace. Elements in it match unprefixed names in paths whatever prefix the
// document gives them.
const namespace = "urn:hl7-org:v3"

// normalize clears the prefix of elements in the CDA namespace (a document written with
// <cda:section> matches the path "section").
func normalize(n *xmlquery.Node) {
	for c := n; c != nil; c = c.NextSibling {
		if c.Type != xmlquery.ElementNode {
			continue
		}
		if c.Prefix != "" && c.NamespaceURI == namespace {
			c.Prefix = ""
		}
		if c.FirstChild != nil {
			normalize(c.FirstChild)
		}
		if c == n && n.Parent != nil && n.Parent.Type == xmlquery.DocumentNode {
			break // the root: its siblings are the prolog
		}
	}
}
