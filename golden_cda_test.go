package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/sebdah/goldie/v2"
)

// cdaCorpus lists the folders of ../shared/corpus/ccda that hold whole documents, and the
// golden folder of each.
var cdaCorpus = []string{"hl7/documents", "medplum", "ms-fhir-converter/input", "smart-sample-ccdas", "ccda-on-fhir"}

// goldenCDA converts every whole CDA document (*.xml whose root is ClinicalDocument) of dir
// and compares each outcome with testdata/golden/ccda/<name>/<file>.json (or .error.txt).
// Refresh with `go test -run TestGoldenCDA -update`.
func goldenCDA(t *testing.T, dir, name string) (bundles, failures int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	g := goldie.New(t, goldie.WithFixtureDir(filepath.Join("testdata", "golden", "ccda", name)), goldie.WithNameSuffix(""))
	for _, f := range files {
		if !isClinicalDocument(f) {
			continue // section and entry snippets: see TestCDASnippets
		}
		base := strings.TrimSuffix(filepath.Base(f), ".xml")
		b, fl := assertOutcomes(t, g, base, convertFile(t, testConverter, f))
		bundles, failures = bundles+b, failures+fl
	}
	return bundles, failures
}

func isClinicalDocument(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	i := bytes.Index(data, []byte("<ClinicalDocument"))
	return i >= 0 && !bytes.Contains(data[:i], []byte("<section")) && !bytes.Contains(data[:i], []byte("<entry"))
}

// TestGoldenCDAOwn pins the output for our own CDA fixtures; it runs everywhere.
func TestGoldenCDAOwn(t *testing.T) {
	b, f := goldenCDA(t, "testdata/cda", "own")
	if b < 1 || f != 0 {
		t.Errorf("own CDA fixtures: %d bundles, %d failures", b, f)
	}
}

// TestGoldenCDACorpus pins the output for every whole C-CDA document of the shared corpus.
// Every golden Bundle passes the independent validator (fhir-validate) with no error.
func TestGoldenCDACorpus(t *testing.T) {
	for _, sub := range cdaCorpus {
		t.Run(strings.ReplaceAll(sub, "/", "_"), func(t *testing.T) {
			dir := needCorpus(t, filepath.Join("ccda", sub))
			b, f := goldenCDA(t, dir, strings.ReplaceAll(sub, "/", "_"))
			t.Logf("%s: %d bundles, %d documents rejected", sub, b, f)
		})
	}
}

// knownSections are the section families whose entries must all become resources:
// template root → what counts as one entry's resources.
var knownSections = map[string]string{
	"2.16.840.1.113883.10.20.22.2.6":   "Allergies",
	"2.16.840.1.113883.10.20.22.2.1":   "Medications",
	"2.16.840.1.113883.10.20.22.2.5":   "Problems",
	"2.16.840.1.113883.10.20.22.2.2":   "Immunizations",
	"2.16.840.1.113883.10.20.22.2.4":   "Vital Signs",
	"2.16.840.1.113883.10.20.22.2.3":   "Results",
	"2.16.840.1.113883.10.20.22.2.7":   "Procedures",
	"2.16.840.1.113883.10.20.22.2.22":  "Encounters",
	"2.16.840.1.113883.10.20.22.2.17":  "Social History",
	"2.16.840.1.113883.10.20.22.2.10":  "Plan of Treatment",
	"2.16.840.1.113883.10.20.22.2.60":  "Goals",
	"2.16.840.1.113883.10.20.22.2.500": "Care Team",
	"2.16.840.1.113883.10.20.22.2.15":  "Family History",
	"2.16.840.1.113883.10.20.22.2.18":  "Payers",
	"2.16.840.1.113883.10.20.22.2.14":  "Functional Status",
	"2.16.840.1.113883.10.20.22.2.56":  "Mental Status",
	"2.16.840.1.113883.10.20.22.2.23":  "Medical Equipment",
	"2.16.840.1.113883.10.20.22.2.21":  "Advance Directives",
	"2.16.840.1.113883.10.20.22.2.58":  "Health Concerns",
}

