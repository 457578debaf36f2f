package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

// FHIR → C-CDA (docs/reverse-ccda.md). Our own FHIR fixtures (testdata/fhir/ccd_*.json: a
// document Bundle and a plain one) are pinned as golden CCDs; every CCD written must parse
// with our CDA reader, convert forward again, and give a Bundle that passes fhir.Validate.

func ccdaConverter(t *testing.T) *fhirbridge.Converter {
	t.Helper()
	c, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatCDA})
	if err != nil {
		t.Fatal(err)
	}
	if c.Program().Find(string(fhirbridge.FormatFHIR), "cda:CCD") == nil {
		t.Skip("the reverse C-CDA mappings (mappings/fhir-to-ccda) are not compiled into the Converter")
	}
	return c
}

// toCCD converts FHIR JSON to a CCD and checks what every CCD must be: it parses, and it
// converts forward to a Bundle without validation errors. It returns the CCD and that Bundle.
func toCCD(t *testing.T, rev *fhirbridge.Converter, name string, in []byte) (ccd []byte, back *fhirbridge.Result) {
	t.Helper()
	ctx := context.Background()
	res, err := rev.ConvertMessage(ctx, in)
	if err != nil {
		t.Errorf("%s: FHIR → C-CDA: %v", name, err)
		return nil, nil
	}
	if _, err := cda.NewReader(bytes.NewReader(res.Output)).Read(); err != nil {
		t.Errorf("%s: the CCD does not parse: %v", name, err)
		return nil, nil
	}
	back, err = testConverter.ConvertMessage(ctx, res.Output)
	if err != nil {
		t.Errorf("%s: the CCD does not convert forward: %v", name, err)
		return res.Output, nil
	}
	for _, is := range fhir.Validate(back.Bundle.Resource()) {
		if is.Severity == "error" {
			t.Errorf("%s: the Bundle converted from the CCD is not valid: %v", name, is)
		}
	}
	return res.Output, back
}

// TestReverseCCDAOwn pins the CCDs written for our own FHIR fixtures
// (testdata/fhir/golden/<name>.xml; refresh with -update).
func TestReverseCCDAOwn(t *testing.T) {
	rev := ccdaConverter(t)
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/golden"), goldie.WithNameSuffix(".xml"))
	forEachFixture(t, "testdata/fhir/ccd_*.json", func(t *testing.T, name string, data []byte) {
		if ccd, _ := toCCD(t, rev, name, data); ccd != nil {
			g.Assert(t, name, ccd)
		}
	})
}

// ccdaSections are the LOINC codes of the sections the CCD mappings build from data
// (cda.SectionTemplate); the resources of any other section are written as narrative only.
var ccdaSections = map[string]bool{"48765-2": true, "11450-4": true, "10160-0": true, "11369-6": true,
	"30954-2": true, "8716-3": true, "47519-4": true, "46240-8": true, "29762-2": true, "18776-5": true,
	"61146-7": true, "85847-2": true,
	// diagnoses.yaml, medication-lists.yaml
	"75310-3": true, "11535-2": true, "46241-6": true, "42347-5": true, "10219-4": true, "10218-6": true,
	"55109-3": true, "10183-2": true, "75311-1": true, "42346-7": true, "29549-3": true,
	// assessments.yaml, plan.yaml
	"47420-5": true, "10190-7": true, "61144-2": true, "42348-3": true, "51847-2": true, "62387-6": true,
	// familyhistory.yaml, equipment.yaml
	"10157-6": true, "46264-8": true,
	// payers.yaml
	"48768-6": true}

