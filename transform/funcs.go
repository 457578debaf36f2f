package transform

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// standardFuncs are the pure functions every mapping expression can call, besides expr's
// built-ins (trim, upper, lower, split, join, len, …) and the input accessors of exprEnv.
var standardFuncs = map[string]registered{
	"coalesce": {
		doc: "coalesce(a, b, …): the first argument that is not empty",
		fn: func(params ...any) (any, error) {
			for _, p := range params {
				if s, ok := p.(string); ok && strings.TrimSpace(s) != "" {
					return s, nil
				}
			}
			return "", nil
		},
		types: []any{new(func(...string) string)},
	},
	"digits": {
		doc: "digits(s): s with every character that is not 0-9 removed",
		fn: func(params ...any) (any, error) {
			return digits(params[0].(string)), nil
		},
		types: []any{new(func(string) string)},
	},
	"uri": {
		doc: "uri(s): s as a URI: an OID becomes urn:oid:…, a UUID urn:uuid:…, a URI stays",
		fn: func(params ...any) (any, error) {
			return asURI(params[0].(string)), nil
		},
		types: []any{new(func(string) string)},
	},
	"decimal": {
		doc: `decimal(s): s as a FHIR decimal ("+1.50" → "1.50"), or "" when it is not a number`,
		fn: func(params ...any) (any, error) {
			d, ok := normalizeDecimal(params[0].(string))
			if !ok {
				return "", nil
			}
			return d, nil
		},
		types: []any{new(func(string) string)},
	},
	"isNumber": {
		doc: "isNumber(s): whether s is a number that a FHIR decimal can hold",
		fn: func(params ...any) (any, error) {
			_, ok := normalizeDecimal(params[0].(string))
			return ok, nil
		},
		types: []any{new(func(string) bool)},
	},
	"isDate": {
		doc: "isDate(s): whether s is a timestamp (YYYY[MM[DD[HH[MM[SS]]]]][+ZZZZ] or ISO 8601)",
		fn: func(params ...any) (any, error) {
			_, ok := parseTimestamp(params[0].(string))
			return ok, nil
		},
		types: []any{new(func(string) bool)},
	},
	"substr": {
		doc: "substr(s, start, length): the bytes of s from start (0-based), at most length of them",
		fn: func(params ...any) (any, error) {
			s, start, n := params[0].(string), params[1].(int), params[2].(int)
			if start < 0 || start >= len(s) || n <= 0 {
				return "", nil
			}
			return s[start:min(len(s), start+n)], nil
		},
		types: []any{new(func(string, int, int) string)},
	},
	// replace overrides expr's builtin of the same name, whose two overloads make the type
	// checker re-check nested calls once per overload: ten nested replaces cost a second.
	"replace": {
		doc: "replace(s, old, new): s with every old replaced by new",
		fn: func(params ...any) (any, error) {
			return strings.ReplaceAll(params[0].(string), params[1].(string), params[2].(string)), nil
		},
		types: []any{new(func(string, string, string) string)},
	},
	"percentEncode": {
		doc: "percentEncode(s): s with every byte outside RFC 3986 unreserved characters as %XX (for data: URLs)",
		fn: func(params ...any) (any, error) {
			s := params[0].(string)
			var b strings.Builder
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
					b.WriteByte(c)
				} else {
					fmt.Fprintf(&b, "%%%02X", c)
				}
			}
			return b.String(), nil
		},
		types: []any{new(func(string) string)},
	},
	"base64": {
		doc: "base64(s): s encoded as base64 (for Attachment.data)",
		fn: func(params ...any) (any, error) {
			return base64.StdEncoding.EncodeToString([]byte(params[0].(string))), nil
		},
		types: []any{new(func(string) string)},
	},
	"localTime": {
		doc: "localTime(ts, zone): a timestamp (FHIR or YYYYMMDD[HHMM[SS]][+ZZZZ]) as the wall-clock digits YYYY[MM[DD[HH[MM[SS]]]]] in the IANA zone, keeping its precision (for formats whose times carry no offset); a time without an offset is taken as it is",
		fn: func(params ...any) (any, error) {
			return localTime(params[0].(string), params[1].(string))
		},
		types: []any{new(func(string, string) string)},
	},
	"wrap": {
		doc: "wrap(s, width): s in lines of at most width characters, broken at spaces (the space at each break is dropped), a longer word cut",
		fn: func(params ...any) (any, error) {
			return wrap(params[0].(string), params[1].(int)), nil
		},
		types: []any{new(func(string, int) []string)},
	},
	"format": {
		doc: "format(pattern, args…): fmt.Sprintf with %s verbs",
		fn: func(params ...any) (any, error) {
			return fmt.Sprintf(params[0].(string), params[1:]...), nil
		},
	},
}

// digits returns s without the characters that are not 0-9.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// asURI turns an OID or UUID into a URI; anything else is returned trimmed.
func asURI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, ":") {
		return s
	}
	if isOID(s) {
		return "urn:oid:" + s
	}
	if len(s) == 36 && strings.Count(s, "-") == 4 {
		return "urn:uuid:" + strings.ToLower(s)
	}
	return s
}

func isOID(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '2' {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.':
			if i == 0 || i == len(s)-1 || s[i-1] == '.' {
				return false
			}
			dots++
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return dots > 0
}

// zones caches the locations localTime has loaded (time.LoadLocation reads the zone database
// on every call).
var zones sync.Map

func localTime(s, zoneName string) (string, error) {
	t, ok := parseTimestamp(s)
	if !ok {
		return "", nil
	}
	if t.prec > 3 && t.hasOffset {
		loc, ok := zones.Load(zoneName)
		if !ok {
			l, err := time.LoadLocation(zoneName)
			if err != nil {
				return "", fmt.Errorf("localTime: zone %q: %w", zoneName, err)
			}
			loc, _ = zones.LoadOrStore(zoneName, l)
		}
		u := time.Date(t.year, time.Month(t.month), t.day, t.hour, t.min, t.sec, 0, time.FixedZone("", t.offset*60)).In(loc.(*time.Location))
		t.year, t.month, t.day, t.hour, t.min, t.sec = u.Year(), int(u.Month()), u.Day(), u.Hour(), u.Minute(), u.Second()
	}
	widths := []int{4, 2, 2, 2, 2, 2}
	vals := []int{t.year, t.month, t.day, t.hour, t.min, t.sec}
	var b []byte
	for i := 0; i < t.prec && i < len(vals); i++ {
		b = appendInt(b, vals[i], widths[i])
	}
	return string(b), nil
}

// wrap breaks s into lines of at most width runes at spaces, dropping the space at each
// break, so that joining the lines with single spaces gives s back (unless a word is longer
// than width, which is cut).
func wrap(s string, width int) []string {
	if s == "" || width <= 0 {
		return nil
	}
	var lines []string
	for utf8.RuneCountInString(s) > width {
		// cut: the byte offset after width runes.
		cut, n := 0, 0
		for cut < len(s) && n < width {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
			n++
		}
		if sp := strings.LastIndexByte(s[:cut+1], ' '); sp > 0 {
			lines = append(lines, s[:sp])
			s = s[sp+1:]
			continue
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
	}
	return append(lines, s)
}
