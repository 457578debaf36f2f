package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/internal/params"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

// This file is the engine behind the JS API, in plain Go values, so that it is tested on any
// platform (engine_test.go); js.go only moves those values across the JS boundary.

// converter is what the engine needs of a *fhirbridge.Converter (tests inject failing ones).
type converter interface {
	Convert(ctx context.Context, r io.Reader) iter.Seq2[*fhirbridge.Result, error]
}

// options are the options of fhirbridge.convert, as the JS caller gives them.
type options struct {
	From       string            // "" or "auto" (detect), "hl7v2", "cda", "edifact", "fhir"
	To         string            // "" or "fhir"; for FHIR input "hl7v2", "cda" (or "ccda"), "edifact"
	BundleType string            // "" (the mapping's own), "transaction", "batch", "collection", "message", "document"
	Pretty     bool              // indent the Bundle JSON
	Params     map[string]string // the reverse mappings' params (fhirbridge.Options.Params)
}

// engine converts inputs for the JS API. It keeps one compiled Converter per set of options.
type engine struct {
	newConverter func(fhirbridge.Options) (converter, error)

	mu    sync.Mutex
	convs map[convKey]converter
}

// convKey is what a Converter is compiled for.
type convKey struct {
	bundleType string
	target     fhirbridge.Format
	params     string // the params, sorted, as k=v lines
}

func newEngine() *engine {
	return &engine{
		newConverter: func(o fhirbridge.Options) (converter, error) { return fhirbridge.New(o) },
		convs:        map[convKey]converter{},
	}
}

// converter returns the Converter for k, compiling the mappings on first use.
func (e *engine) converter(k convKey) (converter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.convs[k]; c != nil {
		return c, nil
	}
	c, err := e.newConverter(fhirbridge.Options{BundleType: k.bundleType, Target: k.target, Params: params.Parse(k.params)})
	if err != nil {
		return nil, err
	}
	e.convs[k] = c
	return c, nil
}

// The kinds of conversion errors, as the JS API names them.
const (
	kindParse       = "parse"       // the input could not be read; the error names the place
	kindUnsupported = "unsupported" // no mapping for the message type, or a direction or format not implemented
	kindMapping     = "mapping"     // a mapping failed at run time (a limit, a Bundle that could not be assembled)
	kindOptions     = "options"     // bad options or input type
	kindInput       = "input"       // the input as a whole (not recognised, empty)
	kindInternal    = "internal"    // a bug: a recovered panic
)

// convError is one entry of the result's errors.
type convError struct {
	Message     string // the whole error text; names the place when known
	Kind        string
	Index       int // 0-based message index in the input; -1 when the error is not about one message
	Format      fhirbridge.Format
	MessageType string
	ControlID   string
	// Where in the input, when known (parse errors).
	Offset       int64 // -1 when unknown
	Line, Column int   // 0 when unknown
	Path         string
}

// message is what the result says about one converted message (bundles[i], or outputs[i] in
// the reverse direction, is messages[i]'s).
type message struct {
	Index       int
	Format      fhirbridge.Format
	MessageType string
	ControlID   string
	Mapping     string
}

// warning is one entry of the result's warnings: a transform.Diagnostic of one message.
type warning struct {
	Index int // 0-based message index
	transform.Diagnostic
}

// result is what fhirbridge.convert returns.
type result struct {
	Format   fhirbridge.Format
	Bundles  [][]byte
	Outputs  [][]byte // the reverse direction: HL7 v2, CDA or EDIFACT text
	Messages []message
	Errors   []convError
	Warnings []warning
	Timing   time.Duration
}

func (r *result) fail(kind string, err error) {
	r.Errors = append(r.Errors, newConvError(kind, err))
}

