package fhirbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
)

// FHIR → EDIFACT for NHS registration (FHSREG G1, G2, G3, G5; mappings/fhir-to-edifact):
// the NHAIS adaptor's outbound test pairs must come out byte for byte, read back with our
// EDIFACT reader without warnings, and convert forward again keeping the key facts.

// nhaisClock is the adaptor's clock in the corpus pairs (MANIFEST.tsv: fixed at 2020-06-10
// 14:38, UK summer time); given in UTC to show that the mapping writes UK local time.
const nhaisClock = "2020-06-10T13:38:00Z"

// nhaisWrongExpected lists the corpus outputs that are themselves wrong, and why; they are
// converted and checked to read back, but not compared. None is known.
var nhaisWrongExpected = map[string]string{}

// nhaisParams are the params of a conversion: the fixed clock, and for a removal (whose
// Parameters hold nothing that tells it from the others) the transaction type.
func nhaisParams(kind string) map[string]string {
	p := map[string]string{"timestamp": nhaisClock}
	if kind == "removal" {
		p["messageType"] = "FHSREG^G3"
	}
	return p
}

func nhaisConvert(t *testing.T, kind string, input []byte) *fhirbridge.Result {
	t.Helper()
	c, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatEDIFACT, Params: nhaisParams(kind)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ConvertMessage(context.Background(), input)
	if err != nil {
		t.Fatalf("FHIR → EDIFACT: %v", err)
	}
	return res
}

// readBack reads an interchange with our reader and fails on any error or warning.
func readBack(t *testing.T, out []byte) *edifact.Message {
	t.Helper()
	rd := edifact.NewReader(bytes.NewReader(out))
	var first *edifact.Message
	for {
		m, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the EDIFACT written does not read back: %v", err)
		}
		if first == nil {
			first = m
		}
		for _, w := range m.Warnings {
			t.Errorf("the EDIFACT written reads back with a warning: %v", w)
		}
	}
	if first == nil {
		t.Fatal("the EDIFACT written holds no message")
	}
	return first
}

func TestReverseNHAISCorpus(t *testing.T) {
	dir := needCorpus(t, filepath.Join("edifact", "nhais", "outbound"))
	matched, total := 0, 0
	for _, kind := range []string{"acceptance", "amendment", "removal", "deduction"} {
		files, _ := filepath.Glob(filepath.Join(dir, kind, "*.input.json"))
		for _, f := range files {
			name := kind + "/" + strings.TrimSuffix(filepath.Base(f), ".input.json")
			total++
			t.Run(name, func(t *testing.T) {
				input, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(strings.TrimSuffix(f, ".input.json") + ".edifact")
				if err != nil {
					t.Fatal(err)
				}
				res := nhaisConvert(t, kind, input)
				readBack(t, res.Output)
				checkNHAISRoundTrip(t, input, res.Output)
				if why, ok := nhaisWrongExpected[name]; ok {
					t.Logf("expected output not compared: %s", why)
					return
				}
				if !bytes.Equal(res.Output, want) {
					t.Errorf("output differs from %s.edifact\ngot:\n%s\nwant:\n%s", name, res.Output, want)
					return
				}
				matched++
			})
		}
	}
	if total == 0 {
		t.Fatal("no *.input.json in the corpus outbound folders")
	}
	t.Logf("%d of %d NHAIS outbound pairs match byte for byte (%d expected outputs listed as wrong)", matched, total, len(nhaisWrongExpected))
}

// TestReverseNHAISTestdata checks our own fixtures, testdata/fhir/nhais/<kind>_*.json,
// against the .edifact beside each (go test -update rewrites them); the file name's first
// word is the kind of transaction.
func TestReverseNHAISTestdata(t *testing.T) {
	g := goldie.New(t, goldie.WithFixtureDir("testdata/fhir/nhais"), goldie.WithNameSuffix(".edifact"))
	forEachFixture(t, "testdata/fhir/nhais/*.json", func(t *testing.T, name string, input []byte) {
		kind, _, _ := strings.Cut(name, "_")
		res := nhaisConvert(t, kind, input)
		for _, w := range res.Warnings {
			t.Logf("warning: %v", w)
		}
		readBack(t, res.Output)
		checkNHAISRoundTrip(t, input, res.Output)
		g.Assert(t, name, res.Output)
	})
}

