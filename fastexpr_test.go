package fhirbridge

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fhirbridge/fhirbridge/transform"
)

// TestNativeExpressionsAgree converts every input we have — our own test data and, when it is
// there, the shared corpus — with expressions run natively (the default, transform/fastexpr.go)
// and on expr's VM only, and requires the same Bundles, errors and warnings.
func TestNativeExpressionsAgree(t *testing.T) {
	native, err := New(Options{BundleType: "collection"})
	if err != nil {
		t.Fatal(err)
	}
	testCompileOptions = []transform.Option{transform.WithVMOnly()}
	vmOnly, err := New(Options{BundleType: "collection"})
	testCompileOptions = nil
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, pattern := range []string{"testdata/hl7v2/*.hl7", "testdata/hl7v2/events/*.hl7", "testdata/cda/*.xml",
		"testdata/nhs-cda/*.xml", "testdata/edifact/*.edifact",
		"../shared/corpus/hl7v2/*/*.hl7", "../shared/corpus/ccda/*/*.xml", "../shared/corpus/edifact/*/*/*.edifact",
		"../shared/corpus/edifact/*/*/*/*.edifact", "../shared/corpus/nhs-cda/*/*.xml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d inputs", len(files))
	}
	ctx := context.Background()
	outcome := func(c *Converter, data []byte) []byte {
		var b bytes.Buffer
		for res, err := range c.Convert(ctx, bytes.NewReader(data)) {
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
				continue
			}
			b.Write(res.JSON())
			for _, w := range res.Warnings {
				fmt.Fprintf(&b, "\nwarning: %v", w)
			}
			b.WriteByte('\n')
		}
		return b.Bytes()
	}
	differ := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, b := outcome(native, data), outcome(vmOnly, data)
		if !bytes.Equal(a, b) {
			differ++
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Errorf("%s: native and VM differ at byte %d:\nnative: %.200s\nvm:     %.200s", f, i, a[i:], b[i:])
		}
	}
	t.Logf("%d inputs, %d differ", len(files), differ)
	if slices.Contains(files, "testdata/hl7v2/adt_a01.hl7") && len(native.prog.Messages()) == 0 {
		t.Fatal("no mappings")
	}
}