// convert converts every message of input. It never panics: a panic inside the engine
// becomes an error of kind internal, and what was converted before it is kept.
func (e *engine) convert(ctx context.Context, input []byte, opt options) (res *result) {
	start := time.Now()
	res = &result{Format: fhirbridge.Detect(head(input))}
	defer func() {
		if p := recover(); p != nil {
			res.fail(kindInternal, fmt.Errorf("fhirbridge: internal error (please report it): %v", p))
			// The stack goes to the console (stderr), for bug reports; it holds no input data.
			fmt.Fprintf(os.Stderr, "fhirbridge: panic: %v\n%s", p, debug.Stack())
		}
		res.Timing = time.Since(start)
	}()
	if err := checkDirection(&opt, res.Format); err != nil {
		res.fail(kindUnsupported, err)
		return res
	}
	k := convKey{bundleType: opt.BundleType, params: params.Key(opt.Params)}
	if opt.To != "fhir" {
		k.target = fhirbridge.Format(opt.To)
	}
	conv, err := e.converter(k)
	if err != nil {
		kind := kindOptions // an unknown Bundle type
		if _, ok := errors.AsType[*transform.CompileError](err); ok {
			kind = kindMapping
		}
		res.fail(kind, err)
		return res
	}
	for r, err := range conv.Convert(ctx, bytes.NewReader(input)) {
		if err != nil {
			res.fail("", err)
			continue
		}
		switch {
		case r.Bundle == nil:
			res.Outputs = append(res.Outputs, r.Output)
		case opt.Pretty:
			res.Bundles = append(res.Bundles, r.Bundle.AppendJSONIndent(nil, "  "))
		default:
			res.Bundles = append(res.Bundles, r.Bundle.AppendJSON(nil))
		}
		res.Messages = append(res.Messages, message{Index: r.Index, Format: r.Format, MessageType: r.MessageType, ControlID: r.ControlID, Mapping: r.Mapping})
		for _, d := range r.Warnings {
			res.Warnings = append(res.Warnings, warning{Index: r.Index, Diagnostic: d})
		}
	}
	if len(res.Bundles) == 0 && len(res.Outputs) == 0 && len(res.Errors) == 0 {
		res.fail(kindInput, errors.New("fhirbridge: the input holds no message"))
	}
	return res
}

// checkDirection rejects the directions that cannot work: legacy formats convert to FHIR,
// FHIR to a legacy format. It normalises opt.To ("" is "fhir"). The library itself says which
// of the possible ones are not implemented yet.
func checkDirection(opt *options, detected fhirbridge.Format) error {
	from := fhirbridge.Format(opt.From)
	switch from {
	case "", "auto":
		from = detected
	case fhirbridge.FormatHL7v2, fhirbridge.FormatCDA, fhirbridge.FormatEDIFACT, fhirbridge.FormatFHIR:
		if detected != fhirbridge.FormatUnknown && detected != from {
			return fmt.Errorf("fhirbridge: the input looks like %s, not %s", formatName(detected), formatName(from))
		}
	default:
		return fmt.Errorf("fhirbridge: unknown source format %q (auto, hl7v2, cda, edifact, fhir)", opt.From)
	}
	if opt.To == "ccda" {
		opt.To = string(fhirbridge.FormatCDA)
	}
	switch to := fhirbridge.Format(opt.To); to {
	case "", fhirbridge.FormatFHIR:
		opt.To = "fhir"
		if from == fhirbridge.FormatFHIR && opt.From != "" && opt.From != "auto" {
			return errors.New("fhirbridge: FHIR input converts to hl7v2, cda or edifact (option to), not to FHIR")
		}
	case fhirbridge.FormatHL7v2, fhirbridge.FormatCDA, fhirbridge.FormatEDIFACT:
		if from != fhirbridge.FormatFHIR && from != fhirbridge.FormatUnknown {
			return fmt.Errorf("fhirbridge: %s input converts to FHIR only; to %s needs FHIR input", formatName(from), formatName(to))
		}
	default:
		return fmt.Errorf("fhirbridge: unknown target format %q (fhir, hl7v2, cda, edifact)", opt.To)
	}
	return nil
}

func formatName(f fhirbridge.Format) string {
	switch f {
	case fhirbridge.FormatHL7v2:
		return "HL7 v2"
	case fhirbridge.FormatCDA:
		return "CDA"
	case fhirbridge.FormatEDIFACT:
		return "EDIFACT"
	case fhirbridge.FormatFHIR:
		return "FHIR JSON"
	}
	return "an unknown format"
}

// head is what Detect needs of an input.
func head(b []byte) []byte { return b[:min(len(b), 512)] }

// detect returns the format of an input as the JS API names it.
func detect(input []byte) string {
	if f := fhirbridge.Detect(head(input)); f != fhirbridge.FormatUnknown {
		return string(f)
	}
	return "unknown"
}

// newConvError describes err. kind "" means: classify it.
func newConvError(kind string, err error) convError {
	ce := convError{Message: err.Error(), Kind: kind, Index: -1, Offset: -1}
	var fe *fhirbridge.Error
	if errors.As(err, &fe) {
		ce.Index, ce.Format, ce.MessageType, ce.ControlID = fe.Index, fe.Format, fe.MessageType, fe.ControlID
	}
	var pe *hl7v2.ParseError
	var d transform.Diagnostic
	var je *fhir.JSONError
	switch {
	case errors.As(err, &pe):
		ce.Offset, ce.Line, ce.Column = pe.Offset, pe.Line, pe.Column
		ce.Path = hl7v2.Path{Segment: pe.Segment, Field: pe.Field, Rep: pe.Rep, Component: pe.Component}.String()
		ce.Index = pe.Message
		if ce.Kind == "" {
			ce.Kind = kindParse
		}
	case errors.As(err, &d):
		ce.Path = d.Input
		if ce.Kind == "" {
			ce.Kind = kindMapping
		}
	case errors.As(err, &je):
		if ce.Kind == "" {
			ce.Kind = kindMapping
		}
	default:
		// The parsers of the other formats follow the same convention (STYLE.md §3): a
		// *ParseError struct with Offset, Line, Column and Path. Read those fields by name, so
		// that their positions reach the page without this file naming every parser.
		if located(err, &ce) && ce.Kind == "" {
			ce.Kind = kindParse
		}
	}
	if ce.Kind == "" {
		switch {
		case errors.Is(err, fhirbridge.ErrUnsupported), strings.Contains(ce.Message, "not supported yet"):
			ce.Kind = kindUnsupported
		case fe != nil && fe.Format == fhirbridge.FormatUnknown:
			ce.Kind = kindInput // not recognised as any format
		case fe != nil:
			ce.Kind = kindMapping
		default:
			ce.Kind = kindInput // the input could not be read at all
		}
	}
	return ce
}

