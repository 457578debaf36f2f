package transform_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

// base is a minimal set of mappings the tests extend.
const base = `
message: TEST
format: hl7v2
match: [ADT^A01]
timezone: MSH-7
rules:
  - {from: PID, resource: Patient, as: patient, map: "PID[Patient]"}
---
map: PID[Patient]
source: PID
target: Patient
rules:
  - {from: PID-5, to: name, map: "XPN[HumanName]"}
  - {from: PID-7, to: birthDate}
  - {from: PID-8, to: gender, codes: Sex}
---
map: XPN[HumanName]
source: XPN
target: HumanName
rules:
  - {from: XPN.1, to: family}
  - {from: XPN.2, to: given}
---
codes: Sex
system: http://hl7.org/fhir/administrative-gender
map: {F: female, M: male}
`

func compile(t *testing.T, extra string) (*transform.Program, error) {
	t.Helper()
	files := []transform.File{{Name: "base.yaml", Data: []byte(base)}}
	if extra != "" {
		files = append(files, transform.File{Name: "extra.yaml", Data: []byte(extra)})
	}
	return transform.Compile(files, transform.WithSchema(hl7v2.Schema{}))
}

func TestCompileDiagnostics(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // substring of the error, with file:line:col
	}{
		{"unknown key", "map: A[Patient]\nsource: A\ntarget: Patient\nrules:\n  - {from: PID-1, too: id}\n", `extra.yaml:5:19: unknown key "too" in a rule (did you mean "to"?)`},
		{"unknown element", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-1, to: gendr}\n", `extra.yaml:4:23: Patient has no element "gendr" (did you mean "gender"?)`},
		{"bad expression column", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-1, to: gender, value: \"v +\"}\n", `extra.yaml:4:41: unexpected token EOF`},
		{"unknown function", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-1, to: gender, value: \"nope(v)\"}\n", `extra.yaml:4:39: unknown name nope`},
		{"bad source path", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-x, to: gender}\n", `extra.yaml:4:12: hl7v2: bad path "PID-x": field numbers start at 1`},
		{"bad path in get", "map: A[Patient]\ntarget: Patient\nrules:\n  - {to: gender, value: \"get('PID-x')\"}\n", `get("PID-x")`},
		{"unknown map", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-5, to: name, map: \"XPN[HumanNam]\"}\n", `unknown map "XPN[HumanNam]" (did you mean "XPN[HumanName]"?)`},
		{"map target mismatch", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-5, to: address, map: \"XPN[HumanName]\"}\n", `map "XPN[HumanName]" builds a HumanName, but the target here is a Address`},
		{"unknown alias", "extend: TEST\nrules:\n  - {from: PV1, resource: Encounter, rules: [{to: subject, ref: patinet}]}\n", `no resource named "patinet" is in scope here (did you mean "patient"?)`},
		{"wrong reference target", "extend: TEST\nrules:\n  - {from: PV1, resource: Encounter, rules: [{to: serviceProvider, ref: patient}]}\n", `cannot refer to a Patient`},
		{"invalid const", "map: A[Patient]\ntarget: Patient\nrules:\n  - {to: birthDate, const: yesterday}\n", `const "yesterday" is not a valid FHIR date`},
		{"unknown resource", "extend: TEST\nrules:\n  - {from: PV1, resource: Encountr}\n", `unknown FHIR resource type "Encountr" (did you mean "Encounter"?)`},
		{"unknown code map", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-8, to: gender, codes: Sx}\n", `unknown code map "Sx"`},
		{"duplicate in a layer", "codes: Sex\nmap: {F: female}\n---\ncodes: Sex\nmap: {M: male}\n", `codes "Sex" is defined twice in one layer`},
		{"primitive has no elements", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-7, to: birthDate.value}\n", `birthDate is a primitive; only its extension and id can follow`},
		{"rule produces nothing", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-7}\n", `this rule produces nothing`},
		{"bad yaml", "map: [\n", `extra.yaml:`},
		{"unknown document", "mapping: X\n", `extra.yaml:1:1: a mapping document starts with one of the keys message, map, codes, extend or structures, not "mapping"`},
		{"index not supported", "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-5, to: \"name[2]\", map: \"XPN[HumanName]\"}\n", `numeric indexes are not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(t, tt.yaml)
			var ce *transform.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CompileError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain %q:\n%v", tt.want, err)
			}
		})
	}
}

func TestCompileReportsEveryError(t *testing.T) {
	_, err := compile(t, "map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-1, to: gendr}\n  - {from: PID-1, to: nam}\n  - {from: PID-1, to: brthDate}\n")
	var ce *transform.CompileError
	if !errors.As(err, &ce) || len(ce.Diagnostics) != 3 {
		t.Fatalf("want 3 diagnostics, got %v", err)
	}
}

// run converts one HL7 v2 message with the base mappings plus extra.
func run(t *testing.T, extra, msg string) *transform.Result {
	t.Helper()
	p, err := compile(t, extra)
	if err != nil {
		t.Fatal(err)
	}
	m, err := hl7v2.Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	code, event, _ := m.Type()
	mm := p.Find("hl7v2", code+"^"+event)
	if mm == nil {
		t.Fatal("no message mapping")
	}
	res, err := p.Run(context.Background(), mm, hl7v2.NewTree(m, nil).Root(), transform.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func resourceJSON(res *transform.Result, typ string) string {
	var out []string
	for _, r := range res.Resources {
		if r.Type.Name == typ {
			out = append(out, string(fhir.AppendResourceJSON(nil, r)))
		}
	}
	return strings.Join(out, "\n")
}

const msgA01 = "MSH|^~\\&|A|B|C|D|20240101120000+0100||ADT^A01|1|P|2.5\rPID|1||123^^^H^MR~456^^^H^PI||Doe^Jane~Roe^J||198002|F\rPV1|1|I\r"

func TestRunBasics(t *testing.T) {
	res := run(t, "", msgA01)
	got := resourceJSON(res, "Patient")
	for _, want := range []string{`"family":"Doe"`, `"given":["Jane"]`, `"family":"Roe"`, `"birthDate":"1980-02"`, `"gender":"female"`} {
		if !strings.Contains(got, want) {
			t.Errorf("Patient lacks %s:\n%s", want, got)
		}
	}
}

func TestRunListSteps(t *testing.T) {
	extra := `
extend: PID[Patient]
rules:
  - {from: PID-3, to: "identifier[+].value"}
  - {from: PID-3.4, to: "identifier[=].system", value: "'urn:sys:' + v"}
  - {to: contact.name.family, const: A}
  - {to: contact.name.given, const: B}
  - {to: "contact[+].name.family", const: C}
`
	got := resourceJSON(run(t, extra, msgA01), "Patient")
	// [=] picks the last identifier: only the second one gets the system.
	if !strings.Contains(got, `"identifier":[{"value":"123"},{"system":"urn:sys:H","value":"456"}]`) {
		t.Errorf("identifiers: %s", got)
	}
	if !strings.Contains(got, `"contact":[{"name":{"family":"A","given":["B"]}},{"name":{"family":"C"}}]`) {
		t.Errorf("contacts: %s", got)
	}
}

func TestRunWhenAndValueWarnings(t *testing.T) {
	extra := `
extend: PID[Patient]
rules:
  - {from: PID-8, when: "v == 'F'", to: active, const: true}
  - {from: PID-5.1, to: deceasedDateTime}
`
	res := run(t, extra, msgA01)
	got := resourceJSON(res, "Patient")
	if !strings.Contains(got, `"active":true`) {
		t.Errorf("when: %s", got)
	}
	if strings.Contains(got, "deceased") {
		t.Errorf("an invalid dateTime was written: %s", got)
	}
	found := false
	for _, d := range res.Diagnostics {
		if d.Kind == transform.KindValue && d.Input == "PID[1]-5[1].1" && strings.Contains(d.Message, "not a valid FHIR dateTime") {
			found = true
			if strings.Contains(d.Error(), "Doe") {
				t.Errorf("a warning carries patient data: %s", d.Error())
			}
		}
	}
	if !found {
		t.Errorf("no warning for the dropped value: %v", res.Diagnostics)
	}
}

func TestRunRequiredGetsDataAbsentReason(t *testing.T) {
	extra := `
extend: TEST
rules:
  - {from: PV1, resource: Encounter, rules: [{to: subject, ref: patient}]}
`
	got := resourceJSON(run(t, extra, msgA01), "Encounter")
	// Encounter.status and .class are required; the mapping gives neither.
	for _, want := range []string{`"_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`, `"class":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`} {
		if !strings.Contains(got, want) {
			t.Errorf("Encounter lacks %s:\n%s", want, got)
		}
	}
}

