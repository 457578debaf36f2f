package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

// Round trips, HL7 v2 → FHIR → HL7 v2 → FHIR: the second Bundle must state the same key
// facts as the first (patient identifiers, names, birth date, gender; codes, values, units
// and times of observations, reports, encounters, allergies, conditions, immunizations,
// specimens), and the HL7 v2 written in between must parse. Our own messages in
// testdata/hl7v2 and every corpus message of a type the reverse mappings write are checked.

// knownLoss are corpus messages whose round trip is known to lose facts, and why.
var knownLoss = map[string]string{
	"lfh/lfh_ORU_R01_6.hl7": "OBX without any OBR: the reverse ORU must write an OBR (ORU_R01 requires one), which comes back as a DiagnosticReport",
	"msfc/ORU-R01-01.hl7":   "an OBX outside any order (after PID) with an ED value: the reverse ORU writes the results of DiagnosticReports only, and ED values (an R5 extension in FHIR) not at all",
}

// reverseTypes are the HL7 v2 message types (MSH-9.1^MSH-9.2) the reverse mappings write.
var reverseTypes = map[string]bool{"ADT^A01": true, "ADT^A03": true, "ADT^A04": true, "ADT^A08": true, "ADT^A13": true,
	"ADT^A05": true, "ADT^A28": true, "ADT^A31": true, "ORU^R01": true, "VXU^V04": true}

func roundTripConverters(t *testing.T) (fwd, rev *fhirbridge.Converter) {
	t.Helper()
	fwd, err := fhirbridge.New(fhirbridge.Options{BundleType: "collection"})
	if err != nil {
		t.Fatal(err)
	}
	rev, err = fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatHL7v2, Params: map[string]string{"receivingFacility": "ROUNDTRIP"}})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Program().Find(string(fhirbridge.FormatFHIR), "hl7v2:ADT^A08") == nil {
		t.Skip("the reverse mappings (mappings/fhir-to-hl7v2) are not compiled into the Converter")
	}
	return fwd, rev
}

// roundTrip converts one HL7 v2 message there and back and compares the key facts. It returns
// false when the message is not of a type the reverse direction writes.
func roundTrip(t *testing.T, fwd, rev *fhirbridge.Converter, name string, msg []byte) bool {
	t.Helper()
	ctx := context.Background()
	first, err := fwd.ConvertMessage(ctx, msg)
	if err != nil {
		return false // not converted forward (unsupported type, bad message): not ours to judge
	}
	if !reverseTypes[first.MessageType] {
		return false
	}
	back, err := rev.ConvertMessage(ctx, first.JSON())
	if err != nil {
		t.Errorf("%s: FHIR → HL7 v2: %v", name, err)
		return true
	}
	if _, err := hl7v2.Parse(back.Output); err != nil {
		t.Errorf("%s: the HL7 v2 written does not parse: %v", name, err)
		return true
	}
	if back.MessageType != first.MessageType {
		t.Errorf("%s: message type %s came back as %s", name, first.MessageType, back.MessageType)
	}
	second, err := fwd.ConvertMessage(ctx, back.Output)
	if err != nil {
		t.Errorf("%s: the HL7 v2 written does not convert: %v\n%s", name, err, printable(back.Output))
		return true
	}
	want, got := keyFacts(t, first.JSON()), keyFacts(t, second.JSON())
	for file, why := range knownLoss {
		if strings.HasSuffix(filepath.ToSlash(name), file+"#1") {
			t.Logf("%s: facts not compared: %s", name, why)
			return true
		}
	}
	if lost, added := diffFacts(want, got); len(lost)+len(added) > 0 {
		t.Errorf("%s: key facts differ after the round trip\nlost:  %s\nadded: %s\nHL7 v2 written:\n%s",
			name, strings.Join(lost, "\n       "), strings.Join(added, "\n       "), printable(back.Output))
	}
	return true
}

func printable(b []byte) string { return strings.ReplaceAll(string(b), "\r", "\n") }

