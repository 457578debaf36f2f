package cda

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/antchfx/xmlquery"
)

// NHS ITK 2.2 transport: an NHS CDA document (POCD_MT200001GB02, e.g. an NHS 111 / IUC report)
// usually arrives as a SOAP 1.1 request (WS-Addressing header) whose Body holds an ITK
// DistributionEnvelope, whose payloads hold one or more ClinicalDocuments. [ReadEnvelope]
// unwraps all three layers; a bare DistributionEnvelope or a bare ClinicalDocument is read too.
//
// The ClinicalDocuments it returns stay inside the parsed envelope: the envelope is the root
// of the XML tree, so mappings reach the envelope from the document with ancestor:: paths.
// Elements of the SOAP, WS-Addressing, ITK and NPFIT localisation namespaces match
// unprefixed names, like CDA elements do:
//
//	ancestor::Envelope/Header/MessageID                                   SOAP MessageID
//	ancestor::DistributionEnvelope/header/@trackingid                    ITK tracking id
//	ancestor::DistributionEnvelope/header/@service
//	ancestor::DistributionEnvelope/header/addresslist/address/@uri
//	ancestor::DistributionEnvelope/header/handlingSpecification/spec[@key='urn:nhs-itk:ns:201005:interaction']/@value
//	ancestor::DistributionEnvelope/header/manifest/manifestitem/@profileid
//	ancestor::payload/@id                                                 this document's payload
//
// The same facts, as single values, are in [Envelope.Params] (param('itk.trackingid') in
// mappings), which also work, empty, for a bare ClinicalDocument.

// Layer is the outermost layer of an NHS CDA input.
type Layer string

const (
	LayerNone Layer = ""     // not XML, or a root this package does not read
	LayerCDA  Layer = "cda"  // a bare ClinicalDocument
	LayerITK  Layer = "itk"  // an ITK DistributionEnvelope without SOAP
	LayerSOAP Layer = "soap" // a SOAP 1.1 (or 1.2) Envelope around a DistributionEnvelope
)

// Namespaces of the envelope layers.
const (
	NamespaceSOAP11  = "http://schemas.xmlsoap.org/soap/envelope/"
	NamespaceSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	NamespaceWSA     = "http://www.w3.org/2005/08/addressing"
	NamespaceITK     = "urn:nhs-itk:ns:201005"
	NamespaceNPFITLC = "NPFIT:HL7:Localisation"

	// InteractionKey is the handlingSpecification key of the ITK interaction id.
	InteractionKey = "urn:nhs-itk:ns:201005:interaction"
)

// ErrEnvelope is wrapped by errors for an envelope that cannot be unwrapped at all (no
// DistributionEnvelope in a SOAP Body, no ClinicalDocument in any payload, DOCTYPE).
var ErrEnvelope = errors.New("cda: bad ITK envelope")

// Address is an ITK addresslist/address.
type Address struct {
	URI  string // urn:nhs-uk:addressing:ods:<ODS>, or a DOS service id
	Type string // @type: 2.16.840.1.113883.2.1.3.2.4.18.44 for a DOS service id
}

// ManifestItem is an ITK manifest/manifestitem.
type ManifestItem struct {
	ID, ProfileID, MimeType string
}

// Spec is an ITK handlingSpecification/spec.
type Spec struct{ Key, Value string }

// Envelope holds the facts of the transport layers around the documents of one input.
type Envelope struct {
	Layer Layer

	// SOAP / WS-Addressing (LayerSOAP only).
	MessageID, Action, To, ReplyTo string

	// ITK DistributionEnvelope/header (LayerSOAP and LayerITK).
	Service, TrackingID string
	Addresses           []Address
	AuditIdentity       string
	SenderAddress       string
	Specs               []Spec
	ManifestCount       int // manifest/@count as declared; -1 when absent or not a number
	Manifest            []ManifestItem
	PayloadsCount       int      // payloads/@count as declared; -1 when absent
	PayloadIDs          []string // payload/@id, in order (one per payload element)

	// Problems are ITK conformance problems found while unwrapping (the 111 adaptor's checks:
	// tracking id present, SOAP Action = ITK service, manifest count = payload count = items,
	// manifest ids = payload ids in order). The documents are still returned; see [Envelope.Check].
	Problems []string
}

// Interaction returns the handlingSpecification value of the ITK interaction key, or "".
func (e *Envelope) Interaction() string {
	for _, s := range e.Specs {
		if s.Key == InteractionKey {
			return s.Value
		}
	}
	return ""
}