// forEachFixture runs fn as a subtest for every file pattern matches (there must be some),
// named by the file's base name without its extension.
func forEachFixture(t *testing.T, pattern string, fn func(t *testing.T, name string, data []byte)) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no %s", pattern)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), data)
		})
	}
}

// TestReverseNHAISErrors checks what the FHSREG mappings refuse, and how.
func TestReverseNHAISErrors(t *testing.T) {
	removal := []byte(`{"resourceType":"Parameters","parameter":[{"name":"gpTradingPartnerCode","valueString":"TES5"},
		{"name":"patient","resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"T247"}],
		"managingOrganization":{"identifier":{"value":"XX1"}},"generalPractitioner":[{"identifier":{"value":"4826940,281"}}]}}]}`)
	tests := []struct {
		name   string
		params map[string]string
		input  []byte
		want   string
		is     error
	}{
		{"removal without messageType", map[string]string{"timestamp": nhaisClock}, removal, "edifact:Parameters.gpTradingPartnerCode", fhirbridge.ErrUnsupported},
		{"no timestamp", map[string]string{"messageType": "FHSREG^G3"}, removal, "UNB 4.1 (S004 date of preparation (param timestamp?)) empty", nil},
		{"timestamp not a date", map[string]string{"messageType": "FHSREG^G3", "timestamp": "now"}, removal, "param timestamp", nil},
		{"amendment without a healthcare party", map[string]string{"timestamp": nhaisClock}, []byte(`{"nhsNumber":"1","gpCode":"G","gpTradingPartnerCode":"TES5","patches":[]}`), "UNB 3.1 (S003 interchange recipient) empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fhirbridge.New(fhirbridge.Options{Target: fhirbridge.FormatEDIFACT, Params: tt.params})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ConvertMessage(context.Background(), tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.is)
			}
		})
	}
}

// checkNHAISRoundTrip converts the EDIFACT written forward (mappings/edifact/FHSREG.yaml)
// and requires the key facts of the input in the Bundle: NHS number, names, birth date,
// gender, address, GP, HA cipher and transaction type.
func checkNHAISRoundTrip(t *testing.T, input, out []byte) {
	t.Helper()
	res, err := testConverter.ConvertMessage(context.Background(), out)
	if err != nil {
		t.Fatalf("the EDIFACT written does not convert forward: %v", err)
	}
	var in map[string]any
	if err := json.Unmarshal(input, &in); err != nil {
		t.Fatal(err)
	}
	want := nhaisInputFacts(in)
	got := map[string]bool{}
	for _, f := range nhaisBundleFacts(t, res.JSON()) {
		got[f] = true
	}
	var lost []string
	for _, f := range want {
		if !got[f] {
			lost = append(lost, f)
		}
	}
	if len(lost) > 0 {
		t.Errorf("facts lost in FHIR → EDIFACT → FHIR: %s\nEDIFACT:\n%s", strings.Join(lost, ", "), out)
	}
}

