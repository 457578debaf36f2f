package fhir_test

import (
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

const treeBundle = `{"resourceType":"Bundle","type":"collection","timestamp":"2024-01-02T03:04:05Z","entry":[
 {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","id":"p1",
   "name":[{"family":"Doe","given":["Jane","Q"]},{"family":"Roe","given":["J"]}],
   "birthDate":"1980-05-06","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1980-05-06T07:08:00Z"}]},
   "deceasedBoolean":false,
   "contained":[{"resourceType":"Organization","id":"org","name":"Inner"}],
   "managingOrganization":{"reference":"#org"}}},
 {"fullUrl":"http://example.org/fhir/Observation/o1","resource":{"resourceType":"Observation","id":"o1","status":"final",
   "code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},
   "subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"},
   "valueQuantity":{"value":1.50,"unit":"m"},
   "extension":[{"url":"http://example.org/a","valueString":"A"},{"url":"http://example.org/b","valueString":"B"}]}},
 {"resource":{"resourceType":"Observation","id":"o2","status":"preliminary","code":{"text":"x"},
   "subject":{"reference":"Patient/p1"},"valueString":"two","hasMember":[{"reference":"http://example.org/fhir/Observation/o1/_history/3"}]}}
]}`

func mustTree(t *testing.T, js string) *fhir.Tree {
	t.Helper()
	r, err := fhir.ParseResource([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return fhir.NewTree(r)
}

func selectAll(t *testing.T, from tree.Node, path string) []tree.Node {
	t.Helper()
	p, err := fhir.Schema{}.Compile(path)
	if err != nil {
		t.Fatalf("Compile(%q): %v", path, err)
	}
	return p.Select(from, nil)
}

func TestTreeSelect(t *testing.T) {
	tr := mustTree(t, treeBundle)
	tests := []struct {
		name, path string
		want       []string // "Location=Text"
	}{
		{"entries by type", "Observation.id", []string{"Bundle.entry[1].resource.id=o1", "Bundle.entry[2].resource.id=o2"}},
		{"n-th entry", "Observation[1].status", []string{"Bundle.entry[2].resource.status=preliminary"}},
		{"list values", "Patient.name.given", []string{
			"Bundle.entry[0].resource.name[0].given[0]=Jane", "Bundle.entry[0].resource.name[0].given[1]=Q",
			"Bundle.entry[0].resource.name[1].given[0]=J"}},
		{"index", "Patient.name[1].family", []string{"Bundle.entry[0].resource.name[1].family=Roe"}},
		{"from the n-th on", "Patient.name[0].given[1:]", []string{"Bundle.entry[0].resource.name[0].given[1]=Q"}},
		{"from the first on", "Patient.name[0:].family", []string{"Bundle.entry[0].resource.name[0].family=Doe", "Bundle.entry[0].resource.name[1].family=Roe"}},
		{"entries from the n-th on", "Observation[1:].status", []string{"Bundle.entry[2].resource.status=preliminary"}},
		{"number keeps its text", "Observation.valueQuantity.value", []string{"Bundle.entry[1].resource.valueQuantity.value=1.50"}},
		{"boolean", "Patient.deceasedBoolean", []string{"Bundle.entry[0].resource.deceasedBoolean=false"}},
		{"choice by base name", "Observation.value", nil}, // objects and primitives: only the primitive has text
		{"choice then element", "Observation.value.unit", nil},
		{"extension by url", "Observation.extension('http://example.org/b').valueString", []string{"Bundle.entry[1].resource.extension[1].valueString=B"}},
		{"primitive extension", "Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').valueDateTime",
			[]string{"Bundle.entry[0].resource.birthDate.extension[0].valueDateTime=1980-05-06T07:08:00Z"}},
		{"resolve urn:uuid", "Observation[0].subject.resolve().birthDate", []string{"Bundle.entry[0].resource.birthDate=1980-05-06"}},
		{"resolve Type/id", "Observation[1].subject.resolve().Patient.id", []string{"Bundle.entry[0].resource.id=p1"}},
		{"resolve versioned URL", "Observation[1].hasMember.resolve().status", []string{"Bundle.entry[1].resource.status=final"}},
		{"resolve filter by type", "Observation[1].subject.resolve().Observation.id", nil},
		{"referrers", "Patient.referrers().Observation.id", []string{"Bundle.entry[1].resource.id=o1", "Bundle.entry[2].resource.id=o2"}},
		{"referrers by a member", "Observation[0].referrers().Observation.id", []string{"Bundle.entry[2].resource.id=o2"}},
		{"no referrers", "Observation[1].referrers().id", nil},
		{"referrers of a non-entry", "Observation[0].code.referrers().id", nil},
		{"resolve contained", "Patient.managingOrganization.resolve().name", []string{"Bundle.entry[0].resource.contained[0].name=Inner"}},
		{"root", "/timestamp", []string{"Bundle.timestamp=2024-01-02T03:04:05Z"}},
		{"the Bundle itself", "Bundle.type", []string{"Bundle.type=collection"}},
		{"nothing", "Patient.gender", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, n := range selectAll(t, tr.Root(), tt.path) {
				got = append(got, n.Location()+"="+n.Text())
			}
			if tt.path == "Observation.value" || tt.path == "Observation.value.unit" {
				// value selects valueQuantity (an object, no text) and valueString.
				got = filterText(got)
				tt.want = map[string][]string{
					"Observation.value":      {"Bundle.entry[2].resource.valueString=two"},
					"Observation.value.unit": {"Bundle.entry[1].resource.valueQuantity.unit=m"},
				}[tt.path]
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%s:\n got %q\nwant %q", tt.path, got, tt.want)
			}
		})
	}
}

func filterText(s []string) []string {
	var out []string
	for _, x := range s {
		if !strings.HasSuffix(x, "=") {
			out = append(out, x)
		}
	}
	return out
}

// TestTreeRelative checks paths from a node other than the root, and typed paths from a
// resource of their type.
func TestTreeRelative(t *testing.T) {
	tr := mustTree(t, treeBundle)
	pats := selectAll(t, tr.Root(), "Patient")
	if len(pats) != 1 {
		t.Fatalf("Patient: %d nodes", len(pats))
	}
	if got := selectAll(t, pats[0], "Patient.birthDate"); len(got) != 1 || got[0].Text() != "1980-05-06" {
		t.Errorf("typed path from its own resource: %v", got)
	}
	if got := selectAll(t, pats[0], "name[0].family"); len(got) != 1 || got[0].Text() != "Doe" {
		t.Errorf("relative path: %v", got)
	}
	if got := selectAll(t, pats[0], "Observation"); len(got) != 0 {
		t.Errorf("a resource type from another resource selects nothing, got %d", len(got))
	}
	if got := selectAll(t, pats[0], "/Observation.id"); len(got) != 2 {
		t.Errorf("absolute path: %d nodes", len(got))
	}
	if p, _ := (fhir.Schema{}).Compile("Patient.name"); p.(tree.Typed).DataType() != "Patient" {
		t.Error("typed path: DataType is not Patient")
	}
}

func TestTreeSingleResource(t *testing.T) {
	tr := mustTree(t, `{"resourceType":"Patient","id":"x","gender":"male"}`)
	if got := selectAll(t, tr.Root(), "Patient.gender"); len(got) != 1 || got[0].Location() != "Patient.gender" {
		t.Errorf("got %v", got)
	}
	if got := selectAll(t, tr.Root(), "id"); len(got) != 1 || got[0].Text() != "x" {
		t.Errorf("id: %v", got)
	}
	if rs := tr.Resources(); len(rs) != 1 || rs[0].Type.Name != "Patient" {
		t.Errorf("Resources: %v", rs)
	}
}

func TestTreeCompileErrors(t *testing.T) {
	tests := []struct{ name, path, msg string }{
		{"empty", "", "empty path"},
		{"unknown resource", "Patiënt.name", "not an R4 resource type"},
		{"typed typo", "Patient.nmae", `did you mean "name"`},
		{"untyped typo", "valueQuantitty.value", `no R4 type has an element "valueQuantitty"`},
		{"resolve on a non-reference", "Patient.name.resolve()", "resolve() follows a Reference"},
		{"unknown function", "name.where(use='official')", "the functions are"},
		{"extension without url", "extension(x)", "quoted url"},
		{"bad index", "name[-1]", "an index"},
		{"unbalanced", "extension('a", "unbalanced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fhir.Schema{}.Compile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Compile(%q) = %v, want an error containing %q", tt.path, err, tt.msg)
			}
		})
	}
}

func BenchmarkTreeSelect(b *testing.B) {
	r, err := fhir.ParseResource([]byte(treeBundle))
	if err != nil {
		b.Fatal(err)
	}
	p, _ := fhir.Schema{}.Compile("Observation.subject.resolve().name.given")
	b.ReportAllocs()
	b.SetBytes(int64(len(treeBundle)))
	var dst []tree.Node
	for b.Loop() {
		tr := fhir.NewTree(r)
		dst = p.Select(tr.Root(), dst[:0])
	}
}
