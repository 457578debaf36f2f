package fhirbridge

import (
	"reflect"
	"testing"
)

func TestSplitComposite(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"no mark", []string{"PAT", "", "X"}, []string{"PAT", "", "X"}},
		{"whole composite", []string{"A\x1fB\x1f\x1f"}, []string{"A", "B", "", ""}},
		{"mark in the middle", []string{"Q", "A\x1f\x1fC", "Z"}, []string{"Q", "A", "", "C", "Z"}},
		{"empty first", []string{"\x1fB"}, []string{"", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitComposite(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
