package hl7v2

import (
	"bytes"
	"errors"
	"io"
)

var errBadRead = errors.New("hl7v2: underlying reader returned an invalid count")

// A Reader reads HL7 v2 messages from a stream: plain files with any segment terminators,
// MLLP-framed streams and FHS/BHS batch files, in any mix (see the package documentation).
//
// Options are exported fields, set before the first Read; their zero values are the
// defaults.
type Reader struct {
	// MaxMessageSize bounds the size of one message in bytes, from the first byte of its MSH
	// to the end of its last segment as found in the input. 0 means 64 MiB; values above
	// 1 GiB mean 1 GiB. A larger message is returned as a ParseError wrapping
	// ErrMessageTooLarge, and the next Read resynchronises at the next MSH. The Reader's own
	// buffer holds one line (and a message its copy), so memory stays flat on any stream.
	MaxMessageSize int
	// ReuseBuffers makes Read reuse one Message and its buffers: the Message and everything
	// obtained from it (including strings from Text methods, which then copy) are valid only
	// until the next Read. Without it every Message is independent and immutable.
	ReuseBuffers bool

	src    io.Reader
	srcErr error // first error of src, io.EOF included
	err    error // sticky error returned by Read

	buf            []byte
	pos, end, keep int   // read position, end of data; bytes from keep on are kept by fill
	base           int64 // input offset of buf[0]

	line    int   // 1-based line of the byte at pos
	lineOff int64 // input offset where that line starts
	crEnd   int64 // input offset just after the last CR that ended a line

	cls [256]uint8 // byte classes of the scanning loop
	fs  byte       // field separator in cls

	inFrame   bool // inside an MLLP frame
	resync    bool // skip to the next message boundary before reading
	skipFirst bool // ... starting with the rest of the current line
	owned     bool // Parse: msg is returned as is
	nmsg      int  // messages started (MSH seen)
	consumed  int64
	msg       *Message // the message being read
	fhs, bhs  *Message // batch envelope headers in force
}

// NewReader returns a Reader that reads from r. The Reader buffers its input and reads from
// r only when it needs more bytes; after an MLLP frame's end it does not read further before
// returning the message, so it can answer on a socket.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{src: r, line: 1, crEnd: -1}
	rd.initClasses()
	return rd
}

// Reset makes r read from src as if it were new, keeping its options and its buffers.
func (r *Reader) Reset(src io.Reader) {
	buf, msg := r.buf, r.msg
	*r = Reader{MaxMessageSize: r.MaxMessageSize, ReuseBuffers: r.ReuseBuffers,
		src: src, buf: buf[:cap(buf)], msg: msg, line: 1, crEnd: -1}
	r.initClasses()
}

// Parse parses the first message in data and returns it. Bytes after that message are
// ignored (use a [Reader] for streams); leading blank lines, a byte order mark, MLLP framing
// and batch header segments are skipped as by a Reader. Data with no message gives a
// ParseError wrapping ErrNoMSH. The Message does not share memory with data. Messages are
// limited to 1 GiB.
func Parse(data []byte) (*Message, error) {
	r := Reader{buf: data, end: len(data), line: 1, crEnd: -1, owned: true, MaxMessageSize: maxMessageSizeLimit}
	r.initClasses()
	// Size the message's slices once: the bytes can only shrink (CRLF), the field
	// separators are nearly always '|', and segments are at most the line ends plus one.
	r.msg = &Message{
		data: make([]byte, 0, len(data)+1),
		seps: make([]int32, 0, bytes.Count(data, []byte{'|'})+32), // see scanLine
		segs: make([]segment, 0, bytes.Count(data, []byte{'\r'})+bytes.Count(data, []byte{'\n'})+1),
	}
	m, err := r.read()
	if err == io.EOF {
		return nil, &ParseError{Offset: int64(len(data)), Line: r.line, Column: int(r.offset()-r.lineOff) + 1, Err: ErrNoMSH}
	}
	return m, err
}

// Read returns the next message. At the end of the input it returns nil, [io.EOF].
//
// For a message that cannot be read it returns nil and a *[ParseError]; the next Read goes
// on with the next message (after an MSH, FHS, BHS, BTS or FTS segment, an MLLP frame
// boundary or a byte order mark). When the underlying reader fails, Read returns a
// *ParseError wrapping that error, and so does every later Read.
func (r *Reader) Read() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.msg == nil {
		r.msg = new(Message)
	}
	m, err := r.read()
	if pe, ok := err.(*ParseError); ok && pe.Err == r.srcErr {
		r.err = err
	}
	return m, err
}

// InputOffset returns the input offset just past the bytes consumed by the last Read: the
// message with its segment terminators, MLLP end bytes and any blank lines that followed it.
// It never decreases.
func (r *Reader) InputOffset() int64 { return r.consumed }

