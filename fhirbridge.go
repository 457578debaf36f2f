// Package fhirbridge converts health care's legacy formats into FHIR R4 Bundles.
//
// A [Converter] is built once from [Options] — it compiles the built-in mappings, and any
// overlay folders, into a program — and is then safe for concurrent use:
//
//	conv, err := fhirbridge.New(fhirbridge.Options{})
//	for res, err := range conv.Convert(ctx, file) {
//		// one Result (a Bundle) or one error per message
//	}
//
// The input format is detected from the first bytes; the message type from the message itself
// (HL7 v2 MSH-9). Nobody names a template.
package fhirbridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones everywhere, WASM included (about 450 kB)

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/mappings"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// Format is an input format.
type Format string

// The formats fhirbridge reads.
const (
	FormatUnknown Format = ""
	FormatHL7v2   Format = "hl7v2"
	FormatCDA     Format = "cda"
	FormatEDIFACT Format = "edifact"
	FormatFHIR    Format = "fhir"
)

// Options configure a [Converter]. The zero value is ready to use: built-in mappings,
// transaction Bundles, UTC for timestamps without a zone.
type Options struct {
	// Mappings are folders of mapping files layered over the built-in ones, in order (a later
	// one wins). A file there can replace a built-in message, map or code map by name, add
	// new ones, or extend existing ones.
	Mappings []fs.FS
	// BundleType is "transaction", "batch", "collection", "message" or "document". Empty
	// means the message mapping's own default (its bundle key), else transaction.
	BundleType string
	// TimeZone is the zone of timestamps that carry no offset, when the message does not give
	// one either (HL7 v2: MSH-7). nil means UTC.
	TimeZone *time.Location
	// MaxMessageSize bounds one message, in bytes; 0 means 64 MiB.
	MaxMessageSize int
	// FullURLBase, when set, makes fullUrls "<base>/<Type>/<id>" and references relative;
	// by default they are urn:uuid.
	FullURLBase string
	// Target is the format FHIR input is converted to (the reverse direction): FormatHL7v2,
	// FormatCDA or FormatEDIFACT. Legacy input always converts to FHIR.
	Target Format
	// Params are values the mappings read with param('name'): for the reverse direction the
	// sending and receiving application and facility, the control id, the version.
	Params map[string]string
}

// Converter converts inputs to FHIR. It is immutable and safe for concurrent use.
type Converter struct {
	prog           *transform.Program
	structures     map[string]*hl7v2.Structure
	edifactStructs map[string]*edifact.Structure
	opts           Options
}

// New compiles the mappings. An error in a mapping file is returned here, naming file, line
// and column — never discovered at the millionth message.
func New(opts Options) (*Converter, error) {
	switch opts.BundleType {
	case "", "transaction", "batch", "collection", "message", "document":
	default:
		return nil, fmt.Errorf("fhirbridge: unknown bundle type %q (transaction, batch, collection, message, document)", opts.BundleType)
	}
	prog, err := Compile(opts.Mappings...)
	if err != nil {
		return nil, err
	}
	c := &Converter{prog: prog, opts: opts, structures: map[string]*hl7v2.Structure{}}
	for name, notation := range prog.Structures("hl7v2") {
		s, err := hl7v2.ParseStructure(name, notation)
		if err != nil {
			return nil, err
		}
		c.structures[name] = s
	}
	for _, m := range prog.Messages() {
		if m.Format == "hl7v2" && m.Structure != "" && c.structures[m.Structure] == nil {
			return nil, fmt.Errorf("%s: message %s: no structure %q in the hl7v2 structures", m.File, m.Name, m.Structure)
		}
	}
	if err := c.initEDIFACT(); err != nil {
		return nil, err
	}
	return c, nil
}

// testCompileOptions are extra compile options for this package's tests.
var testCompileOptions []transform.Option

// Compile compiles the built-in mappings with overlays into a program, with the schemas of
// every supported format. It is what [New] uses; `fhirbridge mappings lint` calls it too.
func Compile(overlays ...fs.FS) (*transform.Program, error) {
	files, err := transform.FilesFromFS(mappings.FS, ".")
	if err != nil {
		return nil, err
	}
	opts := append([]transform.Option{transform.WithTargetTypes(reverseTargetTypes)}, testCompileOptions...)
	for _, s := range []tree.Schema{hl7v2.Schema{}, cdaSchema(), edifactSchema(), fhirSchema(), jsonSchema()} {
		if s != nil {
			opts = append(opts, transform.WithSchema(s))
		}
	}
	for _, o := range overlays {
		extra, err := transform.FilesFromFS(o, ".")
		if err != nil {
			return nil, fmt.Errorf("fhirbridge: reading mappings: %w", err)
		}
		opts = append(opts, transform.WithOverlay(extra))
	}
	return transform.Compile(files, opts...)
}

