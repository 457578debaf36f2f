package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func assemble(t testing.TB, rs []*Resource, opt AssembleOptions) *Bundle {
	t.Helper()
	b, err := Assemble(rs, opt)
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	return b
}

func bundleJSON(t testing.TB, b *Bundle) []byte {
	t.Helper()
	out := b.AppendJSON(nil)
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %s", out)
	}
	if tree := AppendResourceJSON(nil, b.Resource()); !bytes.Equal(tree, out) {
		t.Fatalf("AppendJSON differs from the uncached writer:\n%s\n%s", out, tree)
	}
	return out
}

// decodeJSON decodes JSON for assertions on its structure.
func decodeJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func entryResources(t testing.TB, data []byte) []map[string]any {
	var out []map[string]any
	entries, _ := decodeJSON(t, data)["entry"].([]any)
	for _, e := range entries {
		out = append(out, e.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

func TestPrune(t *testing.T) {
	gone := res("Practitioner", "name", obj("HumanName", "given", []any{Value{}}))
	pat := res("Patient",
		"identifier", []any{obj("Identifier", "system", "", "value", ""), ident("urn:x", "1")},
		"name", []any{obj("HumanName"), obj("HumanName", "family", "Doe", "period", obj("Period"))},
		"generalPractitioner", []any{
			obj("Reference", "reference", gone),                          // only a Ref to a dropped resource: disappears
			obj("Reference", "reference", gone, "display", "Dr. Nobody"), // keeps its display
		})
	enc := res("Encounter", "status", "planned", "class", obj("Coding", "code", "AMB"),
		"subject", obj("Reference", "reference", pat))
	onlyRefToGone := res("Encounter", "subject", obj("Reference", "reference", gone))
	b := assemble(t, []*Resource{pat, gone, enc, onlyRefToGone, res("Basic")}, AssembleOptions{})
	if n := len(b.Resources()); n != 2 {
		t.Fatalf("%d entries, want Patient and Encounter", n)
	}
	got := entryResources(t, bundleJSON(t, b))
	want := `{"resourceType":"Patient","id":"` + pat.ID + `","identifier":[{"system":"urn:x","value":"1"}],"name":[{"family":"Doe"}],"generalPractitioner":[{"display":"Dr. Nobody"}]}`
	if g, _ := json.Marshal(got[0]); !jsonEqual(t, g, []byte(want)) {
		t.Errorf("pruned Patient:\n got %s\nwant %s", g, want)
	}
}

// jsonEqual compares JSON documents by value (encoding/json sorts keys).
func jsonEqual(t testing.TB, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("invalid JSON %s / %s", a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func TestMerge(t *testing.T) {
	rs := labMessage()
	b := assemble(t, rs, AssembleOptions{Type: Message})
	counts := map[string]int{}
	for _, r := range b.Resources() {
		counts[r.Type.Name]++
	}
	if counts["Practitioner"] != 1 || counts["Observation"] != 7 || counts["Patient"] != 1 {
		t.Errorf("entries %v, want 1 Practitioner and 7 Observations", counts)
	}
	doc1, doc2 := rs[3], rs[4]
	if doc2.Identity() != doc1 || doc1.Identity() != doc1 || doc1.ID != doc2.ID {
		t.Errorf("the second Practitioner is not merged into the first")
	}
	out := bundleJSON(t, b)
	if n := bytes.Count(out, []byte(`"resourceType":"Practitioner"`)); n != 1 {
		t.Errorf("%d Practitioners in the JSON", n)
	}
	if n := bytes.Count(out, []byte(`"reference":"urn:uuid:`+doc1.ID+`"`)); n != 1+1+7 {
		t.Errorf("%d references to the Practitioner, want 9 (encounter, report, 7 observations)", n)
	}
	var report map[string]any
	for _, r := range entryResources(t, out) {
		if r["resourceType"] == "DiagnosticReport" {
			report = r
		}
	}
	if n := len(report["result"].([]any)); n != 7 {
		t.Errorf("DiagnosticReport.result has %d references, want 7 (duplicates collapsed)", n)
	}
	if rs[0] != b.Resources()[0] {
		t.Error("MessageHeader is not first")
	}
}

func TestMergeKeepsFirstCreated(t *testing.T) {
	// The copy created later is referred to by nothing, the first one by an Encounter; the
	// merged entry must still be the first created, at its position.
	a := res("Location", "name", "Ward 1")
	enc := res("Encounter", "status", "planned", "class", obj("Coding", "code", "AMB"),
		"location", []any{obj("Encounter.location", "location", obj("Reference", "reference", a))})
	b2 := res("Location", "name", "Ward 1")
	b := assemble(t, []*Resource{enc, b2, a}, AssembleOptions{})
	rs := b.Resources()
	if len(rs) != 2 || rs[0] != enc || rs[1] != b2 || a.Identity() != b2 {
		t.Errorf("entries %v %v; want Encounter then the first Location", rs[0].Type, rs[len(rs)-1].Type)
	}
}

func TestDeterminism(t *testing.T) {
	first := bundleJSON(t, assemble(t, labMessage(), AssembleOptions{Type: Transaction}))
	second := bundleJSON(t, assemble(t, labMessage(), AssembleOptions{Type: Transaction}))
	if !bytes.Equal(first, second) {
		t.Fatal("two assemblies of the same input differ")
	}
	// Reversing the insertion order of every object's props changes nothing.
	rs := labMessage()
	for _, r := range rs {
		reverseProps(&r.Object)
	}
	if third := bundleJSON(t, assemble(t, rs, AssembleOptions{Type: Transaction})); !bytes.Equal(first, third) {
		t.Errorf("prop insertion order changes the output:\n%s\n%s", first, third)
	}
	// The same Patient in another message gets the same id.
	p1 := res("Patient", "identifier", ident("urn:x", "1"), "birthDate", "2000-01-01")
	p2 := res("Patient", "birthDate", "2000-01-01", "identifier", ident("urn:x", "1"))
	assemble(t, []*Resource{p1, res("Basic", "code", coding("urn:y", "a", "A"), "subject", obj("Reference", "reference", p1))}, AssembleOptions{})
	assemble(t, []*Resource{p2}, AssembleOptions{Type: Batch})
	if p1.ID != p2.ID {
		t.Errorf("same Patient, ids %s and %s", p1.ID, p2.ID)
	}
	// Ids are a contract: a change of the canonical form must be deliberate.
	if want := "58cad35c-de52-5de8-af02-dff2f38e0274"; p1.ID != want {
		t.Errorf("Patient id %s, want %s", p1.ID, want)
	}
	if p1.ID[14] != '5' || !strings.ContainsRune("89ab", rune(p1.ID[19])) {
		t.Errorf("id %s is not a version 5 RFC 4122 UUID", p1.ID)
	}
}

func reverseProps(o *Object) {
	for i, j := 0, len(o.Props)-1; i < j; i, j = i+1, j-1 {
		o.Props[i], o.Props[j] = o.Props[j], o.Props[i]
	}
	for _, p := range o.Props {
		for _, v := range p.Vals {
			if v.Kind == ObjectValue && v.O != nil {
				reverseProps(v.O)
			}
		}
	}
}

func TestTransactionRequest(t *testing.T) {
	tests := []struct {
		name string
		typ  BundleType
		r    *Resource
		opt  AssembleOptions
		want string // the entry's request as JSON, "" for none
	}{
		{"identifier", Transaction, res("Patient", "identifier", []any{obj("Identifier", "value", "no-system"), ident("urn:oid:1.2.3", "42")}),
			AssembleOptions{}, `{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:oid:1.2.3|42"}`},
		{"escaped", Batch, res("Patient", "identifier", ident("http://x.org/a|b", `1,2$3 4&5\6#7%+é`)),
			AssembleOptions{}, `{"method":"POST","url":"Patient","ifNoneExist":"identifier=http://x.org/a\\|b|1\\,2\\$3%204%265\\\\6%237%25%2B%C3%A9"}`},
		{"no identifier", Transaction, res("Basic", "code", coding("urn:x", "c", "C")),
			AssembleOptions{}, `{"method":"POST","url":"Basic"}`},
		{"no conditional create", Transaction, res("Patient", "identifier", ident("urn:oid:1.2.3", "42")),
			AssembleOptions{NoConditionalCreate: true}, `{"method":"POST","url":"Patient"}`},
		{"collection", Collection, res("Patient", "identifier", ident("urn:oid:1.2.3", "42")), AssembleOptions{}, ""},
		{"searchset", Searchset, res("Patient", "identifier", ident("urn:oid:1.2.3", "42")), AssembleOptions{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.Type = tt.typ
			out := bundleJSON(t, assemble(t, []*Resource{tt.r}, tt.opt))
			entry := decodeJSON(t, out)["entry"].([]any)[0].(map[string]any)
			req, ok := entry["request"]
			if tt.want == "" {
				if ok {
					t.Errorf("request %v in a %s", req, tt.typ)
				}
				return
			}
			got, _ := json.Marshal(req)
			if !jsonEqual(t, got, []byte(tt.want)) {
				t.Errorf("request %s, want %s", got, tt.want)
			}
			if !strings.HasPrefix(entry["fullUrl"].(string), "urn:uuid:") {
				t.Errorf("fullUrl %v", entry["fullUrl"])
			}
		})
	}
}

func TestMessageAndDocument(t *testing.T) {
	mh := func() *Resource {
		return res("MessageHeader", "eventCoding", obj("Coding", "code", "A01"),
			"source", obj("MessageHeader.source", "endpoint", "urn:x"))
	}
	pat := func() *Resource { return res("Patient", "gender", "other") }
	comp := func(p *Resource) *Resource {
		return res("Composition", "status", "final", "type", coding("http://loinc.org", "34133-9", "Summary"),
			"subject", obj("Reference", "reference", p), "date", "2024-05-01",
			"author", []any{obj("Reference", "display", "Someone")}, "title", "Summary")
	}
	t.Run("message header moves first", func(t *testing.T) {
		p, h := pat(), mh()
		b := assemble(t, []*Resource{p, h}, AssembleOptions{Type: Message, Timestamp: "2024-05-01T10:00:00Z"})
		if b.Resources()[0] != h || b.Resources()[1] != p {
			t.Error("MessageHeader not first")
		}
		m := decodeJSON(t, bundleJSON(t, b))
		if m["timestamp"] != "2024-05-01T10:00:00Z" || m["type"] != "message" {
			t.Errorf("bundle %v", m)
		}
	})
	t.Run("document", func(t *testing.T) {
		p := pat()
		b := assemble(t, []*Resource{p, comp(p)}, AssembleOptions{Type: Document, Timestamp: "2024-05-01T10:00:00+02:00"})
		m := decodeJSON(t, bundleJSON(t, b))
		id := m["identifier"].(map[string]any)
		if id["system"] != "urn:ietf:rfc:3986" || id["value"] != "urn:uuid:"+b.ID {
			t.Errorf("identifier %v", id)
		}
		if b.Resources()[0].Type.Name != "Composition" {
			t.Error("Composition not first")
		}
	})
	errorTests := []struct {
		name string
		rs   []*Resource
		opt  AssembleOptions
		want error
	}{
		{"no header", []*Resource{pat()}, AssembleOptions{Type: Message}, ErrNoMessageHeader},
		{"no composition", []*Resource{pat()}, AssembleOptions{Type: Document, Timestamp: "2024-05-01T10:00:00Z"}, ErrNoComposition},
		{"document without timestamp", []*Resource{comp(pat())}, AssembleOptions{Type: Document}, ErrTimestamp},
		{"bad timestamp", []*Resource{pat()}, AssembleOptions{Timestamp: "2024-05-01"}, ErrTimestamp},
		{"bad type", []*Resource{pat()}, AssembleOptions{Type: "history"}, ErrBundleType},
		{"nil resource", []*Resource{nil}, AssembleOptions{}, ErrNotResource},
		{"not a resource", []*Resource{{Object: *obj("HumanName", "family", "x")}}, AssembleOptions{}, ErrNotResource},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Assemble(tt.rs, tt.opt); !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCycle(t *testing.T) {
	build := func() []*Resource {
		a := res("Observation", "status", "final", "code", coding("http://loinc.org", "1-8", "A"))
		b := res("Observation", "status", "final", "code", coding("http://loinc.org", "2-6", "B"))
		a.Add(a.Type.Element("hasMember"), MakeObject(obj("Reference", "reference", b)))
		b.Add(b.Type.Element("derivedFrom"), MakeObject(obj("Reference", "reference", a)))
		self := res("Patient", "gender", "male")
		self.Add(self.Type.Element("link"), MakeObject(obj("Patient.link", "type", "seealso", "other", obj("Reference", "reference", self))))
		report := res("DiagnosticReport", "status", "final", "code", coding("http://loinc.org", "3-4", "R"),
			"result", []any{obj("Reference", "reference", a), obj("Reference", "reference", b)})
		return []*Resource{report, a, b, self}
	}
	rs := build()
	b1 := assemble(t, rs, AssembleOptions{Type: Transaction})
	out := bundleJSON(t, b1)
	if rs[1].ID == rs[2].ID || rs[1].ID == "" {
		t.Errorf("cycle ids %q %q", rs[1].ID, rs[2].ID)
	}
	if !bytes.Contains(out, []byte(`"reference":"urn:uuid:`+rs[3].ID+`"`)) {
		t.Error("self reference not written")
	}
	if bytes.Contains(out, []byte("cycle:")) {
		t.Error("a cycle placeholder leaked into the output")
	}
	if out2 := bundleJSON(t, assemble(t, build(), AssembleOptions{Type: Transaction})); !bytes.Equal(out, out2) {
		t.Error("cycles are not deterministic")
	}
	if issues := Validate(b1.Resource()); len(issues) > 0 {
		t.Errorf("issues: %v", issues)
	}
}

func TestAutoIncludeAndFullURLBase(t *testing.T) {
	org := res("Organization", "name", "Hidden")
	pat := res("Patient", "managingOrganization", obj("Reference", "reference", org))
	b := assemble(t, []*Resource{pat}, AssembleOptions{Type: Transaction, FullURLBase: "https://example.org/fhir"})
	if len(b.Resources()) != 2 || b.Resources()[1] != org {
		t.Fatalf("the referenced Organization is not an entry")
	}
	out := bundleJSON(t, b)
	if !bytes.Contains(out, []byte(`"fullUrl":"https://example.org/fhir/Organization/`+org.ID+`"`)) ||
		!bytes.Contains(out, []byte(`"reference":"Organization/`+org.ID+`"`)) {
		t.Errorf("FullURLBase not applied: %s", out)
	}
	if issues := Validate(b.Resource()); len(issues) > 0 {
		t.Errorf("issues: %v", issues)
	}
}

func TestBundleID(t *testing.T) {
	ids := map[string]bool{}
	for _, typ := range []BundleType{Transaction, Batch, Collection, Searchset} {
		b := assemble(t, []*Resource{res("Patient", "gender", "male")}, AssembleOptions{Type: typ})
		if ids[b.ID] || len(b.ID) != 36 {
			t.Errorf("bundle id %s repeats or is malformed", b.ID)
		}
		ids[b.ID] = true
		again := assemble(t, []*Resource{res("Patient", "gender", "male")}, AssembleOptions{Type: typ})
		if again.ID != b.ID {
			t.Errorf("%s: bundle id not deterministic", typ)
		}
	}
}

func TestIdentifierOption(t *testing.T) {
	b := assemble(t, []*Resource{res("Patient", "gender", "male")},
		AssembleOptions{Identifier: ident("urn:ietf:rfc:3986", "urn:uuid:00000000-0000-4000-8000-000000000000"),
			Timestamp: "2024-01-01T00:00:00.123Z"})
	want := `{"resourceType":"Bundle","id":"` + b.ID + `","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:00000000-0000-4000-8000-000000000000"},"type":"collection","timestamp":"2024-01-01T00:00:00.123Z","entry":[`
	if out := bundleJSON(t, b); !bytes.HasPrefix(out, []byte(want)) {
		t.Errorf("got %s\nwant prefix %s", out, want)
	}
}

func TestConcurrent(t *testing.T) {
	m := decode(r4data) // fresh metadata: groups still to decode
	bundle := assemble(t, labMessage(), AssembleOptions{Type: Transaction})
	want := string(bundle.AppendJSON(nil))
	done := make(chan string, 8)
	for g := range 8 {
		go func() {
			for i := range m.types {
				m.ensure(&m.types[(i+g*97)%len(m.types)])
			}
			if Validate(bundle.Resource()) != nil {
				done <- "invalid"
				return
			}
			b, err := Assemble(labMessage(), AssembleOptions{Type: Transaction})
			if err != nil || string(b.AppendJSON(nil)) != want || string(bundle.AppendJSON(nil)) != want {
				done <- "output differs"
				return
			}
			done <- ""
		}()
	}
	for range 8 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	for i := range m.types {
		if len(m.types[i].Elements) != int(m.types[i].nElems) {
			t.Fatalf("%s not decoded", m.types[i].Name)
		}
	}
}
