package fhir

import (
	"unicode/utf8"
)

// maxString is the largest string FHIR allows (R4 §2.24.0.1 datatypes.html#string: 1 MB).
const maxString = 1 << 20

// ValidPrimitive reports whether s is a valid lexical form of the FHIR R4 primitive type typ
// (R4 §2.24.0.1, datatypes.html#primitive), as it appears in JSON (numbers and booleans as
// their JSON text). No primitive may be empty. The checks are those of the R4 regular
// expressions, implemented without package regexp, plus:
//
//   - date, dateTime, instant: the day must exist in its month (no 2023-02-30);
//   - integer, positiveInt, unsignedInt: the 32-bit ranges of the spec, no leading '+' (JSON);
//   - decimal: JSON number syntax (R4 regex, which is JSON's), at most 18 significant digits
//     are not enforced;
//   - string, markdown: valid UTF-8, at least one non-whitespace character, no control
//     characters other than tab, CR and LF, at most 1 MB; leading and trailing whitespace is
//     allowed (the spec only says it SHOULD be trimmed in XML);
//   - base64Binary: RFC 4648 §4 alphabet with correct padding and no whitespace (stricter
//     than the R4 regex, like most validators);
//   - xhtml: non-empty (well-formedness is not checked here).
//
// Unknown type names report false; complex types are not primitives.
func ValidPrimitive(typ, s string) bool {
	if s == "" {
		return false
	}
	switch typ {
	case "string", "markdown":
		return validString(s)
	case "code":
		return validCode(s)
	case "id":
		return validID(s)
	case "uri", "url", "canonical":
		return len(s) <= maxString && noSpace(s)
	case "oid":
		return validOID(s)
	case "uuid":
		return validUUID(s)
	case "boolean":
		return s == "true" || s == "false"
	case "integer":
		return validInt(s, -1<<31, 1<<31-1)
	case "positiveInt":
		return validInt(s, 1, 1<<31-1)
	case "unsignedInt":
		return validInt(s, 0, 1<<31-1)
	case "decimal":
		return validNumber(s)
	case "date":
		n, ok := parseDate(s, 0)
		return ok && n == len(s)
	case "dateTime":
		return validDateTime(s, false)
	case "instant":
		return validDateTime(s, true)
	case "time":
		n, ok := parseTime(s, 0)
		return ok && n == len(s)
	case "base64Binary":
		return validBase64(s)
	case "xhtml":
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func validString(s string) bool {
	if len(s) > maxString || !utf8.ValidString(s) {
		return false
	}
	text := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
		if !isSpace(c) {
			text = true
		}
	}
	return text
}

// validCode: [^\s]+(\s[^\s]+)* — no leading, trailing or double whitespace.
func validCode(s string) bool {
	if !utf8.ValidString(s) || len(s) > maxString {
		return false
	}
	prevSpace := true
	for i := 0; i < len(s); i++ {
		sp := isSpace(s[i]) || s[i] == '\f' || s[i] == '\v'
		if sp && prevSpace {
			return false
		}
		prevSpace = sp
	}
	return !prevSpace
}

// validID: [A-Za-z0-9\-\.]{1,64}.
func validID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// noSpace: \S* (uri, url, canonical).
func noSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) || s[i] == '\f' || s[i] == '\v' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// validOID: urn:oid:[0-2](\.(0|[1-9][0-9]*))+.
func validOID(s string) bool {
	const p = "urn:oid:"
	if len(s) < len(p)+3 || s[:len(p)] != p {
		return false
	}
	s = s[len(p):]
	if s[0] < '0' || s[0] > '2' {
		return false
	}
	s = s[1:]
	if s == "" {
		return false
	}
	for s != "" {
		if s[0] != '.' || len(s) < 2 {
			return false
		}
		s = s[1:]
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || (n > 1 && s[0] == '0') {
			return false
		}
		s = s[n:]
	}
	return true
}

// validUUID: urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.
func validUUID(s string) bool {
	const p = "urn:uuid:"
	return len(s) == len(p)+36 && s[:len(p)] == p && isUUID(s[len(p):])
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validInt: -?([0]|([1-9][0-9]*)) within [lo, hi].
func validInt(s string, lo, hi int64) bool {
	i, neg := 0, false
	if s[0] == '-' {
		neg, i = true, 1
	}
	if i == len(s) || (s[i] == '0' && len(s) > i+1) || len(s)-i > 10 {
		return false
	}
	var n int64
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		if n == 0 {
			return false // "-0" is not an R4 integer
		}
		n = -n
	}
	return n >= lo && n <= hi
}

// validNumber reports whether s is a JSON number (RFC 8259 §6), which is also the R4 decimal
// regex -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func validNumber(s string) bool {
	n := scanNumber(s)
	return n > 0 && n == len(s)
}

// scanNumber returns the length of the JSON number at the start of s, or 0.
func scanNumber[S ~string | ~[]byte](s S) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i == len(s) {
		return 0
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return 0
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	return i
}

func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		if s[k] < '0' || s[k] > '9' {
			return 0, false
		}
		v = v*10 + int(s[k]-'0')
	}
	return v, true
}

// parseDate parses YYYY(-MM(-DD)?)? at s[i:] and returns the end position. Year 0000 is not
// allowed (R4 regex); the day must exist in the month.
func parseDate(s string, i int) (int, bool) {
	y, ok := digits(s, i, 4)
	if !ok || y == 0 {
		return 0, false
	}
	i += 4
	if i == len(s) || s[i] != '-' {
		return i, true
	}
	m, ok := digits(s, i+1, 2)
	if !ok || m < 1 || m > 12 {
		return 0, false
	}
	i += 3
	if i == len(s) || s[i] != '-' {
		return i, true
	}
	d, ok := digits(s, i+1, 2)
	if !ok || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return i + 3, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseTime parses hh:mm:ss(.f+)? at s[i:] (R4 time; second 60 allowed for leap seconds).
func parseTime(s string, i int) (int, bool) {
	h, ok1 := digits(s, i, 2)
	mi, ok2 := digits(s, i+3, 2)
	se, ok3 := digits(s, i+6, 2)
	if !ok1 || !ok2 || !ok3 || s[i+2] != ':' || s[i+5] != ':' || h > 23 || mi > 59 || se > 60 {
		return 0, false
	}
	i += 8
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	return i, true
}

// parseZone parses Z or (+|-)hh:mm with hh:mm up to 14:00.
func parseZone(s string, i int) (int, bool) {
	if i < len(s) && s[i] == 'Z' {
		return i + 1, true
	}
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, false
	}
	h, ok1 := digits(s, i+1, 2)
	m, ok2 := digits(s, i+4, 2)
	if !ok1 || !ok2 || s[i+3] != ':' || m > 59 || h > 14 || (h == 14 && m != 0) {
		return 0, false
	}
	return i + 6, true
}

// validDateTime checks dateTime (a date, optionally with a time, which then needs seconds and
// a zone) or, with instant, the full form.
func validDateTime(s string, instant bool) bool {
	i, ok := parseDate(s, 0)
	if !ok {
		return false
	}
	if i == len(s) {
		return !instant
	}
	if i != 10 || s[i] != 'T' {
		return false
	}
	if i, ok = parseTime(s, i+1); !ok {
		return false
	}
	i, ok = parseZone(s, i)
	return ok && i == len(s)
}

func validBase64(s string) bool {
	if len(s)%4 != 0 {
		return false
	}
	pad := 0
	if s[len(s)-1] == '=' {
		pad++
		if s[len(s)-2] == '=' {
			pad++
		}
	}
	for i := 0; i < len(s)-pad; i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
