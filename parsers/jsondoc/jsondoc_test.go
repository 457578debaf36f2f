package jsondoc

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

const amendment = `{
  "nhsNumber": "9999999999",
  "gpCode": "2750922,295",
  "count": 1.50,
  "flag": false,
  "none": null,
  "empty": [],
  "patches": [
    {"op": "replace", "path": "/name/0/family", "value": "KENNEDY"},
    {"op": "remove", "path": "/name/0/given"},
    {"op": "replace", "path": "/address/0/line/2", "value": null},
    {"op": "add", "path": "/extension/0",
     "value": {"url": "https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-NHAIS-ResidentialInstituteCode", "valueString": "AA"}}
  ],
  "a/b~c": {"x": [[1, 2], [3]]}
}`

func mustParse(t *testing.T, s string) *Node {
	t.Helper()
	n, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func selectTexts(t *testing.T, root *Node, p string) []string {
	t.Helper()
	cp, err := Schema{}.Compile(p)
	if err != nil {
		t.Fatalf("Compile(%q): %v", p, err)
	}
	var out []string
	for _, n := range cp.Select(root, nil) {
		out = append(out, n.Text())
	}
	return out
}

func TestPaths(t *testing.T) {
	root := mustParse(t, amendment)
	tests := []struct {
		name, path string
		want       []string
	}{
		{"member", "nhsNumber", []string{"9999999999"}},
		{"root", "/gpCode", []string{"2750922,295"}},
		{"number as written", "count", []string{"1.50"}},
		{"boolean", "flag", []string{"false"}},
		{"null is a node without text", "none", []string{""}},
		{"empty array reaches nothing", "empty", nil},
		{"absent", "nope", nil},
		{"array items", "patches.op", []string{"replace", "remove", "replace", "add"}},
		{"index", "patches[1].path", []string{"/name/0/given"}},
		{"index past the end", "patches[9].op", nil},
		{"null value of an item", "patches[2].value", []string{""}},
		{"nested object", "patches[3].value.valueString", []string{"AA"}},
		{"filter", "patches[path='/name/0/family'].value", []string{"KENNEDY"}},
		{"filter with double quotes", `patches[path="/name/0/given"].op`, []string{"remove"}},
		{"filter on a nested member, text with dots", "patches[value.url='https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-NHAIS-ResidentialInstituteCode'].value.valueString", []string{"AA"}},
		{"filter matching nothing", "patches[path='/gender'].value", nil},
		{"filter never matches null", "patches[value='x'].op", nil},
		{"arrays in arrays", "a/b~c.x", []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selectTexts(t, root, tt.path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestAbsolutePathFromInside(t *testing.T) {
	root := mustParse(t, amendment)
	p, _ := Schema{}.Compile("patches[3].value")
	inner := p.Select(root, nil)[0]
	abs, _ := Schema{}.Compile("/nhsNumber")
	if got := abs.Select(inner, nil); len(got) != 1 || got[0].Text() != "9999999999" {
		t.Errorf("/nhsNumber from inside: %v", got)
	}
}

func TestLocation(t *testing.T) {
	root := mustParse(t, amendment)
	tests := []struct {
		name, path, want string
	}{
		{"member", "nhsNumber", "/nhsNumber"},
		{"array item", "patches[2]", "/patches/2"},
		{"below an item", "patches[2].value", "/patches/2/value"},
		{"nested", "patches[3].value.url", "/patches/3/value/url"},
		{"escaped name, nested arrays", "a/b~c.x[1]", "/a~1b~0c/x/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Schema{}.Compile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			ns := p.Select(root, nil)
			if len(ns) == 0 {
				t.Fatalf("%s reaches nothing", tt.path)
			}
			if got := ns[0].Location(); got != tt.want {
				t.Errorf("Location of %s = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	if root.Location() != "" {
		t.Errorf("root Location = %q", root.Location())
	}
	inner := root.Member("a/b~c").Member("x") // the first item of x: [1, 2]
	if got := inner.Members[1].Location(); got != "/a~1b~0c/x/0/1" {
		t.Errorf("item of an inner array: %q", got)
	}
}

func TestEmpty(t *testing.T) {
	root := mustParse(t, `{"a": null, "b": "", "c": {"d": [null]}, "e": 0, "f": {"g": "x"}}`)
	for name, want := range map[string]bool{"a": true, "b": true, "c": true, "e": false, "f": false} {
		if got := root.Member(name).Empty(); got != want {
			t.Errorf("%s: Empty() = %v, want %v", name, got, want)
		}
	}
	if root.Empty() {
		t.Error("the root holds data")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		line, col  int
		wantTarget error
	}{
		{"syntax error on line 3", "{\n  \"a\": 1,\n  \"b\": ⚠x\n}", 3, 8, nil},
		{"truncated", "{\n  \"a\": [1, 2⚠", 2, 13, io.ErrUnexpectedEOF},
		{"trailing data", "{\"a\": 1}\n⚠{}", 2, 1, ErrTrailingData},
		{"empty input", "⚠", 1, 1, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off := strings.Index(tt.in, "⚠")
			in := strings.Replace(tt.in, "⚠", "", 1)
			_, err := Parse([]byte(in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tt.line || pe.Column != tt.col {
				t.Errorf("line %d column %d, want %d %d (%v)", pe.Line, pe.Column, tt.line, tt.col, err)
			}
			if tt.wantTarget != nil && !errors.Is(err, tt.wantTarget) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.wantTarget)
			}
			if tt.wantTarget == nil && pe.Offset != int64(off) {
				t.Errorf("offset %d, want %d", pe.Offset, off)
			}
			if !strings.HasPrefix(err.Error(), "json: line ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	if _, err := Parse([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("%d levels: got %v, want ErrTooDeep", maxDepth+1, err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, p := range []string{"", "/", "a..b", "a[x]", "a[-1]", "a[1", "a]", "a['x]", "a[b=x]", "a[=x]", "'a'", "a b", "a.b(c)"} {
		if _, err := (Schema{}).Compile(p); err == nil {
			t.Errorf("Compile(%q) succeeded", p)
		}
	}
	var s tree.Schema = Schema{}
	if s.Name() != "json" {
		t.Errorf("Name() = %q", s.Name())
	}
}

// corpusJSON returns the JSON files of the shared corpus's NHS registration examples, read in
// place; none when the corpus is not beside this checkout.
func corpusJSON(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, pat := range []string{"*/*/*.input.json", "*/*/*.expected.json", "*/*.expected.*.json"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "edifact", "nhais", pat))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

func TestParseCorpus(t *testing.T) {
	docs := corpusJSON(t)
	if len(docs) == 0 {
		t.Skip("../shared/corpus/edifact/nhais not found: the shared corpus is not beside this checkout")
	}
	for i, d := range docs {
		if _, err := Parse(d); err != nil {
			t.Errorf("corpus document %d: %v", i, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(amendment))
	f.Add([]byte(`[null, true, -1e9, "\u00e9\\"", {"": []}]`))
	for _, d := range corpusJSON(f) {
		f.Add(d)
	}
	paths := []string{"patches.value.url", "patches[path='/gender'].value", "/a", "nhsNumber[0]"}
	var compiled []tree.Path
	for _, p := range paths {
		cp, err := Schema{}.Compile(p)
		if err != nil {
			f.Fatal(err)
		}
		compiled = append(compiled, cp)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(data)) || pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("bad position %+v", pe)
			}
			return
		}
		for _, p := range compiled {
			for _, n := range p.Select(root, nil) {
				_ = n.Location()
				_ = n.Text()
			}
		}
		_ = root.Empty()
	})
}
