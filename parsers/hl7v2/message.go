package hl7v2

import (
	"sort"
	"unsafe"
)

// A Message is one HL7 v2 message: an MSH segment and the segments after it. It holds the
// message's bytes with segment terminators normalised to '\r', and the offsets of its
// segments and fields; components and subcomponents are found on access by scanning the
// field. A Message is immutable and safe for concurrent reads, unless it came from a
// [Reader] with ReuseBuffers set, in which case it is valid only until the next Read.
type Message struct {
	data   []byte    // segments, each followed by '\r'
	segs   []segment // one per segment
	seps   []int32   // offsets in data of field separators, segment after segment
	delims Delimiters
	index  int
	offset int64
	line   int
	shared bool // data is reused by the Reader: Text must copy
}

// segment is the index entry of one segment.
type segment struct {
	start, end int32 // data[start:end] is the segment without its terminator
	s0, ns     int32 // seps[s0:s0+ns] are its field separators
	off        int64 // input offset of the segment's first byte
	line, col  int32 // input line and column of that byte
	code       uint16
	hdr        bool // MSH, FHS or BHS: field 1 is the separator itself
	cont       bool // continued by lines after a bare LF: the segment holds '\n'
}

func (m *Message) reset() {
	m.data = m.data[:0]
	m.segs = m.segs[:0]
	m.seps = m.seps[:0]
	m.delims = Delimiters{}
	m.index, m.offset, m.line = 0, 0, 0
}

// clone returns a copy of m whose slices are exactly sized and owned by it.
func (m *Message) clone() *Message {
	c := &Message{delims: m.delims, index: m.index, offset: m.offset, line: m.line}
	c.data = append(make([]byte, 0, len(m.data)), m.data...)
	c.segs = append(make([]segment, 0, len(m.segs)), m.segs...)
	c.seps = append(make([]int32, 0, len(m.seps)), m.seps...)
	return c
}

// Delimiters returns the message's encoding characters, read from MSH-1 and MSH-2.
func (m *Message) Delimiters() Delimiters { return m.delims }

// Index returns the 0-based position of the message in its input stream. Every MSH counts,
// including those of messages that could not be read; batch segments (FHS, BHS, BTS, FTS)
// are not messages. A message from [Parse] has index 0.
func (m *Message) Index() int { return m.index }

// Offset returns the byte offset of the message's MSH in the input stream.
func (m *Message) Offset() int64 { return m.offset }

// Line returns the 1-based input line of the message's MSH. CR, LF and CRLF each end a line.
func (m *Message) Line() int { return m.line }

// Bytes returns the message's segments as read, each followed by '\r' (the HL7 segment
// terminator, v2.5.1 §2.5.1), whatever the input used. MLLP framing bytes, byte order marks
// and blank lines are not included. The caller must not modify the result.
func (m *Message) Bytes() []byte { return m.data[:len(m.data):len(m.data)] }

// NumSegments returns the number of segments in the message, MSH included.
func (m *Message) NumSegments() int { return len(m.segs) }

// Segment returns segment i (0-based; the MSH is segment 0). Out of range, it returns the
// zero Segment, which has no name and no fields.
func (m *Message) Segment(i int) Segment {
	if i < 0 || i >= len(m.segs) {
		return Segment{}
	}
	return Segment{m: m, i: int32(i)}
}

// SegmentOffset returns the byte offset of segment i in the input stream, or -1 if i is out
// of range.
func (m *Message) SegmentOffset(i int) int64 {
	if i < 0 || i >= len(m.segs) {
		return -1
	}
	return m.segs[i].off
}

// InputPosition returns where a byte of the message (an offset as returned by the Offset
// methods of [Segment], [Field], [Rep], [Component] and [Subcomponent]) was in the input
// stream: its byte offset, 1-based line and 1-based column. It returns -1, 0, 0 for an
// offset outside the message.
func (m *Message) InputPosition(off int) (offset int64, line, column int) {
	if off < 0 || off >= len(m.data) {
		return -1, 0, 0
	}
	i := sort.Search(len(m.segs), func(i int) bool { return int(m.segs[i].start) > off }) - 1
	if i < 0 {
		return -1, 0, 0
	}
	s := &m.segs[i]
	rel := off - int(s.start)
	line, column = int(s.line), int(s.col)+rel
	// A segment holds line breaks only where a line continued it (see the package doc).
	if s.cont {
		for k := int(s.start); k < off; k++ {
			if m.data[k] == '\n' {
				line++
				column = off - k
			}
		}
	}
	return s.off + int64(rel), line, column
}