// FileHeader returns the FHS segment of the batch file that holds the last message read,
// and whether there is one. BatchHeader does the same for the BHS segment. Their fields are
// numbered as in MSH (FHS-1 is the field separator). They stay valid when a later header
// replaces them, whatever ReuseBuffers says. A BTS segment ends the batch and an FTS the
// file: messages after them have no header. The trailers themselves are skipped.
func (r *Reader) FileHeader() (Segment, bool) {
	if r.fhs == nil {
		return Segment{}, false
	}
	return r.fhs.Segment(0), true
}

// BatchHeader returns the BHS segment of the batch that holds the last message read, and
// whether there is one. See [Reader.FileHeader].
func (r *Reader) BatchHeader() (Segment, bool) {
	if r.bhs == nil {
		return Segment{}, false
	}
	return r.bhs.Segment(0), true
}

// perr returns a ParseError for the byte at input offset off, which is on the current line.
func (r *Reader) perr(msg int, off int64, err error) *ParseError {
	return &ParseError{Message: msg, Offset: off, Line: r.line, Column: int(off-r.lineOff) + 1, Err: err}
}

// ioErr returns the error for the end of input at r.pos: nil for io.EOF.
func (r *Reader) ioErr(msg int) error {
	if r.srcErr == nil || r.srcErr == io.EOF {
		return nil
	}
	return r.perr(msg, r.offset(), r.srcErr)
}

func (r *Reader) read() (*Message, error) {
	if r.resync {
		r.resync = false
		if r.skipFirst {
			r.skipFirst = false
			r.skipLine()
		}
		for {
			r.skipGap(true)
			if b := r.peek(6); len(b) == 0 || isBoundary(b) {
				break
			}
			r.skipLine()
		}
	}
	for {
		r.skipGap(true)
		b := r.peek(4)
		if len(b) == 0 {
			if err := r.ioErr(r.nmsg); err != nil {
				return nil, err
			}
			if r.inFrame {
				r.inFrame = false
				return nil, r.perr(r.nmsg, r.offset(), ErrBadMLLPFrame)
			}
			r.consumed = r.offset()
			return nil, io.EOF
		}
		switch {
		case b[0] == mllpStart:
			r.pos++
			r.inFrame = true
			continue
		case b[0] == mllpEnd:
			r.pos++
			r.endFrame()
			continue
		case isBOM(b):
			r.pos += 3
			continue
		}
		switch code := nameCode(b); code {
		case codeMSH:
			return r.readMessage()
		case codeFHS, codeBHS:
			if err := r.readHeader(code); err != nil {
				return nil, err
			}
			continue
		case codeBTS, codeFTS:
			if code == codeFTS {
				r.fhs = nil
			}
			r.bhs = nil
			r.skipLine()
			continue
		}
		pe := r.perr(r.nmsg, r.offset(), ErrNoMSH)
		if segStart(b, 0) {
			pe.Segment = string(b[:3])
		} else {
			pe.Found = r.lineStart()
		}
		r.resync, r.skipFirst = true, true
		r.consumed = r.offset()
		return nil, pe
	}
}

// isBoundary reports whether the line starting with b starts a message, a batch segment
// or an MLLP frame, or is one's end.
func isBoundary(b []byte) bool {
	if b[0] == mllpStart || b[0] == mllpEnd || isBOM(b) {
		return true
	}
	switch nameCode(b) {
	case codeMSH, codeFHS, codeBHS, codeBTS, codeFTS:
		return true
	}
	return false
}

// segStart reports whether b starts a segment: a name followed by the field separator fs,
// a line end, a 0x1C, or the end of the input. With fs 0, any delimiter character will do.
func segStart(b []byte, fs byte) bool {
	if nameCode(b) < 0 {
		return false
	}
	if len(b) == 3 {
		return true
	}
	switch c := b[3]; c {
	case '\r', '\n', mllpEnd:
		return true
	default:
		return c == fs || (fs == 0 && delimOK(c))
	}
}

// lineStart returns the start of the line at r.pos, for an error message.
func (r *Reader) lineStart() string {
	b := r.peek(16)
	for i, c := range b {
		if c == '\r' || c == '\n' || c == mllpEnd || (r.fs != 0 && c == r.fs) {
			return string(b[:i])
		}
	}
	return string(b)
}

// endFrame records the end of an MLLP frame, after its 0x1C, and consumes the 0x0D that
// should follow if it has arrived (Read never waits for input after a frame).
func (r *Reader) endFrame() {
	r.inFrame = false
	if r.pos < r.end && r.buf[r.pos] == '\r' {
		r.pos++
		r.newLine(true)
	}
}