// nhaisInputFacts are the key facts of an adaptor input: a Parameters or an amendment.
// The erase markers of an amendment are left out (the forward mapping does not read them).
func nhaisInputFacts(in map[string]any) []string {
	var facts []string
	add := func(k string, v any) {
		if s, ok := v.(string); ok && s != "" {
			facts = append(facts, k+"="+s)
		}
	}
	if patches, ok := in["patches"].([]any); ok { // an amendment (G2)
		add("tt", "G2")
		add("nhs", in["nhsNumber"])
		add("gp", in["gpCode"])
		add("ha", in["healthcarePartyCode"])
		fact := map[string]string{"/name/0/family": "family", "/name/0/given/0": "given", "/name/0/given/1": "given", "/name/0/given/2": "given",
			"/name/0/prefix/0": "prefix", "/name/1/family": "previous", "/birthDate": "birthDate", "/gender": "gender",
			"/address/0/postalCode": "postalCode"}
		for i := 0; i < 5; i++ {
			fact["/address/0/line/"+string(rune('0'+i))] = "line"
		}
		for _, p := range patches {
			p := p.(map[string]any)
			if k := fact[p["path"].(string)]; k != "" && p["op"] != "remove" {
				add(k, p["value"])
			}
		}
		return facts
	}
	var patient map[string]any
	for _, p := range in["parameter"].([]any) {
		p := p.(map[string]any)
		switch p["name"] {
		case "acceptanceType":
			add("tt", "G1")
		case "deductionReasonCode":
			add("tt", "G5")
		case "patient":
			patient = p["resource"].(map[string]any)
		}
	}
	if len(facts) == 0 {
		add("tt", "G3")
	}
	for _, id := range list(patient["identifier"]) {
		if id := id.(map[string]any); id["system"] == "https://fhir.nhs.uk/Id/nhs-number" {
			add("nhs", id["value"])
		}
	}
	for i, n := range list(patient["name"]) {
		n := n.(map[string]any)
		if i == 1 {
			add("previous", n["family"])
			continue
		}
		add("family", n["family"])
		// FO and MI hold the first two forenames, FS the others in one component.
		var rest []string
		for j, g := range list(n["given"]) {
			if j < 2 {
				add("given", g)
			} else if g, ok := g.(string); ok {
				rest = append(rest, g)
			}
		}
		add("given", strings.Join(rest, " "))
		for _, p := range list(n["prefix"]) {
			add("prefix", p)
		}
	}
	add("birthDate", patient["birthDate"])
	add("gender", patient["gender"])
	for i, a := range list(patient["address"]) {
		prefix := "" // the second address is the previous one (NAD+PER)
		if i == 1 {
			prefix = "previous "
		}
		for _, l := range list(a.(map[string]any)["line"]) {
			add(prefix+"line", l)
		}
		add(prefix+"postalCode", a.(map[string]any)["postalCode"])
	}
	for _, gp := range list(patient["generalPractitioner"]) {
		add("gp", gp.(map[string]any)["identifier"].(map[string]any)["value"])
	}
	if mo, ok := patient["managingOrganization"].(map[string]any); ok {
		for _, id := range list(mo["identifier"]) {
			add("ha", id.(map[string]any)["value"])
		}
	}
	return facts
}

// nhaisBundleFacts are the same facts of a forward FHSREG Bundle.
func nhaisBundleFacts(t *testing.T, bundle []byte) []string {
	t.Helper()
	var facts []string
	add := func(k string, v any) {
		if s, ok := v.(string); ok && s != "" {
			facts = append(facts, k+"="+s)
		}
	}
	for _, r := range bundleResources(t, bundle) {
		switch r["resourceType"] {
		case "MessageHeader":
			add("tt", r["eventCoding"].(map[string]any)["code"])
		case "Patient":
			for _, id := range list(r["identifier"]) {
				add("nhs", id.(map[string]any)["value"])
			}
			for _, n := range list(r["name"]) {
				n := n.(map[string]any)
				if n["use"] == "old" {
					add("previous", n["family"])
					continue
				}
				add("family", n["family"])
				for _, g := range list(n["given"]) {
					add("given", g)
				}
				for _, p := range list(n["prefix"]) {
					add("prefix", p)
				}
			}
			add("birthDate", r["birthDate"])
			add("gender", r["gender"])
			for _, a := range list(r["address"]) {
				a := a.(map[string]any)
				prefix := ""
				if a["use"] == "old" {
					prefix = "previous "
				}
				for _, l := range list(a["line"]) {
					add(prefix+"line", l)
				}
				add(prefix+"postalCode", a["postalCode"])
			}
			for _, gp := range list(r["generalPractitioner"]) {
				add("gp", gp.(map[string]any)["identifier"].(map[string]any)["value"])
			}
			if mo, ok := r["managingOrganization"].(map[string]any); ok {
				add("ha", mo["identifier"].(map[string]any)["value"])
			}
		}
	}
	sort.Strings(facts)
	return facts
}
