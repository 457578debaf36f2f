package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
