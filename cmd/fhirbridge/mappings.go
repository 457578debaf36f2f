package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/transform"
)

func cmdMappings(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, "Usage: fhirbridge mappings list|lint [DIR...]|explain NAME\n")
		return errUsage
	}
	overlays := func(dirs []string) ([]fs.FS, error) {
		var out []fs.FS
		for _, d := range dirs {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("%s: not a folder", d)
			}
			out = append(out, os.DirFS(d))
		}
		return out, nil
	}
	switch args[0] {
	case "lint":
		ovs, err := overlays(args[1:])
		if err != nil {
			return err
		}
		_, err = fhirbridge.Compile(ovs...)
		var ce *transform.CompileError
		if errors.As(err, &ce) {
			n := 0
			for _, d := range ce.Diagnostics {
				fmt.Fprintln(stdout, d.Error())
				if d.Severity == transform.SeverityError {
					n++
				}
			}
			fmt.Fprintf(stdout, "%d errors\n", n)
			return errFailed
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "mappings OK")
		return nil
	case "list", "explain":
		var names []string
		dirs := args[1:]
		if args[0] == "explain" {
			if len(args) < 2 {
				fmt.Fprint(stderr, "Usage: fhirbridge mappings explain NAME [DIR...]\n")
				return errUsage
			}
			names, dirs = args[1:2], args[2:]
		}
		ovs, err := overlays(dirs)
		if err != nil {
			return err
		}
		prog, err := fhirbridge.Compile(ovs...)
		if err != nil {
			return err
		}
		found := false
		for _, d := range prog.Definitions() {
			if args[0] == "list" {
				if d.Kind == "message" {
					fmt.Fprintf(stdout, "%-10s %-8s %s\n", d.Name, d.Source, strings.Join(d.Match, " "))
				}
				continue
			}
			if d.Name != names[0] {
				continue
			}
			found = true
			fmt.Fprintf(stdout, "%s %s\n  defined in %s", d.Kind, d.Name, d.File)
			if d.Line > 0 {
				fmt.Fprintf(stdout, ":%d", d.Line)
			}
			fmt.Fprintln(stdout)
			if d.Source != "" || d.Target != "" {
				fmt.Fprintf(stdout, "  %s → %s\n", d.Source, d.Target)
			}
			if len(d.Match) > 0 {
				fmt.Fprintf(stdout, "  converts %s\n", strings.Join(d.Match, ", "))
			}
			if d.Codes > 0 {
				fmt.Fprintf(stdout, "  %d source codes\n", d.Codes)
			}
			if d.Description != "" {
				fmt.Fprintf(stdout, "  %s\n", d.Description)
			}
		}
		if args[0] == "explain" && !found {
			return fmt.Errorf("no message, map or code map named %q", names[0])
		}
		return nil
	}
	fmt.Fprintf(stderr, "fhirbridge mappings: unknown subcommand %q\n", args[0])
	return errUsage
}
