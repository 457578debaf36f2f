package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fhirbridge/fhirbridge"
)

func cmdConvert(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("convert", flag.ContinueOnError)
	fl.SetOutput(stderr)
	bundleType := fl.String("bundle-type", "", "Bundle type: transaction, batch, collection, message or document (default: the mapping's own, else transaction)")
	var overlays multiFlag
	fl.Var(&overlays, "mappings", "a folder of mapping files layered over the built-in ones (repeatable)")
	pretty := fl.Bool("pretty", false, "indent the JSON (one input message only; several are written as NDJSON)")
	tz := fl.String("tz", "", "time zone for timestamps without an offset when the message gives none (IANA name, e.g. Europe/London; default UTC)")
	warnings := fl.Bool("warnings", false, "print conversion warnings (values left out, unexpected segments) to stderr; they name places, never data")
	to := fl.String("to", "", "convert FHIR input (a Bundle or a resource, or NDJSON of them) to this format: hl7v2, ccda or edifact")
	var params multiFlag
	fl.Var(&params, "param", "a value the reverse mappings read with param('key'), as key=value (repeatable). All: messageType, timestamp. HL7 v2: sendingApplication, sendingFacility, receivingApplication, receivingFacility, controlId, version, processingId. EDIFACT: sender, recipient, interchangeRef, messageRef, transactionNumber, newline, una (docs/reverse*.md)")
	fl.Usage = func() {
		fmt.Fprint(stderr, `Usage: fhirbridge convert [flags] FILE|-

Converts every message in FILE (or standard input for -) to a FHIR R4 Bundle. The format and
the message type are detected. An input holding one message prints one JSON document; an
input holding several prints NDJSON, one Bundle per line, in input order. A message that
cannot be converted is reported on stderr with its place (message, segment, field) and the
others are still converted; the exit status is then 1.

Flags:
`)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return errUsage
	}
	opts := fhirbridge.Options{BundleType: *bundleType}
	switch *to {
	case "", "fhir":
	case "hl7v2":
		opts.Target = fhirbridge.FormatHL7v2
	case "edifact":
		opts.Target = fhirbridge.FormatEDIFACT
	case "cda", "ccda":
		opts.Target = fhirbridge.FormatCDA
	default:
		return fmt.Errorf("--to %s: the reverse direction writes hl7v2, ccda or edifact", *to)
	}
	for _, kv := range params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--param %q: want key=value", kv)
		}
		if opts.Params == nil {
			opts.Params = map[string]string{}
		}
		opts.Params[k] = v
	}
	for _, dir := range overlays {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--mappings %s: not a folder", dir)
		}
		opts.Mappings = append(opts.Mappings, os.DirFS(dir))
	}
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("--tz: %w", err)
		}
		opts.TimeZone = loc
	}
	conv, err := fhirbridge.New(opts)
	if err != nil {
		return err
	}
	var in io.Reader
	name := fl.Arg(0)
	if name == "-" {
		in = stdin
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()

	// One message prints as one document (pretty if asked); several as NDJSON. To know which,
	// hold the first result until the second arrives.
	var held *fhirbridge.Result
	n, failed := 0, 0
	write := func(r *fhirbridge.Result, single bool) {
		if r.Output != nil { // the reverse direction: an HL7 v2 message, CR-terminated segments
			out.Write(r.Output)
			out.WriteByte('\n')
			return
		}
		var b []byte
		if single && *pretty {
			b = r.Bundle.AppendJSONIndent(nil, "  ")
		} else {
			b = r.Bundle.AppendJSON(nil)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	for res, err := range conv.Convert(ctx, in) {
		if err != nil {
			failed++
			var ce *fhirbridge.Error
			if !errors.As(err, &ce) {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			continue
		}
		n++
		if *warnings {
			for _, w := range res.Warnings {
				fmt.Fprintf(stderr, "%s: message %d: %s\n", name, res.Index+1, w.Error())
			}
		}
		if n == 1 {
			held = res
			continue
		}
		if held != nil {
			write(held, false)
			held = nil
		}
		write(res, false)
	}
	if held != nil {
		write(held, true)
	}
	if n == 0 && failed == 0 {
		return fmt.Errorf("%s: no message found", name)
	}
	if failed > 0 {
		return errFailed
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint([]string(*m)) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