// Check returns nil for a conformant envelope, else an error wrapping ErrEnvelope that lists
// every problem: what an ITK endpoint answers with error code 1000.
func (e *Envelope) Check() error {
	if e == nil || len(e.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrEnvelope, strings.Join(e.Problems, "; "))
}

// Params returns the envelope facts as mapping run parameters (param('itk.…')). Every key is
// present, empty when the input has no such layer, so mappings need no special case:
// itk.layer, itk.messageid, itk.action, itk.to, itk.replyto, itk.service, itk.trackingid,
// itk.interaction, itk.senderaddress, itk.auditidentity, itk.address (first addresslist
// address), itk.ods (the ODS code of the first ods address), itk.manifestcount,
// itk.payloadcount (payload elements present), itk.profileid (first manifest item).
func (e *Envelope) Params() map[string]string {
	p := map[string]string{}
	for _, k := range []string{"layer", "messageid", "action", "to", "replyto", "service", "trackingid", "interaction", "senderaddress", "auditidentity", "address", "ods", "manifestcount", "payloadcount", "profileid"} {
		p["itk."+k] = ""
	}
	if e == nil {
		p["itk.layer"] = string(LayerCDA)
		return p
	}
	p["itk.layer"] = string(e.Layer)
	p["itk.messageid"] = e.MessageID
	p["itk.action"] = e.Action
	p["itk.to"] = e.To
	p["itk.replyto"] = e.ReplyTo
	p["itk.service"] = e.Service
	p["itk.trackingid"] = e.TrackingID
	p["itk.interaction"] = e.Interaction()
	p["itk.senderaddress"] = e.SenderAddress
	p["itk.auditidentity"] = e.AuditIdentity
	if len(e.Addresses) > 0 {
		p["itk.address"] = e.Addresses[0].URI
	}
	for _, a := range e.Addresses {
		if rest, ok := strings.CutPrefix(a.URI, "urn:nhs-uk:addressing:ods:"); ok {
			p["itk.ods"], _, _ = strings.Cut(rest, ":")
			break
		}
	}
	if e.Layer != LayerCDA {
		if e.ManifestCount >= 0 {
			p["itk.manifestcount"] = strconv.Itoa(e.ManifestCount)
		}
		p["itk.payloadcount"] = strconv.Itoa(len(e.PayloadIDs))
	}
	if len(e.Manifest) > 0 {
		p["itk.profileid"] = e.Manifest[0].ProfileID
	}
	return p
}

// SniffLayer returns the layer of an input from its first bytes (up to the root element's
// name): LayerSOAP for an Envelope root, LayerITK for DistributionEnvelope, LayerCDA for
// ClinicalDocument, LayerNone otherwise.
func SniffLayer(head []byte) Layer {
	name := rootName(head)
	switch name[strings.IndexByte(name, ':')+1:] {
	case "Envelope":
		return LayerSOAP
	case "DistributionEnvelope":
		return LayerITK
	case "ClinicalDocument":
		return LayerCDA
	}
	return LayerNone
}

// rootName is the qualified name of the first element of head, skipping the XML
// declaration, processing instructions, comments and a byte order mark.
func rootName(head []byte) string {
	s := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("<?")):
			i := bytes.Index(s, []byte("?>"))
			if i < 0 {
				return ""
			}
			s = s[i+2:]
		case bytes.HasPrefix(s, []byte("<!--")):
			i := bytes.Index(s, []byte("-->"))
			if i < 0 {
				return ""
			}
			s = s[i+3:]
		case bytes.HasPrefix(s, []byte("<")) && len(s) > 1 && s[1] != '!':
			end := bytes.IndexAny(s, " \t\r\n/>")
			if end < 0 {
				return ""
			}
			return string(s[1:end])
		default:
			return ""
		}
	}
}

