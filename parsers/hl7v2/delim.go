package hl7v2

import "fmt"

// Delimiters are a message's encoding characters: the field separator of MSH-1 and the
// component, repetition, escape and subcomponent characters of MSH-2, in that order
// (HL7 v2.5.1 §2.5.4). Truncation is the fifth MSH-2 character introduced by v2.7; it is 0
// when MSH-2 has only four characters.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent, Truncation byte
}

// DefaultDelimiters are the encoding characters recommended by the standard, `|^~\&`.
var DefaultDelimiters = Delimiters{'|', '^', '~', '\\', '&', 0}

// String returns the delimiters as they appear at the start of an MSH segment: MSH-1
// followed by MSH-2, for example `|^~\&` or `|^~\&#`.
func (d Delimiters) String() string {
	b := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation}
	if d.Truncation == 0 {
		b = b[:5]
	}
	return string(b)
}

// encodingChars returns MSH-2 as written: the four or five characters after MSH-1.
func (d Delimiters) encodingChars() []byte {
	b := []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation}
	if d.Truncation == 0 {
		b = b[:4]
	}
	return b
}

// Validate reports whether d can encode a message: every character is printable ASCII
// punctuation (not a letter, digit or space), no two are equal, and Truncation is either 0 or
// such a character. The error wraps [ErrBadEncodingChars].
func (d Delimiters) Validate() error {
	if !delimOK(d.Field) {
		return fmt.Errorf("%w: field separator %q", ErrBadEncodingChars, d.Field)
	}
	_, bad := parseEncoding(d.Field, d.encodingChars())
	if bad >= 0 {
		return fmt.Errorf("%w %q", ErrBadEncodingChars, d.String())
	}
	return nil
}

// delimOK reports whether c may be used as a delimiter: printable ASCII that is not a
// letter, digit or space. HL7 only recommends the default characters; anything else that
// cannot be confused with data or line structure is accepted.
func delimOK(c byte) bool {
	switch {
	case c <= ' ' || c >= 0x7f:
		return false
	case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return false
	}
	return true
}

// parseEncoding reads MSH-2 for field separator fs. It returns the delimiters and -1, or the
// index in enc of the first offending character (len(enc) when there are too few or too many).
//
// Tolerance: a doubled escape character, as in `^~\\&` (seen in real files whose MSH-2 went
// through a string-escaping step), is read as `^~\&`.
func parseEncoding(fs byte, enc []byte) (Delimiters, int) {
	if len(enc) >= 5 && enc[2] == enc[3] {
		// Doubled escape character: drop one copy. Only this one position is repaired.
		var e [8]byte
		k := copy(e[:], enc[:3])
		k += copy(e[k:], enc[4:min(len(enc), 7)])
		if len(enc) > 7 {
			return Delimiters{}, len(enc)
		}
		d, bad := parseEncoding(fs, e[:k])
		if bad >= 3 {
			bad++
		}
		return d, bad
	}
	if len(enc) < 4 || len(enc) > 5 {
		return Delimiters{}, len(enc)
	}
	var seen [256]bool
	seen[fs] = true
	for i, c := range enc {
		if !delimOK(c) || seen[c] {
			return Delimiters{}, i
		}
		seen[c] = true
	}
	d := Delimiters{Field: fs, Component: enc[0], Repetition: enc[1], Escape: enc[2], Subcomponent: enc[3]}
	if len(enc) == 5 {
		d.Truncation = enc[4]
	}
	return d, -1
}
