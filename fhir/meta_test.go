package fhir

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func mustType(t testing.TB, name string) *Type {
	t.Helper()
	typ := LookupType(name)
	if typ == nil {
		t.Fatalf("LookupType(%q) = nil", name)
	}
	return typ
}

func mustElem(t testing.TB, typ, name string) *Element {
	t.Helper()
	e := mustType(t, typ).Element(name)
	if e == nil {
		t.Fatalf("%s has no element %q", typ, name)
	}
	return e
}

func TestDecodeTime(t *testing.T) {
	start := time.Now()
	m := decode(r4data)
	d := time.Since(start)
	nCore := 0
	for _, ti := range m.groups[0].types {
		nCore += int(m.types[ti].nElems)
	}
	start = time.Now()
	for i := range m.types {
		m.ensure(&m.types[i])
	}
	all := time.Since(start)
	t.Logf("decode: datatypes %v (%d types, %d elements); all resources %v (%d types)", d, len(m.groups[0].types), nCore, all, len(m.types))
	if d > 50*time.Millisecond { // generous for -race and slow CI; typically well under 1ms
		t.Errorf("decode took %v", d)
	}
}

func TestElementOrder(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		want []string // a subsequence of the type's element names, in order
	}{
		{"patient", "Patient", []string{"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension", "identifier", "active", "name", "telecom", "gender", "birthDate", "deceasedBoolean", "deceasedDateTime", "address", "maritalStatus", "multipleBirthBoolean", "photo", "contact", "communication", "generalPractitioner", "managingOrganization", "link"}},
		{"humanname", "HumanName", []string{"id", "extension", "use", "text", "family", "given", "prefix", "suffix", "period"}},
		{"bundle", "Bundle", []string{"id", "meta", "implicitRules", "language", "identifier", "type", "timestamp", "total", "link", "entry", "signature"}},
		{"bundle entry", "Bundle.entry", []string{"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"}},
		{"extension", "Extension", []string{"id", "extension", "url", "valueBase64Binary", "valueString", "valueReference", "valueMeta"}},
		{"primitive", "date", []string{"id", "extension"}},
		{"resource base", "Resource", []string{"id", "meta", "implicitRules", "language"}},
		{"domain resource", "DomainResource", []string{"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"}},
		{"element", "Element", []string{"id", "extension"}},
		{"backbone element", "BackboneElement", []string{"id", "extension", "modifierExtension"}},
		{"timing repeat", "Timing.repeat", []string{"boundsDuration", "boundsRange", "boundsPeriod", "count", "frequency", "period", "periodUnit", "dayOfWeek", "timeOfDay", "when", "offset"}},
		{"dosage", "Dosage", []string{"sequence", "text", "additionalInstruction", "patientInstruction", "timing", "asNeededBoolean", "asNeededCodeableConcept", "site", "route", "method", "doseAndRate", "maxDosePerPeriod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := mustType(t, tt.typ)
			last := -1
			for _, n := range tt.want {
				e := typ.Element(n)
				if e == nil {
					t.Fatalf("%s has no %s", tt.typ, n)
				}
				if e.Order < last {
					t.Errorf("%s.%s: order %d before %d", tt.typ, n, e.Order, last)
				}
				last = e.Order
				if typ.Elements[slices.Index(typ.Elements, e)] != e {
					t.Errorf("Elements does not hold %s", n)
				}
			}
		})
	}
}

