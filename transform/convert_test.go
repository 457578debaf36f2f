package transform

import (
	"testing"
	"time"
)

func TestConvertPrimitive(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	utc := zone{loc: time.UTC}
	tests := []struct {
		name, typ, in string
		z             zone
		want          string
		ok            bool
	}{
		{"year only keeps precision", "dateTime", "2012", utc, "2012", true},
		{"month", "dateTime", "201203", utc, "2012-03", true},
		{"day", "date", "20120315", utc, "2012-03-15", true},
		{"date from a timestamp", "date", "201203151230", utc, "2012-03-15", true},
		{"minutes padded, offset kept", "dateTime", "201203151230-0500", utc, "2012-03-15T12:30:00-05:00", true},
		{"fraction kept", "dateTime", "20120315123045.1234+0100", utc, "2012-03-15T12:30:45.1234+01:00", true},
		{"no offset, UTC default", "dateTime", "20120315123045", utc, "2012-03-15T12:30:45Z", true},
		{"no offset, message offset", "dateTime", "20120315123045", zone{fixed: "+02:00"}, "2012-03-15T12:30:45+02:00", true},
		{"no offset, London winter", "dateTime", "20120115123045", zone{loc: london}, "2012-01-15T12:30:45+00:00", true},
		{"no offset, London summer", "dateTime", "20120715123045", zone{loc: london}, "2012-07-15T12:30:45+01:00", true},
		{"ISO input", "dateTime", "2012-07-15T12:30:45-03:00", utc, "2012-07-15T12:30:45-03:00", true},
		{"ISO Z", "instant", "2012-07-15T12:30:45Z", utc, "2012-07-15T12:30:45+00:00", true},
		{"instant needs a day", "instant", "2012", utc, "", false},
		{"bad month", "date", "20121315", utc, "", false},
		{"bad day", "date", "20120230", utc, "", false},
		{"odd length", "date", "2012031", utc, "", false},
		{"letters", "dateTime", "2012-0X", utc, "", false},
		{"decimal plus", "decimal", "+1.50", utc, "1.50", true},
		{"decimal leading dot", "decimal", "-.5", utc, "-0.5", true},
		{"decimal trailing dot", "decimal", "7.", utc, "7", true},
		{"decimal zeros", "decimal", "007.10", utc, "7.10", true},
		{"decimal exponent", "decimal", "1.2E3", utc, "1.2e3", true},
		{"decimal minus zero", "decimal", "-0", utc, "0", true},
		{"decimal text", "decimal", "1.2.3", utc, "", false},
		{"integer", "integer", " 42 ", utc, "42", true},
		{"positiveInt zero", "positiveInt", "0", utc, "", false},
		{"boolean Y", "boolean", "Y", utc, "true", true},
		{"boolean no", "boolean", "no", utc, "false", true},
		{"boolean other", "boolean", "maybe", utc, "", false},
		{"code whitespace", "code", "  a   b ", utc, "a b", true},
		{"code tab", "code", "a\tb", utc, "a b", true},
		{"code one space", "code", " a b ", utc, "a b", true},
		{"code NBSP", "code", "a\u00a0 b", utc, "a b", true},
		{"code plain", "code", "final", utc, "final", true},
		{"id invalid", "id", "a b", utc, "a b", false},
		{"oid", "oid", "2.16.840.1.113883", utc, "urn:oid:2.16.840.1.113883", true},
		{"uri with space", "uri", "a b", utc, "", false},
		{"time", "time", "1230", utc, "12:30:00", true},
		{"time bad", "time", "2561", utc, "", false},
		{"string trimmed", "string", "  x ", utc, "x", true},
		{"string empty", "string", "   ", utc, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := convertPrimitive(tt.typ, tt.in, tt.z)
			if ok != tt.ok || (ok && v.S != tt.want) {
				t.Errorf("convertPrimitive(%q, %q) = %q, %v; want %q, %v", tt.typ, tt.in, v.S, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAsURI(t *testing.T) {
	for in, want := range map[string]string{
		"2.16.840.1.113883.19":                 "urn:oid:2.16.840.1.113883.19",
		"6B29FC40-CA47-1067-B31D-00DD010662DA": "urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da",
		"http://example.org/x":                 "http://example.org/x",
		"LOCAL":                                "LOCAL",
		"1..2":                                 "1..2",
	} {
		if got := asURI(in); got != want {
			t.Errorf("asURI(%q) = %q, want %q", in, got, want)
		}
	}
}
