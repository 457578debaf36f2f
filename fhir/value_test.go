package fhir

import "testing"

func TestSetAndAdd(t *testing.T) {
	obsT := LookupType("Observation")
	vq, vs := obsT.Element("valueQuantity"), obsT.Element("valueString")
	status := obsT.Element("status")
	tests := []struct {
		name  string
		steps func(o *Object) []bool // results of Set calls
		want  []bool
		check func(t *testing.T, o *Object)
	}{
		{"choice refused", func(o *Object) []bool {
			return []bool{o.Set(vq, MakeObject(obj("Quantity", "value", MakeNumber("1")))), o.Set(vs, MakeString("x"))}
		}, []bool{true, false}, func(t *testing.T, o *Object) {
			if o.Prop(vs) != nil {
				t.Error("valueString was set")
			}
		}},
		{"same variant keeps first", func(o *Object) []bool {
			return []bool{o.Set(vs, MakeString("a")), o.Set(vs, MakeString("b"))}
		}, []bool{true, false}, func(t *testing.T, o *Object) {
			if v, _ := o.Get(vs); v.S != "a" {
				t.Errorf("valueString = %q", v.S)
			}
		}},
		{"single keeps first", func(o *Object) []bool {
			return []bool{o.Set(status, MakeString("final")), o.Set(status, MakeString("amended"))}
		}, []bool{true, false}, func(t *testing.T, o *Object) {
			if p := o.Prop(status); len(p.Vals) != 1 || p.Vals[0].S != "final" {
				t.Errorf("status = %v", p.Vals)
			}
		}},
		{"empty primitive does not block", func(o *Object) []bool {
			return []bool{o.Set(status, MakeString("")), o.Set(status, MakeString("final"))}
		}, []bool{true, true}, func(t *testing.T, o *Object) {
			if v, _ := o.Get(status); v.S != "final" {
				t.Errorf("status = %q", v.S)
			}
		}},
		{"empty choice variant does not block another", func(o *Object) []bool {
			return []bool{o.Set(vs, MakeString("")), o.Set(vq, MakeObject(obj("Quantity", "value", MakeNumber("1"))))}
		}, []bool{true, true}, nil},
		{"empty object blocks (filled later)", func(o *Object) []bool {
			return []bool{o.Set(vq, MakeObject(obj("Quantity"))), o.Set(vs, MakeString("x"))}
		}, []bool{true, false}, nil},
		{"add to single behaves as set", func(o *Object) []bool {
			o.Add(status, MakeString("final"))
			o.Add(status, MakeString("amended"))
			return nil
		}, nil, func(t *testing.T, o *Object) {
			if p := o.Prop(status); len(p.Vals) != 1 {
				t.Errorf("status has %d values", len(p.Vals))
			}
		}},
		{"add appends to lists", func(o *Object) []bool {
			cat := o.Type.Element("category")
			for range 6 {
				o.Add(cat, MakeObject(coding("urn:x", "c", "C")))
			}
			o.Add(cat, MakeString("")) // ignored
			return nil
		}, nil, func(t *testing.T, o *Object) {
			if p := o.Prop(o.Type.Element("category")); len(p.Vals) != 6 {
				t.Errorf("category has %d values", len(p.Vals))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &obsT.NewResource().Object
			got := tt.steps(o)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("Set #%d = %v, want %v", i, got[i], tt.want[i])
				}
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		name  string
		o     *Object
		empty bool
	}{
		{"new", obj("HumanName"), true},
		{"nested empty", obj("HumanName", "period", obj("Period")), true},
		{"empty ext", obj("HumanName", "family", Value{Ext: obj("string")}), true},
		{"value", obj("HumanName", "family", "x"), false},
		{"ext only", obj("HumanName", "family", Value{Ext: obj("string", "extension", obj("Extension", "url", "http://x"))}), false},
		{"ref", obj("Reference", "reference", NewResource("Patient")), false},
		{"nil ref", obj("Reference", "reference", Value{Kind: RefValue}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Empty(); got != tt.empty {
				t.Errorf("Empty() = %v", got)
			}
		})
	}
	var nilObj *Object
	if !nilObj.Empty() {
		t.Error("nil object is not empty")
	}
}

func TestNewResource(t *testing.T) {
	for _, name := range []string{"Foo", "Resource", "DomainResource", "HumanName", "Patient.contact", "string", ""} {
		if NewResource(name) != nil {
			t.Errorf("NewResource(%q) != nil", name)
		}
	}
	r := NewResource("Patient")
	if r == nil || r.Type.Name != "Patient" || r.FullURL() != "" || r.Identity() != r {
		t.Errorf("NewResource(Patient) = %+v", r)
	}
	if (*Type)(nil).NewResource() != nil {
		t.Error("nil type makes resources")
	}
}

func TestRemove(t *testing.T) {
	o := obj("HumanName", "family", "a", "given", []any{"b", "c"})
	if !o.Remove(o.Type.Element("family")) || o.Remove(o.Type.Element("family")) || len(o.Props) != 1 {
		t.Errorf("Remove: props %v", o.Props)
	}
}

func BenchmarkBuildObject(b *testing.B) {
	ct, ct2 := LookupType("CodeableConcept"), LookupType("Coding")
	coding, text := ct.Element("coding"), ct.Element("text")
	sys, code, disp := ct2.Element("system"), ct2.Element("code"), ct2.Element("display")
	b.ReportAllocs()
	for b.Loop() {
		c := NewObject(ct2)
		c.Set(sys, MakeString("http://loinc.org"))
		c.Set(code, MakeString("718-7"))
		c.Set(disp, MakeString("Hemoglobin"))
		o := NewObject(ct)
		o.Add(coding, MakeObject(c))
		o.Set(text, MakeString("Hemoglobin"))
	}
}

// Objects from an ObjectSlab are independent, typed and empty, across blocks and resets.
func TestObjectSlab(t *testing.T) {
	var s ObjectSlab
	cc := LookupType("CodeableConcept")
	var objs []*Object
	for i := 0; i < 100; i++ {
		if i == 50 {
			s.Reset()
		}
		o := s.New(cc)
		if o.Type != cc || len(o.Props) != 0 {
			t.Fatalf("object %d: %v %v", i, o.Type, o.Props)
		}
		o.Add(cc.Element("text"), Value{Kind: StringValue, S: string(rune('a' + i%26))})
		objs = append(objs, o)
	}
	for i, o := range objs {
		if got := o.Props[0].Vals[0].S; len(o.Props) != 1 || got != string(rune('a'+i%26)) {
			t.Errorf("object %d holds %v", i, o.Props)
		}
	}
}
