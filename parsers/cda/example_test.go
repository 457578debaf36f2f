package cda_test

import (
	"fmt"
	"strings"

	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

func Example() {
	doc := `<ClinicalDocument xmlns="urn:hl7-org:v3">
  <templateId root="2.16.840.1.113883.10.20.22.1.2"/>
  <code code="34133-9" codeSystem="2.16.840.1.113883.6.1"/>
  <component><structuredBody><component><section>
    <templateId root="2.16.840.1.113883.10.20.22.2.6.1"/>
    <title>Allergies</title>
    <text><paragraph styleCode="Bold">No known allergies</paragraph></text>
  </section></component></structuredBody></component>
</ClinicalDocument>`
	r := cda.NewReader(strings.NewReader(doc))
	d, err := r.Read()
	if err != nil {
		panic(err)
	}
	fmt.Println(d.TemplateIDs(), d.Code())
	p, _ := cda.Schema{}.Compile("component/structuredBody/component/section[tpl('2.16.840.1.113883.10.20.22.2.6')]")
	x, _ := cda.Schema{}.Compile("xhtml(text)")
	for _, s := range p.Select(d.Root(), nil) {
		fmt.Println(s.Location())
		fmt.Println(x.Select(s, nil)[0].Text())
	}
	// Output:
	// [2.16.840.1.113883.10.20.22.1.2] 34133-9
	// /ClinicalDocument/component[1]/structuredBody[1]/component[1]/section[1] (line 4)
	// <div xmlns="http://www.w3.org/1999/xhtml"><p class="Bold" style="font-weight: bold">No known allergies</p></div>
}

func ExampleEncode() {
	text := &cda.Node{Name: "text", Children: cda.NarrativeFromXHTML(
		`<div xmlns="http://www.w3.org/1999/xhtml"><p>Penicillin: <b>hives</b></p></div>`)}
	section := &cda.Node{Name: "section", Children: []*cda.Node{
		{Name: "code", Attrs: []cda.Attr{{Name: "code", Value: "48765-2"}, {Name: "codeSystem", Value: "2.16.840.1.113883.6.1"}}},
		{Name: "title", Children: []*cda.Node{cda.TextNode("Allergies & Intolerances")}},
		text,
	}}
	b, err := cda.Encode(&cda.Node{Name: "ClinicalDocument", Children: []*cda.Node{section}})
	if err != nil {
		panic(err)
	}
	fmt.Print(string(b))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	//   <section>
	//     <code code="48765-2" codeSystem="2.16.840.1.113883.6.1"/>
	//     <title>Allergies &amp; Intolerances</title>
	//     <text>
	//       <paragraph>Penicillin: <content styleCode="Bold">hives</content></paragraph>
	//     </text>
	//   </section>
	// </ClinicalDocument>
}