// Find returns the n-th (1-based) segment named name, and whether there is one.
func (m *Message) Find(name string, n int) (Segment, bool) {
	if len(name) != 3 || n < 1 {
		return Segment{}, false
	}
	code := nameCode(unsafe.Slice(unsafe.StringData(name), 3))
	if code < 0 {
		return Segment{}, false
	}
	for i := range m.segs {
		if m.segs[i].code == uint16(code) {
			if n--; n == 0 {
				return Segment{m: m, i: int32(i)}, true
			}
		}
	}
	return Segment{}, false
}

// Get returns the decoded text at path p, or "" if the message has nothing there. An omitted
// segment repetition or field repetition means the first; an omitted component means the
// whole repetition and an omitted subcomponent the whole component, with escapes decoded
// and inner separators kept (see [Rep.Text]). A path without a field returns "".
func (m *Message) Get(p Path) string {
	s, ok := m.Find(p.Segment, max(p.SegmentRep, 1))
	if !ok || p.Field < 1 {
		return ""
	}
	r := s.Field(p.Field).Rep(max(p.Rep, 1))
	if p.Component < 1 {
		return r.Text()
	}
	c := r.Component(p.Component)
	if p.Subcomponent < 1 {
		return c.Text()
	}
	return c.Sub(p.Subcomponent).Text()
}

// Type returns the message type from MSH-9: message code (MSH-9.1), trigger event (MSH-9.2)
// and message structure (MSH-9.3), decoded.
func (m *Message) Type() (code, event, structure string) {
	r := m.Segment(0).Field(9).Rep(1)
	return r.Component(1).Text(), r.Component(2).Text(), r.Component(3).Text()
}

// ControlID returns the message control ID, MSH-10, decoded.
func (m *Message) ControlID() string {
	return m.Segment(0).Field(10).Rep(1).Text()
}

// Version returns the version ID, MSH-12.1, decoded ("2.5.1").
func (m *Message) Version() string {
	return m.Segment(0).Field(12).Rep(1).Component(1).Text()
}

// A Segment is one segment of a [Message]. It is a small value; obtaining one does not
// allocate. The zero Segment has no name and no fields.
type Segment struct {
	m *Message
	i int32
}

func (s Segment) seg() *segment { return &s.m.segs[s.i] }

// Name returns the segment name ("PID", "ZPI"). It never allocates.
func (s Segment) Name() string {
	if s.m == nil {
		return ""
	}
	return nameOf(s.seg().code)
}

// Index returns the 0-based index of the segment in its message.
func (s Segment) Index() int { return int(s.i) }

// Raw returns the segment's bytes without the terminator. The caller must not modify them.
func (s Segment) Raw() []byte {
	if s.m == nil {
		return nil
	}
	g := s.seg()
	return s.m.data[g.start:g.end:g.end]
}

// Offset returns the byte offset of the segment within [Message.Bytes].
func (s Segment) Offset() int {
	if s.m == nil {
		return 0
	}
	return int(s.seg().start)
}

// NumFields returns the number of the last field present: "PID|1||" has 3 fields, "PV1"
// none. In MSH (and FHS, BHS) the field separator itself is field 1, so "MSH|^~\&|APP" has
// 3 fields.
func (s Segment) NumFields() int {
	if s.m == nil {
		return 0
	}
	g := s.seg()
	if g.hdr {
		return int(g.ns) + 1
	}
	return int(g.ns)
}

// Field returns field n (1-based) of the segment; past the last field it returns an empty
// Field. In MSH (and FHS, BHS), field 1 is the field separator and field 2 the encoding
// characters, both returned raw: they are never unescaped or split into components.
func (s Segment) Field(n int) Field {
	if s.m == nil || n < 1 {
		return Field{}
	}
	g := s.seg()
	seps := s.m.seps[g.s0 : g.s0+g.ns]
	start, end, lit := g.end, g.end, false
	k := n // index in seps of the separator after the field
	if g.hdr {
		switch n {
		case 1:
			return Field{span{m: s.m, seg: s.i, field: 1, start: seps[0], end: seps[0] + 1, lit: true}}
		case 2:
			lit = true
		}
		k = n - 1
	}
	if k-1 < len(seps) {
		start = seps[k-1] + 1
		if k < len(seps) {
			end = seps[k]
		}
	}
	// Build the result in one go: filling a struct field by field and then copying it
	// costs a store-forwarding stall per call.
	return Field{span{m: s.m, seg: s.i, field: int32(n), start: start, end: end, lit: lit}}
}

// Path returns the segment's location, "PID" or "OBX[3]" for the third OBX.
func (s Segment) Path() Path {
	if s.m == nil {
		return Path{}
	}
	code := s.seg().code
	n := 0
	for i := 0; i <= int(s.i); i++ {
		if s.m.segs[i].code == code {
			n++
		}
	}
	p := Path{Segment: nameOf(code)}
	if n > 1 {
		p.SegmentRep = n
	}
	return p
}
