package fhirbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
	"github.com/fhirbridge/fhirbridge/transform"
	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// cdaSchema is the CDA path language for the mapping engine (see parsers/cda and docs/cda.md).
func cdaSchema() tree.Schema { return cda.Schema{} }

// usRealmHeader is the template every C-CDA document carries besides its own document type
// template: the least specific key.
const usRealmHeader = "2.16.840.1.113883.10.20.22.1.1"

// convertCDA converts the CDA documents of r, one ClinicalDocument at a time.
func (c *Converter) convertCDA(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	if c.convertNHSCDA(ctx, &r, yield) {
		return
	}
	rd := cda.NewReader(r)
	rd.MaxDocumentSize = c.opts.MaxMessageSize
	stream(ctx, rd.Read, func(err error) (*Error, bool) {
		var pe *cda.ParseError
		if !errors.As(err, &pe) {
			return nil, false
		}
		return &Error{Index: pe.Document, Format: FormatCDA, Err: err}, true
	}, func(doc *cda.Document) (*Result, error) { return c.convertCDADocument(ctx, doc) }, yield)
}

// cdaKeys are the match keys of a document, most specific first: its templateId roots
// (the US Realm Header last), its LOINC document type code, then "ClinicalDocument".
func cdaKeys(doc *cda.Document) []string {
	var keys []string
	header := false
	for _, t := range doc.TemplateIDs() {
		if t == usRealmHeader {
			header = true
			continue
		}
		keys = append(keys, t)
	}
	if code := doc.Code(); code != "" {
		keys = append(keys, code)
	}
	if header {
		keys = append(keys, usRealmHeader)
	}
	return append(keys, "ClinicalDocument")
}

func (c *Converter) convertCDADocument(ctx context.Context, doc *cda.Document) (*Result, error) {
	typ := doc.Code()
	if typ == "" {
		if t := doc.TemplateIDs(); len(t) > 0 {
			typ = t[len(t)-1]
		}
	}
	fail := func(err error) (*Result, error) {
		return nil, &Error{Index: doc.Index(), Format: FormatCDA, MessageType: typ, ControlID: doc.ID(), Err: err}
	}
	m := c.prog.Find("cda", cdaKeys(doc)...)
	if m == nil {
		return fail(fmt.Errorf("%w %s (ClinicalDocument/templateId, code)", ErrUnsupported, typ))
	}
	out, err := c.prog.Run(ctx, m, doc.Root(), transform.RunOptions{TimeZone: c.opts.TimeZone, Params: c.opts.Params})
	if err != nil {
		return fail(err)
	}
	b, err := c.assembleCDA(m, doc, out.Resources, "")
	if err != nil {
		return fail(err)
	}
	return &Result{Index: doc.Index(), Format: FormatCDA, MessageType: typ, ControlID: doc.ID(), Mapping: m.Name, Bundle: b, Warnings: out.Diagnostics}, nil
}

// assembleCDA assembles the resources converted from doc. Document and message Bundles take
// their timestamp from ClinicalDocument/effectiveTime (completed to seconds when it stops at the
// day or minute: a Bundle timestamp is an instant) and their identifier from messageID, else
// ClinicalDocument/id.
func (c *Converter) assembleCDA(m *transform.Message, doc *cda.Document, resources []*fhir.Resource, messageID string) (*fhir.Bundle, error) {
	bt := c.bundleType(m)
	ao := fhir.AssembleOptions{Type: bt, FullURLBase: c.opts.FullURLBase}
	if bt == fhir.Document || bt == fhir.Message {
		ts, ok := transform.Instant(doc.EffectiveTime(), c.opts.TimeZone)
		if !ok {
			ts, ok = transform.Instant(padTimestamp(doc.EffectiveTime()), c.opts.TimeZone)
		}
		if !ok {
			return nil, fmt.Errorf("fhirbridge: ClinicalDocument/effectiveTime is not a timestamp; a %s Bundle needs one", bt)
		}
		ao.Timestamp = ts
		id := messageID
		if bt == fhir.Document || id == "" {
			id = doc.ID()
		}
		ao.Identifier = documentIdentifier(id)
	}
	return fhir.Assemble(resources, ao)
}

// padTimestamp completes a CDA TS (YYYYMMDD[HH[MM[SS]]][±ZZZZ]) to seconds precision.
func padTimestamp(s string) string {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "+-")
	main, zone := s, ""
	if i >= 0 {
		main, zone = s[:i], s[i:]
	}
	if len(main) < 8 || len(main) >= 14 || strings.Contains(main, ".") {
		return s
	}
	return main + "00000000"[:14-len(main)] + zone
}

var identifierType = fhir.LookupType("Identifier")

// documentIdentifier is Bundle.identifier from ClinicalDocument/id ("root" or
// "root^extension"), per the C-CDA on FHIR IG's identifier rules; nil when the document has
// none (fhir.Assemble then uses the Bundle's own id).
func documentIdentifier(id string) *fhir.Object {
	if id == "" {
		return nil
	}
	root, ext, _ := strings.Cut(id, "^")
	system, value := "urn:ietf:rfc:3986", ""
	switch {
	case ext != "":
		system, value = uriOf(root), ext
	default:
		value = uriOf(root)
	}
	if system == "" || value == "" || strings.ContainsAny(system+value, " \t\r\n") {
		return nil
	}
	o := fhir.NewObject(identifierType)
	o.Set(identifierType.Element("system"), fhir.MakeString(system))
	o.Set(identifierType.Element("value"), fhir.MakeString(value))
	return o
}

// uriOf writes an II root as a URI: an OID as urn:oid:, a UUID as urn:uuid: (lower case).
func uriOf(root string) string {
	switch {
	case len(root) == 36 && strings.Count(root, "-") == 4:
		return "urn:uuid:" + strings.ToLower(root)
	case root != "" && root[0] >= '0' && root[0] <= '2' && strings.Trim(root, "0123456789.") == "":
		return "urn:oid:" + root
	}
	return ""
}
