// Package tree is the small contract between source formats and the mapping engine.
//
// A format (HL7 v2, CDA, EDIFACT, FHIR itself) exposes a parsed input as [Node] values and
// compiles its own path language into [Path] values through a [Schema]. The engine in package
// transform never sees a format's types: it only selects nodes with compiled paths and reads
// their text. Paths are compiled once, when a mapping is compiled, and evaluated many times.
//
// This package has no dependencies, so parsers can implement it without pulling in the engine
// or FHIR knowledge.
package tree

// Node is one place in a source input: a message, a group of segments, a segment, a field
// repetition, a component, an XML element or attribute.
type Node interface {
	// Text returns the node's value as decoded text (escapes resolved), or "" when the node is
	// empty or has no text of its own (a group, a segment).
	Text() string
	// Location names the node for errors, traces and unmapped-field reports, in the format's
	// own vocabulary: "PID[1]-5[2].1", "/ClinicalDocument/recordTarget[1]/patientRole".
	Location() string
}

// Path is a compiled path of one format. A Path is immutable and safe for concurrent use.
type Path interface {
	// Select appends to dst the nodes that the path reaches from n, in input order, and returns
	// the extended slice. A path that reaches nothing appends nothing.
	Select(n Node, dst []Node) []Node
	// String returns the path as written in the mapping.
	String() string
}

// Schema compiles the path language of one format.
type Schema interface {
	// Name is the format's name, as mappings declare it ("hl7v2", "cda", "edifact", "fhir").
	Name() string
	// Compile compiles a path. The error says what is wrong with the path; the caller adds the
	// mapping file and line.
	Compile(path string) (Path, error)
}

// Typed is implemented by paths written with a data type, such as HL7 v2 "CX.4". In a map
// whose source type is that data type, the engine evaluates such a path from the node the map
// was applied to, not from the node a nested rule is looking at: in map CX[Identifier], "CX.4"
// is always the fourth component of that CX, however deep the rule that reads it. It is
// optional.
type Typed interface {
	// DataType returns the data type the path is written with ("CX"), or "".
	DataType() string
}

// Sized is implemented by nodes that can tell how many leaf parts they hold without selecting
// them; it lets the engine report unmapped input cheaply. It is optional.
type Sized interface {
	// Empty reports whether the node holds no data at all.
	Empty() bool
}
