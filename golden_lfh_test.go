package fhirbridge_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// lfhHints are the resource counts LinuxForHealth's own tests assert for a message.
type lfhHints struct {
	Occurrences []struct {
		TestMethod string         `json:"test_method"`
		Counts     map[string]int `json:"expected_resource_counts"`
	} `json:"occurrences"`
}

// lfhDiffers lists the resource types whose counts differ from LinuxForHealth's by design,
// and why. Every other type is compared exactly.
var lfhDiffers = map[string]string{
	// LFH makes one Practitioner per reference; we merge identical ones (one Practitioner,
	// not fourteen), so we have fewer, never more.
	"Practitioner": "merged",
	// LFH derives Organizations from assigning authorities only; we also make the sending
	// and receiving facilities (MSH-4/6), insurers and performing organisations per the IG.
	"Organization": "IG: more organisations",
	// LFH does not map NK1; the IG maps it to RelatedPerson.
	"RelatedPerson": "IG: NK1 → RelatedPerson",
}

// lfhKnown are the messages whose counts differ from LinuxForHealth's for a type compared
// exactly, each with the reason. A difference not listed here fails the test.
var lfhKnown = map[string]string{
	"lfh_ADT_A01_20 AllergyIntolerance": "identical AL1 segments are merged into one resource",
	"lfh_ADT_A01_20 Observation":        "IG ADT_A01: every OBX → Observation (LinuxForHealth drops TX OBX outside groups)",
	"lfh_ADT_A03_2 AllergyIntolerance":  "identical AL1 segments are merged into one resource",
	"lfh_ADT_A03_2 Observation":         "IG ADT_A01: every OBX → Observation (LinuxForHealth drops TX OBX outside groups)",
	"lfh_ADT_A04_4 AllergyIntolerance":  "identical AL1 segments are merged into one resource",
	"lfh_ADT_A04_4 Coverage":            "IG PV1[Coverage]: the PV1 financial class gives its own Coverage",
	"lfh_ADT_A04_4 Procedure":           "identical PR1 segments are merged into one resource",
	"lfh_ADT_A08_4 AllergyIntolerance":  "identical AL1 segments are merged into one resource",
	"lfh_ADT_A08_4 Coverage":            "IG PV1[Coverage]: the PV1 financial class gives its own Coverage",
	"lfh_ADT_A08_4 Procedure":           "identical PR1 segments are merged into one resource",
	"lfh_ADT_A28_2 Coverage":            "IG PV1[Coverage]: the PV1 financial class gives its own Coverage",
	"lfh_ADT_A31_2 Coverage":            "IG PV1[Coverage]: the PV1 financial class gives its own Coverage",
	"lfh_MDM_T02_10 Observation":        "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T02_10 ServiceRequest":     "identical ORC/OBR order groups are merged into one ServiceRequest",
	"lfh_MDM_T02_16 Observation":        "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T02_4 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T02_6 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T02_8 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_14 Observation":        "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_2 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_4 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_6 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_8 Observation":         "IG OBX[DocumentReference]: an MDM document's OBX are its content, not Observations",
	"lfh_MDM_T06_8 ServiceRequest":      "identical ORC/OBR order groups are merged into one ServiceRequest",
	"lfh_OML_O21_4 DiagnosticReport":    "IG OML_O21: an order with a specimen and no results is a ServiceRequest, not a DiagnosticReport",
	"lfh_OMP_O09_6 Observation":         "every OBX → Observation, status X → cancelled (LinuxForHealth skips cancelled TX OBX)",
	"lfh_ORM_O01_2 ServiceRequest":      "IG RXO[MedicationRequest]: an order with RXO is a MedicationRequest (LinuxForHealth adds a ServiceRequest)",
	"lfh_ORM_O01_6 ServiceRequest":      "IG RXO[MedicationRequest]: an order with RXO is a MedicationRequest (LinuxForHealth adds a ServiceRequest)",
	"lfh_ORM_O01_8 DocumentReference":   "TX OBX of an order are Observations (LinuxForHealth makes a DocumentReference of them)",
	"lfh_ORM_O01_8 ServiceRequest":      "IG RXO[MedicationRequest]: an order with RXO is a MedicationRequest (LinuxForHealth adds a ServiceRequest)",
	"lfh_PPR_PC1_10 DocumentReference":  "TX OBX of an order are Observations (LinuxForHealth makes a DocumentReference of them)",
	"lfh_PPR_PC1_10 ServiceRequest":     "IG RXO[MedicationRequest]: an order with RXO is a MedicationRequest (LinuxForHealth adds a ServiceRequest)",
	"lfh_PPR_PC1_12 ServiceRequest":     "IG RXO[MedicationRequest]: an order with RXO is a MedicationRequest (LinuxForHealth adds a ServiceRequest)",
	"lfh_PPR_PC1_46 Observation":        "KNOWN GAP: a lone OBX outside any PROBLEM group is reported as an unmapped segment, not converted",
	"lfh_PPR_PC1_8 Condition":           "identical PRB segments are merged into one resource",
}

// TestLinuxForHealthCounts compares the resources we produce for the LinuxForHealth messages
// with the counts their tests assert, for the types where both follow the IG.
func TestLinuxForHealthCounts(t *testing.T) {
	dir := needCorpus(t, "hl7v2/lfh")
	files, _ := filepath.Glob(filepath.Join(dir, "*.expected.json"))
	compared, agreed := 0, 0
	var disagree []string
	for _, f := range files {
		var h lfhHints
		data, _ := os.ReadFile(f)
		if err := json.Unmarshal(data, &h); err != nil {
			t.Fatal(err)
		}
		msg, err := os.ReadFile(strings.TrimSuffix(f, ".expected.json") + ".hl7")
		if err != nil {
			continue
		}
		for _, o := range h.Occurrences {
			if len(o.Counts) == 0 {
				continue
			}
			res, err := testConverter.ConvertMessage(context.Background(), msg)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			got := map[string]int{}
			for _, r := range res.Bundle.Resources() {
				got[r.Type.Name]++
			}
			for typ, want := range o.Counts {
				if why := lfhDiffers[typ]; why != "" {
					if typ == "Practitioner" && got[typ] > want {
						t.Errorf("%s (%s): %d Practitioners, LinuxForHealth %d: merging should never give more", filepath.Base(f), o.TestMethod, got[typ], want)
					}
					continue
				}
				compared++
				key := strings.TrimSuffix(filepath.Base(f), ".expected.json") + " " + typ
				switch {
				case got[typ] == want:
					agreed++
				case lfhKnown[key] != "":
					disagree = append(disagree, key)
				default:
					t.Errorf("%s (%s): %d %s, LinuxForHealth %d, and no known reason", filepath.Base(f), o.TestMethod, got[typ], typ, want)
				}
			}
		}
	}
	sort.Strings(disagree)
	t.Logf("LinuxForHealth counts: %d compared, %d agree, %d differ for known reasons", compared, agreed, len(disagree))
	if compared == 0 {
		t.Fatal("no counts compared")
	}
}
