// fhirbridge.js: the ES-module wrapper of fhirbridge's WebAssembly module, for browsers and
// Node.js. It loads fhirbridge.wasm (next to this file by default) with Go's wasm_exec.js and
// returns an engine whose calls are synchronous:
//
//	import { load } from "./fhirbridge.js";
//	const fhirbridge = await load();
//	const { bundle, errors, warnings, timingMs } = fhirbridge.convert(text, { pretty: true });
//
// Errors are values in the result, never exceptions. If the Go runtime ever stops (it should
// not: panics are recovered inside), the call that found it stopped returns an error value and
// the engine restarts itself from the already compiled module. See fhirbridge.d.ts and
// docs/wasm.md.

import "./wasm_exec.js"; // Go's glue, copied unchanged from $(go env GOROOT)/lib/wasm; defines globalThis.Go

const defaultWasm = new URL("./fhirbridge.wasm", import.meta.url);
let defaultEngine = null;
let seq = 0;

/**
 * Loads the module and starts the engine. Without options.wasm the module next to this file
 * is used, and every call returns the same engine.
 * @param {{wasm?: string | URL | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module}} [options]
 * @returns {Promise<Engine>}
 */
export function load(options = {}) {
	if (options.wasm !== undefined) {
		return start(options.wasm);
	}
	defaultEngine ??= start(defaultWasm).catch((err) => {
		defaultEngine = null; // let a later call try again
		throw err;
	});
	return defaultEngine;
}

export default load;

async function start(source) {
	const engine = new Engine(await compile(source));
	await engine.restart();
	return engine;
}

async function compile(source) {
	if (source instanceof WebAssembly.Module) {
		return source;
	}
	if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
		return WebAssembly.compile(source);
	}
	if (typeof Response !== "undefined" && source instanceof Response) {
		return compileResponse(source);
	}
	const url = new URL(source, import.meta.url);
	if (url.protocol === "file:") { // Node.js: fetch cannot read files
		const fsName = "node:fs/promises";
		const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsName);
		return WebAssembly.compile(await readFile(url));
	}
	const res = await fetch(url);
	if (!res.ok) {
		throw new Error(`fhirbridge: cannot load ${url}: HTTP ${res.status}`);
	}
	return compileResponse(res);
}

async function compileResponse(res) {
	if (WebAssembly.compileStreaming && (res.headers.get("Content-Type") || "").startsWith("application/wasm")) {
		return WebAssembly.compileStreaming(res);
	}
	return WebAssembly.compile(await res.arrayBuffer()); // a server that does not know .wasm
}

/** Engine is a running fhirbridge module. */
class Engine {
	#module;
	#api = null;
	#go = null;
	#restarting = null;

	constructor(module) {
		this.#module = module;
	}

	/** The version of fhirbridge, e.g. "v0.3.0" or "devel". */
	get version() {
		return this.#api?.version ?? "";
	}

	/** The FHIR version of the Bundles: "4.0.1". */
	get fhirVersion() {
		return this.#api?.fhirVersion ?? "";
	}

	/**
	 * Converts every message of input to a FHIR Bundle.
	 * @param {string | Uint8Array | ArrayBuffer} input
	 * @param {{from?: string, to?: string, bundleType?: string, pretty?: boolean}} [options]
	 */
	convert(input, options = {}) {
		const t0 = performance.now();
		try {
			return this.#call().convert(input, options ?? {});
		} catch (err) {
			return {
				format: "unknown", bundle: null, bundles: [], output: null, outputs: [], messages: [], warnings: [],
				errors: [{
					message: `fhirbridge: the engine stopped (${err?.message ?? err}); it is restarting, try again`,
					kind: "internal", index: null, format: null, messageType: null, controlId: null,
					offset: null, line: null, column: null, path: null,
				}],
				timingMs: performance.now() - t0,
			};
		}
	}

	/**
	 * Detects the format of an input: "hl7v2", "cda", "edifact", "fhir" or "unknown".
	 * @param {string | Uint8Array | ArrayBuffer} input
	 */
	detect(input) {
		try {
			return this.#call().detect(input);
		} catch {
			return "unknown";
		}
	}

	/** Starts the module again from the compiled code (load does it once). */
	restart() {
		this.#restarting ??= this.#run().finally(() => { this.#restarting = null; });
		return this.#restarting;
	}

	#call() {
		if (this.#api === null) {
			this.restart().catch(() => {});
			throw new Error("the engine is not running");
		}
		return {
			convert: (...args) => this.#guard(() => this.#api.convert(...args)),
			detect: (...args) => this.#guard(() => this.#api.detect(...args)),
		};
	}

	#guard(f) {
		try {
			return f();
		} catch (err) { // "Go program has already exited", or a trap in the runtime
			this.#api = null;
			this.restart().catch(() => {});
			throw err;
		}
	}

	async #run() {
		const go = new globalThis.Go();
		const name = `__fhirbridgeReady${++seq}`;
		const ready = new Promise((resolve) => { globalThis[name] = resolve; });
		go.env = { FHIRBRIDGE_READY: name };
		try {
			const instance = await WebAssembly.instantiate(this.#module, go.importObject);
			const exited = go.run(instance).then(() => {
				if (this.#go === go) {
					this.#api = null;
				}
				throw new Error("fhirbridge: the module exited");
			});
			exited.catch(() => {}); // once running, an exit is noticed by the next call
			const api = await Promise.race([ready, exited]);
			if (api.loadError) {
				throw new Error(`fhirbridge: the built-in mappings do not compile: ${api.loadError}`);
			}
			this.#api = api;
			this.#go = go;
		} finally {
			delete globalThis[name];
		}
	}
}
