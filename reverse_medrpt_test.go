package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
)

// NHS003 pathology reports there and back: EDIFACT → FHIR → EDIFACT → FHIR. The EDIFACT
// written must read back with the strict reader (no warnings, UNT and UNZ counts and
// references right), and the second Bundle must state the same facts as the first: patient
// (NHS number or local number, name, birth date, gender, address), parties (identifiers,
// names, the laboratory's department), report (code, status, issued, identifier), clinical
// notes, specimens (type, identifiers, times, quantity, notes) and results (code, value, unit,
// comparator, reference range, interpretation, status, notes, test group, specimen) — and,
// stronger, the same resources but for ids and reference strings. What does not survive is
// what the forward mapping does not put in the Bundle (docs/reverse-medrpt.md): the
// interchange and message references, DTM+137, NAD+MR, the UNB partner qualifiers.

var medrptReverse = func() *fhirbridge.Converter {
	c, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatEDIFACT})
	if err != nil {
		panic(err)
	}
	return c
}()

// medrptRoundTrip converts one forward Bundle back to EDIFACT and forward again, and compares
// the facts. It returns the EDIFACT written.
func medrptRoundTrip(t *testing.T, name string, first *fhirbridge.Result) []byte {
	t.Helper()
	ctx := context.Background()
	back, err := medrptReverse.ConvertMessage(ctx, first.JSON())
	if err != nil {
		t.Errorf("%s: FHIR → EDIFACT: %v", name, err)
		return nil
	}
	for _, w := range back.Warnings {
		t.Errorf("%s: FHIR → EDIFACT warning: %v", name, w)
	}
	if back.MessageType != "MEDRPT:NHS003" {
		t.Errorf("%s: wrote a %s, want MEDRPT:NHS003", name, back.MessageType)
	}
	checkStrictEDIFACT(t, name, back.Output)
	var second []*fhirbridge.Result
	for res, err := range testConverter.Convert(ctx, bytes.NewReader(back.Output)) {
		if err != nil {
			t.Errorf("%s: the EDIFACT written does not convert: %v\n%s", name, err, back.Output)
			return back.Output
		}
		second = append(second, res)
	}
	if len(second) != 1 {
		t.Fatalf("%s: the EDIFACT written holds %d messages, want 1", name, len(second))
	}
	if len(second[0].Warnings) > len(first.Warnings) {
		t.Errorf("%s: the second forward conversion warns more (%d) than the first (%d): %v", name, len(second[0].Warnings), len(first.Warnings), second[0].Warnings)
	}
	// Stronger than the facts: every resource the same but for ids and reference strings.
	if lost, added := diffFacts(normalBundle(t, first.JSON()), normalBundle(t, second[0].JSON())); len(lost)+len(added) > 0 {
		t.Errorf("%s: resources differ after the round trip\nlost:  %s\nadded: %s", name, strings.Join(lost, "\n       "), strings.Join(added, "\n       "))
	}
	want, got := medrptFacts(t, first.JSON()), medrptFacts(t, second[0].JSON())
	if lost, added := diffFacts(want, got); len(lost)+len(added) > 0 {
		t.Errorf("%s: facts differ after the round trip\nlost:  %s\nadded: %s\nEDIFACT written:\n%s",
			name, strings.Join(lost, "\n       "), strings.Join(added, "\n       "), back.Output)
	}
	return back.Output
}

// checkStrictEDIFACT reads data with the strict EDIFACT reader: one message, no warnings,
// control counts and references right.
func checkStrictEDIFACT(t *testing.T, name string, data []byte) {
	t.Helper()
	rd := edifact.NewReader(bytes.NewReader(data))
	rd.Strict = true
	msg, err := rd.Read()
	if err != nil {
		t.Errorf("%s: the EDIFACT written does not read strictly: %v\n%s", name, err, data)
		return
	}
	for _, w := range msg.Warnings {
		t.Errorf("%s: reading the EDIFACT written: %v", name, w)
	}
	if _, err := rd.Read(); err != io.EOF {
		t.Errorf("%s: after the message: %v, want io.EOF (UNZ count or reference wrong?)", name, err)
	}
	if ic := msg.Interchange; ic == nil || !ic.Closed || ic.UNZCount != "1" || ic.UNZRef != ic.Ref {
		t.Errorf("%s: interchange trailer wrong: %+v", name, ic)
	}
}

// TestReverseMEDRPTTestdata round-trips our own NHS003 fixture and pins the EDIFACT written
// from its Bundle (testdata/fhir/golden/pathology.edifact; refresh with -update).
func TestReverseMEDRPTTestdata(t *testing.T) {
	first := convertNHS003(t, "testdata/edifact/pathology.edifact")
	if len(first) != 1 {
		t.Fatalf("testdata/edifact/pathology.edifact: %d NHS003 messages, want 1", len(first))
	}
	out := medrptRoundTrip(t, "pathology.edifact", first[0])
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/golden"), goldie.WithNameSuffix(".edifact"))
	g.Assert(t, "pathology", out)
}

