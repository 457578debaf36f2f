package fhir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// marked strips the ⚠ marker from in and returns the input and the marker's byte offset, or
// -1 without marker.
func marked(t *testing.T, in string) ([]byte, int64) {
	t.Helper()
	i := strings.Index(in, "⚠")
	if i < 0 {
		return []byte(in), -1
	}
	return []byte(in[:i] + in[i+len("⚠"):]), int64(i)
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat(`{"extension":[`, 300)
	tests := []struct {
		name string
		in   string // ⚠ marks the expected offset
		path string
		err  error
	}{
		{"bad primitive in list", `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:x"},{"fullUrl":"urn:y"},{"fullUrl":"urn:z"},{"resource":{"resourceType":"Patient","name":[{"given":["a",⚠" "]}]}}]}`, "Bundle.entry[3].resource.name[0].given[1]", ErrInvalidPrimitive},
		{"invalid date", `{"resourceType":"Patient","birthDate":⚠"1974-13-01"}`, "Patient.birthDate", ErrInvalidPrimitive},
		{"unknown element", `{"resourceType":"Patient",⚠"nickname":"x"}`, "Patient.nickname", ErrUnknownElement},
		{"unknown nested", `{"resourceType":"Patient","name":[{⚠"first":"x"}]}`, "Patient.name[0].first", ErrUnknownElement},
		{"extension of a complex element", `{"resourceType":"Patient",⚠"_name":{}}`, "Patient._name", ErrUnknownElement},
		{"choice type unknown", `{"resourceType":"Observation","status":"final","code":{"text":"x"},⚠"valueFoo":1}`, "Observation.valueFoo", ErrUnknownElement},
		{"array for single", `{"resourceType":"Patient","gender":⚠["male"]}`, "Patient.gender", ErrKind},
		{"single for array", `{"resourceType":"Patient","name":⚠{"family":"x"}}`, "Patient.name", ErrKind},
		{"string for boolean", `{"resourceType":"Patient","active":⚠"true"}`, "Patient.active", ErrKind},
		{"number for string", `{"resourceType":"Patient","name":[{"given":["a",⚠1]}]}`, "Patient.name[0].given[1]", ErrKind},
		{"string for number", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":⚠"1"}}`, "Observation.valueQuantity.value", ErrKind},
		{"bad integer", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":⚠1.5}`, "Observation.valueInteger", ErrInvalidPrimitive},
		{"object for primitive", `{"resourceType":"Patient","gender":⚠{}}`, "Patient.gender", ErrKind},
		{"null single", `{"resourceType":"Patient","gender":⚠null}`, "Patient.gender", ErrNull},
		{"null in list without extension", `{"resourceType":"Patient","name":[{"given":["a",⚠null]}]}`, "Patient.name[0].given[1]", ErrNull},
		{"null in extension list without value", `{"resourceType":"Patient","name":[{"_given":[{"id":"x"},⚠null]}]}`, "Patient.name[0].given[1]", ErrNull},
		{"duplicate key", `{"resourceType":"Patient","gender":"male",⚠"gender":"female"}`, "Patient.gender", ErrDuplicate},
		{"duplicate id", `{"resourceType":"Patient","id":"a",⚠"id":"b"}`, "Patient.id", ErrDuplicate},
		{"bad id", `{"resourceType":"Patient","id":⚠"a_b"}`, "Patient.id", ErrInvalidPrimitive},
		{"empty object", `{"resourceType":"Patient","name":[⚠{}]}`, "Patient.name[0]", ErrEmpty},
		{"empty array", `{"resourceType":"Patient","name":⚠[]}`, "Patient.name", ErrEmpty},
		{"empty string", `{"resourceType":"Patient","gender":⚠""}`, "Patient.gender", ErrEmpty},
		{"missing resourceType", `⚠{"id":"x"}`, "", ErrMissingResourceType},
		{"unknown resourceType", `{"resourceType":⚠"Patient2"}`, "", ErrUnknownResourceType},
		{"abstract resourceType", `{"resourceType":⚠"DomainResource"}`, "", ErrUnknownResourceType},
		{"nested unknown resourceType", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":⚠"Nope"}}]}`, "Bundle.entry[0].resource", ErrUnknownResourceType},
		{"not an object", `⚠["Patient"]`, "", ErrKind},
		{"trailing data", `{"resourceType":"Patient"} ⚠x`, "", ErrSyntax},
		{"unterminated", `{"resourceType":"Patient","gender":"male"⚠`, "Patient", ErrSyntax},
		{"missing colon", `{"resourceType":"Patient","gender"⚠"male"}`, "Patient", ErrSyntax},
		{"bad escape", `{"resourceType":"Patient","gender":"ma⚠\qle"}`, "Patient.gender", ErrSyntax},
		{"control character", "{\"resourceType\":\"Patient\",\"gender\":\"ma⚠\x01le\"}", "Patient.gender", ErrSyntax},
		{"invalid utf-8", "{\"resourceType\":\"Patient\",\"gender\":⚠\"m\xffale\"}", "Patient.gender", ErrSyntax},
		{"bad literal", `{"resourceType":"Patient","active":⚠tru}`, "Patient.active", ErrSyntax},
		{"too deep", `{"resourceType":"Patient","extension":[` + deep, "", ErrTooDeep},
		{"primitive extension not object", `{"resourceType":"Patient","_birthDate":⚠"x"}`, "Patient.birthDate", ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, off := marked(t, tt.in)
			_, err := ParseResource(in)
			var je *JSONError
			if !errors.As(err, &je) {
				t.Fatalf("err %v, want a *JSONError", err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("err %v, want %v", err, tt.err)
			}
			if off >= 0 && je.Offset != off {
				t.Errorf("offset %d, want %d (%v)", je.Offset, off, err)
			}
			if tt.path != "" && je.Path != tt.path {
				t.Errorf("path %q, want %q (%v)", je.Path, tt.path, err)
			}
		})
	}
}

func TestJSONErrorMessage(t *testing.T) {
	_, err := ParseResource([]byte(`{"resourceType":"Patient","birthDate":"19x"}`))
	want := `offset 38: Patient.birthDate: invalid primitive value: "19x" is not a valid date`
	if err == nil || err.Error() != want {
		t.Errorf("err %v, want %s", err, want)
	}
}

func TestParseRoundTrip(t *testing.T) {
	docs := map[string][]byte{
		"transaction": bundleJSON(t, assemble(t, labMessage(), AssembleOptions{Type: Transaction})),
		"message":     bundleJSON(t, assemble(t, labMessage(), AssembleOptions{Type: Message, Timestamp: "2024-05-01T10:30:00+02:00"})),
		"extensions": []byte(`{"resourceType":"Patient","id":"p1","_id":{"extension":[{"url":"http://x","valueString":"y"}]},` +
			`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P &amp; Q\u2028</div>"},` +
			`"extension":[{"url":"http://x","valueDecimal":1.50},{"extension":[{"url":"a","valueBoolean":false}],"url":"http://y"}],` +
			`"name":[{"family":"F","given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},{"id":"g3"}]}],` +
			`"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}}`),
		"contained": []byte(`{"resourceType":"MedicationRequest","contained":[{"resourceType":"Medication","id":"m","code":{"text":"x"}}],"status":"active","intent":"order","medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/1"}}`),
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			r, err := ParseResource(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendResourceJSON(nil, r); !bytes.Equal(got, doc) {
				t.Errorf("round trip:\n got %s\nwant %s", got, doc)
			}
			// Parsing, in a different key order, gives the same tree.
			var pretty []byte
			pretty = appendIndent(pretty, doc, " ")
			r2, err := ParseResource(pretty)
			if err != nil {
				t.Fatal(err)
			}
			if !equalObjects(&r.Object, &r2.Object) || r.ID != r2.ID {
				t.Error("indented input parses to a different tree")
			}
		})
	}
}

func TestParseTreeEqualsBuilt(t *testing.T) {
	// ParseResource(AppendResourceJSON(x)) equals x, for a tree without RefValues.
	x := res("Patient", "identifier", []any{ident("urn:x", "1")}, "active", MakeBool(true),
		"name", obj("HumanName", "family", "F", "given", []any{"A", "B"}),
		"multipleBirthInteger", MakeInt(2),
		"extension", obj("Extension", "url", "http://x", "valueQuantity", obj("Quantity", "value", MakeNumber("0.10"))))
	x.ID = "x1"
	y, err := ParseResource(AppendResourceJSON(nil, x))
	if err != nil {
		t.Fatal(err)
	}
	if !equalObjects(&x.Object, &y.Object) || x.ID != y.ID {
		t.Errorf("trees differ:\n%s\n%s", AppendResourceJSON(nil, x), AppendResourceJSON(nil, y))
	}
	if v, _ := y.Get(y.Type.Element("active")); v.Kind != BoolValue {
		t.Errorf("active kind %v", v.Kind)
	}
}

// equalObjects compares two trees: same elements (in element order), kinds, values,
// extensions and nested resources.
func equalObjects(a, b *Object) bool {
	if a.Type != b.Type || len(a.Props) != len(b.Props) {
		return false
	}
	for _, pa := range a.Props {
		pb := b.Prop(pa.Elem)
		if pb == nil || len(pa.Vals) != len(pb.Vals) {
			return false
		}
		for i := range pa.Vals {
			va, vb := pa.Vals[i], pb.Vals[i]
			if va.Kind != vb.Kind || va.S != vb.S || (va.Ext == nil) != (vb.Ext == nil) || (va.R == nil) != (vb.R == nil) {
				return false
			}
			if va.Ext != nil && !equalObjects(va.Ext, vb.Ext) {
				return false
			}
			if va.O != nil && !equalObjects(va.O, vb.O) {
				return false
			}
			if va.R != nil && va.R.ID != vb.R.ID {
				return false
			}
		}
	}
	return true
}

func TestParseBundleEntries(t *testing.T) {
	b := assemble(t, labMessage(), AssembleOptions{Type: Transaction})
	r, err := ParseResource(b.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != b.ID {
		t.Errorf("bundle id %s, want %s", r.ID, b.ID)
	}
	entries := r.Prop(r.Type.Element("entry")).Vals
	if len(entries) != len(b.Resources()) {
		t.Fatalf("%d entries", len(entries))
	}
	for i, e := range entries {
		v, _ := e.O.Get(e.O.Type.Element("resource"))
		if v.R == nil || v.R.ID != b.Resources()[i].ID || v.R.Type != b.Resources()[i].Type || v.O != &v.R.Object {
			t.Errorf("entry %d: resource %+v", i, v)
		}
	}
	if issues := Validate(r); len(issues) != 0 {
		t.Errorf("issues %v", issues)
	}
}

func FuzzParseResource(f *testing.F) {
	f.Add(bundleJSON(f, assemble(f, labMessage(), AssembleOptions{Type: Transaction})))
	f.Add([]byte(`{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}],"_birthDate":{"id":"b"}}`))
	f.Add([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"\u00e9\ud83d\ude00"},"valueQuantity":{"value":1.5e3}}`))
	addCorpusJSON(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResource(data)
		if err != nil {
			var je *JSONError
			if !errors.As(err, &je) || je.Offset < 0 || je.Offset > int64(len(data)) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		out := AppendResourceJSON(nil, r)
		r2, err := ParseResource(out)
		if err != nil {
			t.Fatalf("writer output does not parse: %v\n%s", err, out)
		}
		if out2 := AppendResourceJSON(nil, r2); !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
		Validate(r)
	})
}

// ParseResourceLenient leaves out each element with a problem, reports it by path, and keeps
// the rest; invalid JSON still fails.
func TestParseResourceLenient(t *testing.T) {
	in := `{"resourceType":"Bundle","type":"collection","entry":[
	  {"resource":{"resourceType":"Patient","id":"p1","birthDate":"1970-13-45","gender":"male",
	    "name":[{"family":"Ng","given":["A",7]}],"nickname":"x"}},
	  {"resource":{"resourceType":"Composition2"}},
	  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"Hb"},
	    "effectiveDateTime":"2025-01-01T00:00:00-0500","valueQuantity":{},"note":[{"text":""}]}}]}`
	r, problems, err := ParseResourceLenient([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.Path+": "+p.Err.Error())
	}
	want := []string{
		"Bundle.entry[0].resource.birthDate: invalid primitive value",
		"Bundle.entry[0].resource.name[0].given[1]: wrong JSON kind",
		"Bundle.entry[0].resource.nickname: unknown element",
		"Bundle.entry[1].resource: unknown resource type",
		"Bundle.entry[2].resource.effectiveDateTime: invalid primitive value",
		"Bundle.entry[2].resource.valueQuantity: empty value",
		"Bundle.entry[2].resource.note[0].text: empty value",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// What had no problem is kept.
	out := string(AppendResourceJSON(nil, r))
	for _, s := range []string{`"gender":"male"`, `"family":"Ng"`, `"status":"final"`, `"id":"p1"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %s: %s", s, out)
		}
	}
	for _, s := range []string{"1970-13-45", "nickname", "given", "effectiveDateTime"} {
		if strings.Contains(out, s) {
			t.Errorf("output keeps %s: %s", s, out)
		}
	}
	// The strict parser stops at the first.
	if _, err := ParseResource([]byte(in)); err == nil || !strings.Contains(err.Error(), "birthDate") {
		t.Errorf("strict: %v", err)
	}
	for _, bad := range []string{`{"resourceType":"Patient","gender":"male"`, `{"resourceType":"Nope"}`, `[1]`} {
		if _, _, err := ParseResourceLenient([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// addCorpusJSON seeds f with FHIR JSON of the shared corpus (the expected outputs of other
// converters), when it is there.
func addCorpusJSON(f *testing.F) {
	for _, pattern := range []string{"ccda/*/*.json", "ccda/*/*/*.json", "hl7v2/ig/*.json", "edifact/lab-results/*/*/*.json"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", pattern))
		for _, file := range files[:min(len(files), 20)] {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzParseResourceLenient: never a panic; problems and errors name offsets inside the input;
// input the strict parser accepts has no problems and reads the same.
func FuzzParseResourceLenient(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","birthDate":"1970-13-45","name":[{"given":["A",7]}],"x":{}}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Nope"}},{"resource":{"resourceType":"Patient","gender":[]}}]}`))
	addCorpusJSON(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, problems, err := ParseResourceLenient(data)
		for _, p := range problems {
			if p.Offset < 0 || p.Offset > int64(len(data)) {
				t.Fatalf("problem offset %d outside the input: %v", p.Offset, p)
			}
		}
		strict, serr := ParseResource(data)
		if serr == nil {
			if err != nil || len(problems) > 0 {
				t.Fatalf("strict parse succeeded, lenient: %v %v", err, problems)
			}
			if a, b := AppendResourceJSON(nil, strict), AppendResourceJSON(nil, r); !bytes.Equal(a, b) {
				t.Fatalf("lenient reads differently:\n%s\n%s", a, b)
			}
		}
		if err == nil {
			AppendResourceJSON(nil, r)
			Validate(r)
		}
	})
}
