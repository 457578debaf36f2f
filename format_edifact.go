package fhirbridge

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/edifact"
	"github.com/fhirbridge/fhirbridge/transform"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// edifactSchema is the EDIFACT path language for the mapping engine.
func edifactSchema() tree.Schema { return edifact.Schema{} }

// initEDIFACT compiles the `structures: edifact` documents (segment groups of EDIFACT
// messages) once, when the Converter is built.
func (c *Converter) initEDIFACT() error {
	c.edifactStructs = map[string]*edifact.Structure{}
	for name, notation := range c.prog.Structures("edifact") {
		st, err := edifact.ParseStructure(name, notation)
		if err != nil {
			return err
		}
		c.edifactStructs[name] = st
	}
	for _, m := range c.prog.Messages() {
		if m.Format == "edifact" && m.Structure != "" && c.edifactStructs[m.Structure] == nil {
			return fmt.Errorf("%s: message %s: no structure %q in the edifact structures", m.File, m.Name, m.Structure)
		}
	}
	return nil
}

// convertEDIFACT converts the messages of the EDIFACT interchanges of r: one Result (or
// *Error) per UNH … UNT message.
func (c *Converter) convertEDIFACT(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	rd := edifact.NewReader(r)
	rd.MaxMessageSize = c.opts.MaxMessageSize
	stream(ctx, rd.Read, func(err error) (*Error, bool) {
		var pe *edifact.ParseError
		if !errors.As(err, &pe) {
			return nil, false
		}
		// After a bad service string advice (UNA) nothing of the interchange can be read.
		return &Error{Index: max(pe.Message-1, 0), Format: FormatEDIFACT, Err: err}, !errors.Is(err, edifact.ErrUNA)
	}, func(msg *edifact.Message) (*Result, error) {
		return c.convertEDIFACTMessage(ctx, msg, c.edifactStructs)
	}, yield)
}

// EDIFACTKeys returns the keys a message mapping's match list is compared with, from the
// most to the least specific: "MEDRPT:NHS003" (UNH message type and association assigned
// code), "FHSREG:F4" (with the NHS registration transaction type of RFF+950), "MEDRPT".
func EDIFACTKeys(m *edifact.Message) []string {
	typ, _, _, _, assoc := m.Type()
	var keys []string
	for _, s := range m.Segments() {
		if s.Tag == "RFF" && s.Value(1, 1) == "950" && s.Value(1, 2) != "" {
			keys = append(keys, typ+":"+s.Value(1, 2))
			break
		}
	}
	if assoc != "" {
		keys = append(keys, typ+":"+assoc)
	}
	return append(keys, typ)
}

func (c *Converter) convertEDIFACTMessage(ctx context.Context, msg *edifact.Message, structs map[string]*edifact.Structure) (*Result, error) {
	typ, _, _, _, assoc := msg.Type()
	mt := typ
	if assoc != "" {
		mt += ":" + assoc
	}
	keys := EDIFACTKeys(msg)
	fail := func(err error) (*Result, error) {
		return nil, &Error{Index: msg.Index - 1, Format: FormatEDIFACT, MessageType: keys[0], ControlID: msg.Ref(), Err: err}
	}
	m := c.prog.Find("edifact", keys...)
	if m == nil {
		return fail(fmt.Errorf("%w %s (UNH S009)", ErrUnsupported, keys[0]))
	}
	var warnings []transform.Diagnostic
	for _, w := range msg.Warnings {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindValue,
			Input: fmt.Sprintf("%s at line %d", w.Tag, w.Line), Message: fmt.Sprintf("%v: %s", w.Err, w.Detail)})
	}
	t := edifact.NewTree(msg, structs[m.Structure])
	out, err := c.prog.Run(ctx, m, t.Root(), transform.RunOptions{TimeZone: c.opts.TimeZone, Params: c.opts.Params})
	if err != nil {
		return fail(err)
	}
	warnings = append(warnings, out.Diagnostics...)
	for _, loc := range t.Unread() {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: loc,
			Message: fmt.Sprintf("segment not mapped by %s (nothing read it)", m.Name)})
	}
	for _, loc := range t.Unexpected() {
		warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindUnsupported, Input: loc,
			Message: fmt.Sprintf("segment not expected here by structure %s (kept in the nearest group)", m.Structure)})
	}
	bt := c.bundleType(m)
	ao := fhir.AssembleOptions{Type: bt, FullURLBase: c.opts.FullURLBase}
	if bt == fhir.Message {
		// Interchange times (UNB S004) carry no offset: they are in the source's zone.
		zone := m.Zone()
		if zone == nil {
			zone = c.opts.TimeZone
		}
		ao.Timestamp, _ = transform.Instant(edifact.InterchangeTime(msg.Interchange), zone)
	}
	b, err := fhir.Assemble(out.Resources, ao)
	if err != nil {
		return fail(err)
	}
	return &Result{Index: msg.Index - 1, Format: FormatEDIFACT, MessageType: mt, ControlID: msg.Ref(), Mapping: m.Name, Bundle: b, Warnings: warnings}, nil
}
