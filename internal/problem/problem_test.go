package problem

import (
	"context"
	"testing"

	"github.com/fhirbridge/fhirbridge"
)

func TestDescribe(t *testing.T) {
	conv, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, input string
		kind        Kind
		location    string
		expression  string
	}{
		{name: "bad segment", input: "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5.1\rp1D|x\r", kind: Parse, location: "line 2, column 1", expression: "line 2, column 1"},
		{name: "unsupported", input: "MSH|^~\\&|A|B|C|D|20240101||ADT^Z99|X2|P|2.5.1\rPID|1\r", kind: Unsupported, location: "segment MSH (#1), field 9", expression: "MSH[1]-9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conv.ConvertMessage(context.Background(), []byte(tt.input))
			if err == nil {
				t.Fatal("converted")
			}
			if !IsMessageError(err) {
				t.Errorf("IsMessageError(%v) = false", err)
			}
			p := Describe(err)
			if p.Kind != tt.kind || p.Location() != tt.location || p.Expression() != tt.expression || p.Reason == "" {
				t.Errorf("got %+v, location %q, expression %q", p, p.Location(), p.Expression())
			}
		})
	}
	if typ, cid := SalvageMSH([]byte("\x0bMSH|^~\\&|A|B|C|D|20240101||ORU^R01|C9|P|2.5.1\rP1D\r")); typ != "ORU^R01" || cid != "C9" {
		t.Errorf("SalvageMSH: %q %q", typ, cid)
	}
}
