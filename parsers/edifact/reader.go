package edifact

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Reader reads the messages of a stream of EDIFACT interchanges, one per [Reader.Read], as
// encoding/csv reads records. It holds at most one message (and one segment of lookahead) in
// memory. Options are exported fields, set before the first Read.
type Reader struct {
	// Strict makes control-count and control-reference mismatches (UNT, UNE, UNZ) and a
	// missing final segment terminator errors. By default they are warnings
	// ([Message.Warnings]): the NHS adaptors accept such interchanges, and 26 real files
	// have them.
	Strict bool
	// MaxMessageSize bounds one message, in bytes; 0 means 64 MiB.
	MaxMessageSize int

	br        *bufio.Reader
	off       int64 // offset of the next byte of br
	line      int   // line of the next byte
	lineStart int64 // offset of the first byte of that line
	lastEnd   int64 // end offset of the last segment given to the caller

	delims  Delims // of the current interchange
	una     *Delims
	cs      charset
	level   byte
	version int

	ic      *Interchange
	grp     *Group
	nIC     int
	nMsg    int
	pending *raw
	resync  bool
	err     error // sticky
	scratch raw
}

// raw is a segment as read: bytes without the terminator, and where it started.
type raw struct {
	b            []byte
	off          int64
	line, col    int
	unterminated bool
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 4096 {
		br = bufio.NewReaderSize(r, 16<<10)
	}
	return &Reader{br: br, line: 1, delims: DefaultDelims.ForVersion(3), level: 'C', version: 3}
}

// InputOffset returns the input offset just after the last segment of the last message
// returned (its UNT, or the UNE/UNZ read with it). It never decreases.
func (r *Reader) InputOffset() int64 { return r.lastEnd }

// Read returns the next message. At the end of the input it returns nil, [io.EOF]. A message
// that cannot be read is returned as a *[ParseError] and the next Read resynchronises at the
// next UNH; errors of the underlying reader and a malformed UNA end the stream and are
// returned by every later Read.
//
// The returned Message does not change when Read is called again.
func (r *Reader) Read() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		rw, err := r.next()
		if err != nil {
			return nil, r.fatal(err)
		}
		if rw == nil {
			return nil, io.EOF
		}
		tag := tagOf(rw.b, r.delims)
		if r.resync && tag != "UNH" && tag != "UNB" && tag != "UNZ" && tag != "UNG" && tag != "UNE" {
			r.lastEnd = max(r.lastEnd, rw.off+int64(len(rw.b)))
			continue
		}
		r.resync = false
		switch tag {
		case "UNB":
			if err := r.startInterchange(rw); err != nil {
				r.resync = true
				return nil, err
			}
		case "UNG":
			seg, _, perr := r.decode(rw, nil, 0)
			if perr != nil {
				r.resync = true
				return nil, perr
			}
			r.grp = &Group{UNG: seg, Ref: seg.Value(5, 1)}
			if r.ic != nil {
				r.ic.groups++
			}
			r.lastEnd = rw.off + int64(len(rw.b))
		case "UNE", "UNZ":
			// A trailer not directly after a message (an empty group or interchange, or
			// after a bad message): checked, and its warnings have no message to go to.
			ws, perr := r.trailer(rw, tag, nil)
			_ = ws
			if perr != nil && r.Strict {
				return nil, perr
			}
		case "UNH":
			return r.readMessage(rw)
		default:
			r.resync = true
			return nil, r.errAt(rw, 0, 0, 0, ErrEnvelope, fmt.Sprintf("%s outside a message (no UNH before it)", printable(tag)))
		}
	}
}

func (r *Reader) fatal(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) && !errors.Is(err, ErrUNA) {
		return err
	}
	r.err = err
	return err
}