// TestReverseMEDRPTBundle converts a Bundle written by hand, not by the forward mapping (no
// MessageHeader, UTC times, SNOMED and LOINC codes, a coded and a text result, results listed
// beside their test group), and pins the EDIFACT (testdata/fhir/golden/medrpt_report.edifact).
// The output must read strictly and convert forward with the same facts where the Bundle
// states them the way the forward mapping does.
func TestReverseMEDRPTBundle(t *testing.T) {
	data, err := os.ReadFile("testdata/fhir/medrpt/report.json")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatEDIFACT,
		Params: map[string]string{"sender": "LAB0001", "recipient": "GP00002", "interchangeRef": "4711", "messageRef": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rev.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Logf("warning: %v", w)
	}
	checkStrictEDIFACT(t, "report.json", res.Output)
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/golden"), goldie.WithNameSuffix(".edifact"))
	g.Assert(t, "medrpt_report", res.Output)
	back, err := testConverter.ConvertMessage(context.Background(), res.Output)
	if err != nil {
		t.Fatalf("the EDIFACT written does not convert forward: %v", err)
	}
	got := strings.Join(medrptFacts(t, back.JSON()), "\n")
	for _, want := range []string{
		"Patient.identifier=nhs-number|9990001234",
		"Patient.name={family:SMITH given:ANNA,MARIE,LOUISE prefix:MRS}",
		"Patient.birthDate=1952-03-08",
		"DiagnosticReport.report={code.coding.code:721981007 status:final issued:2024-07-10T09:15:00Z identifier.value:R/24/1}",
		"Practitioner={identifier.system:https://fhir.nhs.uk/Id/gmp-number identifier.value:G9999998 name.text:DR JOHN DOE}",
		"Organization={identifier.system:https://fhir.nhs.uk/Id/ods-organization-code identifier.value:RR8 name:LEEDS TEACHING HOSPITALS NHS TRUST PATHOLOGY SERVICES type.text:HAEMATOLOGY}",
		"Patient.address={line:2 MILL LANE,LEEDS postalCode:LS1 4AB}",
		"ServiceRequest={note.text:Tired all the time for three months, pale on examination; on iron supplements since May: please check ferritin if anaemic.}",
		"Observation.members:{code.coding.code:424.. code.text:Full blood count}={code.coding.code: code.text:Film comment},{code.coding.code:423.. code.text:Haemoglobin estimation}",
		"valueString:Normochromic normocytic: no abnormal cells seen",
		"valueCodeableConcept.coding.code:260385009 valueCodeableConcept.coding.system:http://snomed.info/sct valueCodeableConcept.text:Negative",
		"note.text:Comment: 50% of results < 5 + 3 'weak' ?}",
		"valueQuantity.value:118 valueQuantity.unit:g/L valueQuantity.comparator: valueString: valueCodeableConcept.coding.code: valueCodeableConcept.coding.system: valueCodeableConcept.text: interpretation.coding.code:L referenceRange.low.value:120 referenceRange.high.value:150 referenceRange.low.unit:g/L",
		"Specimen.specimen={type.coding.code:119297000 type.coding.system:http://snomed.info/sct type.text:Blood accessionIdentifier.value:S24-1 identifier.value: collection.collectedDateTime:2024-07-09T16:45:00Z receivedTime: collection.quantity.value:5 collection.quantity.unit:mL note.text:Slightly haemolysed}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the forward conversion of the EDIFACT written lacks\n  %s\nfacts:\n%s", want, got)
		}
	}
}

// TestReverseMEDRPTCorpus round-trips every NHS003 message of the shared corpus that
// converts forward.
func TestReverseMEDRPTCorpus(t *testing.T) {
	dir := needCorpus(t, "edifact")
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".edifact") {
			return err
		}
		for i, first := range convertNHS003(t, p) {
			rel, _ := filepath.Rel(dir, p)
			medrptRoundTrip(t, rel+"#"+first.ControlID+"/"+string(rune('1'+i)), first)
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no NHS003 message in the corpus converted forward")
	}
	t.Logf("%d corpus NHS003 messages round-tripped", n)
}

// convertNHS003 converts a file forward and returns its NHS003 messages that converted.
func convertNHS003(t *testing.T, path string) []*fhirbridge.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*fhirbridge.Result
	for res, err := range testConverter.Convert(context.Background(), f) {
		var ce *fhirbridge.Error
		switch {
		case errors.As(err, &ce):
			continue // a message that does not convert forward is not ours to judge
		case err != nil:
			return out // the interchange cannot be read further
		case res.MessageType == "MEDRPT:NHS003":
			out = append(out, res)
		}
	}
	return out
}

