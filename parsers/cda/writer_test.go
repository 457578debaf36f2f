package cda_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

func TestModel(t *testing.T) {
	cs := cda.Classes()
	if len(cs) < 40 {
		t.Fatalf("%d classes in model.txt", len(cs))
	}
	obs := cda.LookupClass("Observation")
	if obs == nil {
		t.Fatal("no Observation class")
	}
	// Schema order: templateId before id before code before value.
	order := func(name string) int { return obs.Member(name).Order }
	if !(order("@classCode") < order("templateId") && order("templateId") < order("id") && order("code") < order("value") && order("value") < order("entryRelationship")) {
		t.Error("Observation members are not in schema order")
	}
	if m := obs.Member("value"); m.Class != "ANY" || !m.Many || m.Kind != cda.Child {
		t.Errorf("Observation.value = %+v", m)
	}
	if m := cda.LookupClass("Patient").Member("sdtc:raceCode"); m == nil || m.XML != "sdtc:raceCode" {
		t.Errorf("Patient.sdtc:raceCode = %+v", m)
	}
	if m := cda.LookupClass("ANY").Member("@xsi:type"); m == nil || m.Kind != cda.Attribute || m.XML != "xsi:type" {
		t.Errorf("ANY.@xsi:type = %+v", m)
	}
}

// indent matches the indentation Encode writes between elements.
var indent = regexp.MustCompile(`\n *`)

func TestNarrativeFromXHTML(t *testing.T) {
	tests := []struct {
		name, div, want string
	}{
		{"paragraph", `<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b</p></div>`, `<paragraph>a &amp; b</paragraph>`},
		{"styles", `<div><p><b>x</b> <i>y</i> <u>z</u> <span class="Bold other">w</span></p></div>`,
			`<paragraph><content styleCode="Bold">x</content> <content styleCode="Italics">y</content> <content styleCode="Underline">z</content> <content styleCode="Bold">w</content></paragraph>`},
		{"lists", `<div><ul><li>a</li></ul><ol><li>b</li></ol></div>`, `<list><item>a</item></list><list listType="ordered"><item>b</item></list>`},
		{"table rows without tbody", `<div><table><tr><td>1</td></tr></table></div>`, `<table><tbody><tr><td>1</td></tr></tbody></table>`},
		{"block in inline", `<div><p>a<ul><li>b</li></ul></p></div>`, `<paragraph>ab<br/></paragraph>`},
		{"list in span", `<div><span>a<ul><li>b</li></ul>c</span></div>`, `<content>ab<br/>c</content>`},
		{"image dropped, link kept", `<div><p><img src="x.png"/><a href="https://x.org/">l</a><a href="javascript:x()">j</a></p></div>`,
			`<paragraph><linkHtml href="https://x.org/">l</linkHtml><linkHtml>j</linkHtml></paragraph>`},
		{"ids", `<div><p id="p1">a</p><p id="1bad">b</p></div>`, `<paragraph ID="p1">a</paragraph><paragraph>b</paragraph>`},
		{"parts out of place", `<div><li>a</li><td>b</td><ul>c<span>d</span><li>e</li></ul><table><p>f</p><tr><li>g</li><td>h</td></tr></table></div>`,
			`ab<list><item>e</item></list><table><tbody><tr><td>h</td></tr></tbody></table>`},
		{"not XML", `<div><p>a</b></div`, `<paragraph>a</paragraph>`},
		{"empty", `<div xmlns="http://www.w3.org/1999/xhtml"> </div>`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := &cda.Node{Name: "text", Children: cda.NarrativeFromXHTML(tt.div)}
			b, err := cda.Encode(&cda.Node{Name: "ClinicalDocument", Children: []*cda.Node{text}})
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			i, j := strings.Index(got, "<text>"), strings.Index(got, "</text>")
			if i < 0 || j < 0 {
				got = ""
			} else {
				got = got[i+len("<text>") : j]
			}
			got = indent.ReplaceAllString(got, "")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if _, err := cda.NewReader(bytes.NewReader(b)).Read(); err != nil {
				t.Errorf("does not parse: %v", err)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	doc := &cda.Node{Name: "ClinicalDocument", Children: []*cda.Node{
		{Name: "title", Children: []*cda.Node{cda.TextNode("A <b> & \"c\"\x01")}},
		{Name: "id", Attrs: []cda.Attr{{Name: "extension", Value: "x\"<&>\ny"}}},
		{Name: "sdtc:raceCode", Attrs: []cda.Attr{{Name: "code", Value: "1"}}},
	}}
	b, err := cda.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sdtc="urn:hl7-org:sdtc">
  <title>A &lt;b&gt; &amp; "c"</title>
  <id extension="x&quot;&lt;&amp;&gt;&#10;y"/>
  <sdtc:raceCode code="1"/>
</ClinicalDocument>
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if _, err := cda.Encode(&cda.Node{Name: "a b"}); err == nil {
		t.Error("a bad element name was written")
	}
}

// FuzzNarrativeFromXHTML checks that any XHTML gives narrative that writes as XML the reader
// takes back.
func FuzzNarrativeFromXHTML(f *testing.F) {
	for _, s := range []string{
		`<div xmlns="http://www.w3.org/1999/xhtml"><p>a <b>b</b></p><ul><li>c</li></ul></div>`,
		`<div><table><tr><td>1</td><td><p>x</p></td></tr></table><span><div>y</div></span></div>`,
		`<div><a href="#x">l</a><img src="y"/><h1 id="h">t</h1>&nbsp;&lt;</div>`,
		`<p>unclosed <b>`, "\x00<div>\xff</div>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, div string) {
		text := &cda.Node{Name: "text", Children: cda.NarrativeFromXHTML(div)}
		b, err := cda.Encode(&cda.Node{Name: "ClinicalDocument", Children: []*cda.Node{text}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cda.NewReader(bytes.NewReader(b)).Read(); err != nil {
			t.Fatalf("%q gives XML that does not parse: %v\n%s", div, err, b)
		}
	})
}

// Check accepts what Encode writes and what Reader reads, and names what is wrong otherwise.
func TestCheck(t *testing.T) {
	good, err := cda.Encode(&cda.Node{Name: "ClinicalDocument", Children: []*cda.Node{{Name: "title", Children: []*cda.Node{cda.TextNode("a < b & c")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cda.Check(good); err != nil {
		t.Errorf("Check(Encode(…)): %v\n%s", err, good)
	}
	for _, tt := range []struct {
		doc  string
		want error
	}{
		{`<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</titl></ClinicalDocument>`, cda.ErrSyntax},
		{`<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&bogus;</title></ClinicalDocument>`, cda.ErrSyntax},
		{`<ClinicalDocument xmlns="urn:hl7-org:v3"><title>`, cda.ErrSyntax},
		{`<ClinicalDocument><title/></ClinicalDocument>`, cda.ErrNotClinicalDocument},
		{`<Other xmlns="urn:hl7-org:v3"/>`, cda.ErrNotClinicalDocument},
		{``, cda.ErrTruncated},
	} {
		if err := cda.Check([]byte(tt.doc)); !errors.Is(err, tt.want) {
			t.Errorf("Check(%q) = %v, want %v", tt.doc, err, tt.want)
		}
	}
}
