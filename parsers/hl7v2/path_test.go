package hl7v2

import (
	"errors"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Path
		err  string
	}{
		{name: "segment", in: "PID", want: Path{Segment: "PID"}},
		{name: "field", in: "PID-5", want: Path{Segment: "PID", Field: 5}},
		{name: "repetition", in: "PID-5[2]", want: Path{Segment: "PID", Field: 5, Rep: 2}},
		{name: "component", in: "PID-5.1", want: Path{Segment: "PID", Field: 5, Component: 1}},
		{name: "all", in: "PID-5[2].1.2", want: Path{Segment: "PID", Field: 5, Rep: 2, Component: 1, Subcomponent: 2}},
		{name: "segment repetition", in: "PID[2]-3", want: Path{Segment: "PID", SegmentRep: 2, Field: 3}},
		{name: "MSH", in: "MSH-9.2", want: Path{Segment: "MSH", Field: 9, Component: 2}},
		{name: "Z-segment", in: "ZP1-1", want: Path{Segment: "ZP1", Field: 1}},
		{name: "field not a number", in: "PID-x", err: `hl7v2: bad path "PID-x": field must be a number`},
		{name: "field zero", in: "PID-0", err: `hl7v2: bad path "PID-0": field must be at least 1`},
		{name: "lower case", in: "pid-5", err: `hl7v2: bad path "pid-5": segment must be 3 upper-case letters or digits`},
		{name: "long name", in: "PIDX-5", err: `hl7v2: bad path "PIDX-5": segment must be 3 upper-case letters or digits`},
		{name: "short", in: "PI", err: `hl7v2: bad path "PI": segment must be 3 upper-case letters or digits`},
		{name: "missing bracket", in: "PID-5[2", err: `hl7v2: bad path "PID-5[2": missing "]" after repetition`},
		{name: "empty repetition", in: "PID[]-5", err: `hl7v2: bad path "PID[]-5": segment repetition must be a number`},
		{name: "trailing", in: "PID-5.1.2.3", err: `hl7v2: bad path "PID-5.1.2.3": unexpected ".3"`},
		{name: "HAPI dash component", in: "PID-5-1", err: `hl7v2: bad path "PID-5-1": unexpected "-1"`},
		{name: "separator", in: "PID.5", err: `hl7v2: bad path "PID.5": unexpected "." after segment (want "-" and a field number)`},
		{name: "too large", in: "PID-100000", err: `hl7v2: bad path "PID-100000": field number is too large`},
		{name: "empty component", in: "PID-5.", err: `hl7v2: bad path "PID-5.": component must be a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrBadPath) {
					t.Fatalf("ParsePath(%q) error = %v, want %s", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePath(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestGet(t *testing.T) {
	m, err := Parse([]byte("MSH|^~\\&|A\rPID|1||a1^b1&c1~a2^b2\rPID|2||x\\T\\y\r"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{path: "PID-3", want: "a1^b1&c1"},
		{path: "PID-3[2]", want: "a2^b2"},
		{path: "PID-3.2", want: "b1&c1"},
		{path: "PID-3.2.2", want: "c1"},
		{path: "PID-3[2].2", want: "b2"},
		{path: "PID-3[3]", want: ""},
		{path: "PID[2]-3", want: "x&y"},
		{path: "PID[2]-1", want: "2"},
		{path: "PID[3]-1", want: ""},
		{path: "PID", want: ""},
		{path: "OBX-1", want: ""},
		{path: "MSH-1", want: "|"},
		{path: "MSH-2", want: `^~\&`},
		{path: "MSH-3", want: "A"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := m.Get(MustParsePath(tt.path)); got != tt.want {
				t.Errorf("Get(%s) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
