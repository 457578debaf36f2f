package fhir

import (
	"errors"
	"strconv"
)

// The errors that can be returned in [JSONError].Err.
var (
	ErrSyntax              = errors.New("invalid JSON")
	ErrTooDeep             = errors.New("JSON nested too deeply")
	ErrMissingResourceType = errors.New("missing resourceType")
	ErrUnknownResourceType = errors.New("unknown resource type")
	ErrUnknownElement      = errors.New("unknown element")
	ErrDuplicate           = errors.New("duplicate element")
	ErrKind                = errors.New("wrong JSON kind")
	ErrNull                = errors.New("null without matching extension")
	ErrEmpty               = errors.New("empty value")
	ErrInvalidPrimitive    = errors.New("invalid primitive value")
)

// The errors that [Assemble] returns, possibly wrapped.
var (
	ErrBundleType      = errors.New("fhir: unknown bundle type")
	ErrNotResource     = errors.New("fhir: not a concrete resource")
	ErrNoMessageHeader = errors.New("fhir: message bundle without MessageHeader")
	ErrNoComposition   = errors.New("fhir: document bundle without Composition")
	ErrTimestamp       = errors.New("fhir: invalid bundle timestamp")
)

// JSONError is an error found by [ParseResource].
type JSONError struct {
	Offset int64  // byte offset of the offending value or key
	Path   string // "Bundle.entry[3].resource.name[0].given[1]"
	Err    error  // one of the Err* sentinels above
	Detail string // what was found, e.g. `"19x" is not a date`; may be empty
}

// Error returns "offset N: PATH: ERR[: DETAIL]".
func (e *JSONError) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10) + ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns e.Err.
func (e *JSONError) Unwrap() error { return e.Err }