func TestRunAliasScopes(t *testing.T) {
	extra := `
extend: TEST
rules:
  - from: PID-3
    resource: Observation
    as: obs
    rules:
      - {to: status, const: final}
      - {to: code.text, value: v}
      - {to: subject, ref: patient}
      - {on: patient, to: "link[+].other", ref: obs}
`
	p, err := compile(t, extra)
	if err == nil {
		_ = p
		t.Fatal("Patient.link.other cannot refer to an Observation: compile should fail")
	}
	extra = strings.Replace(extra, "{on: patient, to: \"link[+].other\", ref: obs}", "{on: patient, to: generalPractitioner, ref: patient}", 1)
	if _, err := compile(t, extra); err == nil || !strings.Contains(err.Error(), "cannot refer to a Patient") {
		t.Fatalf("got %v", err)
	}
}

// TestProgramConcurrent runs one Program from many goroutines (go test -race).
func TestProgramConcurrent(t *testing.T) {
	p, err := compile(t, "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := hl7v2.Parse([]byte(msgA01))
	mm := p.Find("hl7v2", "ADT^A01")
	var wg sync.WaitGroup
	want := ""
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				res, err := p.Run(context.Background(), mm, hl7v2.NewTree(m, nil).Root(), transform.RunOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				_ = resourceJSON(res, "Patient")
			}
		}()
		_ = i
	}
	wg.Wait()
	_ = want
}

