package cda

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

const itkCDA = `<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation">
<npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="POCD_MT200001GB02"/>
<id root="A709A442-3CF4-476E-8377-376500E829C9"/><code code="819551000000100"/>
<effectiveTime value="201701012000+00"/></ClinicalDocument>`

func itkEnvelope(manifestCount, payloads int, soap bool) string {
	var b strings.Builder
	if soap {
		b.WriteString(`<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action>urn:nhs-itk:services:201005:SendNHS111Report-v2-0</a:Action><a:MessageID>2B77B3F5-3016-4A6D-821F-152CE420E58D</a:MessageID><a:To>http://x/report</a:To><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo></s:Header><s:Body>`)
	}
	b.WriteString(`<itk:DistributionEnvelope xmlns:itk="urn:nhs-itk:ns:201005"><itk:header service="urn:nhs-itk:services:201005:SendNHS111Report-v2-0" trackingid="7D6F23E0-AE1A-11DB-9808-B18E1E0994CD"><itk:addresslist><itk:address uri="urn:nhs-uk:addressing:ods:EM396"/><itk:address type="2.16.840.1.113883.2.1.3.2.4.18.44" uri="2000072936"/></itk:addresslist><itk:auditIdentity><itk:id uri="urn:nhs-uk:identity:ods:5L399"/></itk:auditIdentity>`)
	b.WriteString(`<itk:manifest count="` + itoa(manifestCount) + `">`)
	for i := 0; i < manifestCount; i++ {
		b.WriteString(`<itk:manifestitem id="p` + itoa(i) + `" profileid="urn:nhs-en:profile:nhs111CDADocument-v2-0"/>`)
	}
	b.WriteString(`</itk:manifest><itk:senderAddress uri="urn:nhs-uk:addressing:ods:5L399"/><itk:handlingSpecification><itk:spec key="urn:nhs-itk:ns:201005:interaction" value="urn:nhs-itk:interaction:primaryOutofHourRecipientNHS111CDADocument-v2-0"/></itk:handlingSpecification></itk:header>`)
	b.WriteString(`<itk:payloads count="` + itoa(payloads) + `">`)
	for i := 0; i < payloads; i++ {
		b.WriteString(`<itk:payload id="p` + itoa(i) + `">` + itkCDA + `</itk:payload>`)
	}
	b.WriteString(`</itk:payloads></itk:DistributionEnvelope>`)
	if soap {
		b.WriteString(`</s:Body></s:Envelope>`)
	}
	return b.String()
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestSniffLayer(t *testing.T) {
	for in, want := range map[string]Layer{
		"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- c --><s:Envelope xmlns:s='x'>": LayerSOAP,
		"<SOAP-ENV:Envelope>":         LayerSOAP,
		"<DistributionEnvelope xmlns": LayerITK,
		"<itk:DistributionEnvelope>":  LayerITK,
		"  <ClinicalDocument>":        LayerCDA,
		"<cda:ClinicalDocument ":      LayerCDA,
		"<Bundle>":                    LayerNone,
		"MSH|^~\\&":                   LayerNone,
		"":                            LayerNone,
	} {
		if got := SniffLayer([]byte(in)); got != want {
			t.Errorf("SniffLayer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadEnvelopeSOAP(t *testing.T) {
	env, docs, err := ReadEnvelope(strings.NewReader(itkEnvelope(1, 1, true)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if env.Layer != LayerSOAP || env.MessageID != "2B77B3F5-3016-4A6D-821F-152CE420E58D" || env.TrackingID != "7D6F23E0-AE1A-11DB-9808-B18E1E0994CD" ||
		env.Service != env.Action || env.Interaction() != "urn:nhs-itk:interaction:primaryOutofHourRecipientNHS111CDADocument-v2-0" ||
		len(env.Addresses) != 2 || env.Addresses[1].Type != "2.16.840.1.113883.2.1.3.2.4.18.44" || env.AuditIdentity != "urn:nhs-uk:identity:ods:5L399" ||
		env.ManifestCount != 1 || len(env.Manifest) != 1 || len(env.PayloadIDs) != 1 || env.ReplyTo == "" {
		t.Errorf("envelope facts: %+v", env)
	}
	if err := env.Check(); err != nil {
		t.Errorf("conformant envelope: %v", err)
	}
	if len(docs) != 1 || docs[0].MessageType() != "POCD_MT200001GB02" || docs[0].Code() != "819551000000100" {
		t.Fatalf("documents: %d", len(docs))
	}
	// Two-digit offsets are completed.
	if got := docs[0].EffectiveTime(); got != "201701012000+0000" {
		t.Errorf("effectiveTime %q", got)
	}
	p := env.Params()
	if p["itk.ods"] != "EM396" || p["itk.payloadcount"] != "1" || p["itk.manifestcount"] != "1" || p["itk.layer"] != "soap" {
		t.Errorf("params: %v", p)
	}
	// The envelope is reachable from the document with ancestor:: paths, prefixes or not.
	for path, want := range map[string]string{
		"ancestor::Envelope/Header/MessageID":               "2B77B3F5-3016-4A6D-821F-152CE420E58D",
		"ancestor::DistributionEnvelope/header/@trackingid": "7D6F23E0-AE1A-11DB-9808-B18E1E0994CD",
		"ancestor::DistributionEnvelope/header/handlingSpecification/spec[@key='urn:nhs-itk:ns:201005:interaction']/@value": "urn:nhs-itk:interaction:primaryOutofHourRecipientNHS111CDADocument-v2-0",
		"ancestor::payload/@id":  "p0",
		"messageType/@extension": "POCD_MT200001GB02",
	} {
		if got := selectText(t, docs[0].Root(), path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func selectText(t *testing.T, n tree.Node, p string) string {
	t.Helper()
	c, err := Schema{}.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := c.Select(n, nil)
	if len(out) == 0 {
		return ""
	}
	return out[0].Text()
}

func TestReadEnvelopeCounts(t *testing.T) {
	// Bare DistributionEnvelope, manifest says 2, one payload: documents still returned, the
	// mismatch is a problem (Check fails: ITK error 1000).
	env, docs, err := ReadEnvelope(strings.NewReader(itkEnvelope(2, 1, false)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if env.Layer != LayerITK || len(docs) != 1 {
		t.Fatalf("layer %s, %d documents", env.Layer, len(docs))
	}
	if err := env.Check(); err == nil || !errors.Is(err, ErrEnvelope) || !strings.Contains(err.Error(), "Manifest count and payload count don't match") {
		t.Errorf("Check = %v", err)
	}
	// Three payloads, all consistent.
	env, docs, err = ReadEnvelope(strings.NewReader(itkEnvelope(3, 3, true)), 0)
	if err != nil || len(docs) != 3 || env.Check() != nil {
		t.Fatalf("3 payloads: %v, %d docs, %v", err, len(docs), env.Check())
	}
	for i, d := range docs {
		if d.Index() != i {
			t.Errorf("doc %d index %d", i, d.Index())
		}
	}
}

func TestReadEnvelopeBad(t *testing.T) {
	for name, in := range map[string]string{
		"no distribution envelope": `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`,
		"no document":              `<DistributionEnvelope xmlns="urn:nhs-itk:ns:201005"><header trackingid="t"/><payloads count="1"><payload id="a">text</payload></payloads></DistributionEnvelope>`,
		"doctype":                  `<!DOCTYPE x [<!ENTITY e "e">]><DistributionEnvelope/>`,
		"malformed":                `<DistributionEnvelope><header>`,
		"other root":               `<Bundle/>`,
	} {
		if _, _, err := ReadEnvelope(strings.NewReader(in), 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := ReadEnvelope(strings.NewReader(itkEnvelope(1, 1, true)), 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size limit: %v", err)
	}
}

func TestReadEnvelopeBareCDA(t *testing.T) {
	env, docs, err := ReadEnvelope(strings.NewReader(itkCDA), 0)
	if err != nil || env.Layer != LayerCDA || len(docs) != 1 || env.Check() != nil {
		t.Fatalf("bare CDA: %v %+v", err, env)
	}
	var none *Envelope
	if p := none.Params(); p["itk.layer"] != "cda" || p["itk.trackingid"] != "" {
		t.Errorf("nil envelope params: %v", p)
	}
}

func TestFixOffset(t *testing.T) {
	for in, want := range map[string]string{
		"201701012000+00":     "201701012000+0000",
		"20201030182905-01":   "20201030182905-0100",
		"20201030182905.5+01": "20201030182905.5+0100",
		"201701012000+0100":   "201701012000+0100",
		"20170101":            "20170101",
		"tel:0123456+00":      "tel:0123456+00",
		"12345678+00":         "12345678+0000",
		"1.5+00":              "1.5+00",
	} {
		if got := fixOffset(in); got != want {
			t.Errorf("fixOffset(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadEnvelopeCorpus unwraps every ITK request of the shared corpus (skipped without it).
func TestReadEnvelopeCorpus(t *testing.T) {
	dir := "../../../shared/corpus/nhs-cda/itk111"
	files, _ := filepath.Glob(filepath.Join(dir, "*-request.xml"))
	if len(files) == 0 {
		t.Skip("shared corpus not beside this checkout")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		env, docs, err := ReadEnvelope(fh, 0)
		fh.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if env.Layer != LayerSOAP || env.TrackingID == "" || len(docs) == 0 || len(docs) != len(env.PayloadIDs) {
			t.Errorf("%s: %s, %d docs", filepath.Base(f), env.Layer, len(docs))
		}
		if err := env.Check(); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		for _, d := range docs {
			if d.MessageType() != "POCD_MT200001GB02" {
				t.Errorf("%s: messageType %q", filepath.Base(f), d.MessageType())
			}
		}
	}
}