func (r *Reader) startInterchange(rw *raw) error {
	// UNB is decoded before its character set is known: leniently, as UNOC.
	r.cs, r.level = csLatin1, 'C'
	d := DefaultDelims
	hasUNA := r.una != nil
	if hasUNA {
		d = *r.una
		r.una = nil
	}
	r.delims = d.ForVersion(3)
	seg, _, perr := r.decode(rw, nil, 0)
	if perr != nil {
		return perr
	}
	r.nIC++
	ic := &Interchange{Index: r.nIC, UNB: seg, HasUNA: hasUNA,
		SyntaxID: seg.Value(1, 1), Sender: seg.Value(2, 1), SenderQual: seg.Value(2, 2),
		Recipient: seg.Value(3, 1), RecipientQual: seg.Value(3, 2), Date: seg.Value(4, 1), Time: seg.Value(4, 2),
		Ref: seg.Value(5, 1), AppRef: seg.Value(7, 1), AckRequest: seg.Value(9, 1), Test: seg.Value(11, 1)}
	ic.Version, _ = strconv.Atoi(seg.Value(1, 2))
	cs, level, ok := charsetOf(ic.SyntaxID)
	if !ok {
		r.ic = ic
		return r.errAt(rw, 0, 1, 1, ErrSyntaxID, strconv.Quote(ic.SyntaxID))
	}
	r.cs, r.level, r.version = cs, level, ic.Version
	r.delims = d.ForVersion(ic.Version)
	ic.Delims = r.delims
	r.ic, r.grp = ic, nil
	r.lastEnd = rw.off + int64(len(rw.b))
	return nil
}

// readMessage reads from the UNH rw to its UNT.
func (r *Reader) readMessage(first *raw) (*Message, error) {
	r.nMsg++
	if r.ic == nil {
		// Messages without an interchange (documentation samples): default service
		// characters, read as UNOC.
		r.ic = &Interchange{Delims: r.delims, SyntaxID: "", Version: r.version}
	}
	r.ic.Messages++
	if r.grp != nil {
		r.grp.Messages++
	}
	m := &Message{Index: r.nMsg, Interchange: r.ic, Group: r.grp, d: &segData{}}
	maxSize := r.MaxMessageSize
	if maxSize <= 0 {
		maxSize = 64 << 20
	}
	size := 0
	rw := first
	for {
		size += len(rw.b)
		if size > maxSize {
			r.resync = true
			return nil, r.errAt(rw, len(m.segs)+1, 0, 0, ErrTooLarge, fmt.Sprintf("over %d bytes", maxSize))
		}
		tag := tagOf(rw.b, r.delims)
		if len(m.segs) > 0 && (tag == "UNH" || tag == "UNB" || tag == "UNZ" || tag == "UNG" || tag == "UNE") {
			// The message was not closed: report it, and let the next Read start here.
			r.pending = r.keep(rw)
			m.d.text = string(m.d.buf)
			return nil, r.errAt(rw, len(m.segs)+1, 0, 0, ErrEnvelope, fmt.Sprintf("%s before the UNT of message %s", tag, m.segs[0].Value(1, 1)))
		}
		seg, ws, perr := r.decode(rw, m.d, len(m.segs)+1)
		if perr != nil {
			perr.Message = m.Index
			r.resync = tag != "UNT"
			return nil, perr
		}
		for _, w := range ws {
			w.Message = m.Index
		}
		m.Warnings = append(m.Warnings, ws...)
		m.segs = append(m.segs, *seg)
		r.lastEnd = rw.off + int64(len(rw.b))
		if rw.unterminated {
			w := r.errAt(rw, len(m.segs), 0, 0, ErrUnterminated, "no segment terminator after the last segment")
			if r.Strict {
				return nil, w
			}
			m.Warnings = append(m.Warnings, w)
		}
		if tag == "UNT" {
			break
		}
		var err error
		rw, err = r.next()
		if err != nil {
			return nil, r.fatal(err)
		}
		if rw == nil {
			return nil, r.errAt(&raw{off: r.off, line: r.line, col: int(r.off-r.lineStart) + 1}, len(m.segs), 0, 0, ErrEnvelope, "input ends before UNT")
		}
	}
	m.d.text = string(m.d.buf)
	m.d.buf = nil
	for i := range m.segs {
		m.segs[i].d = m.d
	}
	// UNT checks (ISO 9735 §9: 0074 counts UNH and UNT; 0062 repeats UNH's).
	unt := &m.segs[len(m.segs)-1]
	var ctl []*ParseError
	if n := unt.Value(1, 1); n != strconv.Itoa(len(m.segs)) {
		ctl = append(ctl, r.errSeg(unt, m.Index, len(m.segs), 1, ErrCount, fmt.Sprintf("UNT says %s segments, found %d", strconv.Quote(n), len(m.segs))))
	}
	if ref := unt.Value(2, 1); ref != m.Ref() {
		ctl = append(ctl, r.errSeg(unt, m.Index, len(m.segs), 2, ErrReference, fmt.Sprintf("UNT reference %s, UNH reference %s", strconv.Quote(ref), strconv.Quote(m.Ref()))))
	}
	// Trailers that follow at once belong to this message's outcome.
	for {
		rw, err := r.next()
		if err != nil {
			return nil, r.fatal(err)
		}
		if rw == nil {
			break
		}
		tag := tagOf(rw.b, r.delims)
		if tag != "UNE" && tag != "UNZ" {
			r.pending = r.keep(rw)
			break
		}
		ws, perr := r.trailer(rw, tag, m)
		if perr != nil {
			ctl = append(ctl, perr)
		}
		ctl = append(ctl, ws...)
		if tag == "UNZ" {
			break
		}
	}
	for _, w := range ctl {
		w.Message = m.Index
	}
	if r.Strict && len(ctl) > 0 {
		return nil, ctl[0]
	}
	m.Warnings = append(m.Warnings, ctl...)
	return m, nil
}

