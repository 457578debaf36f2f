package fhirbridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/jsondoc"
	"github.com/fhirbridge/fhirbridge/transform"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// The reverse direction, FHIR R4 → HL7 v2, C-CDA and EDIFACT (docs/reverse.md). FHIR input
// is read with fhir.ParseResourceLenient and exposed to the mappings through fhir.Tree (format
// "fhir"); JSON that is not a FHIR resource (no resourceType) through jsondoc (format
// "json"). The reverse mappings build the legacy format's parts as if they were resources:
// each legacy format describes its parts to the engine as synthetic types (fhir.NewType) —
// HL7 v2 segments and fields, EDIFACT segments and composites, CDA classes — and writes what a
// run created with its own writer, which parses its output back before returning it.

// fhirSchema is the FHIR path language for the mapping engine (see fhir/tree.go).
func fhirSchema() tree.Schema { return fhir.Schema{} }

// jsonSchema is the path language for JSON documents that are not FHIR resources.
func jsonSchema() tree.Schema { return jsondoc.Schema{} }

// A reverseFormat is one legacy format the reverse direction writes.
type reverseFormat struct {
	// types are the format's synthetic target types, for transform.WithTargetTypes; nil
	// when name is not one of them.
	types func(name string) *fhir.Type
	// keys are the match keys of FHIR input chosen by its content, most specific first,
	// without the format prefix ("ORU^R01").
	keys func(res []*fhir.Resource) []string
	// write encodes what a run created. It checks that the output parses.
	write func(rs []*fhir.Resource, params map[string]string) (*reverseOutput, error)
}

// reverseOutput is a written legacy message or document.
type reverseOutput struct {
	Bytes       []byte
	MessageType string
	ControlID   string
	Warnings    []transform.Diagnostic
}

// reverseFormats are the formats FHIR converts to, in the order their target types are
// looked up (their type names are disjoint; reverse_test.go checks).
var reverseFormats = []struct {
	format Format
	rf     *reverseFormat
}{
	{FormatHL7v2, hl7v2Reverse},
	{FormatEDIFACT, edifactReverse},
	{FormatCDA, cdaReverse},
}

func reverseFormatOf(f Format) *reverseFormat {
	for _, x := range reverseFormats {
		if x.format == f {
			return x.rf
		}
	}
	return nil
}

// reverseTargetTypes looks name up in the target types of every reverse format.
func reverseTargetTypes(name string) *fhir.Type {
	for _, x := range reverseFormats {
		if t := x.rf.types(name); t != nil {
			return t
		}
	}
	return nil
}

// convertFHIR converts FHIR input — one resource (usually a Bundle), or NDJSON with one per
// line — to the target format of the options.
func (c *Converter) convertFHIR(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	limit := c.opts.MaxMessageSize
	if limit <= 0 {
		limit = 64 << 20
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		yield(nil, err)
		return
	}
	if len(data) > limit {
		yield(nil, &Error{Format: FormatFHIR, Err: fmt.Errorf("fhirbridge: FHIR input larger than %d bytes", limit)})
		return
	}
	for i, doc := range splitNDJSON(data) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if !yield(c.convertFHIRResource(ctx, i, doc)) {
			return
		}
	}
}

// splitNDJSON returns the resources of data: its lines when every non-blank line is a whole
// JSON object (NDJSON), else data itself.
func splitNDJSON(data []byte) [][]byte {
	lines := bytes.Split(data, []byte("\n"))
	var out [][]byte
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if l[0] != '{' || l[len(l)-1] != '}' {
			return [][]byte{data}
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return [][]byte{data}
	}
	return out
}

