package hl7v2

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrBadPath is wrapped by the errors of [ParsePath] and [Builder.Set] for a path that cannot
// be parsed.
var ErrBadPath = errors.New("hl7v2: bad path")

// maxPathNumber bounds every number of a path, so that a path cannot make a [Builder] allocate
// without limit.
const maxPathNumber = 99999

// A Path is a location in an HL7 v2 message, written as in the HL7 v2-to-FHIR
// Implementation Guide and HAPI terse paths:
//
//	PID-5          field 5 of the first PID (its first repetition, when read)
//	PID-5[2]       the second repetition of PID-5
//	PID-5.1        component 1 of PID-5
//	PID-5[2].1.2   subcomponent 2 of component 1 of the second repetition
//	PID[2]-3       field 3 of the second PID segment
//	MSH-9.2        the trigger event
//
// Fields, repetitions, components and subcomponents are 1-based; 0 means not given. An
// omitted repetition means the first. In MSH, MSH-1 is the field separator and MSH-2 the
// encoding characters, as in the standard.
type Path struct {
	Segment      string
	SegmentRep   int
	Field        int
	Rep          int
	Component    int
	Subcomponent int
}

// ParsePath parses a path such as "PID-5[2].1". Its errors wrap [ErrBadPath] and say what is
// wrong: `hl7v2: bad path "PID-x": field must be a number`.
func ParsePath(s string) (Path, error) {
	var p Path
	bad := func(format string, args ...any) (Path, error) {
		return Path{}, fmt.Errorf("%w %q: %s", ErrBadPath, s, fmt.Sprintf(format, args...))
	}
	if len(s) < 3 || nameCode([]byte(s[:3])) < 0 || (len(s) > 3 && isNameChar(s[3])) {
		return bad("segment must be 3 upper-case letters or digits")
	}
	p.Segment = s[:3]
	i := 3
	var err string
	if i < len(s) && s[i] == '[' {
		if p.SegmentRep, i, err = index(s, i, "segment repetition"); err != "" {
			return bad("%s", err)
		}
	}
	if i == len(s) {
		return p, nil
	}
	if s[i] != '-' {
		return bad("unexpected %q after segment (want \"-\" and a field number)", s[i:i+1])
	}
	if p.Field, i, err = number(s, i+1, "field"); err != "" {
		return bad("%s", err)
	}
	if i < len(s) && s[i] == '[' {
		if p.Rep, i, err = index(s, i, "repetition"); err != "" {
			return bad("%s", err)
		}
	}
	if i < len(s) && s[i] == '.' {
		if p.Component, i, err = number(s, i+1, "component"); err != "" {
			return bad("%s", err)
		}
		if i < len(s) && s[i] == '.' {
			if p.Subcomponent, i, err = number(s, i+1, "subcomponent"); err != "" {
				return bad("%s", err)
			}
		}
	}
	if i < len(s) {
		return bad("unexpected %q", s[i:])
	}
	return p, nil
}

// MustParsePath is like [ParsePath] but panics on error. It is meant for path literals in
// tests and examples.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

func isNameChar(c byte) bool { return nameIndex[c] != 0xff }

// number reads a positive decimal number at s[i:] naming what it is.
func number(s string, i int, what string) (int, int, string) {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, i, what + " must be a number"
	}
	n, err := strconv.Atoi(s[i:j])
	if err != nil || n > maxPathNumber {
		return 0, i, what + " number is too large"
	}
	if n < 1 {
		return 0, i, what + " must be at least 1"
	}
	return n, j, ""
}

// index reads "[n]" at s[i:].
func index(s string, i int, what string) (int, int, string) {
	n, j, err := number(s, i+1, what)
	if err != "" {
		return 0, i, err
	}
	if j >= len(s) || s[j] != ']' {
		return 0, i, "missing \"]\" after " + what
	}
	return n, j + 1, ""
}

// String returns the path in the syntax that [ParsePath] reads, omitting what is not given:
// "PID[2]-5[2].1.2".
func (p Path) String() string {
	b := make([]byte, 0, 24)
	b = append(b, p.Segment...)
	if p.SegmentRep > 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.SegmentRep), 10)
		b = append(b, ']')
	}
	if p.Field > 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(p.Field), 10)
		if p.Rep > 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(p.Rep), 10)
			b = append(b, ']')
		}
		if p.Component > 0 {
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(p.Component), 10)
			if p.Subcomponent > 0 {
				b = append(b, '.')
				b = strconv.AppendInt(b, int64(p.Subcomponent), 10)
			}
		}
	}
	return string(b)
}
