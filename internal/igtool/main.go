// Command igtool builds fhirbridge's HL7 v2 mapping data from the HL7 v2-to-FHIR
// Implementation Guide's mapping tables (CSV), and reports how much of them the mappings
// implement. It is a maintainer's tool, run from the repository root:
//
//	go run ./internal/igtool vocab      # IG vocabulary CSVs → mappings/codes/ig-vocabulary.yaml
//	go run ./internal/igtool coverage   # IG segment maps vs mappings/hl7v2 → Markdown table
//	go run ./internal/igtool conceptmaps   # C-CDA on FHIR FC ConceptMaps → mappings/fhir-to-ccda/codes/conceptmaps.yaml
//
// The IG tables are read from the shared corpus (../shared/corpus/ig-v2-to-fhir by default,
// -ig to change it); they are never copied into the repository.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

const (
	defaultIG          = "../shared/corpus/ig-v2-to-fhir"
	defaultConceptMaps = "../shared/corpus/ccda/ccda-on-fhir-conceptmaps"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "igtool:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  igtool vocab [-ig DIR] [-o FILE]         IG vocabulary CSVs → code maps (default mappings/codes/ig-vocabulary.yaml)
  igtool conceptmaps [-cm DIR] [-o FILE]   C-CDA on FHIR FC ConceptMaps → code maps (default
                                           mappings/fhir-to-ccda/codes/conceptmaps.yaml)
  igtool coverage [-ig DIR] [-mappings DIR] [-o FILE]
                                           IG segment maps vs our mappings → Markdown table, written between
                                           <!-- coverage:begin --> and <!-- coverage:end --> in FILE (stdout
                                           when FILE is not given or has no markers)
`)
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("a subcommand is needed")
	}
	fl := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	ig := fl.String("ig", defaultIG, "folder of the HL7 v2-to-FHIR IG CSVs (MANIFEST.tsv, segments/, vocabulary/)")
	switch args[0] {
	case "vocab":
		out := fl.String("o", "mappings/codes/ig-vocabulary.yaml", "output file (- for stdout)")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		b, n, err := Vocabulary(*ig)
		return writeCodeMaps(*out, b, n, err, stdout, stderr)
	case "conceptmaps":
		dir := fl.String("cm", defaultConceptMaps, "folder of the C-CDA on FHIR ConceptMaps (ConceptMap-FC-*.xml)")
		oids := fl.String("oids", "mappings/codes/ccda-oids.yaml", "the OID → URI code map to reverse")
		out := fl.String("o", "mappings/fhir-to-ccda/codes/conceptmaps.yaml", "output file (- for stdout)")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		b, n, err := ConceptMaps(*dir, *oids)
		return writeCodeMaps(*out, b, n, err, stdout, stderr)
	case "coverage":
		maps := fl.String("mappings", "mappings/hl7v2", "folder of our HL7 v2 mappings")
		out := fl.String("o", "", "file holding the coverage markers (README.md)")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		table, err := CoverageTable(*ig, *maps)
		if err != nil {
			return err
		}
		if *out == "" {
			_, err = io.WriteString(stdout, table)
			return err
		}
		changed, found, err := WriteBetweenMarkers(*out, table)
		if err != nil {
			return err
		}
		if !found {
			fmt.Fprintf(stderr, "%s has no %s … %s markers: table printed instead\n", *out, beginMarker, endMarker)
			_, err = io.WriteString(stdout, table)
			return err
		}
		if changed {
			fmt.Fprintf(stderr, "updated the coverage table in %s\n", *out)
		} else {
			fmt.Fprintf(stderr, "%s: coverage table already up to date\n", *out)
		}
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// writeCodeMaps writes a generated file of n code maps to out ("-": stdout), unless err.
func writeCodeMaps(out string, b []byte, n int, err error, stdout, stderr io.Writer) error {
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d code maps\n", out, n)
	return nil
}
