package fhirbridge

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
	"github.com/fhirbridge/fhirbridge/transform"
)

// Writing EDIFACT (the reverse direction, docs/reverse.md). The mappings in
// mappings/fhir-to-edifact build EDIFACT segments as if they were resources, as the HL7 v2
// ones do: a segment ("NAD") is a synthetic type whose elements are its data elements
// "1".."N" (one value each: the NHS messages use no repetitions), of the composite type
// "edi.element" whose elements are the components "1".."N", each a FHIR string. So
// `to: "2.1"` fills the first component of the second data element: NAD+PAT+<here>.
//
// A component value holding U+001F is written with the component separator there: one rule
// can write a whole composite, empty components included, as
// join([line1, line2, line3, line4, line5], '\u001f') — the NHS registration address is five
// positional lines, and an empty one in the middle or at the end is written empty, not left
// out as trailing empty components otherwise are. (HL7 v2 subcomponents are written the same
// way, see format_hl7v2_out.go.)
//
// A run writes UNB and UNH (their data is the mapping's: parties, dates, references); the
// writer ends the message with UNT (segment count, UNH reference) and the interchange with
// UNZ (one message, the UNB reference), so counts are always right. The UNB elements ISO
// 9735 makes mandatory (S001 syntax, S002 sender, S003 recipient, S004 date and time, 0020
// reference) must be filled: without them the writer returns an error naming the element.

var edifactReverse = &reverseFormat{types: ediTargetTypes, keys: ediContentKeys, write: writeEDIFACT}

// ediComponents is the number of components of a composite (C078 and the NHS name and
// address composites have fewer).
const ediComponents = 20

// ediSegmentElements are the segments the reverse mappings may write, with their number of
// data elements: the service segments (ISO 9735), and the segments of the NHS messages FHSREG
// (registration) and MEDRPT (pathology, screening: NHS003, NHS004, with the NHS
// interchange-level NMR/NIR), with room to spare for the elements the NHS guides leave unused.
// The segment-group markers S01 … S35 are added by initEDITypes.
var ediSegmentElements = map[string]int{
	"UNB": 11, "UNH": 4, "UNT": 2, "UNZ": 2,
	"BGM": 4, "DTM": 1, "NAD": 9, "RFF": 1, "HEA": 2, "GIS": 1, "LOC": 5, "FTX": 5,
	"PNA": 10, "PDI": 3, "QTY": 2, "CIN": 2, "SPR": 2, "ADR": 6, "STS": 4, "SEQ": 2,
	"SPC": 2, "INV": 3, "RSL": 7, "RND": 4, "NMR": 4, "NIR": 4, "FCC": 3, "COM": 1, "CTA": 2,
}

var (
	ediTypesOnce sync.Once
	ediElement   *fhir.Type
	ediSegments  map[string]*fhir.Type
)

func initEDITypes() {
	ediElement = fhir.NewType("edi.element", fhir.KindComplex, numberedElements(1, ediComponents, 1, fhir.LookupType("string")))
	ediSegments = map[string]*fhir.Type{}
	add := func(tag string, n int) {
		ediSegments[tag] = fhir.NewType(tag, fhir.KindResource, numberedElements(1, n, 1, ediElement))
	}
	for tag, n := range ediSegmentElements {
		add(tag, n)
	}
	// The NHS segment-group markers S01 … S35 (one element: the group number).
	for g := 1; g <= 35; g++ {
		add(fmt.Sprintf("S%02d", g), 1)
	}
}

// ediTargetTypes describes EDIFACT segments and their composite type "edi.element".
func ediTargetTypes(name string) *fhir.Type {
	ediTypesOnce.Do(initEDITypes)
	if name == "edi.element" {
		return ediElement
	}
	return ediSegments[name]
}

func isEDISegmentType(t *fhir.Type) bool {
	return t != nil && t.Kind == fhir.KindResource && ediTargetTypes(t.Name) == t
}

