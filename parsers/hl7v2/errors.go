package hl7v2

import (
	"errors"
	"strconv"
	"strings"
)

// These are the errors that can be returned in [ParseError.Err], besides errors of the
// underlying [io.Reader].
var (
	// ErrNoMSH means segments were found outside a message: before the first MSH, or after a
	// batch header, without an MSH to start a message. One error covers a run of such lines.
	ErrNoMSH = errors.New("segment outside a message (no MSH before it)")
	// ErrBadEncodingChars means MSH-1 or MSH-2 (or FHS/BHS-1 and -2) cannot be used as
	// delimiters: a letter, digit, space or control character, a duplicate, or fewer than
	// four or more than five encoding characters.
	ErrBadEncodingChars = errors.New("bad encoding characters")
	// ErrBadSegmentName means a line inside a message does not start with a segment name
	// (three upper-case letters or digits followed by the field separator or the line end).
	ErrBadSegmentName = errors.New("bad segment name")
	// ErrMessageTooLarge means a message is larger than [Reader.MaxMessageSize].
	ErrMessageTooLarge = errors.New("message too large")
	// ErrTruncated means the input ends inside the MSH (or FHS/BHS) encoding characters.
	ErrTruncated = errors.New("input ends inside the encoding characters")
	// ErrBadMLLPFrame means an MLLP frame (0x0B ... 0x1C 0x0D) was not closed: the input
	// ended, or a new frame started, before the 0x1C end-of-block byte.
	ErrBadMLLPFrame = errors.New("unterminated MLLP frame")
)

// A ParseError is returned for a message that cannot be read. It names the place of the
// problem. After a ParseError that wraps one of the sentinel errors the stream goes on: the
// next [Reader.Read] resynchronises at the next MSH, batch segment or MLLP frame.
type ParseError struct {
	Message      int    // 0-based index of the message in the stream (for ErrNoMSH: of the next message)
	Offset       int64  // byte offset of the offending byte in the input stream
	Line, Column int    // 1-based; Column counts bytes
	Segment      string // segment name if known ("PID")
	SegmentIndex int    // 0-based index of the segment in its message, as in [Message.Segment]
	Field        int    // 1-based field number, 0 if not applicable
	Rep          int    // 1-based repetition, 0 if not applicable
	Component    int    // 1-based component, 0 if not applicable
	Found        string // the offending text, if any: a bad segment name, the encoding characters
	Err          error  // one of the sentinel errors above, or an error of the underlying reader
}

// Error returns the error as text that names the place, for example
// `hl7v2: message 3, line 17, column 1: bad segment name "P1D"` or
// `hl7v2: message 1, line 1, column 5, segment MSH (#1), field 2: bad encoding characters "^~"`.
// Like lines and columns, the message and segment numbers in the text count from 1 (the
// fields Message and SegmentIndex count from 0).
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("hl7v2: ")
	if e.Err != ErrNoMSH {
		b.WriteString("message ")
		b.WriteString(strconv.Itoa(e.Message + 1))
		b.WriteString(", ")
	}
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(", column ")
	b.WriteString(strconv.Itoa(e.Column))
	if e.Segment != "" {
		b.WriteString(", segment ")
		b.WriteString(e.Segment)
		b.WriteString(" (#")
		b.WriteString(strconv.Itoa(e.SegmentIndex + 1))
		b.WriteString(")")
	}
	if e.Field > 0 {
		b.WriteString(", field ")
		b.WriteString(strconv.Itoa(e.Field))
	}
	if e.Rep > 0 {
		b.WriteString(", repetition ")
		b.WriteString(strconv.Itoa(e.Rep))
	}
	if e.Component > 0 {
		b.WriteString(", component ")
		b.WriteString(strconv.Itoa(e.Component))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	if e.Found != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.Found))
	}
	return b.String()
}

// Unwrap returns the underlying error, so that errors.Is(err, ErrBadSegmentName) works.
func (e *ParseError) Unwrap() error { return e.Err }