// TestCDAEntriesNotDropped counts, per known section of every document, the entries in the
// CDA and the entry references of the matching Composition.section: no entry may vanish
// (one entry may make several resources, e.g. a concern act with two allergies).
func TestCDAEntriesNotDropped(t *testing.T) {
	files, _ := filepath.Glob("testdata/cda/*.xml")
	if dir := filepath.Join(corpusDir, "ccda"); dirExists(dir) {
		for _, sub := range cdaCorpus {
			more, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
			files = append(files, more...)
		}
	}
	for _, f := range files {
		if !isClinicalDocument(f) {
			continue
		}
		data, _ := os.ReadFile(f)
		doc, err := xmlquery.Parse(bytes.NewReader(withXSI(data)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		res, err := testConverter.ConvertMessage(context.Background(), data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var b struct {
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					Section      []struct {
						Title string            `json:"title"`
						Entry []json.RawMessage `json:"entry"`
					} `json:"section"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(res.JSON(), &b); err != nil {
			t.Fatal(err)
		}
		sections := xmlquery.Find(doc, "//*[local-name()='structuredBody']/*[local-name()='component']/*[local-name()='section']")
		comp := b.Entry[0].Resource.Section
		if len(comp) < len(sections) {
			t.Errorf("%s: %d sections in the CDA, %d in the Composition", f, len(sections), len(comp))
			continue
		}
		for i, s := range sections {
			family := ""
			for _, tid := range xmlquery.Find(s, "./*[local-name()='templateId']/@root") {
				root := strings.TrimSuffix(tid.InnerText(), ".1")
				if knownSections[root] != "" {
					family = root
				}
			}
			if family == "" {
				continue
			}
			entries := len(xmlquery.Find(s, "./*[local-name()='entry']"))
			if got := len(comp[i].Entry); got < entries {
				t.Errorf("%s: section %d (%s): %d entries in the CDA, %d resources", filepath.Base(f), i+1, knownSections[family], entries, got)
			}
		}
	}
}

func dirExists(d string) bool { st, err := os.Stat(d); return err == nil && st.IsDir() }

// withXSI declares xsi for the test's own parse of documents that use it undeclared.
func withXSI(data []byte) []byte {
	if bytes.Contains(data, []byte("xmlns:xsi=")) {
		return data
	}
	return bytes.Replace(data, []byte("<ClinicalDocument"), []byte(`<ClinicalDocument xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sdtc="urn:hl7-org:sdtc"`), 1)
}

// TestCDASnippets wraps the corpus's section snippets (hl7/sections) in a minimal document,
// converts them and checks that each section's entries became resources.
func TestCDASnippets(t *testing.T) {
	dir := needCorpus(t, "ccda/hl7/sections")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	sort.Strings(files)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		body := string(data)
		if i := strings.Index(body, "?>"); i >= 0 && strings.HasPrefix(strings.TrimSpace(body), "<?xml") {
			body = body[i+2:]
		}
		trim := strings.TrimSpace(body)
		switch {
		case strings.Contains(trim[:min(len(trim), 400)], "<ClinicalDocument"), strings.HasPrefix(trim, "<recordTarget"):
			continue
		case strings.HasPrefix(trim, "<section"):
			body = "<component>" + body + "</component>"
		case strings.HasPrefix(trim, "<component"):
		default:
			continue
		}
		doc := `<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="2.16.840.1.113883.10.20.22.1.2"/>` +
			`<id root="2.16.840.1.113883.19" extension="snippet"/><code code="34133-9" codeSystem="2.16.840.1.113883.6.1"/>` +
			`<title>Snippet</title><effectiveTime value="20240101120000+0000"/>` +
			`<recordTarget><patientRole><id root="2.16.840.1.113883.19" extension="p"/></patientRole></recordTarget>` +
			`<component><structuredBody>` + body + `</structuredBody></component></ClinicalDocument>`
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, err := testConverter.ConvertMessage(context.Background(), []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			entries := strings.Count(body, "<entry") - strings.Count(body, "<entryRelationship")
			refs := bytes.Count(res.JSON(), []byte(`"reference"`))
			if entries > 0 && refs < entries {
				t.Errorf("%d entries, only %d references in the Bundle", entries, refs)
			}
		})
	}
}

// BenchmarkConvertCDA converts each whole document of the HL7 C-CDA examples (parse, run the
// mappings, assemble the document Bundle, write its JSON) and all of them in turn.
func BenchmarkConvertCDA(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "ccda/hl7/documents/*.xml"))
	if len(files) == 0 {
		files, _ = filepath.Glob("testdata/cda/*.xml")
	}
	var all [][]byte
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, data)
		total += len(data)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(total))
	var buf []byte
	for b.Loop() {
		for _, data := range all {
			res, err := testConverter.ConvertMessage(ctx, data)
			if err != nil {
				b.Fatal(err)
			}
			buf = res.Bundle.AppendJSON(buf[:0])
		}
	}
	b.ReportMetric(float64(b.N*len(all))/b.Elapsed().Seconds(), "docs/s")
}
