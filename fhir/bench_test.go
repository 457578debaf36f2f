package fhir

import "testing"

// The benchmarks use labMessage: 16 resources (MessageHeader, Patient, Encounter, two identical
// Practitioners, Organization, Specimen, eight Observations, DiagnosticReport), 14 after
// merging, about 9 KB of JSON.

func BenchmarkBuildLabMessage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		labMessage()
	}
}

// BenchmarkAssemble is building (as BenchmarkBuildLabMessage), assembling and writing the
// Bundle; subtract BenchmarkBuildLabMessage for assembly and writing alone.
func BenchmarkAssemble(b *testing.B) {
	n := len(bundleJSON(b, assemble(b, labMessage(), AssembleOptions{Type: Transaction})))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		bundle, err := Assemble(labMessage(), AssembleOptions{Type: Transaction})
		if err != nil {
			b.Fatal(err)
		}
		buf = bundle.AppendJSON(buf[:0])
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	bundle := assemble(b, labMessage(), AssembleOptions{Type: Transaction})
	buf := bundle.AppendJSON(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = bundle.AppendJSON(buf[:0])
	}
}

func BenchmarkAppendJSONIndent(b *testing.B) {
	bundle := assemble(b, labMessage(), AssembleOptions{Type: Transaction})
	buf := bundle.AppendJSONIndent(nil, "  ")
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = bundle.AppendJSONIndent(buf[:0], "  ")
	}
}

func BenchmarkParseResource(b *testing.B) {
	data := assemble(b, labMessage(), AssembleOptions{Type: Transaction}).AppendJSON(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResource(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	bundle := assemble(b, labMessage(), AssembleOptions{Type: Transaction})
	b.ReportAllocs()
	for b.Loop() {
		Validate(bundle.Resource())
	}
}

// BenchmarkAssembleOnly measures Assemble and AppendJSON without building the resources.
func BenchmarkAssembleOnly(b *testing.B) {
	n := len(assemble(b, labMessage(), AssembleOptions{Type: Transaction}).AppendJSON(nil))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		b.StopTimer()
		rs := labMessage()
		b.StartTimer()
		bundle, err := Assemble(rs, AssembleOptions{Type: Transaction})
		if err != nil {
			b.Fatal(err)
		}
		buf = bundle.AppendJSON(buf[:0])
	}
}
