package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fhirbridge/fhirbridge/fhir"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(stderr, `Usage: fhirbridge validate FILE|DIR...

Validates FHIR R4 JSON files (one resource or Bundle per file; for a folder, every *.json
below it; NDJSON files (*.ndjson) line by line) against the FHIR 4.0.1 definitions built into
fhirbridge: element names and types, cardinality, required bindings, primitive formats, and
that every reference inside a Bundle resolves. Prints each problem with its FHIR path and
ends with a count; the exit status is 1 if any file has an error.
`)
	}
	if err := fl.Parse(args); err != nil || fl.NArg() == 0 {
		fl.Usage()
		return errUsage
	}
	var files []string
	for _, a := range fl.Args() {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".ndjson")) {
				files = append(files, p)
			}
			return nil
		})
	}
	sort.Strings(files)
	passed, failed := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		docs := [][]byte{data}
		if strings.HasSuffix(f, ".ndjson") {
			docs = nil
			for _, line := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(line) != "" {
					docs = append(docs, []byte(line))
				}
			}
		}
		for i, doc := range docs {
			name := f
			if len(docs) > 1 {
				name = fmt.Sprintf("%s:%d", f, i+1)
			}
			// Every problem is reported, not only the first: elements that cannot be read
			// are reported and left out, and the rest is validated.
			res, problems, err := fhir.ParseResourceLenient(doc)
			if err != nil {
				fmt.Fprintf(stdout, "FAIL %s: %v\n", name, err)
				failed++
				continue
			}
			errs := len(problems)
			for _, p := range problems {
				fmt.Fprintf(stdout, "  error %s: %v\n", name, p)
			}
			for _, is := range fhir.Validate(res) {
				fmt.Fprintf(stdout, "  %s %s: %s: %s\n", is.Severity, name, is.Path, is.Message)
				if is.Severity == "error" {
					errs++
				}
			}
			if errs > 0 {
				fmt.Fprintf(stdout, "FAIL %s\n", name)
				failed++
			} else {
				fmt.Fprintf(stdout, "OK %s\n", name)
				passed++
			}
		}
	}
	fmt.Fprintf(stdout, "%d valid, %d invalid\n", passed, failed)
	if failed > 0 {
		return errFailed
	}
	return nil
}
