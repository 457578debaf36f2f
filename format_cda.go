package fhirbridge

import (
	"context"
	"fmt"
	"io"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// cdaSchema is the CDA path language for the mapping engine (nil until CDA is supported).
func cdaSchema() tree.Schema { return nil }

// convertCDA converts the CDA documents of r.
func (c *Converter) convertCDA(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	yield(nil, &Error{Format: FormatCDA, Err: fmt.Errorf("fhirbridge: CDA input is not supported yet")})
}
