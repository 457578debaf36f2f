package hl7v2

import (
	"fmt"

	"github.com/fhirbridge/fhirbridge/internal/segtree"
)

// Structure is an abstract message syntax: the segments of a message type and how they group
// (HL7 v2.5.1 §2.12 "message construction rules"), e.g. ORU_R01's PATIENT_RESULT,
// ORDER_OBSERVATION and OBSERVATION groups. A Structure is immutable.
type Structure struct {
	Name string
	s    *segtree.Structure
}

// ParseStructure parses the bracket notation of the HL7 standard's abstract message syntax:
// segments by name, [ ] for optional, { } for repeating, and NAME( … ) for a named group:
//
//	MSH [{SFT}] EVN PID [PD1] [{NK1}] PV1 [PV2] [{PROCEDURE(PR1 [{ROL}])}]
func ParseStructure(name, notation string) (*Structure, error) {
	s, err := segtree.Parse(name, notation)
	if err != nil {
		return nil, fmt.Errorf("hl7v2: %w", err)
	}
	return &Structure{Name: name, s: s}, nil
}

// Group is one instance of a group of a message structure, or the message itself (the root).
type Group = segtree.Group

// Child is a segment (Group == nil) or a nested group of a [Group].
type Child = segtree.Child

// Group arranges the segments of m into the groups of s. It is tolerant, as real messages
// need: a segment the structure does not expect where it stands is kept in the nearest
// enclosing group that lists it (else the innermost open group) and marked Unexpected; a
// required segment that is missing is simply absent. With a nil Structure every segment is a
// child of the root.
func (s *Structure) Group(m *Message) *Group {
	var st *segtree.Structure
	if s != nil {
		st = s.s
	}
	return st.Group(m.NumSegments(), func(i int) string { return m.Segment(i).Name() })
}
