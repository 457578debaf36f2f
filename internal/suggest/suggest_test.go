package suggest

import "testing"

func TestHint(t *testing.T) {
	names := []string{"extension", "identifier", "workers"}
	for got, want := range map[string]string{
		"extnsion": ` (did you mean "extension"?)`,
		"WROKERS":  ` (did you mean "workers"?)`,
		"zzzzzz":   "",
	} {
		if h := Hint(got, names); h != want {
			t.Errorf("Hint(%q) = %q, want %q", got, h, want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d, want 3", d)
	}
}