// ccdaFacts extracts the facts a C-CDA round trip must keep from a Bundle, as sorted strings:
// the patient's identifiers, names, birth date and gender, and for every resource of a
// section in ccdaSections (and the results and members of those) its codes, statuses, times,
// values and units. References, ids, displays and narrative are left out. A Bundle without a
// Composition gives the facts of all its resources. skipped counts the resources of the other
// sections, by section code.
func ccdaFacts(t *testing.T, bundle []byte) (facts []string, skipped map[string]int) {
	t.Helper()
	var b struct {
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	byURL := map[string]map[string]any{}
	for _, e := range b.Entry {
		byURL[e.FullURL] = e.Resource
	}
	keep := map[string]bool{} // fullUrls of the resources compared; nil: all
	skipped = map[string]int{}
	var follow func(ref any)
	follow = func(ref any) {
		m, _ := ref.(map[string]any)
		u, _ := m["reference"].(string)
		r := byURL[u]
		if r == nil || keep[u] {
			return
		}
		keep[u] = true
		for _, k := range []string{"result", "hasMember"} {
			for _, x := range list(r[k]) {
				follow(x)
			}
		}
	}
	composition := false
	for _, e := range b.Entry {
		if e.Resource["resourceType"] != "Composition" {
			continue
		}
		composition = true
		for _, sec := range list(e.Resource["section"]) {
			code := strings.Join(pick(sec, "code.coding.code"), "")
			code = strings.TrimPrefix(code, "code.coding.code:")
			for _, ref := range list(sec.(map[string]any)["entry"]) {
				if ccdaSections[code] {
					follow(ref)
				} else {
					skipped[code]++
				}
			}
		}
	}
	add := func(typ string, f []string) {
		if s := factString(f); s != "" {
			facts = append(facts, typ+"="+s)
		}
	}
	for _, e := range b.Entry {
		r := e.Resource
		typ, _ := r["resourceType"].(string)
		if composition && typ != "Patient" && !keep[e.FullURL] {
			continue
		}
		switch typ {
		case "Composition":
			add(typ, pick(r, "type.coding.code", "title", "date", "confidentiality", "language", "identifier.value"))
			for _, sec := range list(r["section"]) {
				add("Composition.section", pick(sec, "code.coding.code", "title"))
			}
		case "Patient":
			for _, id := range list(r["identifier"]) {
				add("Patient.identifier", pick(id, "system", "value"))
			}
			for _, n := range list(r["name"]) {
				add("Patient.name", pick(n, "family", "given", "use"))
			}
			for _, a := range list(r["address"]) {
				add("Patient.address", pick(a, "line", "city", "postalCode", "use"))
			}
			for _, c := range list(r["telecom"]) {
				add("Patient.telecom", pick(c, "system", "value", "use"))
			}
			add("Patient", pick(r, "birthDate", "gender"))
		case "AllergyIntolerance":
			add(typ, pick(r, "code.coding.code", "clinicalStatus.coding.code", "verificationStatus.coding.code",
				"category", "type", "criticality", "onsetDateTime", "reaction.manifestation.coding.code", "reaction.severity", "recordedDate"))
		case "Condition":
			add(typ, pick(r, "code.coding.code", "clinicalStatus.coding.code", "verificationStatus.coding.code",
				"onsetDateTime", "abatementDateTime", "recordedDate"))
		case "MedicationRequest":
			add(typ, pick(r, "medicationCodeableConcept.coding.code", "status", "intent",
				"dosageInstruction.doseAndRate.doseQuantity.value", "dosageInstruction.doseAndRate.doseQuantity.code",
				"dosageInstruction.route.coding.code", "dosageInstruction.timing.repeat.period",
				"dosageInstruction.timing.repeat.periodUnit", "dosageInstruction.timing.repeat.boundsPeriod.start",
				"dosageInstruction.text", "authoredOn"))
		case "Immunization":
			add(typ, pick(r, "vaccineCode.coding.code", "status", "occurrenceDateTime", "lotNumber",
				"doseQuantity.value", "doseQuantity.code", "route.coding.code", "note.text"))
		case "Observation":
			add(typ, pick(r, "code.coding.code", "status", "effectiveDateTime", "effectivePeriod.start",
				"valueQuantity.value", "valueQuantity.code", "valueCodeableConcept.coding.code", "valueString",
				"valueBoolean", "valueInteger", "interpretation.coding.code", "referenceRange.low.value", "referenceRange.high.value",
				"note.text"))
		case "DiagnosticReport":
			add(typ, pick(r, "code.coding.code", "status", "effectiveDateTime", "effectivePeriod.start"))
		case "Procedure":
			add(typ, pick(r, "code.coding.code", "status", "performedDateTime", "performedPeriod.start", "bodySite.coding.code",
				"reasonCode.coding.code", "note.text"))
		case "Encounter":
			add(typ, pick(r, "class.code", "type.coding.code", "status", "period.start", "period.end", "reasonCode.coding.code"))
		case "ServiceRequest":
			add(typ, pick(r, "code.coding.code", "status", "intent", "occurrenceDateTime"))
		case "Goal":
			add(typ, pick(r, "lifecycleStatus", "description.text", "startDate", "target.detailQuantity.value", "target.dueDate"))
		case "FamilyMemberHistory":
			add(typ, pick(r, "relationship.coding.code", "name", "sex.coding.code", "bornDate", "deceasedBoolean",
				"condition.code.coding.code", "condition.onsetAge.value", "condition.contributedToDeath", "condition.outcome.coding.code"))
		case "DeviceUseStatement":
			add(typ, pick(r, "status", "timingDateTime", "timingPeriod.start"))
		case "Device":
			add(typ, pick(r, "udiCarrier.carrierHRF", "type.coding.code", "manufacturer"))
		case "Coverage":
			add(typ, pick(r, "status", "type.coding.code", "subscriberId", "period.start", "relationship.coding.code"))
		case "CareTeam":
			add(typ, pick(r, "status", "name", "participant.role.coding.code", "period.start"))
		}
	}
	sort.Strings(facts)
	return facts, skipped
}

// TestReverseCCDARoundTripOwn converts our own FHIR fixtures to a CCD, forward to FHIR,
// back to a CCD and forward again: both Bundles must state the same facts.
func TestReverseCCDARoundTripOwn(t *testing.T) {
	rev := ccdaConverter(t)
	forEachFixture(t, "testdata/fhir/ccd_*.json", func(t *testing.T, name string, data []byte) {
		_, first := toCCD(t, rev, name, data)
		if first == nil {
			return
		}
		ccdaRoundTrip(t, rev, name, first.JSON())
		// What the first trip changes of the fixture itself, for the record.
		want, _ := ccdaFacts(t, data)
		got, _ := ccdaFacts(t, first.JSON())
		lost, _ := diffFacts(want, got)
		for _, l := range lost {
			t.Logf("the first trip FHIR → C-CDA → FHIR changes %s (the forward mappings add what the fixture leaves out: a verificationStatus, the class among Encounter.type)", l)
		}
	})
}

// ccdaRoundTrip converts a Bundle converted from C-CDA back to C-CDA and forward again, and
// compares the facts of both Bundles. It returns the facts lost, and the resources of the
// sections written as narrative only, by section code.
func ccdaRoundTrip(t *testing.T, rev *fhirbridge.Converter, name string, first []byte) (lostFacts []string, skipped map[string]int) {
	t.Helper()
	_, second := toCCD(t, rev, name, first)
	if second == nil {
		return nil, nil
	}
	want, skipped := ccdaFacts(t, first)
	got, _ := ccdaFacts(t, second.JSON())
	lost, added := diffFacts(want, got)
	var unexplained []string
	for _, l := range lost {
		if ccdaLossReason(l) == "" {
			unexplained = append(unexplained, l)
		}
	}
	var changed []string // what comes back in place of a known loss is not news either
	for _, a := range added {
		if ccdaLossReason(a) == "" {
			changed = append(changed, a)
		}
	}
	if len(unexplained)+len(changed) > 0 {
		t.Errorf("%s: key facts differ after C-CDA → FHIR → C-CDA → FHIR\nlost:  %s\nadded: %s", name,
			strings.Join(unexplained, "\n       "), strings.Join(changed, "\n       "))
	}
	return lost, skipped
}

// ccdaKnownLoss are the facts a round trip is known to lose, by a prefix of the fact, and why.
// What is lost by design outside the facts compared is listed in ccdaLostByDesign.
var ccdaKnownLoss = []struct{ prefix, why string }{
	{"Patient.telecom={system:phone", "a phone number with spaces loses them: a tel: URL has none (RFC 3966)"},
}

// ccdaLostByDesign is what FHIR → C-CDA leaves out or changes, by design (docs/reverse-ccda.md).
var ccdaLostByDesign = []string{
	"sections other than those of ccdaSections (notes, DICOM object catalogs, …) are written as narrative only: their resources are not compared (counted by section code below)",
	"a Composition subsection keeps its code, title and narrative only",
	"identifier systems that are URLs with no OID: the II has the value as extension and nullFlavor UNK, the system only as assigningAuthorityName",
	"code systems with no OID (cda.CodeSystemOID): the code keeps its value and displayName, the system only as codeSystemName",
	"Condition.category other than problem-list-item in the Problems section: the forward mappings take the category from the section",
	"Observation.component of a vital-signs panel: written as organizer components, read back as hasMember Observations",
	"Dosage timing frequency > 1: written as the period divided by the frequency (PIVL_TS has no frequency)",
	"Goal.target beyond the first, and its measure when the description is coded; CareTeam participants who are not Practitioners",
	"MedicationAdministration, MedicationDispense, DocumentReference and other resource types the sections do not list; a MedicationStatement comes back as a MedicationRequest",
}

// ccdaLossReason says why a lost fact is lost, or "" when it should not be.
func ccdaLossReason(fact string) string {
	for _, k := range ccdaKnownLoss {
		if strings.HasPrefix(fact, k.prefix) {
			return k.why
		}
	}
	return ""
}

// TestReverseCCDACorpus round-trips every whole C-CDA document (a ClinicalDocument, not a
// section snippet) of the shared corpus, at any depth, that converts forward: C-CDA → FHIR → C-CDA (which must parse) → FHIR (which must be valid), with
// the same key facts but for the known losses (ccdaKnownLoss), which are counted.
func TestReverseCCDACorpus(t *testing.T) {
	root := needCorpus(t, "ccda")
	rev := ccdaConverter(t)
	docs, tripped := 0, 0
	losses, narrativeOnly := map[string]int{}, map[string]int{}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".xml") && isClinicalDocument(p) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		docs++
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, err := testConverter.ConvertMessage(context.Background(), data)
		if err != nil {
			t.Logf("%s: not converted forward (%v): not ours to judge", f, err)
			continue
		}
		tripped++
		lost, skipped := ccdaRoundTrip(t, rev, f, first.JSON())
		for _, l := range lost {
			if why := ccdaLossReason(l); why != "" {
				losses[why]++
			}
		}
		for code, n := range skipped {
			narrativeOnly[code] += n
		}
	}
	if docs == 0 {
		t.Skip("no C-CDA documents in the corpus")
	}
	t.Logf("%d of %d corpus C-CDA documents round-tripped", tripped, docs)
	for _, l := range ccdaLostByDesign {
		t.Logf("lost by design: %s", l)
	}
	for _, why := range sortedKeys(losses) {
		t.Logf("%d facts lost: %s", losses[why], why)
	}
	for _, code := range sortedKeys(narrativeOnly) {
		t.Logf("%d resources of sections with code %q not compared: the section is written as narrative only", narrativeOnly[code], code)
	}

}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestReverseCCDAConcurrent converts the same Bundle from several goroutines with one
// Converter (run with -race): the synthetic CDA types and the model are shared, read-only.
func TestReverseCCDAConcurrent(t *testing.T) {
	rev := ccdaConverter(t)
	data, err := os.ReadFile("testdata/fhir/ccd_document.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := rev.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := rev.ConvertMessage(context.Background(), data)
			if err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(got.Output, want.Output) {
				t.Error("concurrent conversions wrote different CCDs")
			}
		}()
	}
	wg.Wait()
}