// ReadEnvelope reads one whole input — a SOAP request, a DistributionEnvelope or a bare
// ClinicalDocument — and returns its envelope facts and its ClinicalDocuments, in payload
// order. maxSize bounds the input (0: 64 MiB). A DOCTYPE is refused. The documents share one
// XML tree whose root is the outermost layer; Document.Index is the payload position.
func ReadEnvelope(r io.Reader, maxSize int) (*Envelope, []*Document, error) {
	if maxSize <= 0 {
		maxSize = 64 << 20
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(maxSize)+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxSize {
		return nil, nil, &ParseError{Path: "/", Line: 1, Err: ErrTooLarge}
	}
	if bytes.Contains(data, []byte("<!DOCTYPE")) {
		return nil, nil, &ParseError{Path: "/", Line: 1, Err: ErrDoctype}
	}
	root, err := xmlquery.ParseWithOptions(bytes.NewReader(data), xmlquery.ParserOptions{WithLineNumbers: true})
	if err != nil {
		return nil, nil, &ParseError{Path: "/", Line: 1, Err: &syntaxError{msg: strings.TrimPrefix(err.Error(), "xmlquery: "), cause: err}}
	}
	var top *xmlquery.Node
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if n.Type == xmlquery.ElementNode {
			top = n
			break
		}
	}
	if top == nil {
		return nil, nil, &ParseError{Path: "/", Line: 1, Err: ErrNotClinicalDocument}
	}
	normalizeITK(top)
	env := &Envelope{ManifestCount: -1, PayloadsCount: -1}
	var dist *xmlquery.Node
	var cdas []*xmlquery.Node
	switch top.Data {
	case "Envelope":
		env.Layer = LayerSOAP
		if h := child(top, "Header"); h != nil {
			env.MessageID = text(child(h, "MessageID"))
			env.Action = text(child(h, "Action"))
			env.To = text(child(h, "To"))
			if rt := child(h, "ReplyTo"); rt != nil {
				env.ReplyTo = text(child(rt, "Address"))
			}
		}
		if env.MessageID == "" {
			env.Problems = append(env.Problems, "SOAP MessageID missing")
		}
		body := child(top, "Body")
		if body != nil {
			dist = child(body, "DistributionEnvelope")
			if dist == nil {
				if cd := child(body, "ClinicalDocument"); cd != nil {
					cdas = append(cdas, cd) // a SOAP Body with a bare document: no ITK layer
					env.Problems = append(env.Problems, "no DistributionEnvelope in the SOAP Body")
				}
			}
		}
		if dist == nil && cdas == nil {
			return env, nil, fmt.Errorf("%w: no DistributionEnvelope in the SOAP Body", ErrEnvelope)
		}
	case "DistributionEnvelope":
		env.Layer = LayerITK
		dist = top
	case "ClinicalDocument":
		env.Layer = LayerCDA
		cdas = append(cdas, top)
	default:
		return nil, nil, &ParseError{Path: "/" + top.Data, Line: 1, Err: ErrNotClinicalDocument}
	}
	if dist != nil {
		cdas = readDistribution(env, dist)
		if len(cdas) == 0 {
			return env, nil, fmt.Errorf("%w: no ClinicalDocument in any payload", ErrEnvelope)
		}
	}
	docs := make([]*Document, len(cdas))
	for i, x := range cdas {
		docs[i] = &Document{root: root, elem: x, index: i, line: 1}
	}
	return env, docs, nil
}

// readDistribution fills env from an ITK DistributionEnvelope and returns the
// ClinicalDocuments of its payloads.
func readDistribution(env *Envelope, dist *xmlquery.Node) []*xmlquery.Node {
	h := child(dist, "header")
	if h != nil {
		env.Service = attr(h, "service")
		env.TrackingID = attr(h, "trackingid")
		if al := child(h, "addresslist"); al != nil {
			for _, a := range children(al, "address") {
				env.Addresses = append(env.Addresses, Address{URI: attr(a, "uri"), Type: attr(a, "type")})
			}
		}
		if ai := child(h, "auditIdentity"); ai != nil {
			env.AuditIdentity = attrOf(child(ai, "id"), "uri")
		}
		if m := child(h, "manifest"); m != nil {
			if n, err := strconv.Atoi(attr(m, "count")); err == nil {
				env.ManifestCount = n
			}
			for _, it := range children(m, "manifestitem") {
				env.Manifest = append(env.Manifest, ManifestItem{ID: attr(it, "id"), ProfileID: attr(it, "profileid"), MimeType: attr(it, "mimetype")})
			}
		}
		env.SenderAddress = attrOf(child(h, "senderAddress"), "uri")
		if hs := child(h, "handlingSpecification"); hs != nil {
			for _, s := range children(hs, "spec") {
				env.Specs = append(env.Specs, Spec{Key: attr(s, "key"), Value: attr(s, "value")})
			}
		}
	} else {
		env.Problems = append(env.Problems, "ITK header missing")
	}
	var cdas []*xmlquery.Node
	if ps := child(dist, "payloads"); ps != nil {
		if n, err := strconv.Atoi(attr(ps, "count")); err == nil {
			env.PayloadsCount = n
		}
		for _, p := range children(ps, "payload") {
			env.PayloadIDs = append(env.PayloadIDs, attr(p, "id"))
			if cd := child(p, "ClinicalDocument"); cd != nil {
				cdas = append(cdas, cd)
			} else {
				env.Problems = append(env.Problems, fmt.Sprintf("payload %q holds no ClinicalDocument", attr(p, "id")))
			}
		}
	}
	// The 111 adaptor's ITK conformance checks (ItkValidator), as problems.
	if env.TrackingID == "" {
		env.Problems = append(env.Problems, "ITK trackingid missing")
	}
	if env.Layer == LayerSOAP && env.Action != "" && env.Service != env.Action {
		env.Problems = append(env.Problems, "SOAP Action and ITK service differ")
	}
	n := len(env.PayloadIDs)
	if env.ManifestCount != len(env.Manifest) {
		env.Problems = append(env.Problems, fmt.Sprintf("manifest count %s and manifest items %d don't match", countText(env.ManifestCount), len(env.Manifest)))
	}
	if env.ManifestCount != n || env.PayloadsCount != n {
		env.Problems = append(env.Problems, fmt.Sprintf("Manifest count and payload count don't match (manifest %s, payloads %s, payload elements %d)", countText(env.ManifestCount), countText(env.PayloadsCount), n))
	}
	if len(env.Manifest) == n {
		for i, it := range env.Manifest {
			if it.ID != env.PayloadIDs[i] {
				env.Problems = append(env.Problems, fmt.Sprintf("manifest item %d id differs from payload id", i+1))
			}
		}
	}
	return cdas
}

