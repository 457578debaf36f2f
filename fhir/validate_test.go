package fhir

import (
	"os"
	"strings"
	"testing"
)

func TestValidateScenarios(t *testing.T) {
	for name, b := range scenarios(t) {
		if issues := Validate(b.Resource()); len(issues) != 0 {
			t.Errorf("%s: %v", name, issues)
		}
		r, err := ParseResource(b.AppendJSON(nil))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if issues := Validate(r); len(issues) != 0 {
			t.Errorf("%s parsed: %v", name, issues)
		}
	}
}

// TestFHIRValidate checks the Bundles of scenarios with the independent validator named by
// $FHIR_VALIDATE (/work/shared/tools/fhir-validate/fhir-validate).
func TestFHIRValidate(t *testing.T) {
	if os.Getenv("FHIR_VALIDATE") == "" {
		t.Skip("FHIR_VALIDATE not set")
	}
	docs := map[string][]byte{}
	for name, b := range scenarios(t) {
		docs[name] = b.AppendJSONIndent(nil, "  ")
	}
	externalValidate(t, docs)
}

func TestValidate(t *testing.T) {
	obs := func(kv ...any) *Resource {
		base := []any{"status", "final", "code", coding("http://loinc.org", "718-7", "Hb")}
		return res("Observation", append(base, kv...)...)
	}
	twoVariants := obs("valueString", "x")
	twoVariants.Props = append(twoVariants.Props, Prop{Elem: twoVariants.Type.Element("valueBoolean"), Vals: []Value{MakeBool(true)}})
	twoValues := obs()
	twoValues.Prop(twoValues.Type.Element("status")).Vals = []Value{MakeString("final"), MakeString("amended")}
	foreign := obs()
	foreign.Props = append(foreign.Props, Prop{Elem: LookupType("Patient").Element("gender"), Vals: []Value{MakeString("male")}})
	wrongType := obs()
	wrongType.Props = append(wrongType.Props, Prop{Elem: wrongType.Type.Element("subject"), Vals: []Value{MakeObject(obj("HumanName", "family", "x"))}})

	parse := func(s string) *Resource {
		r, err := ParseResource([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return r
	}
	tests := []struct {
		name string
		r    *Resource
		want []string // "severity path: message" substrings, in order; nil = valid
	}{
		{"valid", obs("valueQuantity", obj("Quantity", "value", MakeNumber("13.2"))), nil},
		{"missing required", res("Observation", "valueString", "x"), []string{
			"error Observation: missing required element status", "error Observation: missing required element code"}},
		{"required choice", res("MessageHeader", "source", obj("MessageHeader.source", "endpoint", "urn:x")), []string{
			"error MessageHeader: missing required element event[x]"}},
		{"two variants", twoVariants, []string{"error Observation.valueBoolean: only one of valueString and valueBoolean"}},
		{"too many", twoValues, []string{"error Observation.status: too many values (max 1, found 2)"}},
		{"foreign element", foreign, []string{"error Observation.gender: element gender is not an element of Observation"}},
		{"wrong type", wrongType, []string{"error Observation.subject: expected Reference, found HumanName"}},
		{"invalid primitive", obs("effectiveDateTime", "2024-13-01"), []string{`error Observation.effectiveDateTime: invalid dateTime "2024-13-01"`}},
		{"binding", obs("valueString", "x", "subject", obj("Reference", "reference", "Patient/1")), nil},
		{"code not in binding", res("Patient", "gender", "M"), []string{`error Patient.gender: code "M" is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender`}},
		{"codeable concept binding", res("Condition", "subject", obj("Reference", "display", "x"),
			"clinicalStatus", coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "gone", "")),
			[]string{`error Condition.clinicalStatus: no coding in the required value set http://hl7.org/fhir/ValueSet/condition-clinical (codes "gone")`}},
		{"empty value", obs("valueQuantity", obj("Quantity")), []string{"error Observation.valueQuantity: empty value"}},
		{"ext-1", res("Patient", "extension", obj("Extension", "url", "http://x", "valueString", "v", "extension", obj("Extension", "url", "y", "valueString", "w"))),
			[]string{"error Patient.extension[0]: an extension has a value or extensions, not both (ext-1)"}},
		{"reference target", obs("subject", obj("Reference", "reference", "Practitioner/1")),
			[]string{"warning Observation.subject: reference to Practitioner, expected Patient or Group or Device or Location"}},
		{"dangling reference in bundle", parse(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:00000000-0000-5000-8000-000000000000"},"specimen":{"reference":"https://example.org/Specimen/1"},"hasMember":[{"reference":"Observation/18b89f25-7305-5edc-9d9a-a80a16b35eee"},{"reference":"urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee"}]}}]}`),
			[]string{`error Bundle.entry[0].resource.subject.reference: dangling reference "urn:uuid:00000000-0000-5000-8000-000000000000"`, "error Bundle.entry[0].resource.hasMember[0].reference: dangling"}},
		{"bdl-7 and request", parse(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:x:1","resource":{"resourceType":"Basic","code":{"text":"a"}}},{"fullUrl":"urn:x:1","resource":{"resourceType":"Basic","code":{"text":"b"}},"request":{"method":"POST","url":"Basic"}}]}`),
			[]string{"error Bundle.entry[0]: a transaction entry must have a request (bdl-3)", `error Bundle.entry[1]: fullUrl "urn:x:1" is also the fullUrl of entry[0] (bdl-7)`}},
		{"message first", parse(`{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Basic","code":{"text":"a"}}}]}`),
			[]string{"error Bundle.entry[0]: the first entry of a message must be a MessageHeader (bdl-12)"}},
		{"document", parse(`{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Basic","code":{"text":"a"}}}]}`),
			[]string{"(bdl-9)", "(bdl-10)", "(bdl-11)"}},
		{"not a resource", &Resource{Object: *obj("HumanName")}, []string{"error HumanName: HumanName is not a concrete resource type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issues := Validate(tt.r)
			if len(issues) != len(tt.want) {
				t.Fatalf("issues %v, want %d", issues, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(issues[i].String(), w) {
					t.Errorf("issue %d: %s, want %s", i, issues[i], w)
				}
			}
		})
	}
}
