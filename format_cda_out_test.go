package fhirbridge

import (
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

func TestCDATargetTypes(t *testing.T) {
	doc := cdaTargetTypes("cda.ClinicalDocument")
	if doc == nil || doc.Kind != fhir.KindResource {
		t.Fatalf("cda.ClinicalDocument = %v, want a resource type", doc)
	}
	for _, c := range cda.Classes() {
		typ := cdaTargetTypes(cdaTypePrefix + c.Name)
		if typ == nil {
			t.Fatalf("no type for class %s", c.Name)
		}
		if c.Name != "ClinicalDocument" && typ.Kind != fhir.KindComplex {
			t.Errorf("%s is a %s type; only cda.ClinicalDocument is a resource", typ.Name, typ.Kind)
		}
		for _, e := range typ.Elements {
			if e.Elem == nil {
				t.Errorf("%s.%s has no element type", typ.Name, e.Name)
			}
		}
	}
	if cdaTargetTypes("Observation") != nil || cdaTargetTypes("cda.Nothing") != nil {
		t.Error("a name that is no cda.* class found a type")
	}
	if e := cdaTargetTypes("cda.Observation").Element("value"); e == nil || e.Max != -1 || e.Type != "cda.ANY" {
		t.Errorf("cda.Observation.value = %+v", e)
	}
}

// TestCDANodeOrder checks that the writer puts attributes first and children in schema order,
// whatever order a mapping filled them in, and leaves out empty elements but table cells.
func TestCDANodeOrder(t *testing.T) {
	obs := cdaTargetTypes("cda.Observation")
	anyT := cdaTargetTypes("cda.ANY")
	o := fhir.NewObject(obs)
	val := fhir.NewObject(anyT)
	val.Set(anyT.Element("@value"), fhir.MakeString("1"))
	val.Set(anyT.Element("@xsi:type"), fhir.MakeString("PQ"))
	o.Add(obs.Element("value"), fhir.MakeObject(val))
	code := fhir.NewObject(anyT)
	code.Set(anyT.Element("@code"), fhir.MakeString("718-7"))
	o.Set(obs.Element("code"), fhir.MakeObject(code))
	o.Set(obs.Element("text"), fhir.MakeObject(fhir.NewObject(cdaTargetTypes("cda.ED")))) // empty: left out
	o.Set(obs.Element("@moodCode"), fhir.MakeString("EVN"))
	o.Set(obs.Element("@classCode"), fhir.MakeString("OBS"))
	b, err := cda.Encode(cdaNode("observation", o))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b[strings.Index(string(b), "\n")+1:])
	want := `<observation xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" classCode="OBS" moodCode="EVN">
  <code code="718-7"/>
  <value xsi:type="PQ" value="1"/>
</observation>
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
