package transform

import (
	"strconv"
	"strings"
	"time"

	"github.com/fhirbridge/fhirbridge/fhir"
)

// Conversions from source text to FHIR primitives. They are format-neutral: HL7 v2 DTM/TS and
// CDA TS share one compact timestamp form (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]); EDIFACT
// mappings produce ISO text with expressions, which is accepted as well. A value that cannot
// become a valid FHIR primitive is dropped with a warning, never written invalid.

// zone is the default time zone for timestamps that carry none: a fixed offset taken from the
// message (HL7 v2 MSH-7), else a location whose offset is computed for each timestamp's date,
// so daylight saving time is right.
type zone struct {
	fixed string // "+01:00"; "" when none
	loc   *time.Location
}

// primitiveValue converts a constant at compile time (no zone is needed: constants of date
// types must already be complete).
func primitiveValue(typ, s string) (fhir.Value, bool) {
	return convertPrimitive(typ, s, zone{loc: time.UTC})
}

// collapseSpace trims s and turns each run of white space inside it into one space, as
// FHIR's code type requires (Unicode white space too); it allocates only when s has such runs
// or non-ASCII text (rarely).
func collapseSpace(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' && isSpaceByte(s[i+1]) || c != ' ' && isSpaceByte(c) || c >= 0x80 {
			return strings.Join(strings.Fields(s), " ")
		}
	}
	return s
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// convertPrimitive converts text to the FHIR primitive typ.
func convertPrimitive(typ, s string, z zone) (fhir.Value, bool) {
	switch typ {
	case "string", "markdown":
		s = strings.TrimSpace(s)
		return fhir.Value{Kind: fhir.StringValue, S: s}, s != ""
	case "code":
		s = collapseSpace(s)
		return fhir.Value{Kind: fhir.StringValue, S: s}, s != ""
	case "id":
		s = strings.TrimSpace(s)
		return fhir.Value{Kind: fhir.StringValue, S: s}, fhir.ValidPrimitive("id", s)
	case "uri", "url", "canonical":
		s = strings.TrimSpace(s)
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fhir.Value{}, false
		}
		return fhir.Value{Kind: fhir.StringValue, S: s}, true
	case "oid":
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "urn:oid:") {
			s = "urn:oid:" + s
		}
		return fhir.Value{Kind: fhir.StringValue, S: s}, fhir.ValidPrimitive("oid", s)
	case "uuid":
		s = strings.ToLower(strings.TrimSpace(s))
		if !strings.HasPrefix(s, "urn:uuid:") {
			s = "urn:uuid:" + s
		}
		return fhir.Value{Kind: fhir.StringValue, S: s}, fhir.ValidPrimitive("uuid", s)
	case "boolean":
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "Y", "YES", "T", "TRUE", "1":
			return fhir.Value{Kind: fhir.BoolValue, S: "true"}, true
		case "N", "NO", "F", "FALSE", "0":
			return fhir.Value{Kind: fhir.BoolValue, S: "false"}, true
		}
		return fhir.Value{}, false
	case "decimal":
		d, ok := normalizeDecimal(s)
		return fhir.Value{Kind: fhir.NumberValue, S: d}, ok
	case "integer", "positiveInt", "unsignedInt", "integer64":
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "+"), 10, 32)
		if err != nil || (typ == "positiveInt" && n < 1) || (typ == "unsignedInt" && n < 0) {
			return fhir.Value{}, false
		}
		return fhir.Value{Kind: fhir.NumberValue, S: strconv.FormatInt(n, 10)}, true
	case "date", "dateTime", "instant":
		t, ok := parseTimestamp(s)
		if !ok {
			return fhir.Value{}, false
		}
		out, ok := t.format(typ, z)
		return fhir.Value{Kind: fhir.StringValue, S: out}, ok
	case "time":
		t, ok := parseClock(strings.TrimSpace(s))
		return fhir.Value{Kind: fhir.StringValue, S: t}, ok
	case "base64Binary":
		s = strings.Join(strings.Fields(s), "")
		return fhir.Value{Kind: fhir.StringValue, S: s}, fhir.ValidPrimitive("base64Binary", s)
	case "xhtml":
		return fhir.Value{Kind: fhir.StringValue, S: s}, strings.HasPrefix(strings.TrimSpace(s), "<div")
	}
	s = strings.TrimSpace(s)
	return fhir.Value{Kind: fhir.StringValue, S: s}, s != ""
}

