package fhirbeam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"testing/fstest"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

const metricsNS = "fhirbridge"

func init() {
	register.DoFn4x1[context.Context, Record, func(string), func(string), error](&convertFn{})
}

// Overlay is one folder of mapping files: slash-separated names to contents.
type Overlay map[string][]byte

// LoadOverlay reads every file of fsys into an Overlay, at pipeline construction time.
func LoadOverlay(fsys fs.FS) (Overlay, error) {
	o := Overlay{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		o[p] = b
		return err
	})
	return o, err
}

func (o Overlay) fs() fs.FS {
	m := fstest.MapFS{}
	for name, data := range o {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return m
}

// Options returns the library options the configuration stands for.
func (c Config) Options() (fhirbridge.Options, error) {
	opts := fhirbridge.Options{BundleType: c.BundleType, FullURLBase: c.FullURLBase, MaxMessageSize: c.MaxMessageSize}
	for _, o := range c.Mappings {
		opts.Mappings = append(opts.Mappings, o.fs())
	}
	if c.TimeZone != "" {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			return opts, fmt.Errorf("fhirbeam: time zone: %w", err)
		}
		opts.TimeZone = loc
	}
	return opts, nil
}

// convertFn converts Records. Its exported fields are the whole configuration, mapping
// overlays included, so the runner serialises it with the DoFn; the Converter is compiled
// once per DoFn instance in Setup (no I/O: the built-in mappings are embedded) and shared by
// every bundle that instance processes.
type convertFn struct {
	Config Config `json:"config"`

	conv      *fhirbridge.Converter
	messages  beam.Counter
	converted beam.Counter
	outBytes  beam.Counter
	resources map[string]beam.Counter
}

func newConvertFn(cfg Config) *convertFn { return &convertFn{Config: cfg} }

func (fn *convertFn) Setup() error {
	opts, err := fn.Config.Options()
	if err != nil {
		return err
	}
	fn.conv, err = fhirbridge.New(opts)
	if err != nil {
		return fmt.Errorf("fhirbeam: compiling mappings: %w", err)
	}
	fn.messages = beam.NewCounter(metricsNS, "messages")
	fn.converted = beam.NewCounter(metricsNS, "converted")
	fn.outBytes = beam.NewCounter(metricsNS, "bundle_bytes")
	fn.resources = map[string]beam.Counter{}
	return nil
}

// ProcessElement converts the messages of r and emits their Bundles as one element of
// newline-terminated NDJSON lines, and one dead letter per failure.
func (fn *convertFn) ProcessElement(ctx context.Context, r Record, emit func(string), dead func(string)) error {
	var out []byte
	index := func(i int) int { // the index in the file of the i-th message of r
		if i >= 0 && i < len(r.Indexes) {
			return r.Indexes[i]
		}
		return r.Index + i
	}
	for res, err := range fn.conv.Convert(ctx, bytes.NewReader(r.Data)) {
		fn.messages.Inc(ctx, 1)
		if err != nil {
			var fe *fhirbridge.Error
			if !errors.As(err, &fe) {
				if ctx.Err() != nil {
					return err
				}
				deadLetter(ctx, dead, r.File, index(0), "", "read", err)
				continue
			}
			deadLetter(ctx, dead, r.File, index(fe.Index), fe.ControlID, errorKind(fe.Err), fe.Err)
			continue
		}
		if res.Bundle == nil {
			continue
		}
		n := len(out)
		out = append(res.Bundle.AppendJSON(out), '\n')
		fn.converted.Inc(ctx, 1)
		fn.outBytes.Inc(ctx, int64(len(out)-n-1))
		for _, rs := range res.Bundle.Resources() {
			c, ok := fn.resources[rs.Type.Name]
			if !ok {
				c = beam.NewCounter(metricsNS, "resources_"+rs.Type.Name)
				fn.resources[rs.Type.Name] = c
			}
			c.Inc(ctx, 1)
		}
	}
	if len(out) > 0 {
		emit(string(out))
	}
	return nil
}

// DeadLetter is one message that could not be converted. It names places and kinds, never
// the message's content.
type DeadLetter struct {
	File      string `json:"file"`
	Index     int    `json:"index"` // 0-based index of the message in its file
	ControlID string `json:"control_id,omitempty"`
	Kind      string `json:"kind"` // parse, unsupported, mapping, read
	Reason    string `json:"reason"`
}

func errorCounter(kind string) beam.Counter {
	// Counters are name-keyed handles: creating the same one twice is harmless.
	return beam.NewCounter(metricsNS, "errors_"+kind)
}

func deadLetter(ctx context.Context, dead func(string), file string, index int, controlID, kind string, err error) {
	errorCounter(kind).Inc(ctx, 1)
	b, _ := json.Marshal(DeadLetter{File: file, Index: index, ControlID: controlID, Kind: kind, Reason: reason(err)})
	dead(string(b))
}

func errorKind(err error) string {
	var hpe *hl7v2.ParseError
	var epe *edifact.ParseError
	switch {
	case errors.As(err, &hpe), errors.As(err, &epe):
		return "parse"
	case errors.Is(err, fhirbridge.ErrUnsupported):
		return "unsupported"
	}
	return "mapping"
}

// reason describes err without patient data: parse errors keep their position but not what
// was found there; mapping diagnostics keep file, line, kind and input location, not snippets.
func reason(err error) string {
	var hpe *hl7v2.ParseError
	var d transform.Diagnostic
	var dp *transform.Diagnostic
	switch {
	case errors.As(err, &hpe):
		c := *hpe
		c.Found = ""
		return c.Error()
	case errors.As(err, &d):
		d.Snippet = ""
		return d.Error()
	case errors.As(err, &dp):
		c := *dp
		c.Snippet = ""
		return c.Error()
	}
	return err.Error()
}

// Check compiles the configuration's mappings as a worker would, so that a mapping error is
// reported at submission rather than by every worker.
func Check(cfg Config) error {
	opts, err := cfg.Options()
	if err != nil {
		return err
	}
	_, err = fhirbridge.New(opts)
	return err
}
