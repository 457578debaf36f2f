package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"os"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge"
)

// The engine behind the JS API, tested natively; wasm/browsertest runs it in Node and Chromium.

var testEngine = newEngine()

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/hl7v2/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConvert(t *testing.T) {
	res := testEngine.convert(context.Background(), readExample(t, "adt_a01.hl7"), options{Pretty: true})
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	if len(res.Bundles) != 1 || len(res.Messages) != 1 {
		t.Fatalf("got %d bundles, %d messages; want 1", len(res.Bundles), len(res.Messages))
	}
	if m := res.Messages[0]; m.MessageType != "ADT^A01" || m.ControlID != "NW-000184" || m.Format != fhirbridge.FormatHL7v2 {
		t.Errorf("message = %+v", m)
	}
	if !strings.Contains(string(res.Bundles[0]), "\n  \"") {
		t.Errorf("pretty: the Bundle is not indented")
	}
	checkBundle(t, res.Bundles[0])
	v := res.jsValue()
	if v["bundle"] != string(res.Bundles[0]) || v["format"] != "hl7v2" {
		t.Errorf("jsValue: bundle or format wrong: format %v", v["format"])
	}
}

// checkBundle checks that b is a Bundle with a Patient in it.
func checkBundle(t *testing.T, b []byte) {
	t.Helper()
	var bundle struct {
		ResourceType string
		Entry        []struct{ Resource struct{ ResourceType string } }
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("the Bundle is not JSON: %v", err)
	}
	if bundle.ResourceType != "Bundle" {
		t.Fatalf("resourceType = %q, want Bundle", bundle.ResourceType)
	}
	for _, e := range bundle.Entry {
		if e.Resource.ResourceType == "Patient" {
			return
		}
	}
	t.Errorf("no Patient among %d entries", len(bundle.Entry))
}

func TestConvertSeveralMessages(t *testing.T) {
	// batch.hl7: three messages, the second of an unsupported type.
	res := testEngine.convert(context.Background(), readExample(t, "batch.hl7"), options{BundleType: "collection"})
	if len(res.Errors) != 1 || res.Errors[0].Kind != kindUnsupported || res.Errors[0].Index != 1 {
		t.Errorf("errors = %+v, want one unsupported error for message 1", res.Errors)
	}
	if len(res.Bundles) != 2 || len(res.Messages) != 2 {
		t.Fatalf("got %d bundles, want 2", len(res.Bundles))
	}
	for i, b := range res.Bundles {
		if want := []int{0, 2}[i]; res.Messages[i].Index != want {
			t.Errorf("messages[%d].Index = %d, want %d", i, res.Messages[i].Index, want)
		}
		if !strings.Contains(string(b), `"type":"collection"`) {
			t.Errorf("bundle %d is not a collection", i)
		}
	}
}

// A bad message yields a located error; the messages around it are still converted.
func TestConvertBadMessage(t *testing.T) {
	good := strings.ReplaceAll(string(readExample(t, "adt_a01.hl7")), "\r\n", "\r")
	input := good + "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5.1\rpid|1||123\r" + good
	res := testEngine.convert(context.Background(), []byte(input), options{})
	if len(res.Bundles) != 2 {
		t.Errorf("got %d bundles, want 2 (the good messages)", len(res.Bundles))
	}
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %+v, want one", res.Errors)
	}
	e := res.Errors[0]
	if e.Kind != kindParse || e.Index != 1 || e.Line == 0 || e.Column == 0 || e.Offset < 0 {
		t.Errorf("error = %+v; want a parse error of message 1 with line, column and offset", e)
	}
	js := res.jsValue()["errors"].([]any)[0].(map[string]any)
	if js["line"] != e.Line || js["index"] != 1 || js["kind"] != "parse" {
		t.Errorf("jsValue error = %v", js)
	}
}

func TestConvertErrors(t *testing.T) {
	adt := readExample(t, "adt_a01.hl7")
	tests := []struct {
		name  string
		input string
		opt   options
		kind  string
	}{
		{name: "empty input", input: "", kind: kindInput},
		{name: "unknown format", input: "hello", kind: kindInput},
		{name: "unsupported message type", input: "MSH|^~\\&|A|B|C|D|20240101||ZZZ^Z99|X1|P|2.5.1\rPID|1\r", kind: kindUnsupported},
		{name: "HL7 v2 to HL7 v2", input: string(adt), opt: options{To: "hl7v2"}, kind: kindUnsupported},
		{name: "FHIR input to FHIR", input: `{"resourceType":"Bundle"}`, opt: options{From: "fhir"}, kind: kindUnsupported},
		{name: "FHIR input, nothing to write", input: `{"resourceType":"Bundle"}`, opt: options{To: "hl7v2"}, kind: kindUnsupported},
		{name: "unknown target format", input: string(adt), opt: options{To: "x12"}, kind: kindUnsupported},
		{name: "wrong source format", input: string(adt), opt: options{From: "cda"}, kind: kindUnsupported},
		{name: "unknown source format", input: string(adt), opt: options{From: "x12"}, kind: kindUnsupported},
		{name: "unknown bundle type", input: string(adt), opt: options{BundleType: "bag"}, kind: kindOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testEngine.convert(context.Background(), []byte(tt.input), tt.opt)
			if len(res.Bundles) != 0 || len(res.Errors) != 1 {
				t.Fatalf("got %d bundles and errors %+v; want one error", len(res.Bundles), res.Errors)
			}
			if res.Errors[0].Kind != tt.kind {
				t.Errorf("kind = %q, want %q (%s)", res.Errors[0].Kind, tt.kind, res.Errors[0].Message)
			}
		})
	}
}

