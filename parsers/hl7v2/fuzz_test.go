package hl7v2

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzReader checks that reading never panics and always ends, that InputOffset only grows,
// that every message keeps its positions and reads again the same from its own bytes, and
// that reading byte by byte or with reused buffers gives the same results. It is seeded
// from testdata and from the shared corpus (when present).
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	seeds = append(seeds, corpusFiles()...)
	for _, name := range seeds {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "MSH", "MSH|", "MSH|^~\\&", "\x0b\x1c\r", "\ufeff\ufeffMSH|^~\\&|A\r",
		"MSH|^~\\&|A\rOBX|1\nmore\n\nPID|x\rMSH|^~\\&#|B\r\x1c\x0bMSH*^~\\&*C",
		"FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&\rBTS\rFTS\rPID\r", "MSH|^~\\&|xMSH|^~\\&|y\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := fuzzRead(t, data, NewReader(bytes.NewReader(data)))
		small := NewReader(bytes.NewReader(data))
		small.MaxMessageSize = 64
		fuzzRead(t, data, small)

		one := NewReader(iotest.OneByteReader(bytes.NewReader(data)))
		one.ReuseBuffers = true
		if got := describe(t, one); !slices.Equal(got, want) {
			t.Fatalf("byte by byte with reused buffers:\n%q\nwant\n%q", got, want)
		}

		m, err := Parse(data)
		if err == nil && len(want) > 0 && !strings.HasPrefix(want[0], "hl7v2:") {
			if first := NewReaderFirst(t, data); !bytes.Equal(first.Bytes(), m.Bytes()) {
				t.Fatalf("Parse = %q, Reader = %q", m.Bytes(), first.Bytes())
			}
		}
	})
}

// NewReaderFirst returns the first message a Reader reads from data.
func NewReaderFirst(t *testing.T, data []byte) *Message {
	m, err := NewReader(bytes.NewReader(data)).Read()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fuzzRead reads data with r, checking every message, and returns describe's view of it.
func fuzzRead(t *testing.T, data []byte, r *Reader) []string {
	t.Helper()
	last := int64(0)
	for i := 0; ; i++ {
		if i > 2*len(data)+10 {
			t.Fatal("Read does not reach io.EOF")
		}
		m, err := r.Read()
		off := r.InputOffset()
		if off < last || off > int64(len(data)) {
			t.Fatalf("InputOffset %d after %d (input %d bytes)", off, last, len(data))
		}
		last = off
		if err == io.EOF {
			if off != int64(len(data)) {
				t.Fatalf("at EOF InputOffset = %d, want %d", off, len(data))
			}
			break
		}
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok || !isSentinel(pe.Err) {
				t.Fatalf("error %v", err)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(data)) {
				t.Fatalf("error offset %d outside the input: %v", pe.Offset, err)
			}
			if p := position(data, int(pe.Offset)); p.line != pe.Line || p.col != pe.Column {
				t.Fatalf("error at line %d, column %d; offset %d is at %d, %d: %v", pe.Line, pe.Column, pe.Offset, p.line, p.col, err)
			}
			continue
		}
		if r.MaxMessageSize == 0 {
			checkMessage(t, data, m)
		}
	}
	if r.MaxMessageSize == 0 {
		return describe(t, NewReader(bytes.NewReader(data)))
	}
	return nil
}

// FuzzBuilderRoundTrip sets a value at a path and reads it back from the built message.
func FuzzBuilderRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(5), uint8(0), uint8(1), uint8(0), uint8(0), "Doe^John")
	f.Add(uint8(1), uint8(3), uint8(2), uint8(2), uint8(3), uint8(1), "a|b~c\\d&e#\r\n\x1c\x0b\ufeffMSH|")
	f.Add(uint8(2), uint8(1), uint8(0), uint8(0), uint8(0), uint8(2), "\\X41\\ \\.br\\ text")
	f.Add(uint8(3), uint8(9), uint8(0), uint8(2), uint8(0), uint8(0), "\xff\xfe invalid UTF-8")
	names := []string{"PID", "OBX", "ZZ1", "MSH"}
	delims := []Delimiters{DefaultDelimiters, {'|', '^', '~', '\\', '&', '#'}, {'#', '$', '%', '@', '&', 0}}
	f.Fuzz(func(t *testing.T, seg, field, rep, comp, sub, d uint8, value string) {
		p := Path{Segment: names[int(seg)%len(names)], Field: 1 + int(field)%20, Rep: int(rep) % 4,
			Component: int(comp) % 6, Subcomponent: int(sub) % 4}
		if p.Component == 0 {
			p.Subcomponent = 0
		}
		if p.Segment == "MSH" && p.Field < 3 {
			p.Field += 2
		}
		if p.Segment == "OBX" {
			p.SegmentRep = int(seg)/len(names)%3 + 1
		}
		b := NewBuilder(delims[int(d)%len(delims)])
		if err := b.Set("MSH-9", "ADT^A01"); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(p.String(), value); err != nil {
			t.Fatalf("Set(%s): %v", p, err)
		}
		m, err := b.Message()
		if err != nil {
			t.Fatalf("Message: %v\n%q", err, b.Bytes())
		}
		want := strings.ReplaceAll(value, "\r\n", "\n")
		if got := m.Get(p); got != want {
			t.Fatalf("Get(%s) = %q, want %q\nmessage %q", p, got, want, m.Bytes())
		}
		msgs, errs := readAll(t, NewReader(bytes.NewReader(b.Bytes())))
		if len(msgs) != 1 || len(errs) != 0 || !bytes.Equal(msgs[0].Bytes(), b.Bytes()) {
			t.Fatalf("Reader read %d messages, %v from %q", len(msgs), errs, b.Bytes())
		}
	})
}
