package edifact

import (
	"fmt"
	"unicode/utf8"
)

// Delims are the service characters of an interchange (ISO 9735 §7.1, the UNA service
// string advice): UNA1 component separator, UNA2 data element separator, UNA3 decimal mark,
// UNA4 release character, UNA5 repetition separator (syntax version 4; a reserved space
// before) and UNA6 segment terminator. Release is 0 when the interchange has none.
type Delims struct {
	Component, Element, Decimal, Release, Repetition, Segment byte
}

// DefaultDelims are the level A service characters used without a UNA: `:` `+` `.` `?`
// and `'`. The repetition separator `*` is only active in syntax version 4 (see
// [Delims.ForVersion]); in versions 1 to 3 `*` is data, as NHS registration free text shows.
var DefaultDelims = Delims{Component: ':', Element: '+', Decimal: '.', Release: '?', Repetition: ' ', Segment: '\''}

// ForVersion returns d adjusted to a syntax version: before version 4 there is no
// repetition separator; in version 4 a space (the UNA5 of older syntax) becomes `*`.
func (d Delims) ForVersion(v int) Delims {
	if v < 4 {
		d.Repetition = 0
	} else if d.Repetition == ' ' || d.Repetition == 0 {
		d.Repetition = '*'
	}
	return d
}

// UNA returns the 9-byte service string advice for d ("UNA:+.? '").
func (d Delims) UNA() string {
	rep := d.Repetition
	if rep == 0 {
		rep = ' '
	}
	rel := d.Release
	if rel == 0 {
		rel = ' '
	}
	return string([]byte{'U', 'N', 'A', d.Component, d.Element, d.Decimal, rel, rep, d.Segment})
}

// parseUNA reads the six service characters that follow "UNA" (ISO 9735 §7.1). The
// characters must be distinct, except that UNA3 (decimal mark) and UNA5 may be a space, and
// none may be a letter or a digit: a short UNA such as "UNA:+.?'UNB" is caught because its
// sixth character would be the "U" of UNB.
func parseUNA(b []byte) (Delims, error) {
	if len(b) < 6 {
		return Delims{}, fmt.Errorf("%w: %d service characters, want 6", ErrUNA, len(b))
	}
	d := Delims{Component: b[0], Element: b[1], Decimal: b[2], Release: b[3], Repetition: b[4], Segment: b[5]}
	for i, c := range b[:6] {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			return Delims{}, fmt.Errorf("%w: UNA%d is %q; a service character cannot be a letter or digit (is the UNA short?)", ErrUNA, i+1, c)
		}
		if c == ' ' && i != 2 && i != 3 && i != 4 {
			return Delims{}, fmt.Errorf("%w: UNA%d is a space", ErrUNA, i+1)
		}
		for j := 0; j < i; j++ {
			if b[j] == c && c != ' ' && i != 2 && j != 2 {
				return Delims{}, fmt.Errorf("%w: UNA%d repeats UNA%d %q", ErrUNA, i+1, j+1, c)
			}
		}
	}
	if d.Release == ' ' {
		d.Release = 0 // no release character
	}
	return d, nil
}

// charset is how the bytes of an interchange become UTF-8 text.
type charset uint8

const (
	csLatin1 charset = iota // UNOC (ISO 8859-1); also the decoder of UNOA and UNOB
	csUTF8                  // UNOW, UNOY (ISO 10646, UTF-8)
)

// charsetOf returns the decoder of a syntax identifier (UNB S001 0001) and the highest and
// lowest byte it allows, per ISO 9735 Annex A and the code-point ranges used by node-edifact.
func charsetOf(id string) (cs charset, level byte, ok bool) {
	switch id {
	case "UNOA":
		return csLatin1, 'A', true
	case "UNOB":
		return csLatin1, 'B', true
	case "UNOC":
		return csLatin1, 'C', true
	case "UNOW", "UNOY":
		return csUTF8, 'Y', true
	}
	return 0, 0, false
}

// allowed reports whether byte c is allowed as data by character set level (ISO 9735 Annex A:
// UNOA is upper-case ISO 646 without #, $ and @ …; UNOB adds lower case; UNOC is ISO 8859-1).
// Control characters are never allowed, except CR and LF, which real interchanges put inside
// free text and which are kept as data.
func allowed(level byte, c byte) bool {
	if c < 0x20 {
		return c == '\n' || c == '\r'
	}
	switch level {
	case 'A':
		// UNOA: upper case letters, digits, space and . , - ( ) / = ' + : ? ! " % & * ; < >.
		// Lower case is tolerated (NHS interchanges declare UNOA and carry it) but no bytes
		// above 0x7E.
		return c < 0x7F
	case 'B':
		return c < 0x7F
	case 'C':
		return c < 0x7F || c >= 0xA0
	}
	return true // UTF-8: validated per component
}

// appendDecoded appends the bytes b, in character set cs, to dst as UTF-8.
func appendDecoded(dst []byte, b byte, cs charset) []byte {
	if cs == csLatin1 && b >= 0x80 {
		return utf8.AppendRune(dst, rune(b))
	}
	return append(dst, b)
}
