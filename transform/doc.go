// Package transform is fhirbridge's mapping engine. It compiles declarative mappings —
// YAML documents with expressions in expr-lang — into a [Program], and runs a program over a
// parsed input to build FHIR R4 resources.
//
// The engine is format-neutral: it reaches its input only through the small contract of
// package transform/tree (nodes with text, paths compiled by a format's [tree.Schema]), so
// HL7 v2, CDA, EDIFACT and FHIR itself plug in the same way. Its target is the FHIR value
// tree of package fhir; every target path and type in a mapping is checked against the FHIR
// R4 element metadata when the mapping compiles.
//
// The language is described in docs/mappings.md. In short: `message` documents are entry
// points matched by input type, `map` documents are reusable maps (named as the HL7
// v2-to-FHIR IG names them, e.g. CX[Identifier]), `codes` documents translate codes,
// `structures` carry format data (HL7 v2 message structures), and `extend` adds rules to a
// message or map of an earlier layer, so users overlay their own folder without forking.
//
// # Contracts
//
// [Compile] performs no I/O: files come as bytes, so the same code serves a CLI, a WASM
// module and a Beam worker's Setup. It reports every problem it finds, each with file, line
// and column, as a *[CompileError]. A [Program] is immutable and safe for concurrent use;
// [Program.Run] keeps its per-run state in pooled objects.
//
// At run time nothing invalid is written: a value that cannot become the target's FHIR type
// is left out with a warning [Diagnostic] naming the rule and the input location (never the
// value: warnings carry no patient data), and a required element the input does not supply
// gets a data-absent-reason extension.
package transform