// Program returns the compiled mappings.
func (c *Converter) Program() *transform.Program { return c.prog }

// Result is one converted message.
type Result struct {
	Index       int    // 0-based position of the message in its input
	Format      Format // the input format
	MessageType string // as the input names it: "ADT^A01"
	ControlID   string // the message's own id (HL7 v2 MSH-10), if any
	Mapping     string // the message mapping used: "ADT_A01"
	Bundle      *fhir.Bundle
	Output      []byte // the legacy message, for the reverse direction
	// Warnings are values that could not be converted and were left out, and segments the
	// message structure did not expect. They name places, never patient data.
	Warnings []transform.Diagnostic
}

// JSON returns the Bundle as compact canonical JSON, or nil for a reverse-direction result
// (whose legacy message is in Output).
func (r *Result) JSON() []byte {
	if r.Bundle == nil {
		return nil
	}
	return r.Bundle.AppendJSON(nil)
}

// Error is a message that could not be converted. The stream of messages goes on after it.
type Error struct {
	Index       int    // 0-based position of the message in its input
	Format      Format //
	MessageType string // if it could be read
	ControlID   string // if it could be read
	Err         error  // a parser's *ParseError (with its position), ErrUnsupported, or a mapping error
}

func (e *Error) Error() string {
	var pe *hl7v2.ParseError
	if errors.As(e.Err, &pe) {
		return e.Err.Error() // it names the message, line and segment itself
	}
	var b strings.Builder
	fmt.Fprintf(&b, "message %d", e.Index+1)
	if e.ControlID != "" {
		fmt.Fprintf(&b, " (control id %s)", e.ControlID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by errors for inputs that no mapping converts.
var ErrUnsupported = errors.New("unsupported message type")

// Detect guesses the format of an input from its first bytes.
func Detect(head []byte) Format {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	head = bytes.TrimLeft(head, " \t\r\n\x0B")
	switch {
	case bytes.HasPrefix(head, []byte("MSH")), bytes.HasPrefix(head, []byte("FHS")), bytes.HasPrefix(head, []byte("BHS")):
		return FormatHL7v2
	case bytes.HasPrefix(head, []byte("UNA")), bytes.HasPrefix(head, []byte("UNB")):
		return FormatEDIFACT
	case bytes.HasPrefix(head, []byte("<")):
		return FormatCDA
	case bytes.HasPrefix(head, []byte("{")):
		return FormatFHIR
	}
	return FormatUnknown
}

// Convert reads every message of r and yields, for each, a Result or an *[Error]. A bad
// message never stops the stream: the next one is converted. Only an error reading r itself
// ends it (yielded as a plain error).
func (c *Converter) Convert(ctx context.Context, r io.Reader) iter.Seq2[*Result, error] {
	return func(yield func(*Result, error) bool) {
		br := bufio.NewReaderSize(r, 4<<10)
		head, _ := br.Peek(512)
		c.dispatch(ctx, head, br, yield)
	}
}

// convertBytes is Convert over bytes already in memory, without a buffered reader.
func (c *Converter) convertBytes(ctx context.Context, data []byte) iter.Seq2[*Result, error] {
	return func(yield func(*Result, error) bool) {
		c.dispatch(ctx, data[:min(len(data), 512)], bytes.NewReader(data), yield)
	}
}

func (c *Converter) dispatch(ctx context.Context, head []byte, r io.Reader, yield func(*Result, error) bool) {
	{
		switch f := Detect(head); f {
		case FormatHL7v2:
			c.convertHL7v2(ctx, r, yield)
		case FormatCDA:
			c.convertCDA(ctx, r, yield)
		case FormatEDIFACT:
			c.convertEDIFACT(ctx, r, yield)
		case FormatFHIR:
			c.convertFHIR(ctx, r, yield)
		case FormatUnknown:
			if len(bytes.TrimSpace(head)) == 0 {
				return // empty input: no messages
			}
			yield(nil, &Error{Err: fmt.Errorf("fhirbridge: input format not recognised (expected an HL7 v2 message starting with MSH, FHS or BHS)")})
		default:
			yield(nil, &Error{Format: f, Err: fmt.Errorf("fhirbridge: %s input is not supported yet", f)})
		}
	}
}

// ConvertMessage converts an input that holds exactly one message.
func (c *Converter) ConvertMessage(ctx context.Context, data []byte) (*Result, error) {
	var out *Result
	var outErr error
	n := 0
	for res, err := range c.convertBytes(ctx, data) {
		n++
		if n == 1 {
			out, outErr = res, err
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("fhirbridge: the input holds no message")
	}
	if n > 1 && outErr == nil {
		return nil, fmt.Errorf("fhirbridge: the input holds %d messages; use Convert for streams", n)
	}
	return out, outErr
}

func (c *Converter) convertHL7v2(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	rd := hl7v2.NewReader(r)
	rd.MaxMessageSize = c.opts.MaxMessageSize
	stream(ctx, rd.Read, func(err error) (*Error, bool) {
		var pe *hl7v2.ParseError
		if !errors.As(err, &pe) {
			return nil, false
		}
		return &Error{Index: pe.Message, Format: FormatHL7v2, Err: err}, true
	}, func(msg *hl7v2.Message) (*Result, error) { return c.convertV2Message(ctx, msg) }, yield)
}

// stream drives one format's reader: it yields one Result or *Error per message (document,
// interchange message) and goes on after a message's error. unitErr turns a reader error into
// the message's *Error (nil: the reader itself failed, which ends the stream after yielding
// it; more == false: the input cannot go on after this one). A reader repeats a terminal error
// on every later call; it is reported once.
func stream[T any](ctx context.Context, read func() (T, error), unitErr func(error) (e *Error, more bool), convert func(T) (*Result, error), yield func(*Result, error) bool) {
	var lastErr error
	for {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		unit, err := read()
		if err == io.EOF {
			return
		}
		if err != nil {
			if err == lastErr {
				return
			}
			lastErr = err
			e, more := unitErr(err)
			if e == nil {
				yield(nil, err)
				return
			}
			if !yield(nil, e) || !more {
				return
			}
			continue
		}
		if !yield(convert(unit)) {
			return
		}
	}
}

func (c *Converter) convertV2Message(ctx context.Context, msg *hl7v2.Message) (*Result, error) {
	code, event, structure := msg.Type()
	typ := code
	if event != "" {
		typ += "^" + event
	}
	fail := func(err error) (*Result, error) {
		return nil, &Error{Index: msg.Index(), Format: FormatHL7v2, MessageType: typ, ControlID: msg.ControlID(), Err: err}
	}
	m := c.prog.Find("hl7v2", typ, structure)
	if m == nil {
		return fail(fmt.Errorf("%w %s (MSH-9)", ErrUnsupported, typ))
	}
	t := hl7v2.NewTree(msg, c.structures[m.Structure])
	out, err := c.prog.Run(ctx, m, t.Root(), transform.RunOptions{TimeZone: c.opts.TimeZone, Params: c.opts.Params})
	if err != nil {
		return fail(err)
	}
	warnings := out.Diagnostics
	for _, loc := range t.Unread() {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: loc,
			Message: fmt.Sprintf("segment not mapped by %s (nothing read it)", m.Name)})
	}
	for _, loc := range t.Unexpected() {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: loc,
			Message: fmt.Sprintf("segment not expected here by structure %s (kept in the nearest group)", m.Structure)})
	}
	t.Release() // nothing of the run holds its nodes
	bt := c.bundleType(m)
	ao := fhir.AssembleOptions{Type: bt, FullURLBase: c.opts.FullURLBase}
	if bt == fhir.Message {
		ao.Timestamp, _ = transform.Instant(msg.Get(hl7v2.Path{Segment: "MSH", Field: 7}), c.opts.TimeZone)
	}
	b, err := fhir.Assemble(out.Resources, ao)
	if err != nil {
		return fail(err)
	}
	return &Result{Index: msg.Index(), Format: FormatHL7v2, MessageType: typ, ControlID: msg.ControlID(), Mapping: m.Name, Bundle: b, Warnings: warnings}, nil
}

// bundleType is the Bundle type for inputs converted by m: the option, else the mapping's
// default, else transaction.
func (c *Converter) bundleType(m *transform.Message) fhir.BundleType {
	switch {
	case c.opts.BundleType != "":
		return fhir.BundleType(c.opts.BundleType)
	case m.Bundle != "":
		return fhir.BundleType(m.Bundle)
	}
	return fhir.Transaction
}
