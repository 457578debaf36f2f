// Command fhirbridge converts HL7 v2 messages to FHIR R4 Bundles.
//
//	fhirbridge convert FILE|-      convert (format and message type detected)
//	fhirbridge batch IN... -o OUT  convert many inputs in parallel, resumable
//	fhirbridge serve               HTTP and MLLP server
//	fhirbridge validate FILE...    check FHIR R4 JSON against the R4 definitions
//	fhirbridge mappings list|lint|explain NAME
//	fhirbridge version
//
// Exit status: 0 when everything converted, 1 when any input failed, 2 for usage errors.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `fhirbridge converts health care's legacy formats into FHIR R4 Bundles.

Usage:
  fhirbridge [--config FILE] COMMAND [flags] ...

  fhirbridge convert [flags] FILE|-     convert messages (format and type detected)
  fhirbridge batch [flags] IN... -o OUT convert files, folders and globs in parallel into OUT
                                        (NDJSON, error report, dead letters, --resume)
  fhirbridge serve [flags]              serve POST /convert, $convert-data, /healthz, /metrics
                                        over HTTP, and HL7 v2 over MLLP with ACKs
  fhirbridge completion bash|zsh        print a shell completion script
  fhirbridge validate FILE...           validate FHIR R4 JSON (a resource or Bundle per file)
  fhirbridge mappings list              list the message mappings and the types they convert
  fhirbridge mappings lint [DIR...]     check mapping files (built-in, plus DIR overlays)
  fhirbridge mappings explain NAME      show a message, map or code map and where it comes from
  fhirbridge version                    print the version

Global flags:
  --config FILE   YAML settings for batch and serve (sections named after the commands,
                  keys after their flags; the command line wins)

Run 'fhirbridge COMMAND -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exit codes
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks errors that are the caller's way of calling, not the input's fault.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args, err := parseGlobal(args)
	if err != nil {
		fmt.Fprintf(stderr, "fhirbridge: %v\n\n%s", err, usage)
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "convert":
		err = cmdConvert(ctx, args[1:], stdin, stdout, stderr)
	case "batch":
		err = cmdBatch(ctx, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "completion":
		err = cmdCompletion(args[1:], stdout, stderr)
	case "validate":
		err = cmdValidate(args[1:], stdout, stderr)
	case "mappings":
		err = cmdMappings(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "fhirbridge", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "fhirbridge: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFail
	default:
		fmt.Fprintln(stderr, "fhirbridge:", err)
		return exitFail
	}
}

// errFailed says that some inputs failed; they were already reported.
var errFailed = errors.New("some inputs failed")

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