func TestRoundTripTestdata(t *testing.T) {
	fwd, rev := roundTripConverters(t)
	files, _ := filepath.Glob("testdata/hl7v2/*.hl7")
	n := 0
	for _, f := range files {
		for i, msg := range splitMessages(t, f) {
			if roundTrip(t, fwd, rev, fmt.Sprintf("%s#%d", f, i+1), msg) {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no message of testdata/hl7v2 was round-tripped")
	}
	t.Logf("%d messages round-tripped", n)
}

func TestRoundTripCorpus(t *testing.T) {
	dir := filepath.Join("..", "shared", "corpus", "hl7v2")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not found: the shared corpus is not beside this checkout", dir)
	}
	fwd, rev := roundTripConverters(t)
	covered, total := 0, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".hl7") {
			return err
		}
		for i, msg := range splitMessages(t, p) {
			total++
			if roundTrip(t, fwd, rev, fmt.Sprintf("%s#%d", p, i+1), msg) {
				covered++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d corpus messages are of a type the reverse direction writes, and were round-tripped", covered, total)
}

// splitMessages returns the messages of an HL7 v2 file, each as its own bytes.
func splitMessages(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd := hl7v2.NewReader(bytes.NewReader(data))
	var out [][]byte
	for {
		m, err := rd.Read()
		if err != nil {
			var pe *hl7v2.ParseError
			if errors.As(err, &pe) {
				continue // a bad message; the reader resynchronises
			}
			return out
		}
		out = append(out, append([]byte(nil), m.Bytes()...))
	}
}

// bundleResources returns the resources of a Bundle's entries as JSON objects.
func bundleResources(t *testing.T, bundle []byte) []map[string]any {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(b.Entry))
	for i, e := range b.Entry {
		out[i] = e.Resource
	}
	return out
}

// keyFacts extracts the facts a round trip must keep from a Bundle, as sorted strings.
// References, ids and display texts (which code maps supply) are left out; times are
// compared as instants.
func keyFacts(t *testing.T, bundle []byte) []string {
	t.Helper()
	var facts []string
	add := func(typ, what string, v any) {
		if s := factString(v); s != "" {
			facts = append(facts, typ+"."+what+"="+s)
		}
	}
	for _, r := range bundleResources(t, bundle) {
		typ, _ := r["resourceType"].(string)
		switch typ {
		case "Patient", "RelatedPerson":
			for _, id := range list(r["identifier"]) {
				add(typ, "identifier", pick(id, "value", "system", "type.coding.code"))
			}
			for _, n := range list(r["name"]) {
				add(typ, "name", pick(n, "family", "given", "use"))
			}
			add(typ, "birthDate", r["birthDate"])
			add(typ, "gender", r["gender"])
		case "Observation":
			add(typ, "observation", pick(r, "code.coding.code", "code.coding.system", "status",
				"valueQuantity.value", "valueQuantity.code", "valueQuantity.comparator", "valueString",
				"valueCodeableConcept.coding.code", "valueDateTime", "effectiveDateTime", "interpretation.coding.code"))
		case "DiagnosticReport":
			add(typ, "report", pick(r, "code.coding.code", "status", "effectiveDateTime", "effectivePeriod.start", "issued"))
		case "Encounter":
			f := pick(r, "class.code", "period.start", "period.end")
			if f[0] == "class.code:N" && f[1] == "period.start:" && f[2] == "period.end:" {
				continue // the PV1|1|N an ADT message needs when the Bundle has no Encounter
			}
			add(typ, "encounter", f)
		case "AllergyIntolerance":
			add(typ, "allergy", pick(r, "code.coding.code", "category", "criticality", "onsetDateTime"))
		case "Condition":
			add(typ, "condition", pick(r, "code.coding.code", "code.coding.system", "onsetDateTime"))
		case "Immunization":
			add(typ, "immunization", pick(r, "vaccineCode.coding.code", "occurrenceDateTime", "lotNumber", "status"))
		case "Specimen":
			add(typ, "specimen", pick(r, "type.coding.code", "collection.collectedDateTime"))
		}
	}
	sort.Strings(facts)
	return facts
}

// pick renders the values at dotted paths of a JSON object (lists flattened) as one string.
func pick(v any, paths ...string) []string {
	var out []string
	for _, p := range paths {
		vals := []any{v}
		for _, step := range strings.Split(p, ".") {
			var next []any
			for _, x := range vals {
				m, ok := x.(map[string]any)
				if !ok {
					continue
				}
				next = append(next, list(m[step])...)
			}
			vals = next
		}
		var parts []string
		for _, x := range vals {
			parts = append(parts, factString(x))
		}
		out = append(out, p+":"+strings.Join(parts, ","))
	}
	return out
}

func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// factString renders a value; FHIR times become UTC instants with their precision.
func factString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if strings.Contains(x, "T") && len(x) >= 19 && x[4] == '-' {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
				if tm, err := time.Parse(layout, x); err == nil {
					return tm.UTC().Format(time.RFC3339Nano)
				}
			}
		}
		return x
	case []string:
		all := true
		for _, s := range x {
			all = all && strings.HasSuffix(s, ":")
		}
		if all {
			return ""
		}
		return "{" + strings.Join(x, " ") + "}"
	}
	return fmt.Sprint(v)
}

