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
	"strings"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge"
)

// corpusDir is the shared corpus of real-world inputs, read in place. A fresh clone of the
// repository does not have it; tests that need it skip, and our own fixtures in testdata
// cover every feature.
const corpusDir = "../shared/corpus"

func needCorpus(t *testing.T, sub string) string {
	t.Helper()
	dir := filepath.Join(corpusDir, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not found: the shared corpus is not beside this checkout (our own fixtures still run)", dir)
	}
	return dir
}

var testConverter = func() *fhirbridge.Converter {
	c, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		panic(err)
	}
	return c
}()

// convertFile converts every message of a file and renders the outcome per message: the
// pretty Bundle JSON, or the error text.
type outcome struct {
	json []byte // nil when the message failed
	err  string
}

func convertFile(t *testing.T, c *fhirbridge.Converter, path string) []outcome {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []outcome
	for res, err := range c.Convert(context.Background(), f) {
		if err != nil {
			var ce *fhirbridge.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%s: reading failed: %v", path, err)
			}
			out = append(out, outcome{err: err.Error()})
			continue
		}
		out = append(out, outcome{json: res.Bundle.AppendJSONIndent(nil, "  ")})
	}
	return out
}

// goldenDir converts every *.hl7 file of dir and compares each outcome with its golden file
// under testdata/golden/<name>: <file>.json for a single message's Bundle, <file>.<n>.json for
// the n-th of several, and .error.txt instead of .json for a message that failed. Refresh with
// `go test -run TestGolden -update`.
func goldenDir(t *testing.T, dir, name string) (bundles, failures int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.hl7"))
	if len(files) == 0 {
		t.Fatalf("no *.hl7 files in %s", dir)
	}
	g := goldie.New(t, goldie.WithFixtureDir(filepath.Join("testdata", "golden", name)), goldie.WithNameSuffix(""))
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".hl7")
		b, fl := assertOutcomes(t, g, base, convertFile(t, testConverter, f))
		bundles, failures = bundles+b, failures+fl
	}
	return bundles, failures
}

// assertOutcomes compares each outcome of one input file with its golden file: <base>.json
// for a single message's Bundle, <base>.<n>.json for the n-th of several, .error.txt for a
// message that failed. It returns the numbers of Bundles and failures.
func assertOutcomes(t *testing.T, g *goldie.Goldie, base string, outs []outcome) (bundles, failures int) {
	t.Helper()
	for i, o := range outs {
		key := base
		if len(outs) > 1 {
			key = fmt.Sprintf("%s.%d", base, i+1)
		}
		if o.json != nil {
			bundles++
			g.Assert(t, key+".json", o.json)
		} else {
			failures++
			g.Assert(t, key+".error.txt", []byte(o.err+"\n"))
		}
	}
	return bundles, failures
}

// TestGoldenOwn pins the output for our own example messages.
func TestGoldenOwn(t *testing.T) {
	b, f := goldenDir(t, "testdata/hl7v2", "hl7v2/own")
	if b < 4 || f != 1 {
		t.Errorf("own fixtures: %d bundles, %d failures; want ≥4 bundles and exactly 1 failure (the ADT^A99 in batch.hl7)", b, f)
	}
}

// TestGoldenCorpus pins the output for every real-world HL7 v2 message of the shared corpus.
// CI validates every golden Bundle with the independent FHIR validator.
func TestGoldenCorpus(t *testing.T) {
	for _, sub := range []string{"msfc", "lfh", "ig"} {
		t.Run(sub, func(t *testing.T) {
			dir := needCorpus(t, filepath.Join("hl7v2", sub))
			b, f := goldenDir(t, dir, "hl7v2/"+sub)
			t.Logf("%s: %d bundles, %d messages rejected", sub, b, f)
		})
	}
}

// TestDeterministic converts the same inputs twice, and concurrently, and requires
// byte-identical output.
func TestDeterministic(t *testing.T) {
	files, _ := filepath.Glob("testdata/hl7v2/*.hl7")
	for _, f := range files {
		first := convertFile(t, testConverter, f)
		other, err := fhirbridge.New(fhirbridge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []outcome, 4)
		for range 4 {
			go func() { done <- convertFile(t, other, f) }()
		}
		for range 4 {
			again := <-done
			if len(again) != len(first) {
				t.Fatalf("%s: %d results, then %d", f, len(first), len(again))
			}
			for i := range first {
				if !bytes.Equal(first[i].json, again[i].json) || first[i].err != again[i].err {
					t.Fatalf("%s: message %d differs between runs", f, i+1)
				}
			}
		}
	}
}