// readHeader reads an FHS or BHS segment at r.pos.
func (r *Reader) readHeader(code int) error {
	name := nameOf(uint16(code))
	off := r.offset()
	b := r.peek(4)
	if len(b) < 4 {
		if err := r.ioErr(r.nmsg); err != nil {
			return err
		}
		r.resync, r.skipFirst = true, true
		return &ParseError{Message: r.nmsg, Offset: r.offset() + int64(len(b)), Line: r.line,
			Column: int(off-r.lineOff) + 1 + len(b), Segment: name, Field: 1, Err: ErrTruncated}
	}
	h := new(Message)
	d, _, pe := r.readFirstLine(h, code, r.nmsg)
	if pe != nil {
		pe.Segment = name
		return pe
	}
	h.delims = d
	r.pos += int(h.segs[0].end)
	if code == codeFHS {
		r.fhs, r.bhs = h, nil
	} else {
		r.bhs = h
	}
	return nil
}

// readFirstLine reads the MSH, FHS or BHS line at r.pos into m and checks its encoding
// characters. It leaves r.pos at the line start; the segment's end is the line length.
func (r *Reader) readFirstLine(m *Message, code, index int) (Delimiters, lineEnd, *ParseError) {
	off := r.offset()
	fs := r.buf[r.pos+3]
	if !delimOK(fs) {
		r.resync, r.skipFirst = true, true
		pe := r.perr(index, off+3, ErrBadEncodingChars)
		pe.Field, pe.Found = 1, string(fs)
		return Delimiters{}, 0, pe
	}
	r.setFS(fs)
	r.keep = r.pos
	var n int
	var end lineEnd
	m.seps, n, end = r.scanLine(m.seps[:0], 0, r.maxSize())
	if end == endTooLarge {
		r.resync, r.skipFirst = true, true
		return Delimiters{}, 0, r.perr(index, off+int64(r.maxSize()), ErrMessageTooLarge)
	}
	if end == endEOF {
		if err := r.ioErr(index); err != nil {
			return Delimiters{}, 0, err.(*ParseError)
		}
	}
	line := r.buf[r.pos : r.pos+n]
	encEnd := n
	if len(m.seps) > 1 {
		encEnd = int(m.seps[1])
	}
	enc := line[4:encEnd]
	d, bad := parseEncoding(fs, enc)
	if bad >= 0 {
		r.resync, r.skipFirst = true, true
		err := ErrBadEncodingChars
		if end == endEOF && len(m.seps) == 1 && len(enc) < 4 {
			err = ErrTruncated
		}
		pe := r.perr(index, off+4+int64(bad), err)
		pe.Field, pe.Found = 2, string(enc)
		return Delimiters{}, 0, pe
	}
	m.data = append(m.data, line...)
	m.data = append(m.data, '\r')
	m.segs = append(m.segs, segment{
		start: 0, end: int32(n), s0: 0, ns: int32(len(m.seps)),
		off: off, line: int32(r.line), col: int32(off-r.lineOff) + 1,
		code: uint16(code), hdr: true,
	})
	return d, end, nil
}

