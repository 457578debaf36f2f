package fhirbridge

import (
	"context"
	"fmt"
	"io"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// edifactSchema is the EDIFACT path language for the mapping engine (nil until EDIFACT is
// supported).
func edifactSchema() tree.Schema { return nil }

// convertEDIFACT converts the messages of the EDIFACT interchanges of r.
func (c *Converter) convertEDIFACT(ctx context.Context, r io.Reader, yield func(*Result, error) bool) {
	yield(nil, &Error{Format: FormatEDIFACT, Err: fmt.Errorf("fhirbridge: EDIFACT input is not supported yet")})
}
