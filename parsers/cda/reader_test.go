package cda_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

const minimal = `<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="2.16.840.1.113883.10.20.22.1.1"/><code code="34133-9"/><effectiveTime value="20240101"/></ClinicalDocument>`

func readAll(t *testing.T, in string) (docs []*cda.Document, errs []error) {
	t.Helper()
	r := cda.NewReader(strings.NewReader(in))
	last := int64(-1)
	for i := 0; i < 100; i++ {
		d, err := r.Read()
		if r.InputOffset() < last {
			t.Fatalf("InputOffset went back from %d to %d", last, r.InputOffset())
		}
		last = r.InputOffset()
		if err == io.EOF {
			return
		}
		if err != nil {
			errs = append(errs, err)
			var pe *cda.ParseError
			if !errors.As(err, &pe) {
				return
			}
			continue
		}
		docs = append(docs, d)
	}
	t.Fatal("reader does not end")
	return
}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		docs     int
		err      error // the first error expected, if any
		errLine  int
		firstTpl string
	}{
		{name: "one document", in: minimal, docs: 1, firstTpl: "2.16.840.1.113883.10.20.22.1.1"},
		{name: "declaration and BOM", in: "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + minimal, docs: 1},
		{name: "two documents", in: minimal + "\n" + minimal, docs: 2},
		{name: "no namespace", in: `<ClinicalDocument><templateId root="1.2"/></ClinicalDocument>`, docs: 1, firstTpl: "1.2"},
		{name: "prefixed namespace", in: `<v3:ClinicalDocument xmlns:v3="urn:hl7-org:v3"><v3:templateId root="1.2"/></v3:ClinicalDocument>`, docs: 1, firstTpl: "1.2"},
		{name: "undeclared xsi and sdtc", in: `<ClinicalDocument><templateId root="1.2"/><x xsi:type="CD"/><sdtc:raceCode code="1"/></ClinicalDocument>`, docs: 1},
		{name: "comment with tags", in: `<ClinicalDocument><!-- </ClinicalDocument> --><templateId root="1.2"/></ClinicalDocument>`, docs: 1},
		{name: "entity declaration", in: "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n" + minimal, docs: 1, err: cda.ErrDoctype, errLine: 1},
		{name: "external DTD", in: `<!DOCTYPE ClinicalDocument SYSTEM "http://example.org/cda.dtd">` + minimal, docs: 1, err: cda.ErrDoctype, errLine: 1},
		{name: "plain DOCTYPE", in: `<!DOCTYPE ClinicalDocument>` + minimal, docs: 1},
		{name: "not a document", in: "<section/>\n" + minimal, docs: 1, err: cda.ErrNotClinicalDocument, errLine: 1},
		{name: "malformed then good", in: "<ClinicalDocument>\n<a></b>\n</ClinicalDocument>\n" + minimal, docs: 1, err: cda.ErrSyntax, errLine: 2},
		{name: "truncated", in: "<ClinicalDocument>\n<a>", err: cda.ErrTruncated, errLine: 1},
		{name: "text outside", in: "junk\n" + minimal, docs: 1, err: cda.ErrText, errLine: 1},
		{name: "empty", in: "  \n "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, errs := readAll(t, tt.in)
			if len(docs) != tt.docs {
				t.Errorf("%d documents, want %d (errors %v)", len(docs), tt.docs, errs)
			}
			if tt.err == nil && len(errs) > 0 {
				t.Errorf("unexpected errors %v", errs)
			}
			if tt.err != nil {
				if len(errs) == 0 || !errors.Is(errs[0], tt.err) {
					t.Fatalf("errors %v, want %v", errs, tt.err)
				}
				var pe *cda.ParseError
				if errors.As(errs[0], &pe) && pe.Line != tt.errLine {
					t.Errorf("error line %d, want %d", pe.Line, tt.errLine)
				}
			}
			if tt.firstTpl != "" && (len(docs) == 0 || len(docs[0].TemplateIDs()) == 0 || docs[0].TemplateIDs()[0] != tt.firstTpl) {
				t.Errorf("templateIds do not read %s", tt.firstTpl)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	r := cda.NewReader(strings.NewReader(`<ClinicalDocument>` + strings.Repeat("<a>x</a>", 1000) + `</ClinicalDocument>` + minimal))
	r.MaxDocumentSize = 1000
	if _, err := r.Read(); !errors.Is(err, cda.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatalf("the document after an oversized one: %v", err)
	}
}

func TestPaths(t *testing.T) {
	in := `<ClinicalDocument xmlns="urn:hl7-org:v3">
<id root="2.16.840.1.113883.19" extension="42"/>
<id nullFlavor="NI"/>
<title>  A   title
</title>
<component><structuredBody><component><section>
<templateId root="2.16.840.1.113883.10.20.22.2.6" extension="2015-08-01"/>
<text><table><tr ID="r1"><td>Peanut <content styleCode="Italics">severe</content></td></tr></table><list listType="ordered"><item>one</item></list></text>
<entry><observation><code><originalText><reference value="#r1"/></originalText></code></observation></entry>
</section></component></structuredBody></component>
</ClinicalDocument>`
	docs, errs := readAll(t, in)
	if len(docs) != 1 {
		t.Fatal(errs)
	}
	root := docs[0].Root()
	tests := []struct {
		name, path string
		want       []string
	}{
		{name: "attribute", path: "id/@extension", want: []string{"42"}},
		{name: "null flavor not selected", path: "id", want: []string{""}},
		{name: "element text collapsed", path: "title", want: []string{"A title"}},
		{name: "template family", path: "component/structuredBody/component/section[tpl('2.16.840.1.113883.10.20.22.2.6')]/templateId/@extension", want: []string{"2015-08-01"}},
		{name: "template family by .1", path: "component/structuredBody/component/section[tpl('2.16.840.1.113883.10.20.22.2')]", want: nil},
		{name: "ref and text", path: "text(ref(//originalText/reference/@value))", want: []string{"Peanut severe"}},
		{name: "xhtml", path: "xhtml(//section/text)", want: []string{`<div xmlns="http://www.w3.org/1999/xhtml"><table><tbody><tr id="r1"><td>Peanut <span class="Italics" style="font-style: italic">severe</span></td></tr></tbody></table><ol><li>one</li></ol></div>`}},
		{name: "xhtml of a row", path: "xhtml(ref(//originalText/reference/@value))", want: []string{`<div xmlns="http://www.w3.org/1999/xhtml"><table><tbody><tr id="r1"><td>Peanut <span class="Italics" style="font-style: italic">severe</span></td></tr></tbody></table></div>`}},
		{name: "missing", path: "nothing/here", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cda.Schema{}.Compile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range p.Select(root, nil) {
				got = append(got, n.Text())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "count(id)", "id[", "tpl(1.2)"} {
		if _, err := (cda.Schema{}).Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(minimal)
	f.Add(minimal + minimal)
	f.Add("<!DOCTYPE a [<!ENTITY b 'c'>]><ClinicalDocument>&b;</ClinicalDocument>")
	files, _ := filepath.Glob("../../../shared/corpus/ccda/*/*.xml")
	more, _ := filepath.Glob("../../../shared/corpus/ccda/*/*/*.xml")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(string(data))
		}
	}
	x, _ := cda.Schema{}.Compile("xhtml(//text)")
	f.Fuzz(func(t *testing.T, in string) {
		r := cda.NewReader(strings.NewReader(in))
		last := int64(0)
		for i := 0; i < 1000; i++ {
			d, err := r.Read()
			if r.InputOffset() < last {
				t.Fatalf("InputOffset went back")
			}
			last = r.InputOffset()
			if err == io.EOF {
				return
			}
			var pe *cda.ParseError
			if err != nil && !errors.As(err, &pe) {
				return
			}
			if d != nil {
				x.Select(d.Root(), nil)
				d.TemplateIDs()
			}
		}
		t.Fatal("more than 1000 reads")
	})
}
