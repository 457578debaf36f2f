package segtree

import (
	"strings"
	"testing"
)

// render prints a grouping as NAME(child child …) with segments by name; * marks unexpected.
func render(g *Group, names []string) string {
	var b strings.Builder
	for i, c := range g.Children {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c.Group != nil {
			b.WriteString(c.Group.Name + "(" + render(c.Group, names) + ")")
			continue
		}
		b.WriteString(names[c.Segment])
		if c.Unexpected {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func TestGroup(t *testing.T) {
	oru, err := Parse("ORU_R01", "MSH {PATIENT_RESULT([PATIENT(PID [{NTE}] [VISIT(PV1)])] {ORDER(OBR [{NTE}] [{OBSERVATION(OBX [{NTE}])}] [{SPECIMEN(SPM [{OBX}])}])})}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, segs, want string
	}{
		{"groups and notes in their place", "MSH PID PV1 OBR NTE OBX NTE OBX SPM OBX",
			"MSH PATIENT_RESULT(PATIENT(PID VISIT(PV1)) ORDER(OBR NTE OBSERVATION(OBX NTE) OBSERVATION(OBX) SPECIMEN(SPM OBX)))"},
		{"a second order", "MSH PID OBR OBX OBR OBX",
			"MSH PATIENT_RESULT(PATIENT(PID) ORDER(OBR OBSERVATION(OBX)) ORDER(OBR OBSERVATION(OBX)))"},
		{"unknown segment kept where it stands", "MSH PID ZPI OBR",
			"MSH PATIENT_RESULT(PATIENT(PID ZPI*) ORDER(OBR))"},
		{"out of order goes to the group that lists it", "MSH PID OBR OBX PV1",
			"MSH PATIENT_RESULT(PATIENT(PID) ORDER(OBR OBSERVATION(OBX PV1*)))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := strings.Fields(tt.segs)
			got := render(oru.Group(len(names), func(i int) string { return names[i] }), names)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	var none *Structure
	names := []string{"MSH", "PID"}
	if got := render(none.Group(2, func(i int) string { return names[i] }), names); got != "MSH PID" {
		t.Errorf("nil structure: %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for notation, want := range map[string]string{
		"MSH [PID":       `expected "]" after PID`,
		"MSH G(PID":      `missing ")"`,
		"MSH [A(PID) B]": `expected "]" after A`,
		"MSH PIDX":       `segment name "PIDX" must have 3 characters`,
		"MSH p1d":        `bad segment or group name "p1d"`,
		"":               `is empty`,
		"MSH )":          `unexpected ")"`,
	} {
		_, err := Parse("T", notation)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", notation, err, want)
		}
	}
}
