// Command build builds fhirbridge's WebAssembly module and lays out its files: the npm
// package in wasm/ and the playground in wasm/playground/static. `go generate ./wasm` runs
// it from the wasm folder; so do the browser tests.
//
// It writes (none of these files is committed):
//
//	wasm/fhirbridge.wasm                GOOS=js GOARCH=wasm, -trimpath, -ldflags "-s -w"
//	wasm/wasm_exec.js                   copied from $(go env GOROOT)/lib/wasm, unchanged
//	wasm/playground/static/fhirbridge.wasm, wasm_exec.js, fhirbridge.js
//	wasm/playground/static/examples.json
//	                                    every example input under testdata/*/ (not in golden/,
//	                                    regress/ or fuzz/ folders) that fhirbridge detects as
//	                                    HL7 v2, CDA or EDIFACT
//
// and prints the module's size, raw and gzipped.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fhirbridge/fhirbridge"
)

func main() {
	dir := flag.String("dir", ".", "the wasm folder of the repository")
	version := flag.String("version", "", "the version to stamp (default: git describe, else devel)")
	flag.Parse()
	if err := build(*dir, *version); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func build(dir, version string) error {
	if _, err := os.Stat(filepath.Join(dir, "fhirbridge.js")); err != nil {
		return fmt.Errorf("%s is not fhirbridge's wasm folder: %w", dir, err)
	}
	static := filepath.Join(dir, "playground", "static")
	goroot, err := output(dir, "go", "env", "GOROOT")
	if err != nil {
		return err
	}
	if version == "" {
		version, err = output(dir, "git", "describe", "--tags", "--always", "--dirty")
		if err != nil || version == "" {
			version = "devel"
		}
	}

	wasm := filepath.Join(dir, "fhirbridge.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -X main.version="+version, "-o", "fhirbridge.wasm", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build (GOOS=js GOARCH=wasm): %w", err)
	}

	execJS := filepath.Join(goroot, "lib", "wasm", "wasm_exec.js")
	for _, c := range []struct{ from, to string }{
		{execJS, filepath.Join(dir, "wasm_exec.js")},
		{execJS, filepath.Join(static, "wasm_exec.js")},
		{filepath.Join(dir, "fhirbridge.js"), filepath.Join(static, "fhirbridge.js")},
		{wasm, filepath.Join(static, "fhirbridge.wasm")},
	} {
		if err := copyFile(c.from, c.to); err != nil {
			return err
		}
	}

	examples, err := findExamples(filepath.Join(dir, "..", "testdata"))
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"examples": examples}, "", "\t")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(static, "examples.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}

	raw, err := os.ReadFile(wasm)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(raw)
	zw.Close()
	formats := map[string]int{}
	for _, e := range examples {
		formats[e.Format]++
	}
	fmt.Fprintf(os.Stderr, "fhirbridge.wasm %s: %.1f MB raw, %.1f MB gzipped (%d bytes, %d bytes); examples: %v\n",
		version, mb(len(raw)), mb(gz.Len()), len(raw), gz.Len(), formats)
	return nil
}

func mb(n int) float64 { return float64(n) / 1e6 }

// example is one entry of examples.json, which the playground lists.
type example struct {
	Format string `json:"format"`       // as fhirbridge.Detect names it
	Name   string `json:"name"`         // path under testdata: "hl7v2/adt_a01.hl7"
	To     string `json:"to,omitempty"` // for FHIR examples, the format they convert to
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"` // instead of text, for files that are not UTF-8
}

// skipped are the folders, at any depth of testdata, that hold no example inputs: expected
// outputs (testdata/fhir/golden/*.hl7 is the output of the reverse direction), regressions,
// fuzz seeds.
var skipped = []string{"golden", "regress", "fuzz", "fuzz-cache"}

// formatOrder is the order of the formats on the page.
var formatOrder = []fhirbridge.Format{fhirbridge.FormatHL7v2, fhirbridge.FormatCDA, fhirbridge.FormatEDIFACT, fhirbridge.FormatFHIR}

// exampleTarget is the format a FHIR example converts to, by its name: C-CDA for documents
// (ccd, ccda), EDIFACT for the NHS messages (nhais, medrpt, edifact), else HL7 v2.
func exampleTarget(rel string) string {
	switch n := strings.ToLower(rel); {
	case strings.Contains(n, "ccd"):
		return "cda"
	case strings.Contains(n, "nhais"), strings.Contains(n, "medrpt"), strings.Contains(n, "edifact"), strings.Contains(n, "fhsreg"):
		return "edifact"
	}
	return "hl7v2"
}

func findExamples(testdata string) ([]example, error) {
	var out []example
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(testdata, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if path != testdata && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || slices.Contains(skipped, name)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(rel, "/") || strings.HasPrefix(name, ".") || !d.Type().IsRegular() {
			return nil // files directly in testdata are not examples of one format
		}
		info, err := d.Info()
		if err != nil || info.Size() > 1<<20 {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f := fhirbridge.Detect(data[:min(len(data), 512)])
		if !slices.Contains(formatOrder, f) || strings.HasPrefix(rel, "fhir/") && f != fhirbridge.FormatFHIR {
			return nil // expected outputs (of the reverse direction too), notes, schemas
		}
		e := example{Format: string(f), Name: rel}
		if f == fhirbridge.FormatFHIR {
			e.To = exampleTarget(rel)
		}
		if utf8.Valid(data) {
			e.Text = string(data)
		} else {
			e.Base64 = base64.StdEncoding.EncodeToString(data)
		}
		out = append(out, e)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	slices.SortStableFunc(out, func(a, b example) int {
		ia := slices.Index(formatOrder, fhirbridge.Format(a.Format))
		ib := slices.Index(formatOrder, fhirbridge.Format(b.Format))
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, err
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stderr = nil
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
