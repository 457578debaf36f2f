package edifact

import (
	"fmt"

	"github.com/fhirbridge/fhirbridge/internal/segtree"
)

// Structure is a message structure: the segments of a message type and how they form segment
// groups (ISO 9735 §5.5: a group is triggered by its first segment), e.g. MEDRPT's SG16
// specimen and SG18 investigation groups. It is data, given in the mappings as a
// `structures: edifact` document. A Structure is immutable.
type Structure struct {
	Name string
	s    *segtree.Structure
}

// ParseStructure parses a message structure in the bracket notation fhirbridge uses for HL7 v2
// too: segment tags, [ ] for optional (conditional, C), { } for repeating, and NAME( … ) for
// a segment group, whose first segment is its trigger:
//
//	UNH BGM {DTM} {SG1(S01 NAD {RFF} SPR)} … {SG18(GIS INV [SEQ] {RSL} {SG20(S20 RND)})} UNT
func ParseStructure(name, notation string) (*Structure, error) {
	s, err := segtree.Parse(name, notation)
	if err != nil {
		return nil, fmt.Errorf("edifact: %w", err)
	}
	return &Structure{Name: name, s: s}, nil
}

// SegGroup is one instance of a segment group of a message structure, or the message itself
// (the root).
type SegGroup = segtree.Group

// Child is a segment (Group == nil) or a nested group of a [SegGroup].
type Child = segtree.Child

// Group arranges the segments of m into the groups of s, tolerantly: a segment the structure
// does not expect where it stands is kept in the nearest enclosing group that lists it (else
// the innermost open group) and marked Unexpected. With a nil Structure every segment is a
// child of the root.
func (s *Structure) Group(m *Message) *SegGroup {
	var st *segtree.Structure
	if s != nil {
		st = s.s
	}
	return st.Group(len(m.segs), func(i int) string { return m.segs[i].Tag })
}
