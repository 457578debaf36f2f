package hl7v2

import (
	"errors"
	"fmt"
)

// A Builder constructs a message field by field, escaping values as it goes; it is the
// writing side of the FHIR → v2 direction. The zero Builder is not usable; call
// [NewBuilder]. A Builder is not safe for concurrent use.
//
// Every message starts with an MSH segment whose MSH-1 and MSH-2 come from the delimiters.
// Other segments are created on first use, appended at the end in the order of their first
// [Builder.Set] (or by [Builder.AddSegment]), so set fields in message order.
type Builder struct {
	d    Delimiters
	err  error // invalid delimiters
	segs []*bseg
}

// bseg is a segment under construction: fields → repetitions → components →
// subcomponents, holding decoded text. fields[0] is field 1.
type bseg struct {
	name   string
	fields [][][][]string
}

// NewBuilder returns a Builder for a message with delimiters d (use [DefaultDelimiters]
// unless the receiver asks otherwise). If d is not valid (see [Delimiters.Validate]), every
// Set returns the error.
func NewBuilder(d Delimiters) *Builder {
	return &Builder{d: d, err: d.Validate(), segs: []*bseg{{name: "MSH"}}}
}

var errMSHDelims = errors.New("MSH-1 and MSH-2 come from the Builder's delimiters")

// Set sets the value at path, escaping it (see [Escape]). The path names a field, a
// repetition, a component or a subcomponent, as read by [ParsePath]: "MSH-9.1",
// "PID-5[2].1", "OBX[3]-5". A path without a repetition sets the whole field (one
// repetition), except below the field level, where it means the first repetition. Setting a
// part replaces everything under it; the parts before it are created empty. A segment
// repetition ("OBX[3]") creates the missing segments of that name; without one, the first
// segment of that name is used or created. MSH-1 and MSH-2 cannot be set.
func (b *Builder) Set(path string, value string) error {
	if b.err != nil {
		return b.err
	}
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	if p.Field == 0 {
		return fmt.Errorf("%w %q: a field number is needed", ErrBadPath, path)
	}
	if p.Segment == "MSH" && (p.Field <= 2 || p.SegmentRep > 1) {
		if p.Field <= 2 {
			return fmt.Errorf("%w %q: %w", ErrBadPath, path, errMSHDelims)
		}
		return fmt.Errorf("%w %q: a message has one MSH", ErrBadPath, path)
	}
	s := b.segment(p.Segment, max(p.SegmentRep, 1))
	f := grow(&s.fields, p.Field)
	switch {
	case p.Rep == 0 && p.Component == 0:
		*f = [][][]string{{{value}}}
	case p.Component == 0:
		*grow(f, p.Rep) = [][]string{{value}}
	default:
		c := grow(grow(f, max(p.Rep, 1)), p.Component)
		if p.Subcomponent == 0 {
			*c = []string{value}
		} else {
			*grow(c, p.Subcomponent) = value
		}
	}
	return nil
}