func (c *Converter) convertFHIRResource(ctx context.Context, index int, data []byte) (*Result, error) {
	fail := func(typ string, err error) (*Result, error) {
		return nil, &Error{Index: index, Format: FormatFHIR, MessageType: typ, Err: err}
	}
	if c.opts.Target == "" || c.opts.Target == FormatFHIR {
		return fail("", fmt.Errorf("fhirbridge: FHIR input needs a target format (Options.Target, --to)"))
	}
	rf := reverseFormatOf(c.opts.Target)
	if rf == nil {
		return fail("", fmt.Errorf("%w: writing %s", ErrUnsupported, c.opts.Target))
	}
	prefix := string(c.opts.Target) + ":"
	var keys []string
	if mt := c.opts.Params["messageType"]; mt != "" {
		keys = append(keys, mt)
	}
	// JSON without a resourceType is not FHIR: it is read as plain JSON (format "json"),
	// matched by the names of its top-level members ("json.patches").
	srcFormat, what := "fhir", ""
	var root tree.Node
	var warnings []transform.Diagnostic
	// FHIR from other systems is often a little off (an R5 element, a dateTime without its
	// colon): such elements are left out with a warning, as a legacy field that cannot be
	// read is in the forward direction; the rest still converts.
	res, problems, err := fhir.ParseResourceLenient(data)
	switch {
	case errors.Is(err, fhir.ErrMissingResourceType):
		doc, jerr := jsondoc.Parse(data)
		if jerr != nil || doc.Kind != jsondoc.Object {
			return fail("", err)
		}
		srcFormat, what, root = "json", "JSON document", doc
		for _, m := range doc.Members {
			keys = append(keys, "json."+m.Name)
		}
	case err != nil:
		return fail("", err)
	default:
		for _, p := range problems {
			warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindValue,
				Input: p.Path, Message: fmt.Sprintf("%v (at byte %d; left out)", p.Err, p.Offset)})
		}
		t := fhir.NewTree(res)
		root, what = t.Root(), res.Type.Name
		keys = append(keys, rf.keys(t.Resources())...)
	}
	var m *transform.Message
	var key string
	for _, k := range keys {
		if m = c.prog.Find(srcFormat, prefix+k); m != nil {
			key = k
			break
		}
	}
	if m == nil {
		list := "nothing to convert"
		if len(keys) > 0 {
			list = prefix + strings.Join(keys, ", "+prefix)
		}
		return fail(what, fmt.Errorf("%w: no mapping from %s to %s for %s", ErrUnsupported, srcFormat, c.opts.Target, list))
	}
	params := make(map[string]string, len(c.opts.Params)+1)
	for k, v := range c.opts.Params {
		params[k] = v
	}
	if params["messageType"] == "" {
		params["messageType"] = key
	}
	out, err := c.prog.Run(ctx, m, root, transform.RunOptions{TimeZone: c.opts.TimeZone, Params: params})
	if err != nil {
		return fail(params["messageType"], err)
	}
	w, err := rf.write(out.Resources, params)
	if err != nil {
		return fail(params["messageType"], fmt.Errorf("%s: %w", m.Name, err))
	}
	return &Result{Index: index, Format: FormatFHIR, MessageType: w.MessageType, ControlID: w.ControlID, Mapping: m.Name,
		Output: w.Bytes, Warnings: append(append(warnings, out.Diagnostics...), w.Warnings...)}, nil
}

// numberedElements returns elements named by their numbers first … last (HL7 v2 fields and
// components, EDIFACT data elements and components), each of type elem: a list when card is
// -1, one value when it is 1.
func numberedElements(first, last, card int, elem *fhir.Type) []*fhir.Element {
	out := make([]*fhir.Element, 0, max(last-first+1, 0))
	for i := first; i <= last; i++ {
		out = append(out, &fhir.Element{Name: strconv.Itoa(i), Order: i, Max: card, Type: elem.Name, Elem: elem})
	}
	return out
}

// notOfFormat is the warning for a resource a reverse mapping created that the target
// format has no place for.
func notOfFormat(f Format, typ string) transform.Diagnostic {
	return transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: typ,
		Message: fmt.Sprintf("the mapping created a %s, which is not part of %s output (left out)", typ, f)}
}
