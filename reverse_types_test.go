package fhirbridge

import (
	"fmt"
	"testing"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

// TestReverseTypeNamesDisjoint checks that no synthetic target type of one reverse format
// (HL7 v2 segments and v2.field; EDIFACT segments, group markers and edi.element; the cda.*
// classes) is a type
// of another: reverseTargetTypes looks names up format after format, so a shared name would
// give one format's mappings the other's segment.
func TestReverseTypeNamesDisjoint(t *testing.T) {
	v2TypesOnce.Do(initV2Types)
	names := map[Format][]string{FormatHL7v2: {"v2.field", "ZXX", "ZPI"}, FormatEDIFACT: {"edi.element"}}
	for name := range v2FieldCounts {
		names[FormatHL7v2] = append(names[FormatHL7v2], name)
	}
	for name := range ediSegmentElements {
		names[FormatEDIFACT] = append(names[FormatEDIFACT], name)
	}
	for g := 1; g <= 35; g++ {
		names[FormatEDIFACT] = append(names[FormatEDIFACT], fmt.Sprintf("S%02d", g))
	}
	for _, c := range cda.Classes() {
		names[FormatCDA] = append(names[FormatCDA], cdaTypePrefix+c.Name)
		if fhir.LookupType(cdaTypePrefix+c.Name) != nil {
			t.Errorf("cda.%s is a FHIR type name: FHIR's types win lookups", c.Name)
		}
	}
	for _, x := range reverseFormats {
		for _, y := range reverseFormats {
			if x.format == y.format {
				continue
			}
			for _, name := range names[x.format] {
				if x.rf.types(name) == nil {
					t.Errorf("%s: %s is not one of its own types", x.format, name)
				}
				if y.rf.types(name) != nil {
					t.Errorf("%s type %s is also a %s type", x.format, name, y.format)
				}
			}
		}
	}
	if reverseTargetTypes("NAD") != ediTargetTypes("NAD") || reverseTargetTypes("PID") != v2TargetTypes("PID") ||
		reverseTargetTypes("cda.Observation") != cdaTargetTypes("cda.Observation") {
		t.Error("reverseTargetTypes does not find each format's own segment")
	}
}