// trailer checks a UNE or UNZ and closes the group or interchange.
func (r *Reader) trailer(rw *raw, tag string, m *Message) ([]*ParseError, *ParseError) {
	seg, _, perr := r.decode(rw, nil, 0)
	r.lastEnd = max(r.lastEnd, rw.off+int64(len(rw.b)))
	if perr != nil {
		return nil, perr
	}
	var ws []*ParseError
	idx := 0
	if m != nil {
		idx = m.Index
	}
	switch tag {
	case "UNE":
		if r.grp == nil {
			return nil, r.errSeg(seg, idx, 0, 0, ErrEnvelope, "UNE without UNG")
		}
		if n := seg.Value(1, 1); n != strconv.Itoa(r.grp.Messages) {
			ws = append(ws, r.errSeg(seg, idx, 0, 1, ErrCount, fmt.Sprintf("UNE says %s messages, found %d", strconv.Quote(n), r.grp.Messages)))
		}
		if ref := seg.Value(2, 1); ref != r.grp.Ref {
			ws = append(ws, r.errSeg(seg, idx, 0, 2, ErrReference, fmt.Sprintf("UNE reference %s, UNG reference %s", strconv.Quote(ref), strconv.Quote(r.grp.Ref))))
		}
		r.grp = nil
	case "UNZ":
		if r.ic == nil || r.ic.UNB == nil {
			r.ic = nil
			return nil, r.errSeg(seg, idx, 0, 0, ErrEnvelope, "UNZ without UNB")
		}
		ic := r.ic
		ic.Closed, ic.UNZCount, ic.UNZRef = true, seg.Value(1, 1), seg.Value(2, 1)
		want, what := ic.Messages, "messages"
		if ic.groups > 0 {
			want, what = ic.groups, "groups"
		}
		if ic.UNZCount != strconv.Itoa(want) {
			ws = append(ws, r.errSeg(seg, idx, 0, 1, ErrCount, fmt.Sprintf("UNZ says %s %s, found %d", strconv.Quote(ic.UNZCount), what, want)))
		}
		if ic.UNZRef != ic.Ref {
			ws = append(ws, r.errSeg(seg, idx, 0, 2, ErrReference, fmt.Sprintf("UNZ reference %s, UNB reference %s", strconv.Quote(ic.UNZRef), strconv.Quote(ic.Ref))))
		}
		r.ic, r.grp = nil, nil
		r.delims, r.cs, r.level, r.version = DefaultDelims.ForVersion(3), csLatin1, 'C', 3
	}
	return ws, nil
}

// keep copies a raw segment so it survives the next read.
func (r *Reader) keep(rw *raw) *raw {
	c := *rw
	c.b = append([]byte(nil), rw.b...)
	return &c
}

func isSpace(c byte) bool { return c == ' ' || c == '\r' || c == '\n' || c == '\t' }

// consume advances the position over b.
func (r *Reader) consume(b []byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		r.line++
		r.lineStart = r.off + int64(i) + 1
		r.off += int64(i) + 1
		b = b[i+1:]
	}
	r.off += int64(len(b))
}

