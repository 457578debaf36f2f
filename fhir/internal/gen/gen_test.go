package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the metadata and compares it with the committed files
// (../../r4.bin, ../../r4_gen.go). It needs the definitions (-defs is not available here:
// $FHIR_DEFINITIONS or the fhir-validate cache) and is skipped without them; it never runs
// npm.
func TestGeneratedUpToDate(t *testing.T) {
	dir, cleanup, err := findDefinitions("", false)
	if err != nil {
		t.Skip("FHIR definitions not found: set FHIR_DEFINITIONS or run /work/shared/tools/fhir-validate once")
	}
	defer cleanup()
	files, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		if !bytes.Equal(f.Data, again[i].Data) {
			t.Errorf("%s: two runs differ", f.Name)
		}
		committed, err := os.ReadFile(filepath.Join("..", "..", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, f.Data) {
			t.Errorf("%s is stale: run go generate ./fhir", f.Name)
		}
	}
}
