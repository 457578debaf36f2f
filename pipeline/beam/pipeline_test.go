package fhirbeam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/fhirbridge/fhirbridge"
)

// TestMain runs the pipelines of this package on Beam's embedded Prism runner (loopback).
func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

const corpusDir = "../../../shared/corpus/hl7v2/msfc"

// malformed are inputs mixed in with the real ones: each must end as dead letters, never
// fail the job.
var malformed = map[string]string{
	"garbage.hl7":     "this is not an HL7 message\n",
	"empty.hl7":       "",
	"unsupported.hl7": "MSH|^~\\&|A|B|C|D|20240101120000||ZZZ^Z99|CTL-ZZZ|P|2.5.1\rPID|1||123^^^X^MR\r",
	"badmsh.hl7":      "MSH|^~\\&|A|B|C|D|20240101120000||ADT^A01|CTL-1|P|2.5.1\rEVN|A01|20240101\rPID|1||1^^^X^MR||DOE^JOHN\rMSH\rPID|1\rMSH|^~\\&|A|B|C|D|20240101120000||ADT^A01|CTL-3|P|2.5.1\rEVN|A01|20240101\rPID|1||3^^^X^MR||ROE^JANE\r",
}

// inputs gathers our own samples, a slice of the MS FHIR-Converter corpus when it is
// present, and the malformed inputs into one folder.
func inputs(t *testing.T) string {
	dir := t.TempDir()
	copyGlob := func(glob string, limit int) int {
		files, _ := filepath.Glob(glob)
		slices.Sort(files)
		if limit > 0 && len(files) > limit {
			files = files[:limit]
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return len(files)
	}
	if copyGlob("../../testdata/hl7v2/*.hl7", 0) == 0 {
		t.Fatal("no inputs in testdata/hl7v2")
	}
	if n := copyGlob(filepath.Join(corpusDir, "*.hl7"), 40); n == 0 {
		t.Logf("SKIPPED the corpus slice: %s is absent; testing our own inputs only", corpusDir)
	}
	for name, data := range malformed {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	return dir
}

// libraryOutput converts every input with the library, one file after the other.
func libraryOutput(t *testing.T, glob string) (bundles []string, errs []string, total int) {
	conv, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(glob)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for res, err := range conv.Convert(context.Background(), bytes.NewReader(b)) {
			total++
			if err != nil {
				idx := 0
				if fe, ok := err.(*fhirbridge.Error); ok {
					idx = fe.Index
				}
				errs = append(errs, fmt.Sprintf("%s#%d", f, idx))
				continue
			}
			bundles = append(bundles, string(res.JSON()))
		}
	}
	slices.Sort(bundles)
	slices.Sort(errs)
	return bundles, errs, total
}

func readShards(t *testing.T, prefix string) []string {
	files, _ := filepath.Glob(prefix + "-*-of-*.ndjson")
	var lines []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
	}
	slices.Sort(lines)
	return lines
}

func TestPipelineMatchesLibrary(t *testing.T) {
	dir := inputs(t)
	for _, per := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("messages_per_record=%d", per), func(t *testing.T) {
			runAndCompare(t, filepath.Join(dir, "*.hl7"), len(malformed)-1, Config{MessagesPerRecord: per}) // empty.hl7 holds no message
		})
	}
}

// TestPipelineWholeFiles covers the formats that travel as whole files (EDIFACT
// interchanges, CDA documents), bad ones included.
func TestPipelineWholeFiles(t *testing.T) {
	dir := t.TempDir()
	for _, glob := range []string{"../../testdata/edifact/*", "../../testdata/cda/*.xml"} {
		for _, f := range must(filepath.Glob(glob)) {
			os.WriteFile(filepath.Join(dir, filepath.Base(f)), must(os.ReadFile(f)), 0o644)
		}
	}
	runAndCompare(t, filepath.Join(dir, "*"), 0, Config{})
}

func runAndCompare(t *testing.T, glob string, minErrs int, cfg Config) {
	out := t.TempDir()

	p, s := beam.NewPipelineWithRoot()
	Run(s, glob, filepath.Join(out, "bundles"), filepath.Join(out, "dead"), 3, cfg)
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	counters := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		counters[c.Name()] += c.Result()
	}

	wantBundles, wantErrs, total := libraryOutput(t, glob)
	gotBundles := readShards(t, filepath.Join(out, "bundles"))
	deadLines := readShards(t, filepath.Join(out, "dead"))

	var gotErrs []string
	for _, l := range deadLines {
		var d DeadLetter
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("dead letter %q: %v", l, err)
		}
		if d.File == "" || d.Kind == "" || d.Reason == "" {
			t.Errorf("incomplete dead letter %s", l)
		}
		for _, pii := range []string{"DOE", "JOHN", "ROE", "JANE"} {
			if strings.Contains(l, pii) {
				t.Errorf("dead letter carries patient data %q: %s", pii, l)
			}
		}
		gotErrs = append(gotErrs, fmt.Sprintf("%s#%d", d.File, d.Index))
	}
	slices.Sort(gotErrs)

	t.Logf("%d inputs: %d messages, %d converted, %d dead letters", len(must(filepath.Glob(glob))), total, len(gotBundles), len(deadLines))
	if len(gotBundles)+len(deadLines) != total {
		t.Errorf("converted %d + dead-lettered %d != %d messages in the input", len(gotBundles), len(deadLines), total)
	}
	if len(wantErrs) < minErrs {
		t.Errorf("the malformed inputs gave only %d errors", len(wantErrs))
	}
	if got := counters["converted"]; got != int64(len(wantBundles)) {
		t.Errorf("counter converted = %d, want %d (counters %v)", got, len(wantBundles), counters)
	}
	var nerr int64
	for name, v := range counters {
		if strings.HasPrefix(name, "errors_") {
			nerr += v
		}
	}
	if nerr != int64(len(wantErrs)) {
		t.Errorf("errors_* counters add up to %d, want %d (counters %v)", nerr, len(wantErrs), counters)
	}
	if !slices.Equal(gotErrs, wantErrs) {
		t.Errorf("dead letters\n got %q\nwant %q", gotErrs, wantErrs)
	}
	if !slices.Equal(gotBundles, wantBundles) {
		t.Errorf("the pipeline's %d Bundles differ from the library's %d", len(gotBundles), len(wantBundles))
		for i := range min(len(gotBundles), len(wantBundles)) {
			if gotBundles[i] != wantBundles[i] {
				t.Errorf("first difference at sorted line %d:\n got %.300s\nwant %.300s", i, gotBundles[i], wantBundles[i])
				break
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
