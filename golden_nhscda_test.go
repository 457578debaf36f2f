package fhirbridge

// Golden tests for NHS CDA (POCD_MT200001GB02) in ITK envelopes → FHIR R4 message Bundles.
// This file is in the internal package so that it exercises convertNHSCDA (format_nhscda.go)
// whether or not convertCDA calls it yet; TestNHSCDADispatch checks that the public Convert
// path reaches it. Refresh the goldens with `go test -run 'TestGoldenNHSCDA' -update`.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/antchfx/xmlquery"
	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

const nhsCorpusDir = "../shared/corpus/nhs-cda"

var nhsConverter = func() *Converter {
	c, err := New(Options{})
	if err != nil {
		panic(err)
	}
	return c
}()

type nhsOutcome struct {
	res *Result
	err string
}

// convertNHS runs the NHS entry point on data, falling back to convertCDA as the one-line hook
// in convertCDA does.
func convertNHS(t *testing.T, data []byte) []nhsOutcome {
	t.Helper()
	var out []nhsOutcome
	yield := func(res *Result, err error) bool {
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("reading failed: %v", err)
			}
			out = append(out, nhsOutcome{err: err.Error()})
			return true
		}
		out = append(out, nhsOutcome{res: res})
		return true
	}
	var r io.Reader = bytes.NewReader(data)
	if !nhsConverter.convertNHSCDA(context.Background(), &r, yield) {
		nhsConverter.convertCDA(context.Background(), r, yield)
	}
	return out
}

// goldenNHS converts each file and compares each outcome with
// testdata/golden/nhs-cda/<name>/<file>[.<n>].json (or .error.txt). It returns the number of
// Bundles and of failures.
func goldenNHS(t *testing.T, files []string, name string) (bundles, failures int) {
	t.Helper()
	g := goldie.New(t, goldie.WithFixtureDir(filepath.Join("testdata", "golden", "nhs-cda", name)), goldie.WithNameSuffix(""))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(f), ".xml")
		outs := convertNHS(t, data)
		for i, o := range outs {
			key := base
			if len(outs) > 1 {
				key = fmt.Sprintf("%s.%d", base, i+1)
			}
			if o.res != nil {
				bundles++
				g.Assert(t, key+".json", o.res.Bundle.AppendJSONIndent(nil, "  "))
			} else {
				failures++
				g.Assert(t, key+".error.txt", []byte(o.err+"\n"))
			}
		}
	}
	return bundles, failures
}

// TestGoldenNHSCDAOwn pins our own fixtures (testdata/nhs-cda); it runs everywhere.
func TestGoldenNHSCDAOwn(t *testing.T) {
	files, _ := filepath.Glob("testdata/nhs-cda/*.xml")
	sort.Strings(files)
	b, f := goldenNHS(t, files, "own")
	if b < 3 || f != 0 {
		t.Errorf("own NHS CDA fixtures: %d bundles, %d failures", b, f)
	}
}

// nhsCorpusFiles are the inputs of the shared corpus: every ITK SOAP request and extracted
// CDA of itk111, and the variants that are whole inputs (not the section-text fragment).
func nhsCorpusFiles(t *testing.T) []string {
	if _, err := os.Stat(nhsCorpusDir); err != nil {
		t.Skipf("%s not found: the shared corpus is not beside this checkout (our own fixtures still run)", nhsCorpusDir)
	}
	files, _ := filepath.Glob(filepath.Join(nhsCorpusDir, "itk111", "*.xml"))
	vs, _ := filepath.Glob(filepath.Join(nhsCorpusDir, "variants", "*.xml"))
	for _, v := range vs {
		if !strings.Contains(v, "itkSectionText") {
			files = append(files, v)
		}
	}
	sort.Strings(files)
	return files
}

// TestGoldenNHSCDACorpus pins the output for every NHS CDA input of the shared corpus: SOAP
// requests (one Bundle per payload document), bare DistributionEnvelopes and bare documents.
func TestGoldenNHSCDACorpus(t *testing.T) {
	files := nhsCorpusFiles(t)
	b, f := goldenNHS(t, files, "corpus")
	t.Logf("nhs-cda corpus: %d inputs, %d bundles, %d failures", len(files), b, f)
	if f != 0 {
		t.Errorf("%d NHS CDA inputs failed", f)
	}
}

