package transform_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

// TestNativeExpressions runs each form the native evaluator has (and some it leaves to the
// VM) natively and on the VM only, on a message where the values are present, absent, and
// unusual, and requires the same output.
func TestNativeExpressions(t *testing.T) {
	exprs := []string{
		`v`, `'lit'`, `get('PID-5.1')`, `get('PID-99')`, `has('PID-5') ? 'y' : 'n'`, `!has('PID-99') ? 'absent' : ''`,
		`param('p')`, `code('Sex', get('PID-8'))`, `system('Sex', v)`, `display('Sex', 'F')`, `code('Sex', 'X')`,
		`upper(get('PID-5.2'))`, `lower(v)`, `trim('  a ')`, `v[1:3]`, `v[:2]`, `v[4:]`, `v[-2:]`, `v[:-1]`, `v[9:99]`, `v[3:1]`,
		`v + '/' + get('PID-5.1')`, `v == 'Doe' ? 'is' : 'not'`, `v != '' && get('PID-8') == 'F' ? 'a' : 'b'`,
		`get('PID-8') in ['F', 'M'] ? 'known' : 'other'`, `v contains 'o' ? 'c' : ''`, `v startsWith 'D' or v endsWith 'x' ? 's' : ''`,
		`v matches '^[A-Z][a-z]+$' ? 'm' : ''`, `not (v == 'x') && true ? 't' : 'f'`, `has('PID-5') == !has('PID-99')`,
		`v == 'Doe' || get('PID-1') == '1'`, `len(v) > 2 ? 'long' : 'short'`, `string(len(v))`, `coalesce(get('PID-99'), v)`,
		`coalesce(' ', get('PID-99'))`, `coalesce(get('PID-99'), ' x ', v)`, `uri(v)`, `uri('1.2.3')`, `uri(' 1.2.3 ')`, `digits(get('PID-7'))`,
		`decimal(get('PID-1'))`, `decimal(v)`, `replace(v, 'o', '0')`, `isNumber(get('PID-1')) ? 'n' : 'x'`,
		`isDate(get('PID-7')) && !isDate(v)`, `'a' + v + 'b' + get('PID-99')`,
		`join(filter([get('PID-99'), v, get('PID-8'), ''], # != ''), ' / ')`, `join(filter([get('PID-99'), v], # != ''), '-')`,
		`join(filter([get('PID-99'), ''], # != ''), '-')`, `join(all('PID-3'), '|')`, `join(all('PID-3.4'), ',')`, `join(all('PID-99'), ',')`,
		`join(all('PID-5.1'), ',')`, `len(v) > 2 && len(v) <= 3 ? 'y' : 'n'`, `len(get('PID-5.2')) == 4 || len(v) != 3 || len(v) < 1 || len(v) >= 9`,
		`trim(split(v, 'o')[0])`, `split(v, 'o')[1]`, `split(v, 'o')[2]`, `split(get('PID-7'), '0')[3] + '|'`, `split(v, 'Do')[1]`,
		`split(v, 'x')[0] == 'Doe' ? 'a' : 'b'`,
	}
	var rules strings.Builder
	for i, e := range exprs {
		fmt.Fprintf(&rules, "  - {from: PID-5.1, to: \"extension[+].valueString\", value: %q}\n  - {from: PID-5.1, to: \"extension[=].url\", const: \"urn:x:%d\"}\n", e, i)
	}
	mapping := base + "---\nextend: TEST\nrules:\n  - from: PID\n    resource: Basic\n    rules:\n      - {to: code.text, const: t}\n" +
		strings.ReplaceAll(rules.String(), "  - {", "      - {")
	msgs := []string{
		msgA01,
		"MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||9||Ab^Cd||19700101|X\r",
		"MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|2||9||Ünïcode€^é||1970|M\r",
	}
	outputs := map[bool][]string{}
	for _, vmOnly := range []bool{false, true} {
		opts := []transform.Option{transform.WithSchema(hl7v2.Schema{})}
		if vmOnly {
			opts = append(opts, transform.WithVMOnly())
		}
		p, err := transform.Compile([]transform.File{{Name: "m.yaml", Data: []byte(mapping)}}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs {
			m, err := hl7v2.Parse([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Run(context.Background(), p.Find("hl7v2", "ADT^A01"), hl7v2.NewTree(m, nil).Root(), transform.RunOptions{Params: map[string]string{"p": "P1"}})
			if err != nil {
				t.Fatal(err)
			}
			outputs[vmOnly] = append(outputs[vmOnly], resourceJSON(res, "Basic")+fmt.Sprint(res.Diagnostics))
		}
	}
	for i := range msgs {
		if outputs[false][i] != outputs[true][i] {
			t.Errorf("message %d:\nnative: %s\nvm:     %s", i, outputs[false][i], outputs[true][i])
		}
	}
	if !strings.Contains(outputs[false][0], `"valueString":"oe"`) || !strings.Contains(outputs[false][0], `"valueString":"known"`) {
		t.Errorf("unexpected output: %s", outputs[false][0])
	}
}

// TestNativeExpressionsOverride checks that a standard function replaced in the registry runs
// as registered, not natively.
func TestNativeExpressionsOverride(t *testing.T) {
	reg := transform.DefaultRegistry()
	reg.Register("uri", "uri(s): replaced", func(params ...any) (any, error) { return "replaced", nil }, new(func(string) string))
	mapping := base + "---\nextend: TEST\nrules:\n  - from: PID\n    resource: Basic\n    rules:\n      - {to: code.text, value: \"uri(get('PID-5.1'))\"}\n"
	p, err := transform.Compile([]transform.File{{Name: "m.yaml", Data: []byte(mapping)}}, transform.WithSchema(hl7v2.Schema{}), transform.WithFunctions(reg))
	if err != nil {
		t.Fatal(err)
	}
	m, err := hl7v2.Parse([]byte(msgA01))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), p.Find("hl7v2", "ADT^A01"), hl7v2.NewTree(m, nil).Root(), transform.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceJSON(res, "Basic"); !strings.Contains(got, `"text":"replaced"`) {
		t.Errorf("the registered uri did not run: %s", got)
	}
}
