package fhir

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONEscaping(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // JSON text
	}{
		{"plain", "Everywoman", `"Everywoman"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"controls", "a\nb\rc\td\be\ff\x01\x1f", `"a\nb\rc\td\be\ff\u0001\u001f"`},
		{"html is not escaped", "<b>&</b>", `"<b>&</b>"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"unicode kept", "é😀中", `"é😀中"`},
		{"invalid utf-8", "a\xffb\xc3", "\"a\ufffdb\ufffd\""},
		{"del kept", "\x7f", "\"\x7f\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendString(nil, tt.in)
			if string(got) != tt.want {
				t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if want := strings.ToValidUTF8(tt.in, "\ufffd"); back != want && !strings.Contains(tt.in, "\xff") {
				t.Errorf("round trip %q, want %q", back, want)
			}
		})
	}
}

func TestIndentMatchesEncodingJSON(t *testing.T) {
	docs := [][]byte{
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(`{"a":[],"b":{},"c":[{"d":"x,y:{}[]\"\\","e":[1,2.5,-3e4,true,false,null]}],"f":"\u2028"}`),
		bundleJSON(t, assemble(t, labMessage(), AssembleOptions{Type: Transaction})),
	}
	for _, doc := range docs {
		for _, indent := range []string{"  ", "\t", ""} {
			var want bytes.Buffer
			if err := json.Indent(&want, doc, "", indent); err != nil {
				t.Fatal(err)
			}
			if got := appendIndent(nil, doc, indent); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("appendIndent(%q):\n%s\nwant\n%s", indent, got, want.Bytes())
			}
		}
	}
	b := assemble(t, labMessage(), AssembleOptions{})
	var want bytes.Buffer
	json.Indent(&want, b.AppendJSON(nil), "", "  ")
	if got := b.AppendJSONIndent([]byte("prefix"), "  "); !bytes.Equal(got, append([]byte("prefix"), want.Bytes()...)) {
		t.Error("AppendJSONIndent differs from json.Indent")
	}
}

func TestWriteValues(t *testing.T) {
	dar := func() *Object {
		return obj("string", "extension", obj("Extension",
			"url", "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode", "unknown"))
	}
	target := NewResource("Patient")
	target.ID = "p1"
	tests := []struct {
		name string
		o    *Object
		want string
	}{
		{"element order", obj("HumanName", "period", obj("Period", "end", "2020"), "given", []any{"A", "B"}, "family", "F", "use", "official"),
			`{"use":"official","family":"F","given":["A","B"],"period":{"end":"2020"}}`},
		{"numbers verbatim", obj("Quantity", "value", MakeNumber("1.50"), "comparator", "<"), `{"value":1.50,"comparator":"<"}`},
		{"number from a string", obj("Quantity", "value", "72"), `{"value":72}`},
		{"invalid number stays a string", obj("Quantity", "value", "7,2"), `{"value":"7,2"}`},
		{"booleans", obj("Coding", "userSelected", MakeBool(true), "code", "x"), `{"code":"x","userSelected":true}`},
		{"integers", obj("Attachment", "size", MakeInt(1024)), `{"size":1024}`},
		{"primitive extension only", obj("HumanName", "family", Value{Ext: dar()}),
			`{"_family":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
		{"primitive with value and extension", obj("HumanName", "family", Value{S: "F", Ext: dar()}),
			`{"family":"F","_family":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
		{"primitive list with extensions", obj("HumanName", "given", []any{"A", Value{Ext: dar()}, Value{S: "C", Ext: dar()}, ""}),
			`{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}]}`},
		{"empty values left out", obj("HumanName", "family", "", "period", obj("Period"), "given", []any{Value{}}), `{}`},
		{"ref in Reference.reference", obj("Reference", "reference", target, "display", "P"), `{"reference":"urn:uuid:p1","display":"P"}`},
		{"ref on a Reference element", obj("Observation.component", "code", coding("urn:x", "c", ""), "valueString", "x"), `{"code":{"coding":[{"system":"urn:x","code":"c"}]},"valueString":"x"}`},
		{"ref without id left out", obj("Reference", "reference", NewResource("Patient")), `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendObjectJSON(nil, tt.o); string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	// A RefValue directly on a Reference-typed element becomes {"reference": …}.
	obs := res("Observation", "status", "final", "code", coding("urn:x", "c", ""), "subject", target)
	want := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"urn:x","code":"c"}]},"subject":{"reference":"urn:uuid:p1"}}`
	if got := AppendResourceJSON(nil, obs); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestContainedAndID(t *testing.T) {
	med := res("Medication", "code", coding("http://www.nlm.nih.gov/research/umls/rxnorm", "1049221", "Acetaminophen"))
	med.ID = "med1"
	rx := res("MedicationRequest", "status", "active", "intent", "order",
		"medicationReference", obj("Reference", "reference", "#med1"),
		"subject", obj("Reference", "display", "someone"))
	rx.Add(rx.Type.Element("contained"), MakeResource(med))
	rx.Set(rx.Type.Element("id"), MakeString("ignored-when-ID-is-set"))
	rx.ID = "rx1"
	want := `{"resourceType":"MedicationRequest","id":"rx1","contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049221","display":"Acetaminophen"}]}}],"status":"active","intent":"order","medicationReference":{"reference":"#med1"},"subject":{"display":"someone"}}`
	if got := AppendResourceJSON(nil, rx); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	b := assemble(t, []*Resource{rx}, AssembleOptions{Type: Transaction})
	out := bundleJSON(t, b)
	if !bytes.Contains(out, []byte(`"contained":[{"resourceType":"Medication","id":"med1",`)) {
		t.Errorf("contained resource lost: %s", out)
	}
	if issues := Validate(b.Resource()); len(issues) > 0 {
		t.Errorf("issues %v", issues)
	}
}
