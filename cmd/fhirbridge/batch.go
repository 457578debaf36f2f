package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/batch"
)

const batchUsage = `Usage: fhirbridge batch [flags] IN... -o OUT

Converts every message of the inputs to FHIR R4 Bundles, in parallel, into the folder OUT.

IN is a file, a folder (read recursively; names starting with a dot are skipped) or a glob
pattern ('in/**' is not special; quote patterns so that the shell leaves them alone). Each
file's format is detected from its first bytes; an HL7 v2 file may hold many messages,
with any segment terminators, MLLP frames (a capture of an MLLP stream) or FHS/BHS batches.
Inputs are streamed: memory stays flat whatever their size.

OUTPUT
  OUT/bundles.ndjson           one Bundle per line (default); with --shard-size N,
                               OUT/bundles-00000.ndjson, ... of N Bundles each
  OUT/<input>.ndjson           with --per input: one NDJSON file per input file
  OUT/<input>/000042.json      with --per message (or --format json): one file per message
  OUT/errors.jsonl             the error report: one JSON object per failed message, with
                               file, index (0-based, in the file), controlId, messageType,
                               kind (parse, unsupported, mapping, read), location and reason.
                               It never holds message data.
  OUT/summary.json             the counts of the run
  OUT/.fhirbridge-journal.json the checkpoint journal used by --resume

Every message ends in exactly one place: the output, or the error report (and, with
--dead-letter DIR, its input bytes in DIR/<input>/000042.hl7). Unless --ordered is given,
Bundles are written in the order they finish.

RESUME
Every --checkpoint-interval the outputs are fsynced and the journal records their sizes and
which messages of which inputs are committed; the journal is replaced atomically (write,
fsync, rename). After an interruption (Ctrl-C finishes the messages in flight and takes a
last checkpoint; a kill or crash loses at most one interval), run the same command with
--resume: outputs are cut back to the journalled sizes and only the messages not yet
committed are converted. An input that changed in between is refused.

PROGRESS
On a terminal, stderr shows one line with messages/s, MB/s, failures and the ETA; otherwise
a plain line every --progress-interval. --quiet turns both off, and the summary too.

EXIT STATUS
  0  every message converted
  1  some message or input failed (see OUT/errors.jsonl), or the run was interrupted
  2  usage error

Flags:
`

// convOptions are the conversion flags shared by batch and serve.
type convOptions struct {
	bundleType string
	overlays   multiFlag
	tz         string
	maxSize    int
}

func (c *convOptions) add(fl *flag.FlagSet) {
	fl.StringVar(&c.bundleType, "bundle-type", "", "Bundle type: transaction, batch, collection, message or document (default: the mapping's own, else transaction)")
	fl.Var(&c.overlays, "mappings", "a folder of mapping files layered over the built-in ones (repeatable)")
	fl.StringVar(&c.tz, "tz", "", "time zone for timestamps without an offset when the message gives none (IANA name; default UTC)")
	fl.IntVar(&c.maxSize, "max-message-size", 0, "largest message in bytes (default 64 MiB)")
}

func (c *convOptions) options() (fhirbridge.Options, error) {
	opts := fhirbridge.Options{BundleType: c.bundleType, MaxMessageSize: c.maxSize}
	for _, dir := range c.overlays {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return opts, fmt.Errorf("--mappings %s: not a folder", dir)
		}
		opts.Mappings = append(opts.Mappings, os.DirFS(dir))
	}
	if c.tz != "" {
		loc, err := time.LoadLocation(c.tz)
		if err != nil {
			return opts, fmt.Errorf("--tz: %w", err)
		}
		opts.TimeZone = loc
	}
	return opts, nil
}

type batchFlags struct {
	fl                *flag.FlagSet
	out, per, format  string
	workers, shard    int
	pretty, ordered   bool
	resume, overwrite bool
	deadLetter        string
	quiet             bool
	progressEvery     time.Duration
	checkpoint        time.Duration
	conv              convOptions
	log               logFlags
}

func newBatchFlags(stderr io.Writer) *batchFlags {
	b := &batchFlags{fl: flag.NewFlagSet("batch", flag.ContinueOnError)}
	fl := b.fl
	fl.SetOutput(stderr)
	fl.StringVar(&b.out, "o", "", "output `folder` (required)")
	fl.StringVar(&b.out, "out", "", "output `folder` (same as -o)")
	fl.IntVar(&b.workers, "workers", 0, "conversion workers (default: the number of CPUs)")
	fl.StringVar(&b.per, "per", "", "`what` gets its own output file: input (NDJSON per input file) or message (JSON per message); default one NDJSON stream")
	fl.StringVar(&b.format, "format", "ndjson", "output format: ndjson, or json (one file per message)")
	fl.IntVar(&b.shard, "shard-size", 0, "Bundles per NDJSON shard file (default: one file)")
	fl.BoolVar(&b.pretty, "pretty", false, "indent the JSON (one file per message only)")
	fl.BoolVar(&b.ordered, "ordered", false, "write outputs in input order (deterministic output)")
	fl.BoolVar(&b.resume, "resume", false, "continue the interrupted run recorded in OUT")
	fl.BoolVar(&b.overwrite, "overwrite", false, "start again in an OUT that holds an earlier run")
	fl.StringVar(&b.deadLetter, "dead-letter", "", "`folder` for the input bytes of each failed message")
	fl.BoolVar(&b.quiet, "quiet", false, "no progress and no summary")
	fl.DurationVar(&b.progressEvery, "progress-interval", 10*time.Second, "interval of progress lines when stderr is not a terminal")
	fl.DurationVar(&b.checkpoint, "checkpoint-interval", 2*time.Second, "interval of checkpoints (at most this much work is redone after a crash)")
	b.conv.add(fl)
	b.log.add(fl)
	fl.StringVar(&configFile, "config", configFile, "YAML config `file` (section batch:, keys named after the flags)")
	fl.Usage = func() {
		fmt.Fprint(stderr, batchUsage)
		fl.PrintDefaults()
	}
	return b
}

func cmdBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b := newBatchFlags(stderr)
	fl := b.fl
	// Flags may follow the inputs: "batch in/ -o out".
	var ins []string
	rest := args
	for {
		if err := fl.Parse(rest); err != nil {
			return errUsage
		}
		if fl.NArg() == 0 {
			break
		}
		ins = append(ins, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if err := applyConfig(fl, "batch"); err != nil {
		fmt.Fprintln(stderr, "fhirbridge batch:", err)
		return errUsage
	}
	if len(ins) == 0 || b.out == "" {
		fl.Usage()
		return errUsage
	}
	switch b.format {
	case "ndjson":
	case "json":
		if b.per == "input" {
			fmt.Fprintln(stderr, "fhirbridge batch: --format json writes one file per message; it cannot be combined with --per input")
			return errUsage
		}
		b.per = "message"
	default:
		fmt.Fprintf(stderr, "fhirbridge batch: --format %q: want ndjson or json\n", b.format)
		return errUsage
	}
	if b.per != "" && b.per != "input" && b.per != "message" {
		fmt.Fprintf(stderr, "fhirbridge batch: --per %q: want input or message\n", b.per)
		return errUsage
	}
	if b.resume && b.overwrite {
		fmt.Fprintln(stderr, "fhirbridge batch: --resume and --overwrite exclude each other")
		return errUsage
	}
	log, err := b.log.logger(stderr)
	if err != nil {
		return err
	}
	copts, err := b.conv.options()
	if err != nil {
		return err
	}
	conv, err := fhirbridge.New(copts)
	if err != nil {
		return err
	}
	inputs, err := batch.Expand(ins)
	if err != nil {
		return err
	}
	opts := batch.Options{Out: b.out, Workers: b.workers, Per: b.per, ShardSize: b.shard, Pretty: b.pretty,
		Ordered: b.ordered, Resume: b.resume, Overwrite: b.overwrite, DeadLetter: b.deadLetter,
		MaxMessageSize: b.conv.maxSize, CheckpointEvery: b.checkpoint, Logger: log,
		Fingerprint: fmt.Sprintf("bundle-type=%s mappings=%v tz=%s", b.conv.bundleType, []string(b.conv.overlays), b.conv.tz)}
	if !b.quiet {
		opts.Progress = stderr
		opts.ProgressTTY = isTerminal(stderr)
		opts.ProgressEvery = b.progressEvery
		if opts.ProgressTTY {
			opts.ProgressEvery = 0
		}
	}
	log.Debug("batch starting", "inputs", len(inputs), "out", b.out, "workers", b.workers, "resume", b.resume)
	s, err := batch.Run(ctx, conv, inputs, opts)
	if s != nil && !b.quiet {
		printSummary(stdout, s)
	}
	if err != nil {
		return err
	}
	if s.Interrupted {
		fmt.Fprintf(stderr, "fhirbridge batch: interrupted; run the same command with --resume to continue\n")
		return errFailed
	}
	if s.Failed > 0 || s.FileErrors > 0 {
		return errFailed
	}
	return nil
}

func printSummary(w io.Writer, s *batch.Summary) {
	rate := float64(s.Messages-s.Resumed) / max(s.Elapsed.Seconds(), 1e-9)
	if s.Resumed > s.Messages {
		rate = 0
	}
	fmt.Fprintf(w, "%d inputs, %d messages: %d converted, %d failed", s.Inputs, s.Messages, s.Converted, s.Failed)
	if s.FileErrors > 0 {
		fmt.Fprintf(w, ", %d inputs unreadable", s.FileErrors)
	}
	if s.Resumed > 0 {
		fmt.Fprintf(w, " (%d done by an earlier run)", s.Resumed)
	}
	fmt.Fprintf(w, "; %d warnings; %s, %.0f messages/s\n", s.Warnings, s.Elapsed.Round(time.Millisecond), rate)
	types := make([]string, 0, len(s.ByType))
	for t := range s.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		c := s.ByType[t]
		fmt.Fprintf(w, "  %-12s %10d converted %8d failed\n", t, c.Converted, c.Failed)
	}
	if s.Interrupted {
		fmt.Fprintln(w, "  (interrupted)")
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
