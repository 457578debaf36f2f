package edifact

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead parses the NHS003 pathology interchanges of the shared corpus.
func BenchmarkRead(b *testing.B) {
	files, _ := filepath.Glob("../../../shared/corpus/edifact/lab-results/success/NHS003/*.edifact")
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
		rd := NewReader(bytes.NewReader(data))
		for {
			_, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			msgs++
		}
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}
