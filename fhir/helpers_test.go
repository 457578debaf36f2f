package fhir

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// obj builds an object of type typ from name/value pairs: a string becomes a StringValue, an
// *Object an ObjectValue, a *Resource a RefValue, a Value stays; []any adds several values.
// Unknown names panic: these are test literals.
func obj(typ string, kv ...any) *Object {
	t := LookupType(typ)
	if t == nil {
		panic("unknown type " + typ)
	}
	o := NewObject(t)
	fillObj(o, kv...)
	return o
}

func res(typ string, kv ...any) *Resource {
	r := NewResource(typ)
	if r == nil {
		panic("unknown resource type " + typ)
	}
	fillObj(&r.Object, kv...)
	return r
}

func toValue(x any) Value {
	switch v := x.(type) {
	case string:
		return MakeString(v)
	case *Object:
		return MakeObject(v)
	case *Resource:
		return MakeRef(v)
	case Value:
		return v
	}
	panic(fmt.Sprintf("bad value %T", x))
}

func fillObj(o *Object, kv ...any) {
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		e := o.Type.Element(name)
		if e == nil {
			panic(o.Type.Name + " has no " + name)
		}
		if many, ok := kv[i+1].([]any); ok {
			for _, x := range many {
				o.Add(e, toValue(x))
			}
			continue
		}
		if !o.Set(e, toValue(kv[i+1])) {
			panic("Set refused " + name)
		}
	}
}

func coding(system, code, display string) *Object {
	return obj("CodeableConcept", "coding", obj("Coding", "system", system, "code", code, "display", display))
}

func ident(system, value string) *Object {
	return obj("Identifier", "system", system, "value", value)
}

// labMessage builds an ORU-like message: MessageHeader, Patient, Encounter, two identical
// Practitioners, Organization, Specimen, eight Observations (two identical), a
// DiagnosticReport referring to all observations; 16 resources before merging.
func labMessage() []*Resource {
	org := res("Organization", "identifier", ident("urn:oid:2.16.840.1.113883.19.4", "LAB1"), "name", "Good Health Lab")
	pat := res("Patient",
		"identifier", []any{ident("urn:oid:2.16.840.1.113883.19.5", "12345"), ident("http://hospital.example/mrn", "MRN-1")},
		"name", obj("HumanName", "family", "Everywoman", "given", []any{"Eve", "L"}),
		"gender", "female", "birthDate", "1962-03-15",
		"address", obj("Address", "line", []any{"2222 Home Street"}, "city", "Ann Arbor", "postalCode", "99999"),
		"managingOrganization", obj("Reference", "reference", org))
	doc1 := res("Practitioner", "identifier", ident("urn:oid:2.16.840.1.113883.4.6", "1234567893"),
		"name", obj("HumanName", "family", "Careful", "given", []any{"Adam"}, "prefix", []any{"Dr."}))
	doc2 := res("Practitioner", "identifier", ident("urn:oid:2.16.840.1.113883.4.6", "1234567893"),
		"name", obj("HumanName", "family", "Careful", "given", []any{"Adam"}, "prefix", []any{"Dr."}))
	enc := res("Encounter", "status", "finished",
		"class", obj("Coding", "system", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "AMB"),
		"subject", obj("Reference", "reference", pat),
		"participant", obj("Encounter.participant", "individual", obj("Reference", "reference", doc1)))
	spec := res("Specimen", "subject", obj("Reference", "reference", pat),
		"type", coding("http://snomed.info/sct", "119297000", "Blood specimen"),
		"receivedTime", "2024-05-01T08:00:00Z")
	tests := []struct{ loinc, name, value, unit string }{
		{"718-7", "Hemoglobin", "13.2", "g/dL"},
		{"4544-3", "Hematocrit", "39.5", "%"},
		{"789-8", "Erythrocytes", "4.41", "10*6/uL"},
		{"6690-2", "Leukocytes", "6.30", "10*3/uL"},
		{"777-3", "Platelets", "250", "10*3/uL"},
		{"785-6", "MCH", "29.9", "pg"},
		{"718-7", "Hemoglobin", "13.2", "g/dL"}, // repeated: merged with the first
		{"786-4", "MCHC", "33.4", "g/dL"},
	}
	out := []*Resource{res("MessageHeader",
		"eventCoding", obj("Coding", "system", "http://terminology.hl7.org/CodeSystem/v2-0003", "code", "R01"),
		"source", obj("MessageHeader.source", "name", "LAB", "endpoint", "urn:oid:2.16.840.1.113883.19.4"),
		"focus", []any{obj("Reference", "reference", pat)}),
		pat, enc, doc1, doc2, org, spec}
	report := res("DiagnosticReport", "status", "final",
		"code", coding("http://loinc.org", "58410-2", "CBC panel - Blood by Automated count"),
		"subject", obj("Reference", "reference", pat),
		"encounter", obj("Reference", "reference", enc),
		"issued", "2024-05-01T10:30:00.000+02:00",
		"performer", []any{obj("Reference", "reference", doc2, "display", "Dr. Adam Careful")})
	for _, tt := range tests {
		o := res("Observation", "status", "final",
			"category", []any{coding("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")},
			"code", coding("http://loinc.org", tt.loinc, tt.name),
			"subject", obj("Reference", "reference", pat),
			"effectiveDateTime", "2024-05-01T08:00:00Z",
			"performer", []any{obj("Reference", "reference", doc2)},
			"valueQuantity", obj("Quantity", "value", MakeNumber(tt.value), "unit", tt.unit,
				"system", "http://unitsofmeasure.org", "code", tt.unit),
			"specimen", obj("Reference", "reference", spec))
		out = append(out, o)
		report.Add(report.Type.Element("result"), MakeObject(obj("Reference", "reference", o)))
	}
	return append(out, report)
}

