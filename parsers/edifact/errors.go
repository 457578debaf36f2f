package edifact

import (
	"errors"
	"strconv"
	"strings"
)

// These are the errors that can be returned in [ParseError.Err], besides errors of the
// underlying [io.Reader].
var (
	// ErrUNA means a service string advice is malformed: fewer than six characters after
	// "UNA", a letter or digit among them, or a character used twice (ISO 9735 §7.1).
	ErrUNA = errors.New("malformed UNA service string advice")
	// ErrSyntaxID means the UNB syntax identifier (S001) names a character set this package
	// does not decode (UNOA, UNOB, UNOC, UNOW and UNOY are supported).
	ErrSyntaxID = errors.New("unsupported syntax identifier")
	// ErrCharacter means a byte is not allowed by the interchange's character set: lower case
	// under UNOA, a byte of 0x80 or more under UNOA/UNOB, a control character.
	ErrCharacter = errors.New("character not allowed by the character set")
	// ErrTag means a segment does not start with a tag of three upper-case letters or digits.
	ErrTag = errors.New("bad segment tag")
	// ErrUnterminated means the input ends without a segment terminator after the last
	// segment, or with a release character as its last byte.
	ErrUnterminated = errors.New("input ends inside a segment")
	// ErrEnvelope means a service segment is out of place: UNT without UNH, UNH inside a
	// message, a message not closed by UNT, UNZ without UNB.
	ErrEnvelope = errors.New("service segment out of place")
	// ErrCount means a control count does not match: UNT 0074 (segments in the message,
	// UNH and UNT included), UNE 0060 (messages in the group), UNZ 0036 (messages, or groups
	// when UNG is used). It is an error only with [Reader.Strict]; else a [Warning].
	ErrCount = errors.New("control count mismatch")
	// ErrReference means a trailer's control reference differs from its header's (UNT 0062
	// and UNH 0062, UNE 0048 and UNG 0048, UNZ 0020 and UNB 0020). It is an error only with
	// [Reader.Strict]; else a [Warning].
	ErrReference = errors.New("control reference mismatch")
	// ErrTooLarge means a message is larger than [Reader.MaxMessageSize].
	ErrTooLarge = errors.New("message too large")
)

// A ParseError names the place of a problem in an interchange. After a ParseError the stream
// goes on: the next [Reader.Read] resynchronises at the next UNH (or UNB). Only an error of
// the underlying reader, and [ErrUNA], end the stream; every later Read returns them again.
type ParseError struct {
	Interchange  int    // 1-based index of the interchange in the stream (0: none yet)
	Message      int    // 1-based index of the message in the stream (0: outside a message)
	Segment      int    // 1-based position of the segment in its message (UNH is 1), 0 outside one
	Tag          string // the segment's tag, if known
	Element      int    // 1-based data element position after the tag, 0 if not applicable
	Component    int    // 1-based component position, 0 if not applicable
	Offset       int64  // byte offset of the offending byte in the input
	Line, Column int    // 1-based; Column counts bytes
	Err          error  // one of the sentinel errors above, or an error of the underlying reader
	Detail       string // what was found or expected, never message content beyond service data
}

// Error returns the error with its place, for example
// `edifact: interchange 1, message 2, line 14, column 1, segment UNT (#23): control count mismatch: UNT says 24, found 23`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("edifact: ")
	if e.Interchange > 0 {
		b.WriteString("interchange ")
		b.WriteString(strconv.Itoa(e.Interchange))
		b.WriteString(", ")
	}
	if e.Message > 0 {
		b.WriteString("message ")
		b.WriteString(strconv.Itoa(e.Message))
		b.WriteString(", ")
	}
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(", column ")
	b.WriteString(strconv.Itoa(e.Column))
	if e.Tag != "" {
		b.WriteString(", segment ")
		b.WriteString(e.Tag)
		if e.Segment > 0 {
			b.WriteString(" (#")
			b.WriteString(strconv.Itoa(e.Segment))
			b.WriteString(")")
		}
	}
	if e.Element > 0 {
		b.WriteString(", element ")
		b.WriteString(strconv.Itoa(e.Element))
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
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the underlying error, so that errors.Is(err, ErrCount) works.
func (e *ParseError) Unwrap() error { return e.Err }

// Warning is a problem the [Reader] tolerated: a control count or reference that does not
// match (unless [Reader.Strict]), a release character before an ordinary character, a
// missing final segment terminator. It carries the same place as a [ParseError].
type Warning = ParseError
