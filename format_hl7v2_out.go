package fhirbridge

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

// Writing HL7 v2 (the reverse direction, docs/reverse.md). The mappings in
// mappings/fhir-to-hl7v2 build HL7 v2 segments as if they were resources: each segment is a
// synthetic type (fhir.NewType) whose elements are its fields "1".."N", every field a list
// (its repetitions) of the type "v2.field", whose elements are the components "1".."N", each
// a FHIR string. A component value holding U+001F is written with the subcomponent separator
// there. The segments a run creates, in creation order, are the message.

var hl7v2Reverse = &reverseFormat{types: v2TargetTypes, keys: v2ContentKeys, write: writeV2}

// subcomponentMark in a component value stands for the subcomponent separator (&).
const subcomponentMark = '\x1f'

// v2Components is the number of components a field may have: enough for every HL7 v2.9
// data type (XCN has 23, CWE 22).
const v2Components = 30

// v2FieldCounts are the number of fields of the segments the reverse mappings may write, the
// largest of any HL7 v2 version up to 2.9, so that one set of types serves every version.
// Z-segments get zFields fields.
var v2FieldCounts = map[string]int{
	"MSH": 28, "SFT": 6, "EVN": 7, "PID": 40, "PD1": 22, "NK1": 41, "PV1": 54, "PV2": 50,
	"ROL": 13, "PRT": 26, "AL1": 6, "IAM": 20, "DG1": 26, "PR1": 25, "GT1": 57, "IN1": 55,
	"IN2": 72, "IN3": 28, "ACC": 11, "MRG": 7, "ORC": 35, "OBR": 55, "OBX": 33, "NTE": 8,
	"TQ1": 14, "TQ2": 10, "SPM": 35, "SAC": 49, "RXA": 28, "RXR": 6, "RXO": 37, "RXE": 51,
	"RXD": 35, "RXC": 10, "CTI": 3, "FT1": 56, "TXA": 30, "MSA": 9, "ERR": 12, "QRD": 12,
	"QAK": 10, "QPD": 3, "RCP": 7, "SCH": 27, "AIS": 14, "AIG": 14, "AIL": 12, "AIP": 12,
	"RGS": 3, "UB1": 23, "UB2": 17, "DB1": 8, "DRG": 11, "ARV": 6, "PRB": 30, "GOL": 22,
	"CON": 25, "ODS": 4, "ODT": 3, "BLG": 4, "PV3": 1,
}

const zFields = 99

var (
	v2TypesOnce sync.Once
	v2Field     *fhir.Type
	v2Segments  map[string]*fhir.Type
	v2ZMu       sync.Mutex
	v2ZSegments = map[string]*fhir.Type{}
)

func initV2Types() {
	v2Field = fhir.NewType("v2.field", fhir.KindComplex, numberedElements(1, v2Components, 1, fhir.LookupType("string")))
	v2Segments = make(map[string]*fhir.Type, len(v2FieldCounts))
	for name, n := range v2FieldCounts {
		v2Segments[name] = newSegmentType(name, n)
	}
}

// newSegmentType describes segment name with n fields. MSH-1 and MSH-2 (the delimiters) are
// the writer's, so the MSH type starts at field 3.
func newSegmentType(name string, n int) *fhir.Type {
	first := 1
	if name == "MSH" {
		first = 3
	}
	return fhir.NewType(name, fhir.KindResource, numberedElements(first, n, -1, v2Field))
}

// v2TargetTypes describes HL7 v2 segments, and their field type "v2.field", as target
// types for the reverse direction: `resource: PID` starts a segment, `to: "5.1"` fills PID-5.1.
// Z-segments (ZXX) have 99 fields.
func v2TargetTypes(name string) *fhir.Type {
	v2TypesOnce.Do(initV2Types)
	if name == "v2.field" {
		return v2Field
	}
	if t := v2Segments[name]; t != nil {
		return t
	}
	if len(name) == 3 && name[0] == 'Z' && isUpperAlnum(name[1]) && isUpperAlnum(name[2]) {
		v2ZMu.Lock()
		defer v2ZMu.Unlock()
		t := v2ZSegments[name]
		if t == nil {
			t = newSegmentType(name, zFields)
			v2ZSegments[name] = t
		}
		return t
	}
	return nil
}

func isUpperAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// isSegmentType reports whether t is one of the synthetic segment types.
func isSegmentType(t *fhir.Type) bool {
	return t != nil && t.Kind == fhir.KindResource && v2TargetTypes(t.Name) == t
}

// v2ContentKeys are the match keys of FHIR input by its content, most specific first: the
// event of a MessageHeader ("ADT^A04"), then a DiagnosticReport or Observations make
// ORU^R01, an Immunization VXU^V04, a Patient ADT^A08.
func v2ContentKeys(res []*fhir.Resource) []string {
	var keys []string
	has := map[string]bool{}
	for _, r := range res {
		has[r.Type.Name] = true
		if r.Type.Name != "MessageHeader" {
			continue
		}
		ev, ok := r.Get(r.Type.Element("eventCoding"))
		if !ok || ev.O == nil {
			continue
		}
		code, _ := ev.O.Get(ev.O.Type.Element("code"))
		event := code.S
		if display, _ := ev.O.Get(ev.O.Type.Element("display")); strings.Count(display.S, "^") >= 1 && len(event) == 3 && v2EventMessage[event[0]] == event {
			// Some senders code the message type (ADT) and give the whole MSH-9 as the
			// display: "ADT^A01^ADT_A01".
			event = strings.Split(display.S, "^")[1]
		}
		if len(event) >= 2 {
			if msg := v2EventMessage[event[0]]; msg != "" {
				keys = append(keys, msg+"^"+event)
			}
		}
	}
	switch {
	case has["DiagnosticReport"]:
		keys = append(keys, "ORU^R01")
	case has["Immunization"]:
		keys = append(keys, "VXU^V04")
	case has["Patient"] && has["Encounter"]:
		keys = append(keys, "ADT^A08")
	case has["Observation"]:
		keys = append(keys, "ORU^R01")
	case has["Patient"]:
		keys = append(keys, "ADT^A08")
	}
	return keys
}

// writeV2 writes the segments a run created as one message and parses it back.
func writeV2(rs []*fhir.Resource, _ map[string]string) (*reverseOutput, error) {
	var warnings []transform.Diagnostic
	segs := rs[:0:0]
	for _, r := range rs {
		if !isSegmentType(r.Type) {
			warnings = append(warnings, notOfFormat(FormatHL7v2, r.Type.Name))
			continue
		}
		segs = append(segs, r)
	}
	b, err := encodeV2(segs)
	if err != nil {
		return nil, err
	}
	// Self-check: what we write must read back.
	msg, err := hl7v2.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("fhirbridge: the HL7 v2 output does not parse: %w", err)
	}
	code, event, _ := msg.Type()
	typ := code
	if event != "" {
		typ += "^" + event
	}
	return &reverseOutput{Bytes: b, MessageType: typ, ControlID: msg.ControlID(), Warnings: warnings}, nil
}

// v2EventMessage gives the message code of a trigger event by its first letter (table 0003).
var v2EventMessage = map[byte]string{'A': "ADT", 'R': "ORU", 'V': "VXU"}

// errNoMSH is returned when a reverse mapping made no MSH segment first.
var errNoMSH = errors.New("fhirbridge: the reverse mapping made no MSH segment first")