// next returns the next raw segment, nil at the end of the input. A UNA is read here and
// applies to the next interchange.
func (r *Reader) next() (*raw, error) {
	if r.pending != nil {
		p := r.pending
		r.pending = nil
		return p, nil
	}
	for {
		// Skip the line breaks and spaces conventionally written between segments.
		for {
			c, err := r.br.ReadByte()
			if err == io.EOF {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if !isSpace(c) || c == r.delims.Segment {
				_ = r.br.UnreadByte()
				break
			}
			r.consume([]byte{c})
		}
		head, _ := r.br.Peek(3)
		if string(head) == "UNA" {
			b, _ := r.br.Peek(9)
			d, err := parseUNA(b[3:])
			if err != nil {
				pe := &ParseError{Interchange: r.nIC + 1, Offset: r.off + 3, Line: r.line, Column: int(r.off-r.lineStart) + 4, Tag: "UNA", Err: ErrUNA, Detail: strings.TrimPrefix(err.Error(), ErrUNA.Error()+": ")}
				r.consume(b)
				_, _ = r.br.Discard(len(b))
				return nil, pe
			}
			r.una = &d
			r.delims = d.ForVersion(3)
			r.consume(b)
			_, _ = r.br.Discard(len(b))
			continue
		}
		break
	}
	rw := &r.scratch
	rw.b, rw.unterminated = rw.b[:0], false
	rw.off, rw.line, rw.col = r.off, r.line, int(r.off-r.lineStart)+1
	term, rel := r.delims.Segment, r.delims.Release
	for {
		chunk, err := r.br.ReadSlice(term)
		rw.b = append(rw.b, chunk...)
		if err == bufio.ErrBufferFull {
			if len(rw.b) > 64<<20 && (r.MaxMessageSize <= 0 || len(rw.b) > r.MaxMessageSize) {
				r.consume(rw.b)
				return nil, &ParseError{Interchange: r.nIC, Offset: rw.off, Line: rw.line, Column: rw.col, Err: ErrTooLarge, Detail: "segment too long"}
			}
			continue
		}
		if err == io.EOF {
			r.consume(rw.b)
			if len(bytes.TrimSpace(rw.b)) == 0 {
				return nil, nil
			}
			if n := trailing(rw.b, rel); n%2 == 1 {
				return nil, &ParseError{Interchange: r.nIC, Offset: r.off - 1, Line: r.line, Column: int(r.off - r.lineStart), Err: ErrUnterminated, Detail: "release character at the end of the input"}
			}
			rw.b = bytes.TrimRight(rw.b, " \r\n\t")
			rw.unterminated = true
			return rw, nil
		}
		if err != nil {
			return nil, err
		}
		// An odd number of release characters before the terminator escapes it.
		if rel != 0 && trailing(rw.b[:len(rw.b)-1], rel)%2 == 1 {
			continue
		}
		break
	}
	r.consume(rw.b)
	rw.b = rw.b[:len(rw.b)-1]
	return rw, nil
}

// trailing counts the release characters at the end of b.
func trailing(b []byte, rel byte) int {
	if rel == 0 {
		return 0
	}
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == rel; i-- {
		n++
	}
	return n
}

// tagOf returns the segment tag of a raw segment (its bytes up to the first separator).
func tagOf(b []byte, d Delims) string {
	for i, c := range b {
		if c == d.Element || c == d.Component {
			b = b[:i]
			break
		}
	}
	switch string(b) { // common tags without allocation
	case "UNH":
		return "UNH"
	case "UNT":
		return "UNT"
	case "UNB":
		return "UNB"
	case "UNZ":
		return "UNZ"
	case "UNG":
		return "UNG"
	case "UNE":
		return "UNE"
	}
	return string(b)
}

func validTag(t string) bool {
	if len(t) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func printable(s string) string {
	if len(s) > 12 {
		s = s[:12] + "…"
	}
	return strconv.Quote(s)
}

// posIn returns the offset, line and column of byte i of rw.
func posIn(rw *raw, i int) (int64, int, int) {
	line, col := rw.line, rw.col
	for j := 0; j < i && j < len(rw.b); j++ {
		if rw.b[j] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return rw.off + int64(i), line, col
}

func (r *Reader) errAt(rw *raw, segPos, elem, comp int, err error, detail string) *ParseError {
	return &ParseError{Interchange: r.nIC, Message: r.curMsg(segPos), Segment: segPos, Tag: tagOf(rw.b, r.delims), Element: elem, Component: comp,
		Offset: rw.off, Line: rw.line, Column: rw.col, Err: err, Detail: detail}
}

func (r *Reader) curMsg(segPos int) int {
	if segPos > 0 {
		return r.nMsg
	}
	return 0
}

func (r *Reader) errSeg(s *Segment, msg, segPos, elem int, err error, detail string) *ParseError {
	return &ParseError{Interchange: r.nIC, Message: msg, Segment: segPos, Tag: s.Tag, Element: elem, Offset: s.Offset, Line: s.Line, Column: s.Column, Err: err, Detail: detail}
}

// decode splits a raw segment into its elements and components, removing release
// characters and decoding the character set, into d (a fresh one when nil). segPos is the
// segment's position in its message (0 outside one), for errors.
//
// Policy (ISO 9735 §7.3 allows the release character only before a service character): a
// release character before any other character is kept as data with that character ("?a"
// reads "?a") and reported as a warning, as php-edifact does.
func (r *Reader) decode(rw *raw, d *segData, segPos int) (*Segment, []*ParseError, *ParseError) {
	if d == nil {
		d = &segData{}
		defer func() { d.text = string(d.buf); d.buf = nil }()
	}
	dl := r.delims
	b := rw.b
	i := 0
	for i < len(b) && b[i] != dl.Element && b[i] != dl.Component {
		i++
	}
	tag := string(b[:i])
	if !validTag(tag) {
		return nil, nil, &ParseError{Interchange: r.nIC, Message: r.curMsg(segPos), Segment: segPos, Offset: rw.off, Line: rw.line, Column: rw.col, Err: ErrTag, Detail: printable(tag)}
	}
	if i < len(b) && b[i] == dl.Component {
		// A composite tag (ISO 9735 v4 S.0: tag:occurrence…): skip the extra components.
		for i < len(b) && b[i] != dl.Element {
			i++
		}
	}
	seg := &Segment{Tag: tag, Offset: rw.off, Line: rw.line, Column: rw.col, d: d, e0: int32(len(d.elems))}
	var warns []*ParseError
	if i >= len(b) {
		return seg, nil, nil
	}
	i++ // the element separator
	pos, rep := int32(1), int32(1)
	compStart := int32(len(d.buf))
	first := int32(len(d.comps))
	endComp := func() {
		d.comps = append(d.comps, span{compStart, int32(len(d.buf))})
		compStart = int32(len(d.buf))
	}
	endElem := func() {
		endComp()
		d.elems = append(d.elems, elemRange{pos: pos, rep: rep, first: first, count: int32(len(d.comps)) - first})
		first = int32(len(d.comps))
	}
	comp := int32(1)
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c == dl.Release && dl.Release != 0:
			if i+1 >= len(b) {
				off, line, col := posIn(rw, i)
				return nil, nil, &ParseError{Interchange: r.nIC, Message: r.curMsg(segPos), Segment: segPos, Tag: tag, Element: int(pos), Component: int(comp), Offset: off, Line: line, Column: col, Err: ErrUnterminated, Detail: "release character before the segment terminator"}
			}
			n := b[i+1]
			if n == dl.Component || n == dl.Element || n == dl.Release || n == dl.Segment || (n == dl.Repetition && dl.Repetition != 0) {
				d.buf = append(d.buf, n)
			} else {
				off, line, col := posIn(rw, i)
				warns = append(warns, &ParseError{Interchange: r.nIC, Segment: segPos, Tag: tag, Element: int(pos), Component: int(comp), Offset: off, Line: line, Column: col, Err: ErrCharacter, Detail: "release character before an ordinary character (kept as data)"})
				d.buf = append(d.buf, c)
				d.buf = appendDecoded(d.buf, n, r.cs)
			}
			i++
		case c == dl.Component:
			endComp()
			comp++
		case c == dl.Element:
			endElem()
			pos, rep, comp = pos+1, 1, 1
		case c == dl.Repetition && dl.Repetition != 0:
			endElem()
			rep, comp = rep+1, 1
		default:
			if !allowed(r.level, c) {
				off, line, col := posIn(rw, i)
				return nil, nil, &ParseError{Interchange: r.nIC, Message: r.curMsg(segPos), Segment: segPos, Tag: tag, Element: int(pos), Component: int(comp), Offset: off, Line: line, Column: col, Err: ErrCharacter, Detail: fmt.Sprintf("byte 0x%02X under %s", c, levelName(r.level))}
			}
			d.buf = appendDecoded(d.buf, c, r.cs)
		}
	}
	endElem()
	seg.ne = int32(len(d.elems)) - seg.e0
	seg.nPos = pos
	return seg, warns, nil
}

func levelName(l byte) string {
	switch l {
	case 'A', 'B', 'C':
		return "UNO" + string(l)
	}
	return "UTF-8"
}
