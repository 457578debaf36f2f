package hl7v2

import (
	"bytes"
	"unicode/utf8"
)

// Unescape appends src to dst with the escape sequences of HL7 v2.5.1 §2.7 decoded, and
// returns the extended slice. d.Escape is the escape character (written `\` below):
//
//   - \F\ \S\ \T\ \R\ \E\ become the field, component, subcomponent, repetition and escape
//     characters; \P\ becomes the truncation character (v2.7 §2.7.1) when d has one.
//   - \Xhhhh..\ becomes the bytes given in hexadecimal; if they are not valid UTF-8, each
//     byte is read as ISO-8859-1 and appended as UTF-8.
//   - \.br\ and \.sp\ (with or without a count) become "\n" (§2.7.6: the count of vertical
//     spaces collapses to one line break).
//   - \H\ \N\ (highlighting), \.in±n\ \.ti±n\ \.sk±n\ \.fi\ \.nf\ \.ce\ (formatting) and
//     \Cxxyy\ \Mxxyy\ \Mxxyyzz\ (character set switches, §2.7.2–2.7.4) are dropped.
//   - \Zxx..\ (locally defined) is kept verbatim, as is any unknown sequence and an escape
//     character without a closing one. For an unknown sequence only the opening escape
//     character is kept as text, and the closing one may start the next sequence.
//
// The text outside escape sequences is copied unchanged; Unescape does not validate it.
// When src holds no escape character, Unescape is a plain append.
func Unescape(dst []byte, src []byte, d Delimiters) []byte {
	e := d.Escape
	for {
		i := bytes.IndexByte(src, e)
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		src = src[i:]
		j := bytes.IndexByte(src[1:], e)
		if j < 0 {
			return append(dst, src...) // unterminated: verbatim
		}
		seq := src[1 : 1+j]
		var ok bool
		dst, ok = unescapeSeq(dst, seq, d)
		if ok {
			src = src[j+2:]
			continue
		}
		// Unknown: keep the opening escape character; the closing one may open the next.
		dst = append(dst, e)
		src = src[1:]
	}
}

// unescapeSeq decodes one escape sequence (without its delimiting escape characters).
func unescapeSeq(dst, seq []byte, d Delimiters) ([]byte, bool) {
	if len(seq) == 0 {
		return dst, false
	}
	if len(seq) == 1 {
		switch seq[0] {
		case 'F':
			return append(dst, d.Field), true
		case 'S':
			return append(dst, d.Component), true
		case 'T':
			return append(dst, d.Subcomponent), true
		case 'R':
			return append(dst, d.Repetition), true
		case 'E':
			return append(dst, d.Escape), true
		case 'P':
			if d.Truncation != 0 {
				return append(dst, d.Truncation), true
			}
			return dst, false
		case 'H', 'N':
			return dst, true
		}
		return dst, false
	}
	switch seq[0] {
	case 'X':
		hex := seq[1:]
		if len(hex)%2 != 0 || !isHex(hex) {
			return dst, false
		}
		start := len(dst)
		for k := 0; k < len(hex); k += 2 {
			dst = append(dst, unhex(hex[k])<<4|unhex(hex[k+1]))
		}
		if raw := dst[start:]; !utf8.Valid(raw) {
			var tmp [64]byte
			lat := tmp[:0]
			if len(raw) > len(tmp) {
				lat = make([]byte, 0, len(raw))
			}
			lat = append(lat, raw...)
			dst = dst[:start]
			for _, c := range lat {
				dst = utf8.AppendRune(dst, rune(c))
			}
		}
		return dst, true
	case 'Z':
		dst = append(dst, d.Escape)
		dst = append(dst, seq...)
		return append(dst, d.Escape), true
	case 'C':
		if len(seq) == 5 && isHex(seq[1:]) {
			return dst, true
		}
	case 'M':
		if (len(seq) == 5 || len(seq) == 7) && isHex(seq[1:]) {
			return dst, true
		}
	case '.':
		if len(seq) < 3 {
			return dst, false
		}
		cmd, arg := string(seq[1:3]), seq[3:]
		switch cmd {
		case "br":
			if len(arg) == 0 {
				return append(dst, '\n'), true
			}
		case "sp":
			if len(arg) == 0 || isCount(arg, false) {
				return append(dst, '\n'), true
			}
		case "in", "ti":
			if isCount(arg, true) {
				return dst, true
			}
		case "sk":
			if len(arg) == 0 || isCount(arg, true) {
				return dst, true
			}
		case "fi", "nf", "ce":
			if len(arg) == 0 {
				return dst, true
			}
		}
	}
	return dst, false
}

// isCount reports whether b is a formatting count: optional spaces, an optional sign (when
// signed is true, or a leading '+' otherwise), and at least one digit.
func isCount(b []byte, signed bool) bool {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if len(b) > 0 && (b[0] == '+' || (signed && b[0] == '-')) {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if unhex(c) == 0xff {
			return false
		}
	}
	return len(b) > 0
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

const hexDigits = "0123456789ABCDEF"

// Escape appends text to dst as HL7 v2 data and returns the extended slice (HL7 v2.5.1 §2.7):
// the field, component, repetition, subcomponent and escape characters become \F\ \S\ \R\
// \T\ \E\, and the truncation character (if d has one) becomes \P\. A line break ("\n" or
// "\r\n") becomes \.br\; a lone "\r", other control characters except tab, and the byte
// order mark U+FEFF become \Xhh..\, so that the result never contains a segment terminator
// or MLLP framing byte. [Unescape] returns the original text, except that "\r\n" comes back
// as "\n".
func Escape(dst []byte, text string, d Delimiters) []byte {
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		var rep string
		var hex string
		switch {
		case c == d.Field:
			rep = "F"
		case c == d.Component:
			rep = "S"
		case c == d.Repetition:
			rep = "R"
		case c == d.Subcomponent:
			rep = "T"
		case c == d.Escape:
			rep = "E"
		case c == d.Truncation && c != 0:
			rep = "P"
		case c == '\n':
			rep = ".br"
		case c == '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				dst = append(dst, text[start:i]...)
				start = i + 1 // the '\n' is escaped on the next iteration
				continue
			}
			hex = text[i : i+1]
		case c < ' ' && c != '\t':
			hex = text[i : i+1]
		case c == 0xEF && i+2 < len(text) && text[i+1] == 0xBB && text[i+2] == 0xBF:
			hex = text[i : i+3]
		default:
			continue
		}
		dst = append(dst, text[start:i]...)
		dst = append(dst, d.Escape)
		if hex != "" {
			dst = append(dst, 'X')
			for k := 0; k < len(hex); k++ {
				dst = append(dst, hexDigits[hex[k]>>4], hexDigits[hex[k]&15])
			}
			i += len(hex) - 1
		} else {
			dst = append(dst, rep...)
		}
		dst = append(dst, d.Escape)
		start = i + 1
	}
	return append(dst, text[start:]...)
}
