package fhirbridge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fhirbridge/fhirbridge/parsers/cda"
	"github.com/fhirbridge/fhirbridge/transform"
)

// NHS CDA (POCD_MT200001GB02: NHS 111 and IUC reports) inside ITK 2.2 envelopes → FHIR R4
// message Bundles. See docs/nhs-cda.md.

// nhsMessageType is the NPFIT localisation message type of NHS 111 / IUC CDA documents: the
// most specific match key of the nhs-cda mappings.
const nhsMessageType = "POCD_MT200001GB02"

// convertNHSCDA converts r when it is an NHS input: a SOAP request or an ITK
// DistributionEnvelope (whatever it carries), or a bare CDA stream whose first document is an
// NHS CDA document (npfitlc:messageType). It reports whether it did; when it did not, *r is
// replaced by a reader that still yields every byte, for convertCDA to go on with.
//
// convertCDA calls it first:
//
//	if c.convertNHSCDA(ctx, &r, yield) {
//		return
//	}
func (c *Converter) convertNHSCDA(ctx context.Context, r *io.Reader, yield func(*Result, error) bool) bool {
	br := bufio.NewReaderSize(*r, 16<<10)
	*r = br
	head, _ := br.Peek(16 << 10)
	switch cda.SniffLayer(head) {
	case cda.LayerSOAP, cda.LayerITK:
		c.convertITK(ctx, br, yield)
		return true
	case cda.LayerCDA:
		if !bytes.Contains(head, []byte(nhsMessageType)) {
			return false
		}
		c.convertNHSStream(ctx, br, yield)
		return true
	}
	return false
}

// convertITK converts the ClinicalDocuments of one SOAP request or DistributionEnvelope:
// one message Bundle per payload document. Envelope conformance problems (manifest count ≠
// payload count, …) are warnings on every Result; the ITK endpoint rejects them with
// [ITKErrorResponse] code 1000 (see cda.Envelope.Check).
func (c *Converter) convertITK(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	env, docs, err := cda.ReadEnvelope(r, c.opts.MaxMessageSize)
	if err != nil {
		var pe *cda.ParseError
		if errors.As(err, &pe) || errors.Is(err, cda.ErrEnvelope) {
			yield(nil, &Error{Format: FormatCDA, MessageType: nhsMessageType, Err: err})
			return
		}
		yield(nil, err)
		return
	}
	for _, doc := range docs {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if !yield(c.convertNHSDocument(ctx, doc, env)) {
			return
		}
	}
}

// convertNHSStream is convertCDA for a stream of bare documents: NHS documents go through
// convertNHSDocument, any other CDA document through convertCDADocument as before.
func (c *Converter) convertNHSStream(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	rd := cda.NewReader(r)
	rd.MaxDocumentSize = c.opts.MaxMessageSize
	for {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		doc, err := rd.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *cda.ParseError
			if !errors.As(err, &pe) {
				yield(nil, err)
				return
			}
			if !yield(nil, &Error{Index: pe.Document, Format: FormatCDA, Err: err}) {
				return
			}
			continue
		}
		var res *Result
		if doc.MessageType() != "" {
			doc.NormalizeNHS()
			res, err = c.convertNHSDocument(ctx, doc, nil)
		} else {
			res, err = c.convertCDADocument(ctx, doc)
		}
		if !yield(res, err) {
			return
		}
	}
}

// nhsKeys are the match keys of an NHS document: its NPFIT message type, then the C-CDA keys
// (templateIds, document code, "ClinicalDocument").
func nhsKeys(doc *cda.Document) []string {
	return append([]string{doc.MessageType()}, cdaKeys(doc)...)
}

// convertNHSDocument converts one NHS CDA document; env is nil for a bare document.
func (c *Converter) convertNHSDocument(ctx context.Context, doc *cda.Document, env *cda.Envelope) (*Result, error) {
	typ := doc.MessageType()
	if typ == "" {
		typ = doc.Code()
	}
	control := doc.ID()
	if env != nil && env.MessageID != "" {
		control = env.MessageID
	} else if env != nil && env.TrackingID != "" {
		control = env.TrackingID
	}
	fail := func(err error) (*Result, error) {
		return nil, &Error{Index: doc.Index(), Format: FormatCDA, MessageType: typ, ControlID: control, Err: err}
	}
	m := c.prog.Find("cda", nhsKeys(doc)...)
	if m == nil {
		return fail(fmt.Errorf("%w %s (npfitlc:messageType, ClinicalDocument/code)", ErrUnsupported, typ))
	}
	params := env.Params() // the envelope's facts, over the caller's own parameters
	for k, v := range c.opts.Params {
		if _, ok := params[k]; !ok {
			params[k] = v
		}
	}
	out, err := c.prog.Run(ctx, m, doc.Root(), transform.RunOptions{TimeZone: c.opts.TimeZone, Params: params})
	if err != nil {
		return fail(err)
	}
	// Bundle.identifier of a message: the SOAP MessageID, else the ITK tracking id (one document
	// per envelope); each document of a multi-payload set is its own message, identified by its
	// ClinicalDocument/id.
	messageID := ""
	if env != nil && len(env.PayloadIDs) <= 1 {
		messageID = control
	}
	b, err := c.assembleCDA(m, doc, out.Resources, messageID)
	if err != nil {
		return fail(err)
	}
	warnings := out.Diagnostics
	if env != nil {
		for _, p := range env.Problems {
			warnings = append(warnings, transform.Diagnostic{Severity: transform.SeverityWarning, Kind: transform.KindValue, Message: "ITK envelope: " + p, Input: "/DistributionEnvelope"})
		}
	}
	return &Result{Index: doc.Index(), Format: FormatCDA, MessageType: typ, ControlID: control, Mapping: m.Name, Bundle: b, Warnings: warnings}, nil
}

