// Package cda reads HL7 CDA R2 documents (C-CDA R2.1 and any other CDA R2 document) for the
// mapping engine.
//
// A [Reader] returns one ClinicalDocument at a time from a stream; several documents may
// follow each other in one input. Documents are parsed by xmlquery with line numbers. The
// reader is namespace-tolerant: elements are matched by local name, whether or not the
// document declares the urn:hl7-org:v3 default namespace, and documents that use xsi:, sdtc:
// or voc: without declaring them (as the HL7 C-CDA examples do) still parse. A document type
// declaration that declares entities or names an external DTD is refused ([ErrDoctype]).
//
// # Paths
//
// Mappings address a document with XPath 1.0 (github.com/antchfx/xpath), relative to the node
// a rule is looking at, compiled once when the mappings are compiled:
//
//	recordTarget/patientRole/id          elements, in document order
//	@root  code/@code                    attributes; their Text is the value
//	section[code/@code='48765-2']        predicates
//	/ClinicalDocument/effectiveTime      from the document root
//	tpl('2.16.840.1.113883.10.20.22.2.6')
//	                                     shorthand, inside a predicate, for a templateId of
//	                                     that root or of root+".1" (C-CDA's "entries optional"
//	                                     and "entries required" pairs), any @extension:
//	                                     section[tpl('2.16.840.1.113883.10.20.22.2.6')]
//
// Three functions wrap a whole path:
//
//	ref(P)     the nodes of P hold narrative references ("#id"); each becomes the element
//	           whose ID it names (originalText/reference/@value, text/reference/@value)
//	text(P)    Text is the whole text content of each node, white space collapsed
//	xhtml(P)   Text is the narrative of each node converted to a FHIR xhtml div (see
//	           [Narrative]); a narrative without text is not selected
//
// They nest: text(ref(originalText/reference/@value)), xhtml(ref(text/reference/@value)).
// A path must select nodes: count(…) or concat(…) are compile errors.
//
// Node text: an attribute's value (trimmed); an element's own text (its direct text
// children, white space collapsed, not the text of its child elements). Values are therefore
// explicit in mappings: effectiveTime/@value, value/@unit, code/@code.
//
// An element that is only a null flavor (a nullFlavor attribute, perhaps xsi:type, and no
// content) is never selected, so an empty <id nullFlavor="NI"/> makes no Identifier; read
// @nullFlavor itself to map the reason (to a data-absent-reason).
//
// Locations name nodes as XPaths with 1-based indexes and the input line:
// /ClinicalDocument/recordTarget[1]/patientRole[1]/id[2]/@root (line 40).
//
// # Writing
//
// The reverse direction (FHIR → C-CDA) writes documents with [Encode]: a tree of [Node]
// values becomes indented XML with the CDA namespaces. [Classes] describe the part of the CDA
// R2 model that is written (model.txt: every class with its attributes and child elements in
// the order of the CDA R2 schema), so that whoever builds the tree can order it;
// [NarrativeFromXHTML] turns a FHIR narrative div into CDA narrative, the reverse of
// [Narrative].
//
// # Deviations
//
// Character data outside the root element, a root other than ClinicalDocument and
// DOCTYPE with entities are errors; XML Schema validation is not done. See docs/cda.md for
// the mapping to FHIR.
package cda
