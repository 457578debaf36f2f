package params

import (
	"maps"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	for _, p := range []map[string]string{
		nil,
		{"a": "1"},
		{"timestamp": "2020-06-10T13:38:00Z", "messageType": "FHSREG^G3", "x": "a=b"},
	} {
		k := Key(p)
		if got := Parse(k); !maps.Equal(got, p) && len(p) > 0 {
			t.Errorf("Parse(Key(%v)) = %v", p, got)
		}
	}
	if Key(map[string]string{"b": "2", "a": "1"}) != Key(map[string]string{"a": "1", "b": "2"}) {
		t.Error("keys depend on map order")
	}
	if Key(map[string]string{"a": "1"}) == Key(map[string]string{"a": "2"}) {
		t.Error("different values, same key")
	}
}