// grow makes *s at least n long and returns a pointer to its element n (1-based).
func grow[T any](s *[]T, n int) *T {
	for len(*s) < n {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[n-1]
}

// segment returns the n-th segment named name, creating it and the ones before it.
func (b *Builder) segment(name string, n int) *bseg {
	for _, s := range b.segs {
		if s.name == name {
			if n--; n == 0 {
				return s
			}
		}
	}
	var s *bseg
	for ; n > 0; n-- {
		s = &bseg{name: name}
		b.segs = append(b.segs, s)
	}
	return s
}

// AddSegment appends a new segment named name and returns its 1-based repetition among the
// segments of that name, for use in paths ("OBX[3]-5"). It returns 0 and adds nothing if
// name is not a segment name (three upper-case letters or digits) or is MSH.
func (b *Builder) AddSegment(name string) int {
	if len(name) != 3 || nameCode([]byte(name)) < 0 || name == "MSH" {
		return 0
	}
	n := 1
	for _, s := range b.segs {
		if s.name == name {
			n++
		}
	}
	b.segs = append(b.segs, &bseg{name: name})
	return n
}

// Bytes returns the encoded message, each segment followed by '\r'. MSH-1 and MSH-2 are
// written from the delimiters; empty trailing fields, repetitions, components and
// subcomponents are left out. With invalid delimiters, Bytes returns nil.
func (b *Builder) Bytes() []byte {
	if b.err != nil {
		return nil
	}
	d := b.d
	var out []byte
	for _, s := range b.segs {
		out = append(out, s.name...)
		first := 0
		if s.name == "MSH" {
			out = append(out, d.Field)
			out = append(out, d.encodingChars()...)
			first = 2
		}
		last := len(s.fields)
		for last > first && isEmpty(s.fields[last-1]) {
			last--
		}
		for i := first; i < last; i++ {
			out = append(out, d.Field)
			reps := s.fields[i]
			reps = reps[:trimmed(reps)]
			for r, comps := range reps {
				if r > 0 {
					out = append(out, d.Repetition)
				}
				comps = comps[:trimmed(comps)]
				for c, subs := range comps {
					if c > 0 {
						out = append(out, d.Component)
					}
					subs = subs[:trimmed(subs)]
					for k, v := range subs {
						if k > 0 {
							out = append(out, d.Subcomponent)
						}
						out = Escape(out, v, d)
					}
				}
			}
		}
		out = append(out, '\r')
	}
	return out
}

// Message returns the message built so far, parsed back from [Builder.Bytes].
func (b *Builder) Message() (*Message, error) {
	if b.err != nil {
		return nil, b.err
	}
	return Parse(b.Bytes())
}

func trimmed[T string | []string | [][]string | [][][]string](v []T) int {
	n := len(v)
	for n > 0 && empty(v[n-1]) {
		n--
	}
	return n
}

func isEmpty[T string | []string | [][]string | [][][]string](v []T) bool { return trimmed(v) == 0 }

// empty reports whether v holds no text.
func empty[T string | []string | [][]string | [][][]string](v T) bool {
	switch x := any(v).(type) {
	case string:
		return x == ""
	case []string:
		return isEmpty(x)
	case [][]string:
		return isEmpty(x)
	case [][][]string:
		return isEmpty(x)
	}
	return true
}

// NewAck returns a Builder holding the MSH and MSA segments of an original-mode
// acknowledgment of m (HL7 v2.5.1 §2.9.2), with m's delimiters: sending and receiving
// application and facility (MSH-3..6) swapped, MSH-7 timestamp, MSH-9 ACK^<event>^ACK,
// MSH-10 controlID, MSH-11 and MSH-12 copied, MSA-1 code ("AA", "AE", "AR" or the "C"
// forms) and MSA-2 m's control ID. Add an ERR segment or MSA-3 with Set if needed. The
// caller supplies the timestamp and control ID, so the result is deterministic.
func NewAck(m *Message, code, controlID, timestamp string) *Builder {
	b := NewBuilder(m.Delimiters())
	msh := m.Segment(0)
	for _, f := range [][2]int{{3, 5}, {4, 6}, {5, 3}, {6, 4}, {11, 11}, {12, 12}} {
		b.copyField(f[0], msh.Field(f[1]))
	}
	_, event, _ := m.Type()
	b.Set("MSH-7", timestamp)
	b.Set("MSH-9.1", "ACK")
	b.Set("MSH-9.2", event)
	b.Set("MSH-9.3", "ACK")
	b.Set("MSH-10", controlID)
	b.Set("MSA-1", code)
	b.Set("MSA-2", m.ControlID())
	return b
}

// copyField copies field f, with its structure, to field n of the MSH being built.
func (b *Builder) copyField(n int, f Field) {
	fs := grow(&b.segs[0].fields, n)
	*fs = nil
	for i := 1; i <= f.NumReps(); i++ {
		r := f.Rep(i)
		reps := grow(fs, i)
		for j := 1; j <= r.NumComponents(); j++ {
			c := r.Component(j)
			comps := grow(reps, j)
			for k := 1; k <= c.NumSubcomponents(); k++ {
				*grow(comps, k) = c.Sub(k).Text()
			}
		}
	}
}