// TestOverlayZSegment adds a mapping for a Z-segment from a folder, with no Go code: a map
// for ZPI and an extend document that applies it in the ADT_A01 message mapping.
func TestOverlayZSegment(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "zpi.yaml"), `
map: ZPI[Patient]
description: "Our local ZPI segment: diet and scheduling preference."
source: ZPI
target: Patient
rules:
  - from: ZPI-2
    to: extension[+]
    rules:
      - {to: url, const: "http://example.org/fhir/StructureDefinition/diet"}
      - {to: valueString}
---
extend: ADT_A01
rules:
  - {from: ZPI, on: patient, map: "ZPI[Patient]"}
`)
	// And a local code map replacing a built-in one.
	writeFile(t, filepath.Join(dir, "codes", "sex.yaml"), `
codes: AdministrativeSex
system: http://hl7.org/fhir/administrative-gender
map: {F: female, M: male}
default: unknown
`)
	conv, err := fhirbridge.New(fhirbridge.Options{Mappings: fsys(dir)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("testdata/hl7v2/adt_a08_zsegment.hl7")
	res, err := conv.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Extension    []struct {
					URL         string `json:"url"`
					ValueString string `json:"valueString"`
				} `json:"extension"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(res.JSON(), &b); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range b.Entry {
		for _, x := range e.Resource.Extension {
			if e.Resource.ResourceType == "Patient" && x.URL == "http://example.org/fhir/StructureDefinition/diet" && x.ValueString == "Vegetarian" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the overlay's ZPI mapping did not put the diet extension on the Patient:\n%s", res.JSON())
	}
	// Without the overlay the extension is absent.
	plain, err := testConverter.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.JSON(), []byte("example.org/fhir/StructureDefinition/diet")) {
		t.Error("the built-in mappings map ZPI; the test proves nothing")
	}
}

// TestOverlayErrorsNameTheLine checks that a broken overlay fails at load with file:line:col.
func TestOverlayErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.yaml"), `map: ZPI[Patient]
source: ZPI
target: Patient
rules:
  - {from: ZPI-2, to: extnsion}
  - {from: ZPI-3, to: name.family, when: "v =="}
`)
	_, err := fhirbridge.New(fhirbridge.Options{Mappings: fsys(dir)})
	if err == nil {
		t.Fatal("a broken overlay loaded without error")
	}
	msg := err.Error()
	for _, want := range []string{`bad.yaml:5:23: Patient has no element "extnsion" (did you mean "extension"?)`, "bad.yaml:6:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
}

func TestUnsupportedMessageType(t *testing.T) {
	msg := "MSH|^~\\&|A|B|C|D|20240101||ZZZ^Q99|1|P|2.5\rPID|1||1\r"
	_, err := testConverter.ConvertMessage(context.Background(), []byte(msg))
	if !errors.Is(err, fhirbridge.ErrUnsupported) || !strings.Contains(err.Error(), "unsupported message type ZZZ^Q99") {
		t.Fatalf("got %v, want an unsupported message type error naming ZZZ^Q99", err)
	}
}

func fsys(dirs ...string) []fs.FS {
	out := make([]fs.FS, len(dirs))
	for i, d := range dirs {
		out[i] = os.DirFS(d)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnmappedSegmentsReported checks that a segment no rule reads is reported, by place and
// never with its content: nothing is dropped silently.
func TestUnmappedSegmentsReported(t *testing.T) {
	data, _ := os.ReadFile("testdata/hl7v2/adt_a08_zsegment.hl7")
	res, err := testConverter.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range res.Warnings {
		if w.Input == "ZPI[1]" && strings.Contains(w.Message, "not mapped") {
			found = true
		}
		if strings.Contains(w.Error(), "Vegetarian") {
			t.Errorf("a warning carries message content: %s", w.Error())
		}
	}
	if !found {
		t.Errorf("ZPI[1] is not reported as unmapped: %v", res.Warnings)
	}
}

// failingReader returns data, then a read error forever.
type failingReader struct{ data []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReadErrorEndsTheStream checks that an I/O error ends the stream once, instead of being
// reported again and again.
func TestReadErrorEndsTheStream(t *testing.T) {
	data, _ := os.ReadFile("testdata/hl7v2/adt_a01.hl7")
	n := 0
	for _, err := range testConverter.Convert(context.Background(), &failingReader{data: data}) {
		n++
		if n > 10 {
			t.Fatal("the stream did not end after a read error")
		}
		_ = err
	}
}

// TestGoldenEvents pins the output for our own small messages of the event types that the
// shared corpus lacks (ADT A17–A54 families, ACK, ORU_R30, OUL_R21, RAS, RGV, MDM T01/T02).
func TestGoldenEvents(t *testing.T) {
	b, f := goldenDir(t, "testdata/hl7v2/events", "hl7v2/events")
	if f != 0 || b < 18 {
		t.Errorf("events: %d bundles, %d failures; want 18 bundles and no failure", b, f)
	}
}
