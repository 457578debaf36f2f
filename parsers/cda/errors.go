package cda

import (
	"errors"
	"fmt"
)

// ParseError is a document that could not be read. The stream goes on: the next
// [Reader.Read] starts at the document that follows.
type ParseError struct {
	Document     int    // 0-based index of the document in the input
	Offset       int64  // byte offset of the offending document or byte in the input
	Line, Column int    // 1-based; Column counts bytes (0: unknown)
	Path         string // "/ClinicalDocument", or the element being read when known
	Err          error  // one of the Err* sentinels below, or an *xml.SyntaxError
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("cda: line %d", e.Line)
	if e.Column > 0 {
		s += fmt.Sprintf(", column %d", e.Column)
	}
	if e.Path != "" {
		s += " (" + e.Path + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// The errors that can be returned in ParseError.Err (besides the *xml.SyntaxError of a
// malformed document, which wraps none of them).
var (
	// ErrDoctype is a document type declaration that declares entities or names an external
	// DTD: CDA needs neither, and both are the vehicle of XXE and entity-expansion attacks.
	ErrDoctype = errors.New("DOCTYPE with entity declarations or an external DTD is not allowed")
	// ErrNotClinicalDocument is a root element other than ClinicalDocument.
	ErrNotClinicalDocument = errors.New("root element is not ClinicalDocument")
	// ErrTooLarge is a document larger than Reader.MaxDocumentSize.
	ErrTooLarge = errors.New("document too large")
	// ErrTruncated is input that ends inside a document, comment or tag.
	ErrTruncated = errors.New("input ends inside a document")
	// ErrText is character data outside any document.
	ErrText = errors.New("text outside a document")
	// ErrSyntax is malformed XML that the XML parser rejected (the message says why).
	ErrSyntax = errors.New("malformed XML")
)