// normalizeDecimal turns source numbers ("+1.50", "1.", ".5", "007", " 3 ") into FHIR decimals,
// keeping their precision (trailing zeros stay).
func normalizeDecimal(s string) (string, bool) {
	s = strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
		e := strings.TrimPrefix(strings.TrimPrefix(exp, "+"), "-")
		if e == "" || !allDigits(e) {
			return "", false
		}
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if (intPart == "" && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	var b strings.Builder
	if neg && (strings.Trim(intPart, "0") != "" || strings.Trim(frac, "0") != "") {
		b.WriteByte('-')
	}
	b.WriteString(intPart)
	if hasDot && frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	if exp != "" {
		b.WriteByte('e')
		b.WriteString(exp)
	}
	return b.String(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// timestamp is a parsed point in time with its precision.
type timestamp struct {
	year, month, day, hour, min, sec int
	frac                             string // fraction digits, without the dot
	prec                             int    // 1 year, 2 month, 3 day, 4 hour, 5 minute, 6 second
	offset                           int    // minutes east of UTC
	hasOffset                        bool
}

// parseTimestamp reads a compact HL7/CDA timestamp or an ISO 8601 / FHIR one.
func parseTimestamp(s string) (timestamp, bool) {
	s = strings.TrimSpace(s)
	var t timestamp
	if len(s) < 4 {
		return t, false
	}
	iso := len(s) >= 5 && s[4] == '-'
	if iso { // "2020-01-02T10:11:12.5+01:00" → "20200102101112.5+0100"
		datePart, timePart, _ := strings.Cut(s, "T")
		off := ""
		if strings.HasSuffix(timePart, "Z") {
			timePart, off = timePart[:len(timePart)-1], "+0000"
		} else if i := strings.LastIndexAny(timePart, "+-"); i >= 0 {
			timePart, off = timePart[:i], timePart[i:]
		}
		s = strings.ReplaceAll(datePart, "-", "") + strings.ReplaceAll(timePart, ":", "") + off
	}
	// Split off the offset: the last '+' or '-' (after the date digits), or a trailing Z.
	body, off := s, ""
	if strings.HasSuffix(body, "Z") {
		body, off = body[:len(body)-1], "+0000"
	} else if i := strings.LastIndexAny(body, "+-"); i >= 8 {
		body, off = body[:i], body[i:]
	}
	main, frac, _ := strings.Cut(body, ".")
	if !allDigits(main) || !allDigits(frac) {
		return t, false
	}
	switch len(main) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return t, false
	}
	num := func(i int) int { n, _ := strconv.Atoi(main[i : i+2]); return n }
	t.year, _ = strconv.Atoi(main[:4])
	t.prec = 1
	if len(main) >= 6 {
		t.month, t.prec = num(4), 2
	}
	if len(main) >= 8 {
		t.day, t.prec = num(6), 3
	}
	if len(main) >= 10 {
		t.hour, t.prec = num(8), 4
	}
	if len(main) >= 12 {
		t.min, t.prec = num(10), 5
	}
	if len(main) >= 14 {
		t.sec, t.prec = num(12), 6
		t.frac = frac
	} else if frac != "" {
		return t, false
	}
	if t.year == 0 || (t.prec >= 2 && (t.month < 1 || t.month > 12)) || (t.prec >= 3 && (t.day < 1 || t.day > daysIn(t.year, t.month))) ||
		t.hour > 23 || t.min > 59 || t.sec > 60 {
		return t, false
	}
	if off != "" {
		if t.offset, t.hasOffset = parseOffset(off); !t.hasOffset {
			return t, false
		}
	}
	return t, true
}

// parseOffset reads "+hhmm" or "+hh:mm" as minutes east of UTC.
func parseOffset(off string) (int, bool) {
	o := strings.ReplaceAll(off, ":", "")
	if len(o) != 5 || (o[0] != '+' && o[0] != '-') || !allDigits(o[1:]) {
		return 0, false
	}
	h, _ := strconv.Atoi(o[1:3])
	m, _ := strconv.Atoi(o[3:5])
	if h > 14 || m > 59 {
		return 0, false
	}
	if o[0] == '-' {
		return -(h*60 + m), true
	}
	return h*60 + m, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// format writes t as the FHIR primitive typ. Dates keep their precision; a time of day needs
// seconds and an offset in FHIR, so minutes and seconds are padded with zeros and a missing
// offset comes from z.
func (t timestamp) format(typ string, z zone) (string, bool) {
	var buf [40]byte // "2006-01-02T15:04:05.000000000+05:30" fits: one allocation, the string
	b := appendInt(buf[:0], t.year, 4)
	if t.prec >= 2 {
		b = append(b, '-')
		b = appendInt(b, t.month, 2)
	}
	if t.prec >= 3 {
		b = append(b, '-')
		b = appendInt(b, t.day, 2)
	}
	switch typ {
	case "date":
		return string(b), true
	case "instant":
		if t.prec < 3 {
			return "", false
		}
	}
	if t.prec <= 3 {
		if typ == "instant" {
			return "", false
		}
		return string(b), true
	}
	b = append(b, 'T')
	b = appendInt(b, t.hour, 2)
	b = append(b, ':')
	b = appendInt(b, t.min, 2)
	b = append(b, ':')
	b = appendInt(b, t.sec, 2)
	if t.frac != "" {
		b = append(b, '.')
		b = append(b, t.frac...)
	}
	off, ok := t.offset, t.hasOffset
	if !ok {
		off, ok = z.offsetAt(t)
	}
	if !ok {
		return "", false
	}
	if off == 0 && !t.hasOffset && z.fixed == "" && z.loc == time.UTC {
		b = append(b, 'Z')
		return string(b), true
	}
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendInt(b, off/60, 2)
	b = append(b, ':')
	b = appendInt(b, off%60, 2)
	return string(b), true
}

func (z zone) offsetAt(t timestamp) (int, bool) {
	if z.fixed != "" {
		return parseOffset(z.fixed)
	}
	if z.loc == nil {
		return 0, false
	}
	_, secs := time.Date(t.year, time.Month(t.month), t.day, t.hour, t.min, t.sec, 0, z.loc).Zone()
	return secs / 60, true
}

func appendInt(b []byte, n, width int) []byte {
	var tmp [8]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseClock converts "HHMM[SS[.S+]]" or "HH:MM[:SS]" to FHIR time "hh:mm:ss".
func parseClock(s string) (string, bool) {
	s = strings.ReplaceAll(s, ":", "")
	main, frac, _ := strings.Cut(s, ".")
	if !allDigits(main) || !allDigits(frac) || (len(main) != 4 && len(main) != 6) {
		return "", false
	}
	for len(main) < 6 {
		main += "0"
	}
	h, _ := strconv.Atoi(main[:2])
	m, _ := strconv.Atoi(main[2:4])
	sec, _ := strconv.Atoi(main[4:6])
	if h > 23 || m > 59 || sec > 59 {
		return "", false
	}
	out := main[:2] + ":" + main[2:4] + ":" + main[4:6]
	if frac != "" {
		out += "." + frac
	}
	return out, true
}

// Instant converts a source timestamp to a FHIR instant, taking the zone from the timestamp
// or, when it has none, from loc (nil: UTC). ok is false when s is not a complete timestamp.
func Instant(s string, loc *time.Location) (string, bool) {
	if loc == nil {
		loc = time.UTC
	}
	v, ok := convertPrimitive("instant", s, zone{loc: loc})
	return v.S, ok
}
