// Package problem describes conversion errors for reports, logs, OperationOutcomes and HL7
// ACKs: what kind of problem, where in the input, and why — naming places, never the
// input's data.
package problem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

// Kind classifies a problem.
type Kind string

// The kinds of problem.
const (
	Parse       Kind = "parse"       // the input could not be read (HL7 v2 syntax, framing, size)
	Unsupported Kind = "unsupported" // no mapping converts the message type, or the format
	Mapping     Kind = "mapping"     // the mapping failed on this message
	Read        Kind = "read"        // the file or stream itself failed
	Internal    Kind = "internal"    // anything else
)

// Problem is one failed message, described without its data.
type Problem struct {
	Kind         Kind
	Reason       string // the error without position prefixes: "bad segment name"
	MessageType  string // "ADT^A01", if it could be read
	ControlID    string // MSH-10, if it could be read
	Line, Column int    // 1-based position in the input, 0 if unknown
	Offset       int64  // byte offset in the input, -1 if unknown
	Segment      string // "PID"
	SegmentIndex int    // 0-based index of the segment in its message (-1 if unknown)
	Field        int    // 1-based; 0 if unknown
	Rep          int    //
	Component    int    //
	Input        string // a mapping's input location ("PID[1]-7"), if any
}

// hl7Sentinels are the hl7v2 parse errors after which the stream goes on.
var hl7Sentinels = []error{hl7v2.ErrNoMSH, hl7v2.ErrBadEncodingChars, hl7v2.ErrBadSegmentName,
	hl7v2.ErrMessageTooLarge, hl7v2.ErrTruncated, hl7v2.ErrBadMLLPFrame}

// IsMessageError reports whether err concerns one message only, so that reading can go on
// with the next one; otherwise the stream itself failed.
func IsMessageError(err error) bool {
	var pe *hl7v2.ParseError
	if errors.As(err, &pe) {
		for _, s := range hl7Sentinels {
			if pe.Err == s {
				return true
			}
		}
		return false
	}
	var fe *fhirbridge.Error
	return errors.As(err, &fe)
}

// Describe describes err.
func Describe(err error) Problem {
	p := Problem{Kind: Internal, Offset: -1, SegmentIndex: -1}
	var fe *fhirbridge.Error
	if errors.As(err, &fe) {
		p.MessageType, p.ControlID = fe.MessageType, fe.ControlID
		err = fe.Err
	}
	var pe *hl7v2.ParseError
	var d transform.Diagnostic
	var dp *transform.Diagnostic
	switch {
	case errors.As(err, &pe):
		p.Kind = Parse
		if !IsMessageError(pe) {
			p.Kind = Read
		}
		p.Line, p.Column, p.Offset = pe.Line, pe.Column, pe.Offset
		p.Segment, p.Field, p.Rep, p.Component = pe.Segment, pe.Field, pe.Rep, pe.Component
		if pe.Segment != "" {
			p.SegmentIndex = pe.SegmentIndex
		}
		if pe.Err != nil {
			p.Reason = pe.Err.Error()
		} else {
			p.Reason = "unknown error"
		}
		return p
	case errors.Is(err, fhirbridge.ErrUnsupported):
		p.Kind = Unsupported
		if p.MessageType != "" {
			p.Segment, p.SegmentIndex, p.Field = "MSH", 0, 9
		}
	case errors.As(err, &dp):
		p.Kind, p.Input = Mapping, dp.Input
	case errors.As(err, &d):
		p.Kind, p.Input = Mapping, d.Input
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.Kind = Internal
	case fe != nil:
		p.Kind = Mapping
		if strings.Contains(err.Error(), "not supported yet") || strings.Contains(err.Error(), "not recognised") {
			p.Kind = Unsupported
		}
	}
	if err != nil {
		p.Reason = err.Error()
	}
	return p
}

// Location names the place of the problem for people: "line 17, column 1, segment PID (#3),
// field 5", or "" when unknown.
func (p Problem) Location() string {
	var parts []string
	if p.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d, column %d", p.Line, p.Column))
	}
	if p.Segment != "" {
		s := "segment " + p.Segment
		if p.SegmentIndex >= 0 {
			s += fmt.Sprintf(" (#%d)", p.SegmentIndex+1)
		}
		parts = append(parts, s)
	}
	if p.Field > 0 {
		parts = append(parts, fmt.Sprintf("field %d", p.Field))
	}
	if p.Rep > 0 {
		parts = append(parts, fmt.Sprintf("repetition %d", p.Rep))
	}
	if p.Component > 0 {
		parts = append(parts, fmt.Sprintf("component %d", p.Component))
	}
	if p.Input != "" {
		parts = append(parts, p.Input)
	}
	return strings.Join(parts, ", ")
}

// Expression is the FHIRPath-like location for an OperationOutcome issue: "PID[3]-5" style,
// or "line 17, column 1" when no segment is known.
func (p Problem) Expression() string {
	if p.Input != "" {
		return p.Input
	}
	if p.Segment == "" {
		if p.Line > 0 {
			return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
		}
		return ""
	}
	s := p.Segment
	if p.SegmentIndex >= 0 {
		s += fmt.Sprintf("[%d]", p.SegmentIndex+1)
	}
	if p.Field > 0 {
		s += fmt.Sprintf("-%d", p.Field)
		if p.Rep > 0 {
			s += fmt.Sprintf("[%d]", p.Rep)
		}
		if p.Component > 0 {
			s += fmt.Sprintf(".%d", p.Component)
		}
	}
	return s
}

// SalvageMSH returns MSH-9 (as "ADT^A01") and MSH-10 of the first MSH line in data, for
// naming a message the reader rejected, or empty strings. It reads only those two fields.
func SalvageMSH(data []byte) (messageType, controlID string) {
	i := bytes.Index(data, []byte("MSH"))
	if i < 0 || len(data) < i+8 {
		return "", ""
	}
	line := data[i:]
	if j := bytes.IndexAny(line, "\r\n\x1c"); j >= 0 {
		line = line[:j]
	}
	m, err := hl7v2.Parse(append(append([]byte(nil), line...), '\r'))
	if err != nil {
		return "", ""
	}
	code, event, _ := m.Type()
	if event != "" {
		code += "^" + event
	}
	return code, m.ControlID()
}