// diffFacts returns the facts of want missing from got and those of got not in want (both
// multisets).
func diffFacts(want, got []string) (lost, added []string) {
	count := map[string]int{}
	for _, f := range want {
		count[f]++
	}
	for _, f := range got {
		count[f]--
	}
	for f, n := range count {
		for ; n > 0; n-- {
			lost = append(lost, f)
		}
		for ; n < 0; n++ {
			added = append(added, f)
		}
	}
	sort.Strings(lost)
	sort.Strings(added)
	return lost, added
}

// TestReverseTestdata converts our own FHIR examples (testdata/fhir/*.json) to HL7 v2 and
// compares with the golden messages in testdata/fhir/golden (segments one per line; refresh
// with -update). Each output must parse, and convert forward again when the forward
// mappings know its type.
func TestReverseTestdata(t *testing.T) {
	fwd, _ := roundTripConverters(t)
	rev, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatHL7v2,
		Params: map[string]string{"receivingApplication": "LABSYS", "receivingFacility": "NORTH^WEST"}})
	if err != nil {
		t.Fatal(err)
	}
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/golden"), goldie.WithNameSuffix(".hl7"))
	forEachFixture(t, "testdata/fhir/*.json", func(t *testing.T, name string, data []byte) {
		if strings.HasPrefix(name, "ccd_") {
			t.Skip("a C-CDA fixture: see reverse_ccda_test.go")
		}
		res, err := rev.ConvertMessage(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Warnings {
			t.Logf("warning: %v", w)
		}
		if _, err := hl7v2.Parse(res.Output); err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		g.Assert(t, name, []byte(printable(res.Output)))
		if _, err := fwd.ConvertMessage(context.Background(), res.Output); err != nil && !errors.Is(err, fhirbridge.ErrUnsupported) {
			t.Errorf("output does not convert forward: %v", err)
		}
	})
}

// TestReverseErrors checks what the reverse direction refuses.
func TestReverseErrors(t *testing.T) {
	_, rev := roundTripConverters(t)
	noTarget, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		conv   *fhirbridge.Converter
		input  string
		target error
	}{
		{"nothing to convert", rev, `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Organization","name":"X"}}]}`, fhirbridge.ErrUnsupported},
		{"unknown message type asked", rev, `{"resourceType":"Basic","code":{"text":"x"}}`, fhirbridge.ErrUnsupported},
		{"no target", noTarget, `{"resourceType":"Patient","gender":"male"}`, nil},
		{"bad JSON", rev, `{"resourceType":"Patient","gender":`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.conv.ConvertMessage(context.Background(), []byte(tt.input))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *fhirbridge.Error
			if !errors.As(err, &ce) || ce.Format != fhirbridge.FormatFHIR {
				t.Errorf("got %v (%T), want a *fhirbridge.Error for FHIR input", err, err)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("got %v, want %v", err, tt.target)
			}
		})
	}
}

// TestReverseLenient: FHIR from other systems that is a little off still converts; each
// element left out is a warning naming its place and never its value.
func TestReverseLenient(t *testing.T) {
	_, rev := roundTripConverters(t)
	in := `{"resourceType":"Bundle","type":"message","entry":[
	  {"resource":{"resourceType":"MessageHeader","eventCoding":{"system":"http://terminology.hl7.org/CodeSystem/v2-0003","code":"ADT","display":"ADT^A04^ADT_A01"},"source":{"endpoint":"urn:x"}}},
	  {"resource":{"resourceType":"Patient","identifier":[{"value":"MRN-9"}],"name":[{"family":"Quirk","given":["Ada"]}],
	    "birthDate":"1970-02-30X","gender":"female","event":[{"code":"x"}]}}]}`
	res, err := rev.ConvertMessage(context.Background(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := hl7v2.Parse(res.Output)
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageType != "ADT^A04" {
		t.Errorf("message type %s; want ADT^A04 from the MessageHeader's display", res.MessageType)
	}
	for p, want := range map[hl7v2.Path]string{{Segment: "PID", Field: 3, Component: 1}: "MRN-9", {Segment: "PID", Field: 5, Component: 1}: "Quirk", {Segment: "PID", Field: 8}: "F", {Segment: "PID", Field: 7}: ""} {
		if got := msg.Get(p); got != want {
			t.Errorf("%v = %q, want %q", p, got, want)
		}
	}
	var places []string
	for _, w := range res.Warnings {
		places = append(places, w.Input)
		if strings.Contains(w.Error(), "1970-02-30X") {
			t.Errorf("a warning quotes input data: %v", w)
		}
	}
	for _, want := range []string{"Bundle.entry[1].resource.birthDate", "Bundle.entry[1].resource.event"} {
		if !slices.Contains(places, want) {
			t.Errorf("warnings at %v; want one at %s", places, want)
		}
	}
}
