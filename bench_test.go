package fhirbridge_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge"
)

// benchInputs are the reference inputs of DESIGN.md (from the shared corpus, when present)
// and our own bundled examples (always).
func benchInputs(b *testing.B) map[string][]byte {
	in := map[string][]byte{}
	for name, path := range map[string]string{
		"ADT-A01-02":        filepath.Join(corpusDir, "hl7v2/msfc/ADT-A01-02.hl7"),
		"ORU-R01-01":        filepath.Join(corpusDir, "hl7v2/msfc/ORU-R01-01.hl7"),
		"own-adt_a01":       "testdata/hl7v2/adt_a01.hl7",
		"own-oru_r01_20obx": "testdata/hl7v2/oru_r01.hl7",
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // corpus absent: those inputs are skipped
		}
		in[name] = data
	}
	return in
}

// BenchmarkConvert measures the whole job for one message: parse, group, run the mappings,
// assemble the Bundle (ids, merging, references) and write its JSON. Besides wall time it
// reports cpu-ns/op, the process's CPU time per message (garbage collection included): on
// a shared machine a descheduled benchmark loses wall time but not CPU time, so cpu-ns/op
// varies far less between runs (compare it with -test.cpu 1).
func BenchmarkConvert(b *testing.B) {
	ctx := context.Background()
	for name, data := range benchInputs(b) {
		b.Run(name, func(b *testing.B) {
			if _, err := testConverter.ConvertMessage(ctx, data); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var buf []byte
			cpu := cpuTime()
			for b.Loop() {
				res, err := testConverter.ConvertMessage(ctx, data)
				if err != nil {
					b.Fatal(err)
				}
				buf = res.Bundle.AppendJSON(buf[:0])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if cpu > 0 {
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkConvertParallel runs the same on every core through one shared Converter.
func BenchmarkConvertParallel(b *testing.B) {
	ctx := context.Background()
	data := benchInputs(b)["own-adt_a01"]
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		for pb.Next() {
			res, err := testConverter.ConvertMessage(ctx, data)
			if err != nil {
				b.Error(err)
				return
			}
			buf = res.Bundle.AppendJSON(buf[:0])
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// reverseBenchInputs are our own FHIR examples, by target format.
var reverseBenchInputs = []struct {
	name   string
	target fhirbridge.Format
	params map[string]string
	path   string
}{
	{"hl7v2/oru_r01", fhirbridge.FormatHL7v2, nil, "testdata/fhir/oru_r01.json"},
	{"hl7v2/adt_a04", fhirbridge.FormatHL7v2, nil, "testdata/fhir/adt_a04.json"},
	{"edifact/medrpt_report", fhirbridge.FormatEDIFACT, nil, "testdata/fhir/medrpt/report.json"},
	{"edifact/fhsreg_acceptance", fhirbridge.FormatEDIFACT, map[string]string{"timestamp": "2020-06-10T13:38:00Z"}, "testdata/fhir/nhais/acceptance_immigrant.json"},
	{"ccda/ccd_document", fhirbridge.FormatCDA, nil, "testdata/fhir/ccd_document.json"},
	// The corpus documents Medplum's FHIR → C-CDA also converts (BENCHMARKS.md compares).
	{"ccda/corpus-ms-sample", fhirbridge.FormatCDA, nil, corpusDir + "/ccda/ms-fhir-converter/expected/sample-expected.json"},
	{"ccda/corpus-medplum-AllergyToEgg", fhirbridge.FormatCDA, nil, corpusDir + "/ccda/medplum/AllergyToEgg.json"},
	{"ccda/corpus-medplum-MedicationAtBedtime", fhirbridge.FormatCDA, nil, corpusDir + "/ccda/medplum/MedicationAtBedtime.json"},
}

// BenchmarkReverse measures FHIR → legacy: read the FHIR JSON, run the reverse mappings,
// write the message and parse it back (the writer's self-check).
func BenchmarkReverse(b *testing.B) {
	ctx := context.Background()
	for _, in := range reverseBenchInputs {
		data, err := os.ReadFile(in.path)
		if err != nil && strings.HasPrefix(in.path, corpusDir) {
			continue // corpus absent
		}
		if err != nil {
			b.Fatal(err)
		}
		conv, err := fhirbridge.New(fhirbridge.Options{Target: in.target, Params: in.params})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.name, func(b *testing.B) {
			if _, err := conv.ConvertMessage(ctx, data); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := conv.ConvertMessage(ctx, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
