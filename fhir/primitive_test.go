package fhir

import (
	"strings"
	"testing"
)

func TestValidPrimitive(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		valid   []string
		invalid []string
	}{
		{"date", "date",
			[]string{"2024", "2024-02", "2024-02-29", "2000-02-29", "0001-01-01", "1900-12-31"},
			[]string{"", "24", "0000", "2024-2", "2024-13", "2024-00", "2024-02-30", "1900-02-29", "2023-02-29", "2024-04-31", "2024-01-01T10:00:00Z", "2024-01-01 ", "2024/01/01", "20240101"}},
		{"dateTime", "dateTime",
			[]string{"2024", "2024-05", "2024-05-01", "2024-05-01T10:30:00Z", "2024-05-01T10:30:00+02:00", "2024-05-01T10:30:00.123456789-05:00", "2024-05-01T23:59:60Z", "2024-05-01T10:30:00+14:00"},
			[]string{"2024-05-01T10:30Z", "2024-05-01T10:30:00", "2024-05-01T24:00:00Z", "2024-05-01T10:30:00+14:30", "2024-05-01T10:30:00+15:00", "2024-05-01T10:30:00.Z", "2024-05-01T10:30:00z", "2024-05-01T", "2024-05T10:30:00Z", "2024-05-01T10:30:00+0200"}},
		{"instant", "instant",
			[]string{"2024-05-01T10:30:00Z", "2024-05-01T10:30:00.5+01:00"},
			[]string{"2024-05-01", "2024", "2024-05-01T10:30:00", "2024-05-01T10:30Z"}},
		{"time", "time",
			[]string{"00:00:00", "23:59:59", "10:30:00.25", "12:00:60"},
			[]string{"24:00:00", "10:30", "10:60:00", "10:30:00Z", "1:30:00", "10:30:00."}},
		{"integer", "integer",
			[]string{"0", "1", "-1", "2147483647", "-2147483648", "42"},
			[]string{"", "-0", "01", "+1", "1.0", "2147483648", "-2147483649", "1e3", "12345678901", "a"}},
		{"positiveInt", "positiveInt",
			[]string{"1", "2147483647"},
			[]string{"0", "-1", "2147483648", "01"}},
		{"unsignedInt", "unsignedInt",
			[]string{"0", "1", "2147483647"},
			[]string{"-1", "00", "2147483648"}},
		{"decimal", "decimal",
			[]string{"0", "1.50", "-0.5", "1e10", "1.5E-3", "-0", "123456789012345678901234567890"},
			[]string{"", ".5", "1.", "01", "+1", "1e", "--1", "NaN", "1,5", " 1"}},
		{"boolean", "boolean", []string{"true", "false"}, []string{"", "True", "1", "yes"}},
		{"id", "id",
			[]string{"a", "A-1.b", strings.Repeat("x", 64), "18b89f25-7305-5edc-9d9a-a80a16b35eee"},
			[]string{"", "a_b", "a b", strings.Repeat("x", 65), "é"}},
		{"code", "code",
			[]string{"final", "a b", "10*3/uL", "é"},
			[]string{"", " a", "a ", "a  b", "a\tb c\n", "\n"}},
		{"string", "string",
			[]string{"x", " leading and trailing ", "multi\nline\ttab", "é😀", "<b>&"},
			[]string{"", " ", "\n\t", "bell\a", "nul\x00", "bad \xff utf8"}},
		{"markdown", "markdown", []string{"# Title\n\n*x*"}, []string{"", "  "}},
		{"uri", "uri",
			[]string{"http://loinc.org", "urn:oid:1.2.3", "urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee", "#p1", "Patient/1"},
			[]string{"", "http://a b", "a\tb"}},
		{"url", "url", []string{"https://example.org/fhir"}, []string{"", "https://x y"}},
		{"canonical", "canonical", []string{"http://hl7.org/fhir/ValueSet/x|4.0.1"}, []string{"", "a b"}},
		{"oid", "oid",
			[]string{"urn:oid:1.2.3", "urn:oid:2.16.840.1.113883.19.5", "urn:oid:0.0"},
			[]string{"", "1.2.3", "urn:oid:3.1", "urn:oid:1", "urn:oid:1.", "urn:oid:1.02", "urn:oid:1..2", "urn:oid:1.2a"}},
		{"uuid", "uuid",
			[]string{"urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee"},
			[]string{"", "18b89f25-7305-5edc-9d9a-a80a16b35eee", "urn:uuid:18B89F25-7305-5edc-9d9a-a80a16b35eee", "urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35ee", "urn:uuid:18b89f257305-5edc-9d9a-a80a16b35eee0"}},
		{"base64Binary", "base64Binary",
			[]string{"AAAA", "aGVsbG8=", "aGk=", "+/+/"},
			[]string{"", "A", "AAA", "aGVsbG8", "aGk==a==", "a===", "aGVs bG8=", "aGVsbG8-"}},
		{"xhtml", "xhtml", []string{`<div xmlns="http://www.w3.org/1999/xhtml">x</div>`}, []string{""}},
		{"complex types are not primitives", "HumanName", nil, []string{"x"}},
		{"unknown types", "nonsense", nil, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.valid {
				if !ValidPrimitive(tt.typ, s) {
					t.Errorf("ValidPrimitive(%q, %q) = false, want true", tt.typ, s)
				}
			}
			for _, s := range tt.invalid {
				if ValidPrimitive(tt.typ, s) {
					t.Errorf("ValidPrimitive(%q, %q) = true, want false", tt.typ, s)
				}
			}
		})
	}
}

func TestValidPrimitiveCoversAllPrimitives(t *testing.T) {
	for _, typ := range Types() {
		if typ.Kind != KindPrimitive {
			continue
		}
		// Every primitive type has at least one valid value among these.
		ok := false
		for _, s := range []string{"x", "1", "true", "2024", "10:00:00", "urn:oid:1.2", "urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee", "AAAA", "2024-01-01T00:00:00Z"} {
			ok = ok || ValidPrimitive(typ.Name, s)
		}
		if !ok {
			t.Errorf("ValidPrimitive does not know %s", typ.Name)
		}
	}
}