// medrptFacts extracts the facts an NHS003 round trip keeps, as sorted strings. Numbers keep
// their digits; references are followed (a test group lists its members' codes, a result
// its specimen's accession number); ids, display texts and fixed codes are left out.
func medrptFacts(t *testing.T, bundle []byte) []string {
	t.Helper()
	b := decodeBundle(t, bundle)
	byURL := map[string]map[string]any{}
	for _, e := range b.Entry {
		byURL[e.FullURL] = e.Resource
	}
	deref := func(refs any, paths ...string) string {
		var parts []string
		for _, r := range list(refs) {
			m, _ := r.(map[string]any)
			s, _ := m["reference"].(string)
			if target := byURL[s]; target != nil {
				parts = append(parts, factString(pick(target, paths...)))
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	var facts []string
	add := func(what string, v any) {
		if s := factString(v); s != "" {
			facts = append(facts, what+"="+s)
		}
	}
	for _, e := range b.Entry {
		r := e.Resource
		typ, _ := r["resourceType"].(string)
		switch typ {
		case "MessageHeader":
			add("MessageHeader.endpoints", pick(r, "source.endpoint", "destination.endpoint"))
		case "Patient":
			for _, id := range list(r["identifier"]) {
				m, _ := id.(map[string]any)
				sys, _ := m["system"].(string)
				add("Patient.identifier", sys[strings.LastIndexByte(sys, '/')+1:]+"|"+factString(m["value"]))
			}
			for _, n := range list(r["name"]) {
				add("Patient.name", pick(n, "family", "given", "prefix"))
			}
			add("Patient.birthDate", r["birthDate"])
			add("Patient.gender", r["gender"])
			for _, a := range list(r["address"]) {
				add("Patient.address", pick(a, "line", "postalCode"))
			}
		case "Practitioner":
			add("Practitioner", pick(r, "identifier.system", "identifier.value", "name.text"))
		case "Organization":
			add("Organization", pick(r, "identifier.system", "identifier.value", "name", "type.text"))
		case "ServiceRequest":
			add("ServiceRequest", pick(r, "note.text"))
			add("ServiceRequest.requester", deref(r["requester"], "identifier.value"))
		case "DiagnosticReport":
			add("DiagnosticReport.report", pick(r, "code.coding.code", "status", "issued", "identifier.value"))
			add("DiagnosticReport.performer", deref(r["performer"], "identifier.value", "name"))
		case "Specimen":
			add("Specimen.specimen", pick(r, "type.coding.code", "type.coding.system", "type.text", "accessionIdentifier.value",
				"identifier.value", "collection.collectedDateTime", "receivedTime", "collection.quantity.value", "collection.quantity.unit", "note.text"))
		case "Observation":
			add("Observation.result", pick(r, "code.coding.code", "code.coding.system", "code.text", "status",
				"valueQuantity.value", "valueQuantity.unit", "valueQuantity.comparator", "valueString",
				"valueCodeableConcept.coding.code", "valueCodeableConcept.coding.system", "valueCodeableConcept.text",
				"interpretation.coding.code", "referenceRange.low.value", "referenceRange.high.value",
				"referenceRange.low.unit", "referenceRange.high.unit", "note.text"))
			code := factString(pick(r, "code.coding.code", "code.text"))
			add("Observation.members:"+code, deref(r["hasMember"], "code.coding.code", "code.text"))
			add("Observation.specimen:"+code, deref(r["specimen"], "accessionIdentifier.value", "type.text"))
		}
	}
	sort.Strings(facts)
	return facts
}

// TestReverseMEDRPTLatin1: MEDRPT is UNOC (ISO 8859-1); a name with a letter beyond ASCII is
// written in ISO 8859-1 and reads back the same.
func TestReverseMEDRPTLatin1(t *testing.T) {
	data, err := os.ReadFile("testdata/fhir/medrpt/report.json")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(`"family": "SMITH"`), []byte(`"family": "BRONTË"`), 1)
	res, err := medrptReverse.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.Output, []byte("SU:BRONT\xcb+")) {
		t.Errorf("the name is not written in ISO 8859-1:\n%s", res.Output)
	}
	back, err := testConverter.ConvertMessage(context.Background(), res.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(medrptFacts(t, back.JSON()), "\n"), "family:BRONTË ") {
		t.Errorf("the name did not come back:\n%s", back.JSON())
	}
}

// normalBundle renders a Bundle as its timestamp and its resources as canonical JSON, sorted,
// with ids left out and each reference replaced by the type of the resource it points to.
func normalBundle(t *testing.T, bundle []byte) []string {
	t.Helper()
	b := decodeBundle(t, bundle)
	types := map[string]string{}
	for _, e := range b.Entry {
		types[e.FullURL], _ = e.Resource["resourceType"].(string)
	}
	var norm func(v any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, y := range x {
				switch ref, _ := y.(string); {
				case k == "id":
				case k == "reference" && types[ref] != "":
					out[k] = types[ref]
				default:
					out[k] = norm(y)
				}
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, y := range x {
				out[i] = norm(y)
			}
			return out
		}
		return v
	}
	out := []string{"timestamp=" + factString(b.Timestamp)}
	for _, e := range b.Entry {
		j, err := json.Marshal(norm(e.Resource))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(j))
	}
	sort.Strings(out)
	return out
}

// jsonBundle is the part of a Bundle the round-trip checks read; numbers keep their digits.
type jsonBundle struct {
	Timestamp string `json:"timestamp"`
	Entry     []struct {
		FullURL  string         `json:"fullUrl"`
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

func decodeBundle(t *testing.T, data []byte) *jsonBundle {
	t.Helper()
	var b jsonBundle
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	return &b
}
