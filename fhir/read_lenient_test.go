package fhir

import (
	"strings"
	"testing"
)

// TestParseResourceLenientArrays: an array of exactly one value for a single element is read
// as that value (reported as a problem), as HAPI does and the NHS adaptors' inputs need; an
// empty array or several values leave the element out. Nulls in primitive lists keep their
// positions.
func TestParseResourceLenientArrays(t *testing.T) {
	tests := []struct {
		name, in, want string
		problems       int
	}{
		{"one item", `{"resourceType":"Patient","managingOrganization":{"identifier":[{"value":"XX1"}]}}`, `"managingOrganization":{"identifier":{"value":"XX1"}}`, 1},
		{"one primitive", `{"resourceType":"Patient","gender":["male"]}`, `"gender":"male"`, 1},
		{"empty array", `{"resourceType":"Patient","gender":[],"active":true}`, `{"resourceType":"Patient","active":true}`, 1},
		{"several", `{"resourceType":"Patient","gender":["male","female"],"active":true}`, `{"resourceType":"Patient","active":true}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, problems, err := ParseResourceLenient([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != tt.problems {
				t.Errorf("%d problems, want %d: %v", len(problems), tt.problems, problems)
			}
			if out := string(AppendResourceJSON(nil, r)); !strings.Contains(out, tt.want) {
				t.Errorf("got %s, want it to contain %s", out, tt.want)
			}
		})
	}
	// Nulls in a primitive list keep their places (the JSON writer leaves empty values out).
	r, _, err := ParseResourceLenient([]byte(`{"resourceType":"Patient","address":[{"line":[null,"26 FARMSIDE CLOSE"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	addr := r.Prop(r.Type.Element("address")).Vals[0].O
	if lines := addr.Prop(addr.Type.Element("line")).Vals; len(lines) != 2 || lines[0].S != "" || lines[1].S != "26 FARMSIDE CLOSE" {
		t.Errorf("lines %v", lines)
	}
	if _, err := ParseResource([]byte(tests[0].in)); err == nil {
		t.Error("the strict parser accepts an array for a single element")
	}
}
