package fhirbridge

import (
	"context"
	"fmt"
	"io"

	"github.com/fhirbridge/fhirbridge/fhir"
)

// reverseTargetTypes describes the legacy formats' segments as target types for the reverse
// direction (nil until it is supported).
func reverseTargetTypes(name string) *fhir.Type { return nil }

// convertFHIR converts FHIR input to the target format of the options.
func (c *Converter) convertFHIR(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	yield(nil, &Error{Format: FormatFHIR, Err: fmt.Errorf("fhirbridge: FHIR input (the reverse direction) is not supported yet")})
}
