// Package hl7gen generates HL7 v2 test messages from the repository's samples
// (testdata/hl7v2/adt_a01.hl7 and oru_r01.hl7), with distinct control ids and, on request,
// deliberate faults. It serves tests and load runs; it is no API.
package hl7gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Fault is a deliberate defect in a generated message.
type Fault int

// The faults.
const (
	None        Fault = iota
	BadSegment        // a segment named "p1D": a parse error at line 3 (AE)
	Unsupported       // MSH-9 ADT^Z99: no mapping (AR)
)

// Generator makes messages. The zero value is not usable; call [New].
type Generator struct {
	samples [][]byte // each with "{{ID}}" in place of MSH-10
}

// New reads the samples from the repository's testdata.
func New() (*Generator, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "hl7v2")
	g := &Generator{}
	for _, name := range []string{"adt_a01.hl7", "oru_r01.hl7"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\r")), []byte("\n"), []byte("\r"))
		data = bytes.TrimRight(data, "\r")
		// MSH-10 is the tenth field: after the tenth '|' of the first line (MSH-1 is the first).
		line := data
		if i := bytes.IndexByte(line, '\r'); i >= 0 {
			line = line[:i]
		}
		n, start := 0, -1
		for i, c := range line {
			if c == '|' {
				n++
				if n == 9 {
					start = i + 1
				}
				if n == 10 {
					data = append(append(append([]byte{}, data[:start]...), "{{ID}}"...), data[i:]...)
					break
				}
			}
		}
		g.samples = append(g.samples, append(data, '\r'))
	}
	return g, nil
}

// ControlID is the control id of message i.
func ControlID(i int) string { return fmt.Sprintf("GEN-%07d", i) }

// Message returns message i (ADT^A01 for even i, ORU^R01 for odd) with MSH-10
// [ControlID](i) and fault f. Segments end with CR.
func (g *Generator) Message(i int, f Fault) []byte {
	m := bytes.Replace(g.samples[i%len(g.samples)], []byte("{{ID}}"), []byte(ControlID(i)), 1)
	switch f {
	case BadSegment:
		segs := bytes.SplitN(m, []byte("\r"), 4)
		if len(segs) == 4 {
			segs[2] = append([]byte("p1D"), segs[2][3:]...)
			m = bytes.Join(segs, []byte("\r"))
		}
	case Unsupported:
		m = bytes.Replace(m, []byte("|ADT^A01^ADT_A01|"), []byte("|ADT^Z99|"), 1)
		m = bytes.Replace(m, []byte("|ORU^R01^ORU_R01|"), []byte("|ORU^Z99|"), 1)
	}
	return m
}

// FaultFor spreads faults: about one message in every hundred (i%100 == 37 a bad segment,
// i%100 == 71 an unsupported type when both are wanted).
func FaultFor(i int) Fault {
	switch i % 100 {
	case 37:
		return BadSegment
	case 71:
		return Unsupported
	}
	return None
}
