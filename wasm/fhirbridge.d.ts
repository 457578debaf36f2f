// Type definitions for fhirbridge's WebAssembly module (fhirbridge.js).

/** An input format, as detect() and the results name it. */
export type Format = "hl7v2" | "cda" | "edifact" | "fhir" | "unknown";

/** A Bundle type; "" or undefined means the message mapping's own default, else transaction. */
export type BundleType = "" | "transaction" | "batch" | "collection" | "message" | "document";

/** The input: text (sent as UTF-8), or the bytes of a file as they are (for non-UTF-8 files). */
export type Input = string | Uint8Array | ArrayBuffer;

export interface ConvertOptions {
	/** The input's format; "auto" or undefined detects it. An input of another format is an error. */
	from?: "auto" | "hl7v2" | "cda" | "edifact";
	/** The output format: "fhir" for legacy input; for FHIR input (a Bundle, a resource, NDJSON) "hl7v2", "cda" (or "ccda") or "edifact". */
	to?: "fhir" | "hl7v2" | "cda" | "ccda" | "edifact";
	bundleType?: BundleType;
	/** The reverse mappings' parameters, as `fhirbridge convert --param key=value` takes them: messageType, sendingApplication, timestamp, … (docs/reverse.md). */
	params?: Record<string, string>;
	/** Indent the Bundle JSON by two spaces. */
	pretty?: boolean;
}

/** MessageInfo describes the message that bundles[i] came from. */
export interface MessageInfo {
	/** 0-based position of the message in the input. */
	index: number;
	format: Format;
	/** As the input names it: "ADT^A01". */
	messageType: string;
	/** The message's own id (HL7 v2 MSH-10), or "". */
	controlId: string;
	/** The message mapping used: "ADT_A01". */
	mapping: string;
}

/** ErrorKind classifies a ConversionError. */
export type ErrorKind =
	| "parse"       // the message could not be read; line, column, offset and path say where
	| "unsupported" // no mapping for the message type, or a format or direction not implemented
	| "mapping"     // a mapping failed at run time
	| "options"     // bad options or a bad input type
	| "input"       // the input as a whole: empty, or not a format fhirbridge reads
	| "internal";   // a bug in fhirbridge (recovered); the engine keeps working

/** ConversionError is a message (or input) that could not be converted. The others still are. */
export interface ConversionError {
	/** The whole text, naming the place: "message 2 (control id X1): hl7v2: message 1, line 2, column 1, …". */
	message: string;
	kind: ErrorKind;
	/** 0-based position of the message in the input, when the error is about one message. */
	index: number | null;
	format: Format | null;
	messageType: string | null;
	controlId: string | null;
	/** Byte offset in the input (of its UTF-8 encoding, for a string input). */
	offset: number | null;
	/** 1-based line; column counts bytes. */
	line: number | null;
	column: number | null;
	/** Where, in the format's words: "PID-5.1", "UNH[2]/NAD[3]", "/ClinicalDocument/…". */
	path: string | null;
}

/** Warning is a value that could not be converted and was left out, or an unexpected segment. It names places, never patient data. */
export interface Warning {
	/** 0-based position of the message in the input. */
	index: number;
	message: string;
	/** The whole text: "mappings/hl7v2/segments/PID.yaml:12:9: warning: PID[1]-7: …". */
	text: string;
	kind: string;
	severity: "warning" | "error";
	/** Where in the input: "PID[1]-7". */
	input: string | null;
	/** The mapping file and the position of the rule. */
	file: string | null;
	line: number | null;
	column: number | null;
}

export interface ConvertResult {
	/** The detected input format. */
	format: Format;
	/** The JSON text of the first Bundle (the only one for a one-message input), or null. */
	bundle: string | null;
	/** The JSON text of every Bundle, one per converted message, in input order. */
	bundles: string[];
	/** The reverse direction: the first HL7 v2 message, CDA document or EDIFACT interchange written, or null. */
	output: string | null;
	/** The reverse direction: every message or document written, in input order. */
	outputs: string[];
	/** bundles[i] (or outputs[i]) came from messages[i]. */
	messages: MessageInfo[];
	/** One per message that could not be converted; empty when everything converted. */
	errors: ConversionError[];
	warnings: Warning[];
	/** Time spent converting, in milliseconds. */
	timingMs: number;
}

/** Engine is a running fhirbridge module. Its calls are synchronous and never throw. */
export interface Engine {
	/** The version of fhirbridge: "v0.3.0", a git description, or "devel". */
	readonly version: string;
	/** The FHIR version of the Bundles: "4.0.1". */
	readonly fhirVersion: string;
	convert(input: Input, options?: ConvertOptions): ConvertResult;
	detect(input: Input): Format;
	/** Starts the module again from its compiled code; convert does it by itself if the Go runtime stopped. */
	restart(): Promise<void>;
}

export interface LoadOptions {
	/** The module: a URL (default: fhirbridge.wasm next to fhirbridge.js), a fetch Response, its bytes, or a compiled module. */
	wasm?: string | URL | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
}

/** Loads and starts the module. Without options.wasm every call returns the same engine. Rejects if the module cannot be loaded. */
export function load(options?: LoadOptions): Promise<Engine>;
export default load;