// externalValidate runs the script named by $FHIR_VALIDATE (fhir-validate) on the given JSON
// documents, once for all, and fails the test for every file it rejects. Without
// $FHIR_VALIDATE it does nothing and says so.
func externalValidate(t *testing.T, docs map[string][]byte) {
	t.Helper()
	script := os.Getenv("FHIR_VALIDATE")
	if script == "" {
		t.Log("FHIR_VALIDATE not set: independent validation skipped")
		return
	}
	dir := t.TempDir()
	var files []string
	for name, data := range docs {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	out, err := exec.Command(script, files...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: %v\n%s", script, err, out)
		return
	}
	if !bytes.Contains(out, []byte(" 0 failed")) {
		t.Errorf("%s:\n%s", script, out)
	}
	t.Log(strings.TrimSpace(string(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:])))
}

// scenarios returns assembled Bundles covering the features of the package, for validation.
func scenarios(t testing.TB) map[string]*Bundle {
	out := map[string]*Bundle{}
	for _, typ := range []BundleType{Transaction, Batch, Collection, Message, Searchset} {
		out["lab-"+string(typ)] = assemble(t, labMessage(), AssembleOptions{Type: typ, Timestamp: "2024-05-01T10:30:00+02:00"})
	}
	out["lab-fullurl-base"] = assemble(t, labMessage(), AssembleOptions{Type: Transaction, FullURLBase: "https://example.org/fhir"})

	// Document with narrative, data-absent-reason, contained resources and extensions.
	dar := func(code string) *Object {
		return obj("Element", "extension", obj("Extension",
			"url", "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode", code))
	}
	org := res("Organization", "identifier", ident("urn:oid:2.16.840.1.113883.19.4", "ORG"), "name", "Clinic & Co <Main>")
	pat := res("Patient",
		"text", obj("Narrative", "status", "generated", "div", `<div xmlns="http://www.w3.org/1999/xhtml"><p>Eve &amp; "E" Everywoman</p></div>`),
		"extension", obj("Extension", "url", "http://example.org/fhir/StructureDefinition/registering-org", "valueReference", obj("Reference", "reference", org)),
		"identifier", ident("urn:oid:2.16.840.1.113883.19.5", "12345"),
		"name", obj("HumanName", "family", "Everywoman", "given", []any{"Eve", Value{Ext: dar("masked")}}),
		"birthDate", Value{Ext: dar("unknown")},
		"deceasedBoolean", MakeBool(false),
		"telecom", obj("ContactPoint", "system", "phone", "value", "+1 555 0100\u2028ext. 2"),
		"contact", obj("Patient.contact", "name", obj("HumanName", "text", "Mother"), "gender", "female"))
	med := res("Medication", "code", coding("http://www.nlm.nih.gov/research/umls/rxnorm", "1049221", "Acetaminophen 325 MG"))
	med.ID = "med"
	rx := res("MedicationRequest", "status", "active", "intent", "order",
		"medicationReference", obj("Reference", "reference", "#med"),
		"subject", obj("Reference", "reference", pat),
		"dosageInstruction", obj("Dosage", "text", "1 tablet every 6 hours",
			"timing", obj("Timing", "repeat", obj("Timing.repeat", "frequency", MakeInt(1), "period", MakeNumber("6"), "periodUnit", "h")),
			"doseAndRate", obj("Dosage.doseAndRate", "doseQuantity", obj("Quantity", "value", MakeNumber("1"), "unit", "tablet"))))
	rx.Add(rx.Type.Element("contained"), MakeResource(med))
	cond := res("Condition", "clinicalStatus", coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
		"code", obj("CodeableConcept", "text", "Headache"), "subject", obj("Reference", "reference", pat),
		"onsetDateTime", Value{Ext: dar("asked-unknown")})
	comp := res("Composition", "status", "final", "type", coding("http://loinc.org", "34133-9", "Summary of episode note"),
		"subject", obj("Reference", "reference", pat), "date", "2024-05-01T10:30:00+02:00",
		"author", []any{obj("Reference", "reference", org)}, "title", "Summary",
		"section", []any{obj("Composition.section", "title", "Medications",
			"text", obj("Narrative", "status", "generated", "div", `<div xmlns="http://www.w3.org/1999/xhtml">Acetaminophen</div>`),
			"entry", []any{obj("Reference", "reference", rx)}),
			obj("Composition.section", "title", "Problems",
				"text", obj("Narrative", "status", "generated", "div", `<div xmlns="http://www.w3.org/1999/xhtml">Headache</div>`),
				"entry", []any{obj("Reference", "reference", cond)})})
	out["document"] = assemble(t, []*Resource{pat, org, comp, rx, cond}, AssembleOptions{Type: Document, Timestamp: "2024-05-01T10:30:00+02:00"})

	// Reference cycles and a self reference.
	a := res("Observation", "status", "final", "code", coding("http://loinc.org", "1-8", "A"))
	c := res("Observation", "status", "final", "code", coding("http://loinc.org", "2-6", "B"))
	a.Add(a.Type.Element("hasMember"), MakeObject(obj("Reference", "reference", c)))
	c.Add(c.Type.Element("derivedFrom"), MakeObject(obj("Reference", "reference", a)))
	self := res("Patient", "gender", "male")
	self.Add(self.Type.Element("link"), MakeObject(obj("Patient.link", "type", "seealso", "other", obj("Reference", "reference", self))))
	out["cycles"] = assemble(t, []*Resource{a, c, self}, AssembleOptions{Type: Transaction})
	return out
}
