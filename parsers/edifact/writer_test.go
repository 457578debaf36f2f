package edifact

import (
	"bytes"
	"testing"
)

func TestWriterTrailingEmpties(t *testing.T) {
	tests := []struct {
		name string
		keep bool
		want string
	}{
		{"truncated by default", false, "NAD+PAT++FLAT 1:CARD ROAD'"},
		{"kept when asked", true, "NAD+PAT++FLAT 1:CARD ROAD:::'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.KeepEmptyComponents = tt.keep
			w.WriteSegment("NAD", []string{"PAT"}, nil, []string{"FLAT 1", "CARD ROAD", "", "", ""}, nil, []string{""})
			w.Flush()
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
