package transform

import (
	"fmt"
	"strings"
)

// Severity says how bad a [Diagnostic] is.
type Severity uint8

// The severities of a [Diagnostic].
const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Kind classifies a [Diagnostic], so tools can filter them without parsing text.
type Kind uint8

// The kinds of [Diagnostic].
const (
	KindYAML        Kind = iota // the file is not valid YAML or not a mapping document
	KindSchema                  // an unknown key, a missing key, a key of the wrong shape
	KindPath                    // a source path the format cannot compile
	KindTarget                  // a FHIR target path or type that does not exist in R4
	KindExpr                    // an expression that does not compile or has the wrong type
	KindReference               // an unknown map, code map, alias or structure
	KindDuplicate               // two definitions of one name in one layer
	KindValue                   // at run time: a value that could not be converted (dropped)
	KindRuntime                 // at run time: an expression that failed (rule skipped)
	KindUnsupported             // at run time: an input no mapping matches
)

var kindNames = [...]string{"yaml", "schema", "path", "target", "expr", "reference", "duplicate", "value", "runtime", "unsupported"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Diagnostic is one problem found in a mapping file (at compile time) or while running a
// mapping on an input (at run time). Compile-time diagnostics name the mapping file, line and
// column; run-time diagnostics also name the input location, in the source format's words.
type Diagnostic struct {
	File         string // mapping file, as named in the file system the mappings came from
	Line, Column int    // 1-based position in File; 0 when unknown
	Severity     Severity
	Kind         Kind
	Message      string
	Input        string // run time only: where in the input ("PID[1]-7"); never the input's data
	Snippet      string // optional: the offending source line with a caret under Column
}

// Error formats the diagnostic as `file:line:col: message`, the way compilers do.
func (d Diagnostic) Error() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
			if d.Column > 0 {
				fmt.Fprintf(&b, ":%d", d.Column)
			}
		}
		b.WriteString(": ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	if d.Input != "" {
		b.WriteString(d.Input)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(d.Snippet)
	}
	return b.String()
}

// CompileError is returned by [Compile] when the mappings hold errors. It lists every error
// found, not only the first.
type CompileError struct {
	Diagnostics []Diagnostic
}

func (e *CompileError) Error() string {
	var b strings.Builder
	n := 0
	for _, d := range e.Diagnostics {
		if d.Severity != SeverityError {
			continue
		}
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
		n++
	}
	return b.String()
}

// pos is a position in a mapping file.
type pos struct {
	file      string
	line, col int
}

func (p pos) diag(k Kind, format string, args ...any) Diagnostic {
	return Diagnostic{File: p.file, Line: p.line, Column: p.col, Kind: k, Message: fmt.Sprintf(format, args...)}
}
