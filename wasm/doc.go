// Command wasm is fhirbridge compiled to WebAssembly for browsers and Node.js
// (GOOS=js GOARCH=wasm), with every built-in mapping embedded.
//
// It exposes a small JS API on an object (globalThis.fhirbridge when it is run directly; the
// ES-module wrapper fhirbridge.js hands it over instead):
//
//	convert(input, {from, to, bundleType, pretty, params}) → {bundle, bundles, output, outputs, messages, errors, warnings, format, timingMs}
//	detect(input) → "hl7v2" | "cda" | "edifact" | "fhir" | "unknown"
//	version, fhirVersion
//
// input is a string or a Uint8Array. Errors are values in the result, never exceptions: a
// panic inside the engine is recovered at the JS boundary and the module keeps working.
// fhirbridge.d.ts is the reference for the shapes; docs/wasm.md says how to build and use it.
//
// Build it, with wasm_exec.js and the playground's files, by running
//
//	go generate ./wasm
package main

//go:generate go run ./internal/build
