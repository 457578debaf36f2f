package fhirbridge_test

import (
	"testing"

	"github.com/fhirbridge/fhirbridge"
)

func BenchmarkCompileMappings(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fhirbridge.New(fhirbridge.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