// ITK SOAP responses for an ITK endpoint (POST /itk/report): the 111 adaptor's synchronous
// replies. Success is HTTP 200 with [ITKOKResponse]; every failure is HTTP 500 with
// [ITKErrorResponse].

// ITK toolkit error codes (code system 2.16.840.1.113883.2.1.3.2.4.17.268).
const (
	ITKErrorInvalid  = "1000" // invalid message: not XML, schema or ITK conformance failure
	ITKErrorInternal = "2200" // any other error: "Internal Error. Please contact your system Administrator"
)

// ITKFault is one SOAP Fault with an itk:ToolkitErrorInfo.
type ITKFault struct {
	MessageID  string // the response's own MessageID (a new UUID when empty)
	To         string // the reply address ("" → the WS-Addressing anonymous address)
	FaultCode  string // "Client" (default) or "MustUnderstand"
	ErrorID    string // a UUID (a new one when empty)
	Code       string // ITKErrorInvalid or ITKErrorInternal
	Text       string // ErrorText
	Diagnostic string // ErrorDiagnosticText
}

// ITKFaultFor classifies an error of reading or converting an ITK request: a malformed
// document, an envelope that cannot be unwrapped or fails cda.Envelope.Check → 1000 with the
// reason as diagnostic text; anything else → 2200 with the adaptor's fixed text (the error is
// not echoed: it may name internals).
func ITKFaultFor(err error) ITKFault {
	var pe *cda.ParseError
	switch {
	case errors.Is(err, cda.ErrEnvelope):
		return ITKFault{Code: ITKErrorInvalid, Text: "Invalid message", Diagnostic: err.Error()}
	case errors.As(err, &pe):
		return ITKFault{Code: ITKErrorInvalid, Text: "This is not a valid XML message", Diagnostic: pe.Err.Error()}
	}
	return ITKFault{Code: ITKErrorInternal, Text: "Internal Error. Please contact your system Administrator"}
}

const wsaAnonymous = "http://www.w3.org/2005/08/addressing/anonymous"

// ITKOKResponse is the SOAP reply to an accepted request (HTTP 200): itk:SimpleMessageResponse
// "OK:<request MessageID>", Action = the request's Action + "Response" (for
// urn:nhs-itk:services:201005:SendNHS111Report-v2-0 the adaptor's own). messageID "" → a new
// UUID.
func ITKOKResponse(messageID, requestMessageID, requestAction string) []byte {
	if messageID == "" {
		messageID = newUUID()
	}
	if requestAction == "" {
		requestAction = "urn:nhs-itk:services:201005:SendNHS111Report-v2-0"
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">` +
		`<soap:Header><wsa:MessageID>`)
	xmlText(&b, messageID)
	b.WriteString(`</wsa:MessageID><wsa:Action>`)
	xmlText(&b, requestAction+"Response")
	b.WriteString(`</wsa:Action></soap:Header><soap:Body><itk:SimpleMessageResponse xmlns:itk="urn:nhs-itk:ns:201005">OK:`)
	xmlText(&b, requestMessageID)
	b.WriteString(`</itk:SimpleMessageResponse></soap:Body></soap:Envelope>` + "\n")
	return b.Bytes()
}

// ITKErrorResponse is the SOAP Fault reply (HTTP 500) with an itk:ToolkitErrorInfo.
func ITKErrorResponse(f ITKFault) []byte {
	if f.MessageID == "" {
		f.MessageID = newUUID()
	}
	if f.ErrorID == "" {
		f.ErrorID = newUUID()
	}
	if f.To == "" {
		f.To = wsaAnonymous
	}
	if f.FaultCode == "" {
		f.FaultCode = "Client"
	}
	if f.Code == "" {
		f.Code = ITKErrorInternal
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:itk="urn:nhs-itk:ns:201005">` +
		`<s:Header><a:MessageID>`)
	xmlText(&b, f.MessageID)
	b.WriteString(`</a:MessageID><a:Action>http://www.w3.org/2005/08/addressing/soap/fault</a:Action><a:To>`)
	xmlText(&b, f.To)
	b.WriteString(`</a:To></s:Header><s:Body><s:Fault><faultcode>s:`)
	xmlText(&b, f.FaultCode)
	b.WriteString(`</faultcode><faultstring>A client related error has occurred, see detail element for further information</faultstring><detail><itk:ToolkitErrorInfo><itk:ErrorID>`)
	xmlText(&b, f.ErrorID)
	b.WriteString(`</itk:ErrorID><itk:ErrorCode codeSystem="2.16.840.1.113883.2.1.3.2.4.17.268">`)
	xmlText(&b, f.Code)
	b.WriteString(`</itk:ErrorCode><itk:ErrorText>`)
	xmlText(&b, f.Text)
	b.WriteString(`</itk:ErrorText><itk:ErrorDiagnosticText>`)
	xmlText(&b, f.Diagnostic)
	b.WriteString(`</itk:ErrorDiagnosticText></itk:ToolkitErrorInfo></detail></s:Fault></s:Body></s:Envelope>` + "\n")
	return b.Bytes()
}

func xmlText(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }

// newUUID returns a random (version 4) UUID in upper case, as ITK systems write them.
func newUUID() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}
