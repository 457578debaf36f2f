// Package mappings holds fhirbridge's built-in mappings: YAML data, not Go. They are embedded
// in every build, so the CLI, the library and the WASM module need no files at run time.
//
// Layout:
//
//	hl7v2/structures.yaml   HL7 v2 message structures (segment groups)
//	hl7v2/messages/         one file per message structure: which segments make which resources
//	hl7v2/segments/         segment maps, named as the v2-to-FHIR IG names them (PID[Patient])
//	hl7v2/datatypes/        datatype maps (CX[Identifier], XPN[HumanName], …)
//	fhir-to-ccda/           FHIR → C-CDA (CCD): the document, its header and one file per section
//	codes/                  code maps (HL7 tables → FHIR code systems)
//
// Users layer their own folder over these (fhirbridge --mappings DIR, or
// fhirbridge.Options.Mappings): a file there replaces the built-in message, map or code map of
// the same name, adds new ones, or extends existing ones with an `extend:` document.
package mappings

import "embed"

// FS holds the built-in mapping files.
//
//go:embed hl7v2 codes edifact ccda fhir-to-hl7v2 fhir-to-edifact fhir-to-ccda nhs-cda
var FS embed.FS
