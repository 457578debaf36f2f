package fhirbridge_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
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
	files, _ := filepath.Glob("testdata/fhir/ccd_*.json")
	if len(files) == 0 {
		t.Fatal("no testdata/fhir/ccd_*.json")
	}
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/golden"), goldie.WithNameSuffix(".xml"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ccd, _ := toCCD(t, rev, name, data)
			if ccd != nil {
				g.Assert(t, name, ccd)
			}
		})
	}
}
