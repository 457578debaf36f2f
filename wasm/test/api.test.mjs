// Tests of the JS API in Node.js: node --test wasm/test/ (after go generate ./wasm).
// wasm/browsertest runs them too (TestNode).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { load } from "../fhirbridge.js";

const testdata = new URL("../../testdata/", import.meta.url);
const adt = await readFile(new URL("hl7v2/adt_a01.hl7", testdata), "utf8");
const batch = await readFile(new URL("hl7v2/batch.hl7", testdata));
const fhirbridge = await load();

function resourceTypes(bundleJSON) {
	const b = JSON.parse(bundleJSON);
	assert.equal(b.resourceType, "Bundle");
	return b.entry.map((e) => e.resource.resourceType);
}

test("version", () => {
	assert.match(fhirbridge.version, /\S/);
	assert.equal(fhirbridge.fhirVersion, "4.0.1");
});

test("load returns the same engine", async () => {
	assert.equal(await load(), fhirbridge);
});

test("convert a message", () => {
	const r = fhirbridge.convert(adt, { pretty: true });
	assert.deepEqual(r.errors, []);
	assert.equal(r.format, "hl7v2");
	assert.equal(r.bundles.length, 1);
	assert.equal(r.bundle, r.bundles[0]);
	assert.ok(r.bundle.includes('\n  "'), "pretty JSON is indented");
	assert.ok(resourceTypes(r.bundle).includes("Patient"));
	assert.equal(r.messages[0].messageType, "ADT^A01");
	assert.equal(r.messages[0].controlId, "NW-000184");
	assert.ok(Array.isArray(r.warnings));
	assert.ok(r.timingMs > 0);
});

test("convert options", () => {
	const r = fhirbridge.convert(adt, { bundleType: "collection" });
	assert.equal(JSON.parse(r.bundle).type, "collection");
	assert.ok(!r.bundle.includes("\n"), "compact JSON by default");
});

test("convert bytes, several messages", () => {
	// batch.hl7: three messages, the second of an unsupported type.
	const r = fhirbridge.convert(new Uint8Array(batch), { bundleType: "collection" });
	assert.equal(r.bundles.length, 2);
	assert.deepEqual(r.messages.map((m) => m.index), [0, 2]);
	assert.equal(r.errors.length, 1);
	assert.equal(r.errors[0].kind, "unsupported");
	assert.equal(r.errors[0].index, 1);
	assert.equal(r.errors[0].messageType, "ADT^A99");
	const again = fhirbridge.convert(batch.buffer.slice(batch.byteOffset, batch.byteOffset + batch.length), { bundleType: "collection" });
	assert.deepEqual(again.bundles, r.bundles, "an ArrayBuffer converts like its bytes");
});

test("a bad message is an error value with its place, and the module keeps working", () => {
	const bad = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5.1\rpid|1||123\r";
	const r = fhirbridge.convert(bad);
	assert.equal(r.bundle, null);
	assert.equal(r.errors.length, 1);
	const e = r.errors[0];
	assert.equal(e.kind, "parse");
	assert.equal(e.index, 0);
	assert.equal(e.line, 2);
	assert.equal(e.column, 1);
	assert.equal(typeof e.offset, "number");
	assert.match(e.message, /bad segment name/);

	const mixed = fhirbridge.convert(adt + "\r" + bad + adt);
	assert.equal(mixed.bundles.length, 2, "the good messages around a bad one convert");
	assert.equal(mixed.errors.length, 1);
	assert.equal(mixed.errors[0].index, 1);

	const after = fhirbridge.convert(adt);
	assert.deepEqual(after.errors, []);
	assert.ok(resourceTypes(after.bundle).includes("Patient"));
});

test("errors are values, never exceptions", () => {
	for (const [input, options, kind] of [
		["", undefined, "input"],
		["hello", undefined, "input"],
		[adt, { to: "hl7v2" }, "unsupported"],
		[adt, { from: "edifact" }, "unsupported"],
		[adt, { bundleType: "bag" }, "options"],
		[adt, { bundleType: 7 }, "options"],
		[adt, "pretty", "options"],
		[42, undefined, "options"],
		[undefined, undefined, "options"],
	]) {
		const r = fhirbridge.convert(input, options);
		assert.equal(r.bundles.length, 0);
		assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
		assert.equal(r.errors[0].kind, kind, r.errors[0].message);
	}
	assert.ok(fhirbridge.convert(adt).bundle);
});

test("detect", () => {
	assert.equal(fhirbridge.detect(adt), "hl7v2");
	assert.equal(fhirbridge.detect("<?xml version='1.0'?><ClinicalDocument/>"), "cda");
	assert.equal(fhirbridge.detect("UNA:+.? 'UNB+UNOC:3"), "edifact");
	assert.equal(fhirbridge.detect('{"resourceType":"Bundle"}'), "fhir");
	assert.equal(fhirbridge.detect("hello"), "unknown");
	assert.equal(fhirbridge.detect(new TextEncoder().encode(adt)), "hl7v2");
	assert.equal(fhirbridge.detect(42), "unknown");
});

test("FHIR converts to HL7 v2 with params; the message is in output", async () => {
	const bundle = await readFile(new URL("fhir/oru_r01.json", testdata), "utf8");
	const r = fhirbridge.convert(bundle, { to: "hl7v2", params: { sendingApplication: "NODETEST" } });
	assert.deepEqual(r.errors, []);
	assert.equal(r.bundles.length, 0);
	assert.equal(r.outputs.length, 1);
	assert.ok(r.output.startsWith("MSH|^~\\&|NODETEST|"), r.output.slice(0, 40));
	assert.equal(r.messages[0].messageType, "ORU^R01");
	const bad = fhirbridge.convert(bundle, { to: "hl7v2", params: { x: 1 } });
	assert.equal(bad.errors[0].kind, "options");
});