func countText(n int) string {
	if n < 0 {
		return "absent"
	}
	return strconv.Itoa(n)
}

func children(n *xmlquery.Node, name string) []*xmlquery.Node {
	var out []*xmlquery.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode && c.Data == name && c.Prefix == "" {
			out = append(out, c)
		}
	}
	return out
}

func attrOf(n *xmlquery.Node, name string) string {
	if n == nil {
		return ""
	}
	return attr(n, name)
}

func text(n *xmlquery.Node) string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.InnerText())
}

// envelopeNamespaces are the namespaces whose elements match unprefixed names in paths.
var envelopeNamespaces = map[string]bool{
	namespace: true, NamespaceSOAP11: true, NamespaceSOAP12: true, NamespaceWSA: true,
	NamespaceITK: true, NamespaceNPFITLC: true,
}

// normalizeITK clears the prefix of every element of the CDA, SOAP, WS-Addressing, ITK and
// NPFIT localisation namespaces below and including n (JAXB-style ns2:/ns3: prefixes, itk:,
// npfitlc:, a local default namespace: all read alike).
func normalizeITK(n *xmlquery.Node) {
	if n.Type == xmlquery.ElementNode && n.Prefix != "" && envelopeNamespaces[n.NamespaceURI] {
		n.Prefix = ""
	}
	if n.Type == xmlquery.ElementNode {
		for i, a := range n.Attr {
			if a.Name.Local == "value" && a.Name.Space == "" {
				n.Attr[i].Value = fixOffset(a.Value)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode {
			normalizeITK(c)
		}
	}
}

// fixOffset completes the two-digit UTC offsets NHS systems write in CDA TS values
// ("201701012000+00", as the 111 adaptor's DateUtil accepts them) to the HL7 form "+0000";
// any other value is returned as it is.
func fixOffset(v string) string {
	t := strings.TrimSpace(v)
	n := len(t)
	if n < 11 || (t[n-3] != '+' && t[n-3] != '-') || !isDigits(t[n-2:]) {
		return v
	}
	main := t[:n-3]
	if i := strings.IndexByte(main, '.'); i >= 0 {
		if !isDigits(main[i+1:]) {
			return v
		}
		main = main[:i]
	}
	if len(main) < 8 || len(main) > 14 || !isDigits(main) {
		return v
	}
	return t + "00"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NormalizeNHS makes the NPFIT localisation elements of a document read by [Reader]
// (npfitlc:messageType, npfitlc:contentId) match unprefixed names and completes two-digit
// TS offsets, as [ReadEnvelope] does.
func (d *Document) NormalizeNHS() { normalizeITK(d.elem) }

// MessageType returns the NPFIT localisation messageType/@extension of the document
// (POCD_MT200001GB02 for NHS 111 / IUC reports), whatever its prefix, or "".
func (d *Document) MessageType() string {
	for c := d.elem.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode && c.Data == "messageType" && (c.NamespaceURI == NamespaceNPFITLC || c.Prefix == "npfitlc") {
			return attr(c, "extension")
		}
	}
	return ""
}
