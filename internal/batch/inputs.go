package batch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Input is one file to convert.
type Input struct {
	Path    string    // as found: the argument, or a file below an argument folder
	Name    string    // a relative, slash-separated name for outputs ("in/adt/a.hl7")
	Size    int64     //
	ModTime time.Time //
}

// Expand turns the arguments — files, folders (walked recursively, hidden files and
// folders skipped) and glob patterns — into a sorted list of distinct regular files. A
// pattern that matches nothing and a path that does not exist are errors: a typo must not
// look like an empty run.
func Expand(args []string) ([]Input, error) {
	seen := map[string]bool{}
	names := map[string]bool{}
	var out []Input
	add := func(p, name string, st fs.FileInfo) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		if seen[abs] {
			return
		}
		seen[abs] = true
		name = filepath.ToSlash(name)
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s~%d", strings.TrimSuffix(name, fmt.Sprintf("~%d", i-1)), i)
		}
		names[name] = true
		out = append(out, Input{Path: p, Name: name, Size: st.Size(), ModTime: st.ModTime()})
	}
	for _, a := range args {
		paths := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("pattern %q matches no file", a)
			}
			paths = m
		}
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				if st.Mode().IsRegular() {
					add(p, filepath.Base(p), st)
				}
				continue
			}
			err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if q != p && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if d.Type().IsRegular() {
					info, err := d.Info()
					if err != nil {
						return err
					}
					rel, err := filepath.Rel(p, q)
					if err != nil {
						return err
					}
					add(q, filepath.Join(dirName(p), rel), info)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(out, func(a, b Input) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// dirName names an argument folder in output names: its base name ("in" for "data/in/").
func dirName(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	b := filepath.Base(abs)
	if b == string(filepath.Separator) || b == "." {
		return "root"
	}
	return b
}