// ediContentKeys are the match keys of FHIR input by its content: for a Parameters resource
// (the NHS registration operations' input), "Parameters.<name>" for each parameter name; for
// a Bundle holding a DiagnosticReport, "MEDRPT".
func ediContentKeys(res []*fhir.Resource) []string {
	var keys []string
	for _, r := range res {
		switch r.Type.Name {
		case "Parameters":
			p := r.Prop(r.Type.Element("parameter"))
			if p == nil {
				continue
			}
			for _, v := range p.Vals {
				if v.O == nil {
					continue
				}
				if n, ok := v.O.Get(v.O.Type.Element("name")); ok && n.S != "" {
					keys = append(keys, "Parameters."+n.S)
				}
			}
		case "DiagnosticReport":
			if !containsString(keys, "MEDRPT") {
				keys = append(keys, "MEDRPT")
			}
		}
	}
	return keys
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// writeEDIFACT writes the segments a run created as one interchange holding one message:
// the run's UNB and UNH, its other segments, then UNT and UNZ with their counts. A line feed
// follows each segment terminator but the last, as NHS interchanges have it, unless param
// newline is "false". A UNA is written when param una is "true", or, by default, when the
// UNB syntax identifier is neither UNOA nor UNOB (the levels that assume the default service
// characters). The output is read back with the EDIFACT reader before it is returned.
func writeEDIFACT(rs []*fhir.Resource, params map[string]string) (*reverseOutput, error) {
	var warnings []transform.Diagnostic
	var unb, unh *fhir.Resource
	var body []*fhir.Resource
	for _, r := range rs {
		switch {
		case !isEDISegmentType(r.Type):
			warnings = append(warnings, notOfFormat(FormatEDIFACT, r.Type.Name))
		case r.Type.Name == "UNB" && unb == nil:
			unb = r
		case r.Type.Name == "UNH" && unh == nil:
			unh = r
		case r.Type.Name == "UNT" || r.Type.Name == "UNZ" || r.Type.Name == "UNB" || r.Type.Name == "UNH":
			warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: r.Type.Name,
				Message: fmt.Sprintf("the mapping created a second %s or a %s; the writer writes the envelope (left out)", r.Type.Name, r.Type.Name)})
		default:
			body = append(body, r)
		}
	}
	if unb == nil || unh == nil {
		return nil, fmt.Errorf("fhirbridge: the EDIFACT mapping made no UNB and UNH")
	}
	unbEl, unhEl := ediElements(unb), ediElements(unh)
	if err := checkMandatory("UNB", unbEl, unbMandatory); err != nil {
		return nil, err
	}
	if err := checkMandatory("UNH", unhEl, unhMandatory); err != nil {
		return nil, err
	}
	syntax := component(unbEl, 1, 1)
	version, _ := strconv.Atoi(component(unbEl, 1, 2))
	var buf bytes.Buffer
	w := edifact.NewWriter(&buf)
	w.Delims = edifact.DefaultDelims.ForVersion(version)
	w.Syntax = syntax
	w.Newline = params["newline"] != "false"
	w.KeepEmptyComponents = true // ediElements gives trailing empty components only where a mapping wrote them (U+001F)
	una := params["una"] == "true" || params["una"] == "" && syntax != "UNOA" && syntax != "UNOB"
	if una {
		w.WriteUNA()
	}
	w.WriteSegment("UNB", unbEl...)
	w.WriteSegment("UNH", unhEl...)
	for _, s := range body {
		w.WriteSegment(s.Type.Name, ediElements(s)...)
	}
	ref := component(unhEl, 1, 1)
	w.WriteSegment("UNT", []string{strconv.Itoa(w.Count() + 1)}, []string{ref})
	w.WriteSegment("UNZ", []string{"1"}, []string{component(unbEl, 5, 1)})
	if err := w.Flush(); err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	// Self-check: what we write must read back. What the reader tolerates (lower case under
	// UNOA, say) comes back as warnings of the result.
	rd := edifact.NewReader(bytes.NewReader(out))
	msg, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("fhirbridge: the EDIFACT output does not parse: %w", err)
	}
	if _, err := rd.Read(); err != io.EOF {
		return nil, fmt.Errorf("fhirbridge: the EDIFACT output does not parse as one message: %v", err)
	}
	for _, pw := range msg.Warnings {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindValue,
			Message: fmt.Sprintf("the EDIFACT written reads back with a warning: %v", pw)})
	}
	typ, _, _, _, assoc := msg.Type()
	if assoc != "" {
		typ += ":" + assoc
	}
	return &reverseOutput{Bytes: out, MessageType: typ, ControlID: ref, Warnings: warnings}, nil
}

// unbMandatory and unhMandatory are the mandatory (element, component) places of UNB and UNH
// (ISO 9735 syntax versions 1–3, part 1 §9; the NHS guides add nothing optional here), with
// what a reader of an error needs to know.
var (
	unbMandatory = []mandatory{
		{1, 1, "S001 syntax identifier"}, {1, 2, "S001 syntax version"},
		{2, 1, "S002 interchange sender"}, {3, 1, "S003 interchange recipient"},
		{4, 1, "S004 date of preparation (param timestamp?)"}, {4, 2, "S004 time of preparation (param timestamp?)"},
		{5, 1, "0020 interchange control reference"},
	}
	unhMandatory = []mandatory{
		{1, 1, "0062 message reference number"}, {2, 1, "S009 message type"}, {2, 2, "S009 version"},
		{2, 3, "S009 release"}, {2, 4, "S009 controlling agency"},
	}
)

type mandatory struct {
	element, component int
	what               string
}

func checkMandatory(tag string, els [][]string, places []mandatory) error {
	for _, m := range places {
		if component(els, m.element, m.component) == "" {
			return fmt.Errorf("fhirbridge: the EDIFACT mapping left %s %d.%d (%s) empty", tag, m.element, m.component, m.what)
		}
	}
	return nil
}

// ediElements returns a segment's data elements as component lists, in element order. A
// component value holding U+001F is split there into consecutive components.
func ediElements(s *fhir.Resource) [][]string {
	var out [][]string
	for _, p := range s.Props {
		e, err := strconv.Atoi(p.Elem.Name)
		if err != nil || e < 1 || len(p.Vals) == 0 || p.Vals[0].O == nil {
			continue
		}
		for len(out) < e {
			out = append(out, nil)
		}
		comps := make([]string, ediComponents)
		n := 0
		for _, cp := range p.Vals[0].O.Props {
			c, err := strconv.Atoi(cp.Elem.Name)
			if err != nil || c < 1 || c > ediComponents || len(cp.Vals) == 0 {
				continue
			}
			comps[c-1] = cp.Vals[0].S
			n = max(n, c)
		}
		out[e-1] = splitComposite(comps[:n])
	}
	return out
}

// splitComposite splits the components holding U+001F at it.
func splitComposite(comps []string) []string {
	var out []string
	for i, c := range comps {
		if strings.IndexByte(c, '\x1f') < 0 {
			if out != nil {
				out = append(out, c)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(comps)+4), comps[:i]...)
		}
		out = append(out, strings.Split(c, "\x1f")...)
	}
	if out == nil {
		return comps
	}
	return out
}

// component returns component c of element e (both from 1), or "".
func component(els [][]string, e, c int) string {
	if e > len(els) || c > len(els[e-1]) {
		return ""
	}
	return strings.TrimSpace(els[e-1][c-1])
}