// encodeV2 writes segments as an HL7 v2 message with the default delimiters |^~\& and CR
// segment terminators (HL7 v2.5.1 §2.5): text escaped (§2.7), U+001F in a component written
// as the subcomponent separator, trailing empty fields, repetitions, components and
// subcomponents left out. Set IDs that the mapping left empty are numbered (see setIDs).
func encodeV2(segs []*fhir.Resource) ([]byte, error) {
	if len(segs) == 0 || segs[0].Type.Name != "MSH" {
		return nil, errNoMSH
	}
	d := hl7v2.DefaultDelimiters
	var b []byte
	var fields [][]byte
	counters := setIDCounters{}
	for _, s := range segs {
		name := s.Type.Name
		fields = fields[:0]
		first := 1
		if name == "MSH" {
			first = 3
		}
		for _, p := range s.Props {
			f, err := strconv.Atoi(p.Elem.Name)
			if err != nil || f < first {
				continue
			}
			for len(fields) <= f-first {
				fields = append(fields, nil)
			}
			fields[f-first] = appendField(fields[f-first][:0], p.Vals, d)
		}
		if n := counters.next(name); n > 0 && first == 1 {
			if len(fields) == 0 {
				fields = append(fields, nil)
			}
			if len(fields[0]) == 0 {
				fields[0] = strconv.AppendInt(fields[0], int64(n), 10)
			}
		}
		for len(fields) > 0 && len(fields[len(fields)-1]) == 0 {
			fields = fields[:len(fields)-1]
		}
		b = append(b, name...)
		if name == "MSH" {
			b = append(b, d.Field)
			b = append(b, d.String()[1:]...)
		}
		for _, f := range fields {
			b = append(b, d.Field)
			b = append(b, f...)
		}
		b = append(b, '\r')
	}
	return b, nil
}

// appendField appends a field's repetitions, trimming trailing empty ones.
func appendField(b []byte, reps []fhir.Value, d hl7v2.Delimiters) []byte {
	start := len(b)
	keep := start // end of the last non-empty repetition
	for i, r := range reps {
		if i > 0 {
			b = append(b, d.Repetition)
		}
		if r.O == nil {
			continue
		}
		before := len(b)
		b = appendComponents(b, r.O, d)
		if len(b) > before {
			keep = len(b)
		}
	}
	return b[:keep]
}

// appendComponents appends the components of one repetition, trimming trailing empty ones.
func appendComponents(b []byte, o *fhir.Object, d hl7v2.Delimiters) []byte {
	var comps [v2Components]string
	n := 0
	for _, p := range o.Props {
		c, err := strconv.Atoi(p.Elem.Name)
		if err != nil || c < 1 || c > v2Components || len(p.Vals) == 0 {
			continue
		}
		comps[c-1] = p.Vals[0].S
		n = max(n, c)
	}
	for n > 0 && strings.Trim(comps[n-1], string(subcomponentMark)) == "" {
		n--
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, d.Component)
		}
		subs := strings.Split(comps[i], string(subcomponentMark))
		for len(subs) > 1 && subs[len(subs)-1] == "" {
			subs = subs[:len(subs)-1]
		}
		for j, s := range subs {
			if j > 0 {
				b = append(b, d.Subcomponent)
			}
			b = hl7v2.Escape(b, s, d)
		}
	}
	return b
}

// setIDCounters numbers the Set ID (field 1) of the segments that have one, when the mapping
// leaves it empty: OBX counts from 1 under each OBR or SPM, NTE under each segment it
// annotates, SPM under each OBR, the others across the message. The mapping language has no
// way to say "the position of this node", so the writer does it.
type setIDCounters map[string]int

var setIDSegments = map[string]bool{"PID": true, "NK1": true, "PV1": true, "AL1": true, "IAM": true, "DG1": true,
	"PR1": true, "GT1": true, "IN1": true, "OBR": true, "OBX": true, "NTE": true, "SPM": true, "TQ1": true, "FT1": true}

func (c setIDCounters) next(name string) int {
	switch name {
	case "OBR":
		c["OBX"], c["SPM"], c["NTE"] = 0, 0, 0
	case "SPM", "ORC":
		c["OBX"], c["NTE"] = 0, 0
	case "NTE":
	default:
		c["NTE"] = 0
	}
	if !setIDSegments[name] {
		return 0
	}
	c[name]++
	return c[name]
}
