package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The repository root and the shared corpus, seen from this package's folder.
var (
	repoRoot = filepath.Join("..", "..")
	igDir    = filepath.Join("..", "..", "..", "shared", "corpus", "ig-v2-to-fhir")
)

func needIG(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(igDir); err != nil {
		t.Skipf("%s not found: the shared corpus is not beside this checkout", igDir)
	}
}

// TestREADMECoverageTable fails when the coverage table committed in README.md is not what
// `go run ./internal/igtool coverage -o README.md` writes for the current mappings.
func TestREADMECoverageTable(t *testing.T) {
	needIG(t)
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Skipf("no README.md: %v", err)
	}
	got, ok := betweenMarkers(string(readme))
	if !ok {
		t.Skipf("README.md has no %s … %s markers yet", beginMarker, endMarker)
	}
	want, err := CoverageTable(igDir, filepath.Join(repoRoot, "mappings", "hl7v2"))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the coverage table in README.md is stale; regenerate it with\n\n\tgo run ./internal/igtool coverage -o README.md\n\n%s", firstDiff(got, want))
	}
}

// TestVocabularyUpToDate fails when mappings/codes/ig-vocabulary.yaml is not what
// `go run ./internal/igtool vocab` generates from the IG tables.
func TestVocabularyUpToDate(t *testing.T) {
	needIG(t)
	want, _, err := Vocabulary(igDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(repoRoot, "mappings", "codes", "ig-vocabulary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mappings/codes/ig-vocabulary.yaml is stale; regenerate it with go run ./internal/igtool vocab\n%s", firstDiff(string(got), string(want)))
	}
}

// TestConceptMapsUpToDate fails when mappings/fhir-to-ccda/codes/conceptmaps.yaml is not what
// `go run ./internal/igtool conceptmaps` writes.
func TestConceptMapsUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "ccda", "ccda-on-fhir-conceptmaps")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not found: the shared corpus is not beside this checkout", dir)
	}
	want, n, err := ConceptMaps(dir, filepath.Join(repoRoot, "mappings", "codes", "ccda-oids.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("%d code maps from the FC ConceptMaps", n)
	}
	got, err := os.ReadFile(filepath.Join(repoRoot, "mappings", "fhir-to-ccda", "codes", "conceptmaps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mappings/fhir-to-ccda/codes/conceptmaps.yaml is stale; regenerate it with go run ./internal/igtool conceptmaps\n%s", firstDiff(string(got), string(want)))
	}
}

func TestNormField(t *testing.T) {
	for in, want := range map[string]string{
		"PID-3": "PID-3", "PID-3[2].4.1": "PID-3", "/PATIENT/PID[2]-5": "PID-5", "OBX-5[1]": "OBX-5",
		"CX.1": "", ".2": "", "PATIENT_RESULT/ORDER_OBSERVATION": "", "NTE": "",
	} {
		if got := normField(in); got != want {
			t.Errorf("normField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSheetName(t *testing.T) {
	for in, want := range map[string]string{
		"HL7 Concept Map_ AdministrativeSex - Sheet1.csv":                               "AdministrativeSex",
		"HL7 Concept Map_ AllergySeverity[AllergyIntolerance.criticality] - Sheet1.csv": "AllergySeverity[AllergyIntolerance.criticality]",
		"HL7 Segment - FHIR R4_ PR1[Procedure] - PR1[Procedure].csv":                    "PR1[Procedure]",
	} {
		if got := sheetName(in); got != want {
			t.Errorf("sheetName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkers(t *testing.T) {
	doc := "# Title\n\n" + beginMarker + "\nold\n" + endMarker + "\nrest\n"
	out, ok := replaceBetween(doc, "| a |\n")
	if !ok || !strings.Contains(out, beginMarker+"\n| a |\n"+endMarker) || !strings.HasSuffix(out, "rest\n") {
		t.Fatalf("replaceBetween: %q", out)
	}
	if got, _ := betweenMarkers(out); got != "| a |\n" {
		t.Errorf("betweenMarkers = %q", got)
	}
	if _, ok := replaceBetween("no markers", "x"); ok {
		t.Error("replaceBetween found markers in a document without them")
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n  committed: " + a + "\n  expected:  " + b
		}
	}
	return ""
}
