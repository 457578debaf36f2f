package hl7v2

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchInputs are the DESIGN reference inputs (read in place from the shared corpus; skipped
// when it is absent) and a bundled fixture that is always there.
func benchInputs(b *testing.B) []struct {
	name string
	data []byte
} {
	inputs := []struct {
		name string
		data []byte
	}{{name: "fixture-ADT_A01", data: readFile(b, "adt_a01.hl7")}}
	for _, name := range []string{"ADT-A01-02", "ORU-R01-01"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "hl7v2", "msfc", name+".hl7"))
		if err != nil {
			data = nil // reported as a skip by the sub-benchmark
		}
		inputs = append(inputs, struct {
			name string
			data []byte
		}{name: name, data: data})
	}
	return inputs
}

// BenchmarkParse measures Parse on one message: one pass that finds the segments and field
// separators, and a Message of its own (4 allocations).
func BenchmarkParse(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			if in.data == nil {
				b.Skip("shared corpus not found")
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if _, err := Parse(in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseTouchAll parses and then reads the text of every field, as Medplum's
// bench.mjs does (../shared/peers/medplum-hl7), so that lazy parsing is not flattered.
func BenchmarkParseTouchAll(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			if in.data == nil {
				b.Skip("shared corpus not found")
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			sink := 0
			for b.Loop() {
				m, err := Parse(in.data)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < m.NumSegments(); i++ {
					s := m.Segment(i)
					for n := 1; n <= s.NumFields(); n++ {
						sink += len(s.Field(n).Text())
					}
				}
			}
			if sink == 0 {
				b.Fatal("nothing read")
			}
		})
	}
}

// BenchmarkReader measures streaming: the input repeated 1000 times, read with reused
// buffers (no allocation per message). Report msgs/s = 1000 × iterations / time.
func BenchmarkReader(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			if in.data == nil {
				b.Skip("shared corpus not found")
			}
			data := bytes.Repeat(append(bytes.TrimSpace(in.data), '\r'), 1000)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			br := bytes.NewReader(data)
			var r *Reader
			for b.Loop() {
				br.Reset(data)
				if r == nil {
					r = NewReader(br)
					r.ReuseBuffers = true
				} else {
					r.Reset(br)
				}
				n := 0
				for {
					_, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 1000 {
					b.Fatalf("read %d messages", n)
				}
			}
			b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func BenchmarkUnescape(b *testing.B) {
	src := []byte(`Line one\.br\Line two \F\ pipe \E\ backslash \XC3A9\ caf\XE9\ and more plain text`)
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = Unescape(dst[:0], src, DefaultDelimiters)
	}
}

func BenchmarkBuilder(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		bl := NewBuilder(DefaultDelimiters)
		bl.Set("MSH-9.1", "ADT")
		bl.Set("MSH-9.2", "A01")
		bl.Set("MSH-10", "1")
		bl.Set("PID-3.1", "12345")
		bl.Set("PID-5.1", "Doe")
		bl.Set("PID-5.2", "John")
		b.SetBytes(int64(len(bl.Bytes())))
	}
}
