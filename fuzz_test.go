package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fhirbridge/fhirbridge"
)

// FuzzConvert runs the whole pipeline — detection, parsing, grouping, mappings, assembly,
// JSON — on arbitrary input: it must never panic, and every Bundle it yields must be valid
// JSON. Seeded from our examples of every format and, when present, the shared corpus.
func FuzzConvert(f *testing.F) {
	for _, pattern := range []string{"testdata/hl7v2/*.hl7", "testdata/cda/*.xml", "testdata/edifact/*", "testdata/nhs-cda/*.xml",
		filepath.Join(corpusDir, "hl7v2/msfc/*.hl7"), filepath.Join(corpusDir, "edifact/lab-results/success/NHS003/*")} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for res, err := range testConverter.Convert(context.Background(), bytes.NewReader(data)) {
			if err != nil {
				continue
			}
			if out := res.JSON(); out != nil && !json.Valid(out) {
				t.Fatalf("invalid JSON from message %d", res.Index)
			}
		}
	})
}

// FuzzReverse feeds FHIR JSON (our fixtures and the corpus Bundles, mutated) to the reverse
// direction for every target: no panic, and every output the writers return is non-empty
// (they parse their output back themselves).
func FuzzReverse(f *testing.F) {
	for _, pattern := range []string{"testdata/fhir/*.json", "testdata/fhir/*/*.json",
		filepath.Join(corpusDir, "ccda/medplum/*.json"), filepath.Join(corpusDir, "edifact/nhais/outbound/*/*.input.json")} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	var convs []*fhirbridge.Converter
	for _, target := range []fhirbridge.Format{fhirbridge.FormatHL7v2, fhirbridge.FormatCDA, fhirbridge.FormatEDIFACT} {
		c, err := fhirbridge.New(fhirbridge.Options{Target: target, Params: map[string]string{"timestamp": "2024-03-01T10:00:00Z"}})
		if err != nil {
			f.Fatal(err)
		}
		convs = append(convs, c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range convs {
			for res, err := range c.Convert(context.Background(), bytes.NewReader(data)) {
				if err == nil && len(res.Output) == 0 {
					t.Fatalf("message %d: no output and no error", res.Index)
				}
			}
		}
	})
}
