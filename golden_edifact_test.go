package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge/parsers/edifact"
)

// goldenEDIFACT converts every *.edifact file under dir (recursively) and compares each
// outcome with testdata/golden/edifact/<name>/<folder>/<file>[.<n>].json (or .error.txt).
func goldenEDIFACT(t *testing.T, dir, name string) (bundles, failures int) {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".edifact") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no *.edifact files in %s", dir)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		sub := filepath.Dir(rel)
		g := goldie.New(t, goldie.WithFixtureDir(filepath.Join("testdata", "golden", "edifact", name, sub)), goldie.WithNameSuffix(""))
		base := strings.TrimSuffix(filepath.Base(f), ".edifact")
		b, fl := assertOutcomes(t, g, base, convertFile(t, testConverter, f))
		bundles, failures = bundles+b, failures+fl
	}
	return bundles, failures
}

// TestGoldenEDIFACTOwn pins our own fixtures: a pathology report, a screening report with a
// wrapped name and escapes, a registration, a broken control count, a bad message.
func TestGoldenEDIFACTOwn(t *testing.T) {
	b, f := goldenEDIFACT(t, "testdata/edifact", "own")
	if b < 4 || f != 1 {
		t.Errorf("own EDIFACT fixtures: %d bundles, %d failures; want ≥4 bundles and exactly 1 failure (bad_tag.edifact)", b, f)
	}
}

// TestGoldenEDIFACTCorpus pins the output for every interchange of the shared corpus.
func TestGoldenEDIFACTCorpus(t *testing.T) {
	for _, sub := range []string{"lab-results", "nhais"} {
		t.Run(sub, func(t *testing.T) {
			dir := needCorpus(t, filepath.Join("edifact", sub))
			b, f := goldenEDIFACT(t, dir, sub)
			t.Logf("%s: %d bundles, %d messages rejected", sub, b, f)
		})
	}
}

// TestEDIFACTControlCount: a broken UNT count converts with a warning by default and fails
// in strict mode.
func TestEDIFACTControlCount(t *testing.T) {
	data, err := os.ReadFile("testdata/edifact/control_count.edifact")
	if err != nil {
		t.Fatal(err)
	}
	res, err := testConverter.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatalf("default mode: %v", err)
	}
	found := false
	for _, w := range res.Warnings {
		if strings.Contains(w.Message, "control count mismatch") {
			found = true
		}
	}
	if !found {
		t.Errorf("no control count warning in %v", res.Warnings)
	}
	rd := edifact.NewReader(bytes.NewReader(data))
	rd.Strict = true
	_, err = rd.Read()
	if !errors.Is(err, edifact.ErrCount) {
		t.Errorf("strict: got %v, want ErrCount", err)
	}
}

// adaptorBundle is the part of the NHS Lab Results adaptor's STU3 bundles we compare.
type adaptorBundle struct {
	Entry []struct {
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

func resources(t *testing.T, data []byte) map[string][]map[string]any {
	var b adaptorBundle
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	for _, e := range b.Entry {
		rt, _ := e.Resource["resourceType"].(string)
		out[rt] = append(out[rt], e.Resource)
	}
	return out
}

// TestEDIFACTAgainstAdaptor compares our R4 Bundles with the NHS Lab Results adaptor's STU3
// expected bundles, field by field where the adaptor is right. Where it is wrong we differ,
// and say so here:
//   - release characters: the adaptor keeps "?:" in RSL+CV descriptions
//     (screening_multi_message_with_nhsack.expected.3.json "screen?: normal"); we remove them;
//   - wrapped names: the adaptor keeps the raw ":" of NAD C080 names wrapped at 35 characters
//     ("…Screening Pro:gramme Hub"); we join them ("…Screening Programme Hub");
//   - local patient numbers: without an NHS number the adaptor writes RFF+SSI as the element
//     id of Patient.identifier ({"id": "Z77553311"}); we write it as its value;
//   - time zones: the adaptor reads DTM as UTC but UNB as Europe/London, so BST report times
//     are an hour late ("200703271220" → 13:20+01:00); we read both in Europe/London (12:20+01:00).
func TestEDIFACTAgainstAdaptor(t *testing.T) {
	dir := needCorpus(t, "edifact/lab-results/success")
	inputs, _ := filepath.Glob(filepath.Join(dir, "*", "*.edifact"))
	for _, in := range inputs {
		outs := convertFile(t, testConverter, in)
		exp, _ := filepath.Glob(strings.TrimSuffix(in, ".edifact") + ".expected*.json")
		ok := 0
		for _, o := range outs {
			if o.json != nil {
				ok++
			}
		}
		if ok < len(exp) {
			t.Errorf("%s: %d bundles, the adaptor produced %d", in, ok, len(exp))
			continue
		}
		for i, e := range exp {
			want, _ := os.ReadFile(e)
			wr := resources(t, want)
			var got map[string][]map[string]any
			n := i
			if len(exp) == 1 {
				n = 0
			} else if _, err := fmt.Sscanf(filepath.Base(e)[strings.LastIndex(filepath.Base(e), "expected.")+9:], "%d", &n); err == nil {
				n--
			}
			if n >= len(outs) || outs[n].json == nil {
				t.Errorf("%s: no bundle %d", in, n+1)
				continue
			}
			got = resources(t, outs[n].json)
			wp, gp := wr["Patient"][0], got["Patient"][0]
			for _, k := range []string{"birthDate", "gender"} {
				if wp[k] != gp[k] {
					t.Errorf("%s: Patient.%s = %v, adaptor %v", e, k, gp[k], wp[k])
				}
			}
			firstID := func(r map[string]any) any {
				ids, _ := r["identifier"].([]any)
				if len(ids) == 0 {
					return nil
				}
				id := ids[0].(map[string]any)
				if v, ok := id["value"]; ok {
					return v
				}
				return id["id"] // the adaptor puts a local number (RFF+SSI) in the element id
			}
			if wid, gid := firstID(wp), firstID(gp); wid != gid {
				t.Errorf("%s: NHS number %v, adaptor %v", e, gid, wid)
			}
			if len(wr["Observation"]) != len(got["Observation"]) {
				t.Errorf("%s: %d Observations, adaptor %d", e, len(got["Observation"]), len(wr["Observation"]))
			}
			if len(wr["Specimen"]) != len(got["Specimen"]) {
				t.Errorf("%s: %d Specimens, adaptor %d", e, len(got["Specimen"]), len(wr["Specimen"]))
			}
			for _, o := range got["Organization"] {
				if name, _ := o["name"].(string); strings.Contains(name, "?") {
					t.Errorf("%s: release character left in Organization.name %q", e, name)
				}
			}
		}
	}
}

// BenchmarkEDIFACTNHS003 converts the NHS003 pathology interchanges of the shared corpus to
// Bundle JSON.
func BenchmarkEDIFACTNHS003(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "edifact/lab-results/success/NHS003/*.edifact"))
	if len(files) == 0 {
		b.Skip("the shared corpus is not beside this checkout")
	}
	var data []byte
	for _, f := range files {
		d, _ := os.ReadFile(f)
		data = append(data, d...)
		data = append(data, '\n')
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	msgs := 0
	for b.Loop() {
		for res, err := range testConverter.Convert(context.Background(), bytes.NewReader(data)) {
			if err != nil {
				b.Fatal(err)
			}
			_ = res.JSON()
			msgs++
		}
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}