// panicky converts one message and then panics, as a bug in the engine would.
type panicky struct{ real converter }

func (p panicky) Convert(ctx context.Context, r io.Reader) iter.Seq2[*fhirbridge.Result, error] {
	return func(yield func(*fhirbridge.Result, error) bool) {
		for res, err := range p.real.Convert(ctx, r) {
			if !yield(res, err) {
				return
			}
			panic("boom")
		}
	}
}

func TestConvertRecoversPanics(t *testing.T) {
	e := newEngine()
	real, err := e.converter(convKey{})
	if err != nil {
		t.Fatal(err)
	}
	e.newConverter = func(fhirbridge.Options) (converter, error) { return panicky{real}, nil }
	stderr := os.Stderr
	os.Stderr, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0) // the stack trace is expected
	defer func() { os.Stderr.Close(); os.Stderr = stderr }()
	res := e.convert(context.Background(), readExample(t, "batch.hl7"), options{BundleType: "collection"})
	if len(res.Bundles) != 1 {
		t.Errorf("got %d bundles, want the 1 converted before the panic", len(res.Bundles))
	}
	if len(res.Errors) != 1 || res.Errors[0].Kind != kindInternal || !strings.Contains(res.Errors[0].Message, "boom") {
		t.Errorf("errors = %+v, want one internal error", res.Errors)
	}
	if res.Timing <= 0 {
		t.Errorf("timing not set after a panic")
	}
}

// locatedError stands for the ParseError of a parser this package does not import.
type locatedError struct {
	Offset       int64
	Line, Column int
	Path         string
}

func (e *locatedError) Error() string { return "edifact: bad segment" }

func TestNewConvError(t *testing.T) {
	err := &fhirbridge.Error{Index: 2, Format: fhirbridge.FormatEDIFACT, Err: &locatedError{Offset: 40, Line: 3, Column: 7, Path: "UNH[2]/NAD[3]"}}
	ce := newConvError("", err)
	if ce.Kind != kindParse || ce.Index != 2 || ce.Offset != 40 || ce.Line != 3 || ce.Column != 7 || ce.Path != "UNH[2]/NAD[3]" {
		t.Errorf("convError = %+v", ce)
	}
	ce = newConvError("", errors.New("read failed"))
	if ce.Kind != kindInput || ce.Index != -1 || ce.Offset != -1 {
		t.Errorf("convError = %+v", ce)
	}
}

func TestDetect(t *testing.T) {
	for in, want := range map[string]string{
		"MSH|^~\\&|":              "hl7v2",
		"\uFEFF<ClinicalDocument": "cda",
		"UNA:+.? 'UNB+":           "edifact",
		`{"resourceType":`:        "fhir",
		"hello":                   "unknown",
		"":                        "unknown",
	} {
		if got := detect([]byte(in)); got != want {
			t.Errorf("detect(%q) = %q, want %q", in, got, want)
		}
	}
}

// The reverse direction returns the written message in outputs, described by messages, and
// uses the params.
func TestConvertReverse(t *testing.T) {
	in, err := os.ReadFile("../testdata/fhir/oru_r01.json")
	if err != nil {
		t.Fatal(err)
	}
	res := testEngine.convert(context.Background(), in, options{To: "hl7v2", Params: map[string]string{"sendingApplication": "WASMTEST"}})
	if len(res.Errors) != 0 || len(res.Outputs) != 1 || len(res.Bundles) != 0 {
		t.Fatalf("errors %+v, %d outputs, %d bundles; want one output", res.Errors, len(res.Outputs), len(res.Bundles))
	}
	if !strings.HasPrefix(string(res.Outputs[0]), "MSH|^~\\&|WASMTEST|") {
		t.Errorf("output starts %.40q; want MSH with the sendingApplication param", res.Outputs[0])
	}
	if m := res.Messages[0]; m.MessageType != "ORU^R01" || m.Mapping == "" {
		t.Errorf("message = %+v", m)
	}
	js := res.jsValue()
	if js["output"] != string(res.Outputs[0]) || js["bundle"] != nil {
		t.Errorf("jsValue output = %.40v, bundle = %.40v", js["output"], js["bundle"])
	}
	// Another set of params is another converter.
	res2 := testEngine.convert(context.Background(), in, options{To: "hl7v2"})
	if len(res2.Outputs) != 1 || strings.Contains(string(res2.Outputs[0]), "WASMTEST") {
		t.Errorf("params leaked between converters: %.60q", res2.Outputs)
	}
}
