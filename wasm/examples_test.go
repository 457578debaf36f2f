package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryExampleConverts runs every example the playground offers (the input files under
// testdata/<format>/, as the build lists them) through the engine the playground uses: each
// gives at least one Bundle, except the examples written to show an error ("bad_" in the
// name), which must give an error with a location and nothing that crashes.
func TestEveryExampleConverts(t *testing.T) {
	e := newEngine()
	n := 0
	root := filepath.Join("..", "testdata")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case "golden", "regress", "fuzz", "fhir":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(rel, string(filepath.Separator)) {
			return nil // files directly in testdata are not examples of a format
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		res := e.convert(context.Background(), data, options{})
		bad := strings.Contains(filepath.Base(path), "bad_")
		for _, b := range res.Bundles {
			if !json.Valid(b) {
				t.Errorf("%s: a Bundle that is not JSON", rel)
			}
		}
		switch {
		case bad && len(res.Errors) == 0:
			t.Errorf("%s: the bad example gave no error", rel)
		case !bad && len(res.Bundles) == 0:
			t.Errorf("%s: no Bundle (errors: %v)", rel, res.Errors)
		}
		return nil
	})
	if n < 10 {
		t.Fatalf("only %d examples found", n)
	}
}