// TestNHSCDAValidate runs the independent validator on every golden Bundle (when it and node
// are available): zero error lines.
func TestNHSCDAValidate(t *testing.T) {
	tool := "../shared/tools/fhir-validate/fhir-validate"
	if _, err := os.Stat(tool); err != nil {
		t.Skip("fhir-validate not beside this checkout")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	out, err := exec.Command(tool, "testdata/golden/nhs-cda").CombinedOutput()
	if err != nil {
		t.Errorf("fhir-validate failed: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(strings.ToLower(l), "error") && !strings.Contains(l, " 0 error") {
			t.Errorf("validator: %s", l)
		}
	}
}

// TestNHSCDADispatch checks the public path: Convert on a SOAP request must reach the NHS
// mappings. It fails until convertCDA (format_cda.go) starts with
//
//	if c.convertNHSCDA(ctx, &r, yield) { return }
func TestNHSCDADispatch(t *testing.T) {
	data, err := os.ReadFile("testdata/nhs-cda/itk-soap-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := nhsConverter.ConvertMessage(context.Background(), data)
	if err != nil {
		t.Fatalf("Convert of an ITK SOAP request: %v (is convertNHSCDA called first in convertCDA?)", err)
	}
	if res.Mapping != "NHSCDA_111Report" {
		t.Errorf("mapping %s, want NHSCDA_111Report", res.Mapping)
	}
}

// bundleJSON is the part of a Bundle the tests read.
type bundleJSON struct {
	Type  string `json:"type"`
	Entry []struct {
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

func resources(t *testing.T, res *Result, typ string) []map[string]any {
	t.Helper()
	var b bundleJSON
	if err := json.Unmarshal(res.Bundle.AppendJSONIndent(nil, ""), &b); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range b.Entry {
		if e.Resource["resourceType"] == typ {
			out = append(out, e.Resource)
		}
	}
	return out
}

// TestNHSCDAEnvelopeWarnings: a manifest count that differs from the payload count is a
// warning on the Result (the document still converts); cda.Envelope.Check is the error an ITK
// endpoint answers with code 1000.
func TestNHSCDAEnvelopeWarnings(t *testing.T) {
	data, err := os.ReadFile("testdata/nhs-cda/itk-distribution-envelope-count-mismatch.xml")
	if err != nil {
		t.Fatal(err)
	}
	outs := convertNHS(t, data)
	if len(outs) != 1 || outs[0].res == nil {
		t.Fatalf("outcomes: %+v", outs)
	}
	found := false
	for _, w := range outs[0].res.Warnings {
		if strings.Contains(w.Message, "Manifest count and payload count don't match") {
			found = true
		}
	}
	if !found {
		t.Errorf("no manifest/payload count warning in %v", outs[0].res.Warnings)
	}
	// The conformant SOAP fixture has no envelope warning; its Bundle identifier is the SOAP
	// MessageID and the MessageHeader comes first.
	data, _ = os.ReadFile("testdata/nhs-cda/itk-soap-request.xml")
	outs = convertNHS(t, data)
	if len(outs) != 1 || outs[0].res == nil {
		t.Fatalf("outcomes: %+v", outs)
	}
	for _, w := range outs[0].res.Warnings {
		if strings.HasPrefix(w.Message, "ITK envelope") {
			t.Errorf("unexpected warning %v", w)
		}
	}
	if outs[0].res.ControlID != "5A1B2C3D-0000-4000-8000-00000000000A" || outs[0].res.Mapping != "NHSCDA_111Report" {
		t.Errorf("control id %q, mapping %q", outs[0].res.ControlID, outs[0].res.Mapping)
	}
	var b bundleJSON
	json.Unmarshal(outs[0].res.Bundle.AppendJSONIndent(nil, ""), &b)
	if b.Type != "message" || b.Entry[0].Resource["resourceType"] != "MessageHeader" {
		t.Errorf("bundle type %s, first %v", b.Type, b.Entry[0].Resource["resourceType"])
	}
}

// TestNHSCDANotCCDA: an NHS document must never be converted by the US C-CDA mappings, even
// when its code is unknown (000000000000000 in some test templates).
func TestNHSCDANotCCDA(t *testing.T) {
	data, _ := os.ReadFile("testdata/nhs-cda/nhs-cda-bare.xml")
	outs := convertNHS(t, data)
	if len(outs) != 1 || outs[0].res == nil || outs[0].res.Mapping != "NHSCDA_111Report" {
		t.Fatalf("outcomes: %+v", outs)
	}
	// A bare NHS document that reaches the C-CDA path (no hook) still matches by its code.
	doc := nhsConverter.prog.Find("cda", "819551000000100", "ClinicalDocument")
	if doc == nil || doc.Name != "NHSCDA_111Report" {
		t.Errorf("819551000000100 → %v", doc)
	}
}

// TestNHSCDAAgainstAdaptor compares our R4 Bundles with the 111 adaptor's STU3 expected
// outputs on the concepts both carry. For a repeat-caller set the adaptor maps only the newest
// document; we convert every payload and compare the newest. Deliberate differences (not
// compared, or compared after translation):
//   - identifier systems: the adaptor writes raw OIDs ("2.16.840.1.113883.2.1.3.2.4.18.34");
//     we write urn:oid:… (and UK Core URIs for NHS numbers and ODS codes).
//   - NHS number verification status: the adaptor puts the extension URL in Coding.system; we
//     use the UK Core CodeSystem. Only the code (01/02) is compared.
//   - telecom values: the adaptor keeps "tel:"/"mailto:"; we strip the scheme. Not compared.
//   - Patient language: the adaptor sets Resource.language; we set communication.language.
//   - MessageHeader: STU3 event Coding (EventType-1 referral-1) vs R4 eventCoding = the ITK
//     interaction; the adaptor's reason (the interaction) is compared with our eventCoding.code.
//     MessageHeader.id (the SOAP MessageID) is our Bundle.identifier instead; the adaptor's
//     Bundle.identifier (versionNumber) is not kept. Source endpoint: the adaptor names itself,
//     we name the ITK senderAddress.
//   - Encounter: participant types as v3 ParticipationType codes, not text; one Location (the
//     encounter's), not also the GP practice; the Dx disposition is
//     hospitalization.dischargeDisposition (no ReferralRequest/ProcedureRequest in R4 here).
//   - Organisations: we also create the REFT participant's scoping organisation; compared as
//     "every adaptor organisation name is one of ours".
//   - Gender: 9 (indeterminate) → other as in the adaptor and UK Core; 0/X → unknown.
func TestNHSCDAAgainstAdaptor(t *testing.T) {
	if _, err := os.Stat(nhsCorpusDir); err != nil {
		t.Skipf("%s not found", nhsCorpusDir)
	}
	expected, _ := filepath.Glob(filepath.Join(nhsCorpusDir, "itk111", "*.expected.json"))
	if len(expected) == 0 {
		t.Fatal("no expected outputs")
	}
	for _, exp := range expected {
		in := strings.TrimSuffix(exp, ".expected.json") + ".xml"
		name := filepath.Base(in)
		data, err := os.ReadFile(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		outs := convertNHS(t, data)
		var ours *Result
		newest := ""
		for _, o := range outs {
			if o.res == nil {
				t.Errorf("%s: %s", name, o.err)
				continue
			}
			if ts := firstString(resources(t, o.res, "Composition"), "date"); ours == nil || instantAfter(ts, newest) {
				ours, newest = o.res, ts
			}
		}
		if ours == nil {
			continue
		}
		theirs := readSTU3(t, exp)
		compareAdaptor(t, name, ours, theirs)
	}
}

func readSTU3(t *testing.T, path string) map[string][]map[string]any {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bundleJSON
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	for _, e := range b.Entry {
		rt, _ := e.Resource["resourceType"].(string)
		out[rt] = append(out[rt], e.Resource)
	}
	return out
}

func compareAdaptor(t *testing.T, name string, ours *Result, theirs map[string][]map[string]any) {
	t.Helper()
	our := func(rt string) []map[string]any { return resources(t, ours, rt) }
	// Patient: NHS number (+ verification code), names, birth date, gender.
	tp, op := theirs["Patient"], our("Patient")
	if len(tp) == 0 || len(op) == 0 {
		t.Errorf("%s: Patient missing (theirs %d, ours %d)", name, len(tp), len(op))
		return
	}
	if a, b := nhsNumber(tp[0]), nhsNumber(op[0]); a != b {
		t.Errorf("%s: NHS number/verification %q, ours %q", name, a, b)
	}
	if a, b := names(tp[0]), names(op[0]); a != b {
		t.Errorf("%s: names %q, ours %q", name, a, b)
	}
	for _, k := range []string{"birthDate", "gender"} {
		if a, b := tp[0][k], op[0][k]; a != b {
			t.Errorf("%s: Patient.%s %v, ours %v", name, k, a, b)
		}
	}
	// Encounter: identifier values (systems: raw OID vs urn:oid), period, status, type text.
	te, oe := theirs["Encounter"], our("Encounter")
	if len(te) != 1 || len(oe) != 1 {
		t.Errorf("%s: encounters theirs %d, ours %d", name, len(te), len(oe))
		return
	}
	if a, b := identifiers(te[0], true), identifiers(oe[0], false); a != b {
		t.Errorf("%s: Encounter.identifier %q, ours %q", name, a, b)
	}
	tper, _ := te[0]["period"].(map[string]any)
	oper, _ := oe[0]["period"].(map[string]any)
	for _, k := range []string{"start", "end"} {
		a, _ := tper[k].(string)
		b, _ := oper[k].(string)
		if !sameInstant(a, b) {
			t.Errorf("%s: Encounter.period.%s %q, ours %q", name, k, a, b)
		}
	}
	if a, b := typeTexts(te[0]), typeTexts(oe[0]); !strings.Contains(b, a) {
		t.Errorf("%s: Encounter.type text %q, ours %q", name, a, b)
	}
	// Organisations: every adaptor organisation name is one of ours.
	have := map[string]bool{}
	for _, o := range our("Organization") {
		if n, _ := o["name"].(string); n != "" {
			have[n] = true
		}
	}
	for _, o := range theirs["Organization"] {
		if n, _ := o["name"].(string); n != "" && !have[n] {
			t.Errorf("%s: organisation %q missing", name, n)
		}
	}
	// MessageHeader: destination endpoints; the adaptor's reason is our event.
	th, oh := theirs["MessageHeader"], our("MessageHeader")
	if len(th) == 1 && len(oh) == 1 {
		if a, b := endpoints(th[0]), endpoints(oh[0]); a != b {
			t.Errorf("%s: destinations %q, ours %q", name, a, b)
		}
		reason := ""
		if r, ok := th[0]["reason"].(map[string]any); ok {
			if cs, ok := r["coding"].([]any); ok && len(cs) > 0 {
				reason, _ = cs[0].(map[string]any)["code"].(string)
			}
		}
		ev, _ := oh[0]["eventCoding"].(map[string]any)
		if code, _ := ev["code"].(string); reason != "" && code != reason {
			t.Errorf("%s: event %q, adaptor reason %q", name, code, reason)
		}
	}
}

func firstString(rs []map[string]any, k string) string {
	if len(rs) == 0 {
		return ""
	}
	s, _ := rs[0][k].(string)
	return s
}

func instantAfter(a, b string) bool { return b == "" || parseInstant(a).After(parseInstant(b)) }

func nhsNumber(p map[string]any) string {
	ids, _ := p["identifier"].([]any)
	for _, i := range ids {
		id := i.(map[string]any)
		if id["system"] == "https://fhir.nhs.uk/Id/nhs-number" {
			code := ""
			if exts, ok := id["extension"].([]any); ok && len(exts) > 0 {
				if cc, ok := exts[0].(map[string]any)["valueCodeableConcept"].(map[string]any); ok {
					if cs, ok := cc["coding"].([]any); ok && len(cs) > 0 {
						code, _ = cs[0].(map[string]any)["code"].(string)
					}
				}
			}
			return fmt.Sprint(id["value"]) + "/" + code
		}
	}
	return ""
}

func names(p map[string]any) string {
	ns, _ := p["name"].([]any)
	var out []string
	for _, n := range ns {
		m := n.(map[string]any)
		out = append(out, fmt.Sprint(m["family"], m["given"], m["prefix"]))
	}
	return strings.Join(out, ";")
}

func identifiers(r map[string]any, rawOID bool) string {
	ids, _ := r["identifier"].([]any)
	var out []string
	for _, i := range ids {
		id := i.(map[string]any)
		sys, _ := id["system"].(string)
		if rawOID && sys != "" && sys[0] >= '0' && sys[0] <= '9' {
			sys = "urn:oid:" + sys
		}
		out = append(out, sys+"|"+fmt.Sprint(id["value"]))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func typeTexts(r map[string]any) string {
	ts, _ := r["type"].([]any)
	var out []string
	for _, x := range ts {
		if s, ok := x.(map[string]any)["text"].(string); ok {
			out = append(out, s)
		}
	}
	return strings.Join(out, ";")
}

func endpoints(h map[string]any) string {
	ds, _ := h["destination"].([]any)
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprint(d.(map[string]any)["endpoint"]))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func parseInstant(s string) time.Time {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func sameInstant(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	return parseInstant(a).Equal(parseInstant(b))
}

func TestITKResponses(t *testing.T) {
	ok := ITKOKResponse("11111111-2222-4333-8444-555555555555", "2B77B3F5-3016-4A6D-821F-152CE420E58D", "urn:nhs-itk:services:201005:SendNHS111Report-v2-0")
	doc, err := xmlquery.Parse(bytes.NewReader(ok))
	if err != nil {
		t.Fatalf("OK response is not XML: %v\n%s", err, ok)
	}
	if got := xmlquery.FindOne(doc, "//*[local-name()='SimpleMessageResponse']").InnerText(); got != "OK:2B77B3F5-3016-4A6D-821F-152CE420E58D" {
		t.Errorf("SimpleMessageResponse %q", got)
	}
	if got := xmlquery.FindOne(doc, "//*[local-name()='Action']").InnerText(); got != "urn:nhs-itk:services:201005:SendNHS111Report-v2-0Response" {
		t.Errorf("Action %q", got)
	}

	// Envelope problems → 1000, with the reason; the diagnostic text is escaped.
	env := &cda.Envelope{Problems: []string{"Manifest count and payload count don't match <&>"}}
	f := ITKFaultFor(env.Check())
	if f.Code != ITKErrorInvalid || !strings.Contains(f.Diagnostic, "Manifest count") {
		t.Errorf("fault for a count mismatch: %+v", f)
	}
	f.ErrorID, f.MessageID = "E1", "M1"
	fault := ITKErrorResponse(f)
	doc, err = xmlquery.Parse(bytes.NewReader(fault))
	if err != nil {
		t.Fatalf("fault is not XML: %v\n%s", err, fault)
	}
	code := xmlquery.FindOne(doc, "//*[local-name()='ErrorCode']")
	if code.InnerText() != "1000" || code.SelectAttr("codeSystem") != "2.16.840.1.113883.2.1.3.2.4.17.268" {
		t.Errorf("ErrorCode %q", code.OutputXML(true))
	}
	if got := xmlquery.FindOne(doc, "//*[local-name()='ErrorDiagnosticText']").InnerText(); !strings.HasSuffix(got, "<&>") {
		t.Errorf("diagnostic %q", got)
	}
	if got := xmlquery.FindOne(doc, "//faultcode").InnerText(); got != "s:Client" {
		t.Errorf("faultcode %q", got)
	}
	if got := xmlquery.FindOne(doc, "//*[local-name()='To']").InnerText(); got != "http://www.w3.org/2005/08/addressing/anonymous" {
		t.Errorf("To %q", got)
	}

	// Malformed XML → 1000; anything else → 2200 without echoing the error.
	_, _, perr := cda.ReadEnvelope(strings.NewReader("<DistributionEnvelope><x>"), 0)
	if f := ITKFaultFor(perr); f.Code != ITKErrorInvalid || f.Text != "This is not a valid XML message" {
		t.Errorf("malformed: %+v", f)
	}
	if f := ITKFaultFor(errors.New("database password wrong")); f.Code != ITKErrorInternal || strings.Contains(f.Diagnostic+f.Text, "password") {
		t.Errorf("internal: %+v", f)
	}
	if a, b := newUUID(), newUUID(); a == b || len(a) != 36 {
		t.Errorf("uuids %s %s", a, b)
	}
}