func TestElementDetails(t *testing.T) {
	tests := []struct {
		name                     string
		typ, elem                string
		min, max                 int
		code, elemType, choice   string
		targets                  []string
		bindingHas, bindingURL   string
		noBinding, enumerableNil bool
	}{
		{name: "identifier list", typ: "Patient", elem: "identifier", max: -1, code: "Identifier", elemType: "Identifier"},
		{name: "birthDate", typ: "Patient", elem: "birthDate", max: 1, code: "date", elemType: "date"},
		{name: "resource id", typ: "Patient", elem: "id", max: 1, code: "id", elemType: "id"},
		{name: "element id", typ: "HumanName", elem: "id", max: 1, code: "string", elemType: "string"},
		{name: "extension url", typ: "Extension", elem: "url", min: 1, max: 1, code: "uri", elemType: "uri"},
		{name: "gender binding", typ: "Patient", elem: "gender", max: 1, code: "code", elemType: "code", bindingHas: "unknown", bindingURL: "http://hl7.org/fhir/ValueSet/administrative-gender"},
		{name: "choice", typ: "Observation", elem: "valueQuantity", max: 1, code: "Quantity", elemType: "Quantity", choice: "value"},
		{name: "deceased", typ: "Patient", elem: "deceasedBoolean", max: 1, code: "boolean", elemType: "boolean", choice: "deceased"},
		{name: "backbone", typ: "Patient", elem: "contact", max: -1, code: "BackboneElement", elemType: "Patient.contact"},
		{name: "nested backbone", typ: "Bundle.entry", elem: "request", max: 1, code: "BackboneElement", elemType: "Bundle.entry.request"},
		{name: "request method", typ: "Bundle.entry.request", elem: "method", min: 1, max: 1, code: "code", elemType: "code", bindingHas: "POST", bindingURL: "http://hl7.org/fhir/ValueSet/http-verb"},
		{name: "datatype backbone", typ: "Timing", elem: "repeat", max: 1, code: "Element", elemType: "Timing.repeat"},
		{name: "content reference", typ: "Questionnaire.item", elem: "item", max: -1, code: "BackboneElement", elemType: "Questionnaire.item"},
		{name: "bundle link reference", typ: "Bundle.entry", elem: "link", max: -1, code: "BackboneElement", elemType: "Bundle.link"},
		{name: "entry resource", typ: "Bundle.entry", elem: "resource", max: 1, code: "Resource", elemType: "Resource"},
		{name: "targets", typ: "Observation", elem: "subject", max: 1, code: "Reference", elemType: "Reference", targets: []string{"Patient", "Group", "Device", "Location"}},
		{name: "any target", typ: "Extension", elem: "valueReference", max: 1, code: "Reference", elemType: "Reference", choice: "value", targets: []string{"Resource"}},
		{name: "status", typ: "Observation", elem: "status", min: 1, max: 1, code: "code", elemType: "code", bindingHas: "final", bindingURL: "http://hl7.org/fhir/ValueSet/observation-status"},
		{name: "not enumerable", typ: "Attachment", elem: "contentType", max: 1, code: "code", elemType: "code", bindingURL: "http://hl7.org/fhir/ValueSet/mimetypes", enumerableNil: true},
		{name: "narrative div", typ: "Narrative", elem: "div", min: 1, max: 1, code: "xhtml", elemType: "xhtml"},
		{name: "confidentiality v3", typ: "Composition", elem: "confidentiality", max: 1, code: "code", elemType: "code", bindingHas: "N", bindingURL: "http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustElem(t, tt.typ, tt.elem)
			if e.Name != tt.elem || e.Min != tt.min || e.Max != tt.max || e.Type != tt.code || e.Choice != tt.choice {
				t.Errorf("got %+v", *e)
			}
			if e.Elem == nil || e.Elem.Name != tt.elemType {
				t.Errorf("Elem = %v, want %s", e.Elem, tt.elemType)
			}
			if !slices.Equal(e.Targets, tt.targets) {
				t.Errorf("Targets = %v, want %v", e.Targets, tt.targets)
			}
			if e.BindingURL != tt.bindingURL {
				t.Errorf("BindingURL = %q, want %q", e.BindingURL, tt.bindingURL)
			}
			if tt.bindingHas != "" && !slices.Contains(e.Binding, tt.bindingHas) {
				t.Errorf("Binding = %v, want it to contain %q", e.Binding, tt.bindingHas)
			}
			if tt.enumerableNil && e.Binding != nil {
				t.Errorf("Binding = %v, want nil", e.Binding)
			}
			if e.List() != (tt.max != 1) {
				t.Errorf("List() = %v", e.List())
			}
		})
	}
}

func TestChoices(t *testing.T) {
	obs := mustType(t, "Observation")
	vs := obs.Choices("value")
	var names []string
	for _, e := range vs {
		names = append(names, e.Name)
	}
	want := []string{"valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger", "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod"}
	if !slices.Equal(names, want) {
		t.Errorf("Choices(value) = %v", names)
	}
	if ext := mustType(t, "Extension").Choices("value"); len(ext) != 50 {
		t.Errorf("Extension value[x] has %d variants, want 50", len(ext))
	}
	if obs.Choices("nope") != nil {
		t.Error("Choices(nope) != nil")
	}
}

func TestTypesComplete(t *testing.T) {
	kinds := map[Kind]int{}
	for _, typ := range Types() {
		kinds[typ.Kind]++
		if LookupType(typ.Name) != typ {
			t.Errorf("LookupType(%s) is not the type", typ.Name)
		}
		for i, e := range typ.Elements {
			if typ.Element(e.Name) != e {
				t.Errorf("%s.Element(%s) does not find it", typ.Name, e.Name)
			}
			if e.Elem == nil {
				t.Errorf("%s.%s has no Elem", typ.Name, e.Name)
			}
			if i > 0 && e.Order < typ.Elements[i-1].Order {
				t.Errorf("%s.%s out of order", typ.Name, e.Name)
			}
			if e.Choice != "" && !strings.HasPrefix(e.Name, e.Choice) {
				t.Errorf("%s.%s: choice %s", typ.Name, e.Name, e.Choice)
			}
		}
		if typ.Element("zzz") != nil || typ.Element("") != nil {
			t.Errorf("%s finds unknown elements", typ.Name)
		}
	}
	t.Logf("kinds: %v", kinds)
	if kinds[KindPrimitive] != 20 || kinds[KindResource] != 148 || kinds[KindComplex] < 40 || kinds[KindBackbone] < 400 {
		t.Errorf("unexpected kinds %v", kinds)
	}
	for _, name := range []string{"Patient", "Observation", "Bundle", "MessageHeader", "Composition", "Parameters", "Binary", "VisionPrescription"} {
		if !IsResourceType(name) {
			t.Errorf("IsResourceType(%s) = false", name)
		}
	}
	for _, name := range []string{"Resource", "DomainResource", "HumanName", "string", "Patient.contact", "SubscriptionStatus", "MetadataResource", "patient", ""} {
		if IsResourceType(name) {
			t.Errorf("IsResourceType(%s) = true", name)
		}
	}
	for _, name := range []string{"Element", "BackboneElement", "Extension", "Narrative", "Reference", "Meta", "Dosage", "Timing", "Quantity", "Age", "Duration", "xhtml", "base64Binary", "positiveInt"} {
		mustType(t, name)
	}
}

func BenchmarkTypeElement(b *testing.B) {
	typ := LookupType("Patient")
	b.ReportAllocs()
	for b.Loop() {
		typ.Element("birthDate")
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		decode(r4data)
	}
}

func BenchmarkDecodeAll(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m := decode(r4data)
		for i := range m.types {
			m.ensure(&m.types[i])
		}
	}
}
