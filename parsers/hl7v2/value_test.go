package hl7v2

import (
	"testing"
)

func TestValues(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := m.Find("PID", 1)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "segment name", got: pid.Name(), want: "PID"},
		{name: "segment index", got: pid.Index(), want: 2},
		{name: "segment fields", got: pid.NumFields(), want: 23},
		{name: "field reps", got: pid.Field(3).NumReps(), want: 2},
		{name: "field text keeps separators", got: pid.Field(5).Text(), want: "Smith^Anna^Marie^^Dr^^L~Jones^Anna^^^^^M"},
		{name: "rep text keeps separators", got: pid.Field(5).Rep(2).Text(), want: "Jones^Anna^^^^^M"},
		{name: "rep components", got: pid.Field(5).Rep(2).NumComponents(), want: 7},
		{name: "component", got: pid.Field(5).Rep(1).Component(2).Text(), want: "Anna"},
		{name: "empty component", got: pid.Field(5).Rep(1).Component(4).Empty(), want: true},
		{name: "component past the end", got: pid.Field(5).Rep(1).Component(99).Text(), want: ""},
		{name: "subcomponents", got: pid.Field(3).Rep(1).Component(4).NumSubcomponents(), want: 3},
		{name: "subcomponent", got: pid.Field(3).Rep(1).Component(4).Sub(2).Text(), want: "1.2.3.4"},
		{name: "component text keeps subcomponent separators", got: pid.Field(3).Rep(1).Component(4).Text(), want: "TEST HOSP&1.2.3.4&ISO"},
		{name: "escaped component", got: pid.Field(11).Rep(1).Component(2).Text(), want: "Apt & 2"},
		{name: "escaped raw", got: string(pid.Field(11).Rep(1).Component(2).Raw()), want: `Apt \T\ 2`},
		{name: "empty field", got: pid.Field(2).Empty(), want: true},
		{name: "empty field reps", got: pid.Field(2).NumReps(), want: 0},
		{name: "field past the end", got: pid.Field(99).Empty(), want: true},
		{name: "field past the end reps", got: pid.Field(99).NumReps(), want: 0},
		{name: "field 0", got: pid.Field(0).Text(), want: ""},
		{name: "rep 0", got: pid.Field(3).Rep(0).Text(), want: ""},
		{name: "null", got: m.Segment(7).Field(3).Null(), want: true},
		{name: "null text", got: m.Segment(7).Field(3).Text(), want: `""`},
		{name: "not null", got: m.Segment(7).Field(2).Null(), want: false},
		{name: "Z-segment", got: m.Segment(7).Name(), want: "ZPI"},
		{name: "line break", got: m.Get(MustParsePath("AL1-5")), want: "Hives\nRash"},
		{name: "escapes", got: m.Get(MustParsePath("OBX-5")), want: "Line one\nLine two | pipe \\ backslash é café"},
		{name: "component escape", got: m.Get(MustParsePath("AL1-3.5")), want: "Penicillin G ^ V"},
		{name: "field path", got: pid.Field(5).Path().String(), want: "PID-5"},
		{name: "rep path", got: pid.Field(5).Rep(2).Path().String(), want: "PID-5[2]"},
		{name: "component path", got: pid.Field(5).Rep(2).Component(1).Path().String(), want: "PID-5[2].1"},
		{name: "sub path", got: pid.Field(3).Rep(1).Component(4).Sub(2).Path().String(), want: "PID-3[1].4.2"},
		{name: "segment path", got: m.Segment(6).Path().String(), want: "OBX"},
		{name: "zero segment", got: m.Segment(99).Name(), want: ""},
		{name: "zero segment fields", got: m.Segment(-1).NumFields(), want: 0},
		{name: "zero field", got: Field{}.Text(), want: ""},
		{name: "zero rep", got: Rep{}.Component(1).Sub(1).Text(), want: ""},
		{name: "zero raw", got: Field{}.Raw() == nil, want: true},
		{name: "segment offset", got: m.SegmentOffset(99), want: int64(-1)},
		{name: "append text", got: string(pid.Field(11).AppendText([]byte("x:"))), want: "x:1 Main St^Apt & 2^Springfield^IL^62701^USA^H"},
		{name: "find missing", got: func() bool { _, ok := m.Find("PID", 2); return ok }(), want: false},
		{name: "find bad name", got: func() bool { _, ok := m.Find("pid", 1); return ok }(), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	m, err := Parse([]byte("MSH|^~\\&|A\rPID|1||a~b^c&d\r"))
	if err != nil {
		t.Fatal(err)
	}
	f := m.Segment(1).Field(3)
	data := m.Bytes()
	for _, tt := range []struct {
		name string
		off  int
		raw  []byte
		want string
	}{
		{name: "field", off: f.Offset(), raw: f.Raw(), want: "a~b^c&d"},
		{name: "rep", off: f.Rep(2).Offset(), raw: f.Rep(2).Raw(), want: "b^c&d"},
		{name: "component", off: f.Rep(2).Component(2).Offset(), raw: f.Rep(2).Component(2).Raw(), want: "c&d"},
		{name: "sub", off: f.Rep(2).Component(2).Sub(2).Offset(), raw: f.Rep(2).Component(2).Sub(2).Raw(), want: "d"},
		{name: "segment", off: m.Segment(1).Offset(), raw: m.Segment(1).Raw(), want: "PID|1||a~b^c&d"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.raw) != tt.want || string(data[tt.off:tt.off+len(tt.want)]) != tt.want {
				t.Errorf("Raw = %q at %d, want %q", tt.raw, tt.off, tt.want)
			}
		})
	}
}

func TestNoAllocations(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	sink := 0
	allocs := testing.AllocsPerRun(100, func() {
		for i := 0; i < m.NumSegments(); i++ {
			s := m.Segment(i)
			sink += len(s.Name())
			for n := 1; n <= s.NumFields(); n++ {
				f := s.Field(n)
				for r := 1; r <= f.NumReps(); r++ {
					rep := f.Rep(r)
					for c := 1; c <= rep.NumComponents(); c++ {
						if comp := rep.Component(c); !hasEscape(comp) {
							sink += len(comp.Text())
						}
					}
				}
			}
		}
	})
	if allocs != 0 {
		t.Errorf("walking a message allocates %v times", allocs)
	}
	_ = sink
}

func hasEscape(c Component) bool {
	for _, b := range c.Raw() {
		if b == '\\' {
			return true
		}
	}
	return false
}