// located looks along err's chain for a struct with the position fields of a ParseError and
// copies them into ce. It reports whether it found one.
func located(err error, ce *convError) bool {
	for _, e := range chain(err) {
		v := reflect.ValueOf(e)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || !strings.HasSuffix(v.Type().Name(), "Error") {
			continue
		}
		line, col := field(v, "Line"), field(v, "Column")
		if !line.CanInt() {
			continue
		}
		ce.Line = int(line.Int())
		if col.CanInt() {
			ce.Column = int(col.Int())
		}
		if off := field(v, "Offset"); off.CanInt() {
			ce.Offset = off.Int()
		}
		if p := field(v, "Path"); p.Kind() == reflect.String {
			ce.Path = p.String()
		}
		return true
	}
	return false
}

func field(v reflect.Value, name string) reflect.Value {
	f, ok := v.Type().FieldByName(name)
	if !ok || !f.IsExported() {
		return reflect.Value{}
	}
	return v.FieldByIndex(f.Index)
}

// chain lists err and everything it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(err error) {
		for err != nil && len(out) < 64 {
			out = append(out, err)
			switch u := err.(type) {
			case interface{ Unwrap() []error }:
				for _, e := range u.Unwrap() {
					walk(e)
				}
				return
			case interface{ Unwrap() error }:
				err = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

// texts returns bs as JS strings, and the first of them (nil when there is none).
func texts(bs [][]byte) ([]any, any) {
	out := make([]any, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	if len(out) == 0 {
		return out, nil
	}
	return out, out[0]
}

// jsValue returns the result as the JS object that fhirbridge.convert returns: only nil,
// bool, float64, string, []any and map[string]any, which syscall/js.ValueOf converts.
func (r *result) jsValue() map[string]any {
	bundles, bundle := texts(r.Bundles)
	outputs, output := texts(r.Outputs)
	messages := make([]any, len(r.Messages))
	for i, m := range r.Messages {
		messages[i] = map[string]any{
			"index":       m.Index,
			"format":      string(m.Format),
			"messageType": m.MessageType,
			"controlId":   m.ControlID,
			"mapping":     m.Mapping,
		}
	}
	errs := make([]any, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = map[string]any{
			"message":     e.Message,
			"kind":        e.Kind,
			"index":       orNull(e.Index, e.Index >= 0),
			"format":      orNull(string(e.Format), e.Format != ""),
			"messageType": orNull(e.MessageType, e.MessageType != ""),
			"controlId":   orNull(e.ControlID, e.ControlID != ""),
			"offset":      orNull(float64(e.Offset), e.Offset >= 0),
			"line":        orNull(e.Line, e.Line > 0),
			"column":      orNull(e.Column, e.Column > 0),
			"path":        orNull(e.Path, e.Path != ""),
		}
	}
	warns := make([]any, len(r.Warnings))
	for i, w := range r.Warnings {
		warns[i] = map[string]any{
			"index":    w.Index,
			"message":  w.Message,
			"text":     w.Error(),
			"kind":     w.Kind.String(),
			"severity": w.Severity.String(),
			"input":    orNull(w.Input, w.Input != ""),
			"file":     orNull(w.File, w.File != ""),
			"line":     orNull(w.Line, w.Line > 0),
			"column":   orNull(w.Column, w.Column > 0),
		}
	}
	return map[string]any{
		"format":   detectedName(r.Format),
		"bundle":   bundle,
		"bundles":  bundles,
		"output":   output,
		"outputs":  outputs,
		"messages": messages,
		"errors":   errs,
		"warnings": warns,
		"timingMs": float64(r.Timing.Microseconds()) / 1000,
	}
}

func detectedName(f fhirbridge.Format) string {
	if f == fhirbridge.FormatUnknown {
		return "unknown"
	}
	return string(f)
}

// orNull is v when ok, else nil (JS null).
func orNull[T any](v T, ok bool) any {
	if ok {
		return v
	}
	return nil
}
