// Command fhirbridge-loop is the single-process baseline for the pipeline's figures: it
// converts the files of a glob one after the other, on one goroutine, with the library alone,
// and writes the Bundles as one NDJSON file.
//
//	fhirbridge-loop --input 'in/*.hl7' --output out.ndjson
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fhirbridge/fhirbridge"
)

func main() {
	input := flag.String("input", "", "glob of the input files")
	output := flag.String("output", os.DevNull, "NDJSON file of the Bundles")
	flag.Parse()
	start := time.Now()
	conv, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	files, err := filepath.Glob(*input)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out, err := os.Create(*output)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var msgs, ok, bad, in int64
	var buf []byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if st, err := f.Stat(); err == nil {
			in += st.Size()
		}
		for res, err := range conv.Convert(context.Background(), f) {
			msgs++
			if err != nil {
				bad++
				continue
			}
			ok++
			buf = append(res.Bundle.AppendJSON(buf[:0]), '\n')
			w.Write(buf)
		}
		f.Close()
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out.Close()
	d := time.Since(start)
	fmt.Fprintf(os.Stderr, "%d messages (%d converted, %d errors), %.1f MB in %v: %.0f messages/s, %.1f MB/s\n",
		msgs, ok, bad, float64(in)/1e6, d.Round(time.Millisecond), float64(msgs)/d.Seconds(), float64(in)/1e6/d.Seconds())
}
