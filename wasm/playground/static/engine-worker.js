// The playground's engine runs in this module worker, so that the page stays responsive while
// the module compiles its mappings and while it converts a large input.
import { load } from "./fhirbridge.js";

const t0 = performance.now();
const engine = load();

onmessage = async (e) => {
	const { id, op, input, options } = e.data;
	const fb = await engine;
	postMessage({ id, result: op === "detect" ? fb.detect(input) : fb.convert(input, options) });
};

engine.then(
	(fb) => postMessage({ type: "ready", version: fb.version, fhirVersion: fb.fhirVersion, ms: performance.now() - t0 }),
	(err) => postMessage({ type: "failed", error: String(err?.message ?? err) }),
);