// readMessage reads the message whose MSH starts at r.pos.
func (r *Reader) readMessage() (*Message, error) {
	m := r.msg
	m.reset()
	m.index = r.nmsg
	r.nmsg++
	m.offset, m.line = r.offset(), r.line
	maxSize := r.maxSize()
	fail := func(pe *ParseError) (*Message, error) {
		r.consumed = max(r.consumed, r.offset())
		return nil, pe
	}

	if b := r.peek(4); len(b) < 4 {
		if err := r.ioErr(m.index); err != nil {
			return fail(err.(*ParseError))
		}
		r.resync, r.skipFirst = true, true
		pe := r.perr(m.index, r.offset()+int64(len(b)), ErrTruncated)
		pe.Segment, pe.Field = "MSH", 1
		return fail(pe)
	}
	d, end, pe := r.readFirstLine(m, codeMSH, m.index)
	if pe != nil {
		pe.Segment = "MSH"
		return fail(pe)
	}
	m.delims = d
	fs := d.Field
	n := int(m.segs[0].end)
	crStyle := end == endCR // a bare LF in a CR-terminated message may be data
	if cut := r.cutGlued(m, 0, 0, n); cut >= 0 {
		n, end = cut, endGlued
		m.data = append(m.data[:n], '\r')
		m.segs[0].end, m.segs[0].ns = int32(n), int32(len(m.seps))
	}

	for {
		r.pos += n
		switch end {
		case endFS:
			r.pos++
			r.endFrame()
			return r.done(m)
		case endBOM, endGlued:
			return r.done(m)
		case endEOF:
			if err := r.ioErr(m.index); err != nil {
				return fail(err.(*ParseError))
			}
			if r.inFrame {
				r.inFrame = false
				return fail(r.perr(m.index, r.offset(), ErrBadMLLPFrame))
			}
			return r.done(m)
		case endTooLarge:
			r.resync, r.skipFirst = true, true
			pe := r.perr(m.index, max(m.offset+int64(maxSize), r.lineOff), ErrMessageTooLarge)
			pe.Segment, pe.SegmentIndex = nameOf(m.segs[len(m.segs)-1].code), len(m.segs)-1
			return fail(pe)
		}

		// Between segments: r.pos is at the terminator of the last one.
		r.keep = r.pos
		hard := r.skipGap(false)
		b := r.peek(6)
		if len(b) == 0 {
			n, end = 0, endEOF
			continue
		}
		switch {
		case b[0] == mllpEnd:
			n, end = 0, endFS
			continue
		case b[0] == mllpStart:
			if r.inFrame {
				r.inFrame = false
				return fail(r.perr(m.index, r.offset(), ErrBadMLLPFrame))
			}
			return r.done(m)
		case isBoundary(b):
			return r.done(m)
		}
		limit := maxSize - int(r.offset()-m.offset)
		if segStart(b, fs) {
			code := uint16(nameCode(b)) // before scanLine, which may move the buffer under b
			r.keep = r.pos
			start, s0 := len(m.data), len(m.seps)
			off := r.offset()
			m.seps, n, end = r.scanLine(m.seps, int32(start), limit)
			if end == endTooLarge {
				m.segs = append(m.segs, segment{code: code})
				continue
			}
			if cut := r.cutGlued(m, s0, int32(start), n); cut >= 0 {
				n, end = cut, endGlued
			}
			m.data = append(m.data, r.buf[r.pos:r.pos+n]...)
			m.data = append(m.data, '\r')
			m.segs = append(m.segs, segment{
				start: int32(start), end: int32(start + n), s0: int32(s0), ns: int32(len(m.seps) - s0),
				off: off, line: int32(r.line), col: int32(off-r.lineOff) + 1,
				code: code,
			})
			continue
		}
		if crStyle && !hard {
			// A line that is no segment after a bare LF, in a message whose segments end
			// with CR: the LF is data (HL7 ends segments with CR only, §2.5.1). The last
			// segment goes on, with the line break and any blank lines kept as read.
			m.data = append(m.data[:len(m.data)-1], r.buf[r.keep:r.pos]...)
			s0 := len(m.seps)
			m.seps, n, end = r.scanLine(m.seps, int32(len(m.data)), limit)
			if end == endTooLarge {
				continue
			}
			if cut := r.cutGlued(m, s0, int32(len(m.data)), n); cut >= 0 {
				n, end = cut, endGlued
			}
			m.data = append(m.data, r.buf[r.pos:r.pos+n]...)
			m.data = append(m.data, '\r')
			last := &m.segs[len(m.segs)-1]
			last.end = int32(len(m.data) - 1)
			last.ns = int32(len(m.seps)) - last.s0
			last.cont = true
			continue
		}
		r.resync, r.skipFirst = true, true
		pe := r.perr(m.index, r.offset(), ErrBadSegmentName)
		pe.SegmentIndex, pe.Found = len(m.segs), r.lineStart()
		return fail(pe)
	}
}

// cutGlued looks for an MSH glued to the end of the line of length n at r.pos, whose field
// separators are m.seps[s0:] (plus base). If there is one, it drops the separators after
// the cut and returns the line's length up to the MSH; otherwise it returns -1.
func (r *Reader) cutGlued(m *Message, s0 int, base int32, n int) int {
	line := r.buf[r.pos : r.pos+n]
	if needle := [4]byte{'M', 'S', 'H', m.delims.Field}; n < 8 || bytes.Index(line[1:], needle[:]) < 0 {
		return -1 // the common case, found fast
	}
	seps := m.seps[s0:]
	cut := gluedMSH(line, seps, base, m.delims.Field)
	if cut < 0 {
		return -1
	}
	k := 0
	for k < len(seps) && seps[k] < base+int32(cut) {
		k++
	}
	m.seps = m.seps[:s0+k]
	return cut
}

// done finishes a message read without error.
func (r *Reader) done(m *Message) (*Message, error) {
	r.consumed = max(r.consumed, r.offset())
	switch {
	case r.owned:
		return m, nil
	case r.ReuseBuffers:
		m.shared = true
		return m, nil
	}
	c := m.clone()
	if cap(m.data) > 1<<20 && len(m.data) < cap(m.data)/8 {
		r.msg = new(Message) // do not keep the memory of one large message forever
	}
	return c, nil
}