func FuzzCompile(f *testing.F) {
	f.Add(base)
	f.Add("map: A[Patient]\ntarget: Patient\nrules:\n  - {from: PID-1, to: gender, value: \"v + 'x'\"}\n")
	f.Add("codes: X\nmap: {a: b}\ndefault: {code: c}\n")
	f.Add("structures: hl7v2\nX: MSH [{A(B)}]\n")
	f.Fuzz(func(t *testing.T, src string) {
		// Must never panic; errors are fine.
		p, err := transform.Compile([]transform.File{{Name: "f.yaml", Data: []byte(src)}}, transform.WithSchema(hl7v2.Schema{}))
		if err == nil && p == nil {
			t.Fatal("nil program without error")
		}
		transform.Lint([]transform.File{{Name: "f.yaml", Data: []byte(src)}}, transform.WithSchema(hl7v2.Schema{}))
	})
}

func TestRecursiveMap(t *testing.T) {
	extra := `
extend: PID[Patient]
rules:
  - {from: PID-5, to: "contact[+]", map: "Nest[Patient.contact]"}
---
map: Nest[Patient.contact]
source: XPN
target: Patient.contact
rules:
  - {from: XPN.1, to: name.family}
  - {to: "extension[+].url", const: "urn:x"}
  - {to: "extension[=].valueString", value: v}
`
	got := resourceJSON(run(t, extra, msgA01), "Patient")
	if !strings.Contains(got, `"contact":[{"extension":[{"url":"urn:x","valueString":"Doe"}],"name":{"family":"Doe"}}`) {
		t.Errorf("contact: %s", got)
	}
	// A map that uses itself without descending stops with an error, not a stack overflow.
	loop := `
extend: PID[Patient]
rules:
  - {to: "contact[+]", map: "Loop[Patient.contact]"}
---
map: Loop[Patient.contact]
source: PID
target: Patient.contact
rules:
  - {to: name.family, const: X}
  - {to: "organization", resource: Organization, map: "Org[Organization]"}
---
map: Org[Organization]
source: PID
target: Organization
rules:
  - {to: name, const: Y}
  - {to: partOf, resource: Organization, map: "Org[Organization]"}
`
	p, err := compile(t, loop)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := hl7v2.Parse([]byte(msgA01))
	_, err = p.Run(context.Background(), p.Find("hl7v2", "ADT^A01"), hl7v2.NewTree(m, nil).Root(), transform.RunOptions{MaxResources: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "maps nested more than") {
		t.Fatalf("got %v, want the depth error", err)
	}
}

func TestRequiredReferenceToDroppedResource(t *testing.T) {
	extra := `
extend: TEST
rules:
  - {from: PID-99, resource: Practitioner, as: nobody, rules: [{to: name.family, value: v}]}
  - from: PID
    resource: Condition
    rules:
      - {to: code.text, const: x}
      - {to: subject, ref: patient}
      - {to: asserter, ref: nobody}
`
	// PID-99 is absent: no Practitioner; Condition.asserter is optional and simply absent.
	got := resourceJSON(run(t, extra, msgA01), "Condition")
	if strings.Contains(got, "asserter") {
		t.Errorf("a reference to a resource that was never created: %s", got)
	}
	// A Patient emptied of content: Condition.subject (required) must not vanish silently.
	msg := "MSH|^~\\&|A|B|C|D|20240101120000+0100||ADT^A01|1|P|2.5\rPID|1\r"
	got = resourceJSON(run(t, extra, msg), "Condition")
	if !strings.Contains(got, `"subject":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason"`) {
		t.Errorf("Condition.subject: %s", got)
	}
}

// TestRunIndex: index() counts the nodes a rule with a from has run on (its when held);
// index(1) is the enclosing rule's count.
func TestRunIndex(t *testing.T) {
	extra := `
extend: PID[Patient]
rules:
  - from: PID-5
    when: "get('.1') != 'Skip'"
    rules:
      - {to: "identifier[+].value", value: "'n' + string(index() + 1)"}
      - {from: "PID-3", to: "identifier[+].value", value: "string(index(1) + 1) + '.' + string(index() + 1)"}
`
	got := resourceJSON(run(t, extra, strings.Replace(msgA01, "Doe^Jane~Roe^J", "Doe^Jane~Skip~Roe^J", 1)), "Patient")
	want := `"identifier":[{"value":"n1"},{"value":"1.1"},{"value":"1.2"},{"value":"n2"},{"value":"2.1"},{"value":"2.2"}]`
	if !strings.Contains(got, want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
