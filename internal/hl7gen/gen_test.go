package hl7gen

import (
	"bufio"
	"os"
	"strconv"
	"testing"
)

// TestGenerateCorpus writes a large input for load runs when asked:
//
//	FHIRBRIDGE_GEN_OUT=/tmp/big.hl7 FHIRBRIDGE_GEN_BYTES=1100000000 go test -run TestGenerateCorpus ./internal/hl7gen
func TestGenerateCorpus(t *testing.T) {
	out := os.Getenv("FHIRBRIDGE_GEN_OUT")
	if out == "" {
		t.Skip("set FHIRBRIDGE_GEN_OUT (and FHIRBRIDGE_GEN_BYTES) to generate a load corpus")
	}
	size, _ := strconv.ParseInt(os.Getenv("FHIRBRIDGE_GEN_BYTES"), 10, 64)
	if size <= 0 {
		size = 1 << 30
	}
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	i := 0
	for ; n < size; i++ {
		m := g.Message(i, FaultFor(i))
		w.Write(m)
		n += int64(len(m))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("%d messages, %d bytes", i, n)
}

func TestMessages(t *testing.T) {
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := g.Message(1, None), g.Message(2, None); string(a[:3]) != "MSH" || string(b[:3]) != "MSH" {
		t.Fatal("messages do not start with MSH")
	}
}
