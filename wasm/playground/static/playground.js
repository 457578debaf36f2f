// The fhirbridge playground: plain ES modules, no build step, no network after load.

const $ = (id) => document.getElementById(id);

const formatNames = { hl7v2: "HL7 v2", cda: "CDA", edifact: "EDIFACT", fhir: "FHIR JSON", unknown: "unknown format" };

const state = {
	engine: null,
	raw: null, // {bytes, shown}: the bytes of a loaded file or example, while the text shown is unchanged
	result: null,
	current: 0, // the Bundle shown
	view: "tree",
};

async function main() {
	wire();
	if ("serviceWorker" in navigator && window.isSecureContext) {
		navigator.serviceWorker.register("sw.js").catch(() => {}); // offline after the first visit
	}
	await Promise.all([loadExamples(), loadEngine()]);
}

// WorkerEngine is the engine of fhirbridge.js, run in engine-worker.js: the same calls, async.
class WorkerEngine {
	#worker;
	#seq = 0;
	#pending = new Map();
	version = "";
	fhirVersion = "";
	loadMs = 0;

	constructor() {
		this.#worker = new Worker(new URL("./engine-worker.js", import.meta.url), { type: "module" });
		this.ready = new Promise((resolve, reject) => {
			this.#worker.onmessage = ({ data }) => {
				if (data.type === "ready") {
					Object.assign(this, { version: data.version, fhirVersion: data.fhirVersion, loadMs: data.ms });
					resolve(this);
				} else if (data.type === "failed") {
					reject(new Error(data.error));
				} else {
					this.#pending.get(data.id)?.(data.result);
					this.#pending.delete(data.id);
				}
			};
			this.#worker.onerror = (e) => {
				e.preventDefault();
				reject(new Error(e.message || "the engine's worker did not start (is fhirbridge.js there?)"));
			};
		});
	}

	#call(op, input, options) {
		const id = ++this.#seq;
		return new Promise((resolve) => {
			this.#pending.set(id, resolve);
			this.#worker.postMessage({ id, op, input, options });
		});
	}

	/** convert resolves to the ConvertResult of fhirbridge.d.ts. */
	convert(input, options) { return this.#call("convert", input, options); }

	/** detect resolves to the input's format. */
	detect(input) { return this.#call("detect", input); }
}

async function loadEngine() {
	const status = $("status");
	try {
		state.engine = await new WorkerEngine().ready;
	} catch (err) {
		status.dataset.state = "error";
		status.textContent = `The engine did not load: ${err.message}. ` +
			"If fhirbridge.wasm is missing, build it with `go generate ./wasm`.";
		return;
	}
	window.fhirbridge = state.engine; // for the console (and the browser tests); calls are async
	status.dataset.state = "ready";
	status.textContent = `Ready: engine loaded in ${Math.round(state.engine.loadMs)} ms.`;
	$("versions").textContent = `fhirbridge ${state.engine.version} · FHIR ${state.engine.fhirVersion}`;
	$("convert").disabled = false;
	updateDetected();
}

async function loadExamples() {
	let list;
	try {
		const res = await fetch("examples.json");
		if (!res.ok) return;
		list = (await res.json()).examples ?? [];
	} catch {
		return;
	}
	if (list.length === 0) return;
	const box = $("examples");
	const groups = new Map();
	for (const ex of list) {
		if (!groups.has(ex.format)) groups.set(ex.format, []);
		groups.get(ex.format).push(ex);
	}
	for (const [format, items] of groups) {
		const group = el("div", "group");
		const label = format === "fhir" ? "FHIR (to HL7 v2, C-CDA, EDIFACT)" : formatNames[format] ?? format;
		group.append(el("span", "label", `${label}:`));
		for (const ex of items) {
			const base = ex.name.split("/").pop();
			const b = el("button", "", base.replace(/\.[^.]+$/, ""));
			b.type = "button";
			b.title = `Load testdata/${ex.name}`;
			b.dataset.format = ex.format;
			b.dataset.name = ex.name;
			b.addEventListener("click", () => {
				$("to").value = ex.to ?? "fhir"; // FHIR examples convert to a legacy format
				if (ex.base64 !== undefined) {
					const bytes = Uint8Array.from(atob(ex.base64), (c) => c.charCodeAt(0));
					setInput(decode(bytes), bytes);
				} else {
					setInput(ex.text, null);
				}
			});
			group.append(b);
		}
		box.append(group);
	}
	box.hidden = false;
}

function wire() {
	const input = $("input");
	$("convert").addEventListener("click", convert);
	input.addEventListener("keydown", (e) => {
		if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
			e.preventDefault();
			convert();
		}
	});
	input.addEventListener("input", debounce(updateDetected, 150));
	$("from").addEventListener("change", updateDetected);
	$("clear").addEventListener("click", () => setInput("", null));
	$("open").addEventListener("click", () => $("file").click());
	$("file").addEventListener("change", (e) => {
		if (e.target.files[0]) openFile(e.target.files[0]);
		e.target.value = "";
	});

	const drop = $("drop");
	for (const target of [document.documentElement, drop]) {
		target.addEventListener("dragover", (e) => {
			e.preventDefault();
			drop.classList.add("over");
		});
		target.addEventListener("dragleave", () => drop.classList.remove("over"));
		target.addEventListener("drop", (e) => {
			e.preventDefault();
			e.stopPropagation();
			drop.classList.remove("over");
			const f = e.dataTransfer?.files?.[0];
			if (f) openFile(f);
		});
	}

	$("bundle-pick").addEventListener("change", (e) => showBundle(Number(e.target.value)));
	$("view-tree").addEventListener("click", () => setView("tree"));
	$("view-json").addEventListener("click", () => setView("json"));
	$("expand-all").addEventListener("click", () => toggleAll(true));
	$("collapse-all").addEventListener("click", () => toggleAll(false));
	$("copy").addEventListener("click", copyBundle);
	$("download").addEventListener("click", downloadBundle);
}

// setInput shows text; bytes, when given, are what gets converted while the text is unchanged
// (so a Latin-1 file keeps its bytes).
function setInput(text, bytes) {
	const input = $("input");
	input.value = text;
	state.raw = bytes ? { bytes, shown: input.value } : null; // the textarea turns CR into LF
	input.focus();
	input.setSelectionRange(0, 0);
	input.scrollTop = 0;
	updateDetected();
}

async function openFile(file) {
	const bytes = new Uint8Array(await file.arrayBuffer());
	setInput(decode(bytes), bytes);
}

// decode shows UTF-8 as it is and anything else as Windows-1252 (a superset of Latin-1).
function decode(bytes) {
	try {
		return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
	} catch {
		return new TextDecoder("windows-1252").decode(bytes);
	}
}

function currentInput() {
	const text = $("input").value;
	return state.raw && state.raw.shown === text ? state.raw.bytes : text;
}

async function updateDetected() {
	const out = $("detected");
	const text = $("input").value;
	if (!state.engine || text.trim() === "") {
		out.textContent = "";
		return;
	}
	const f = await state.engine.detect(text.slice(0, 1024));
	if ($("input").value !== text) return; // a later call shows its own
	const from = $("from").value;
	out.textContent = `Detected: ${formatNames[f] ?? f}`;
	out.classList.toggle("mismatch", f === "unknown" || (from !== "auto" && f !== from));
}

async function convert() {
	if (!state.engine || $("output").dataset.state === "running") return;
	const output = $("output");
	output.dataset.state = "running";
	$("summary").textContent = "Converting…";
	$("timing").textContent = "";
	// The direction follows the input: legacy formats convert to FHIR, FHIR to the chosen
	// legacy format (HL7 v2 unless another is chosen).
	const detected = await state.engine.detect($("input").value.slice(0, 1024));
	if (detected !== "fhir" && detected !== "unknown" && $("to").value !== "fhir") $("to").value = "fhir";
	if (detected === "fhir" && $("to").value === "fhir") $("to").value = "hl7v2";
	const params = {};
	for (const kv of $("params").value.split(/\s+/)) {
		const i = kv.indexOf("=");
		if (i > 0) params[kv.slice(0, i)] = kv.slice(i + 1);
	}
	// The library never reads the clock; the playground gives EDIFACT output the time now.
	if ($("to").value === "edifact" && !params.timestamp) params.timestamp = new Date().toISOString().slice(0, 19) + "Z";
	const result = await state.engine.convert(currentInput(), {
		from: $("from").value,
		to: $("to").value,
		params,
		bundleType: $("bundle-type").value,
		pretty: true,
	});
	state.result = result;
	render(result);
	output.dataset.state = "done";
}

// outputsOf returns what a conversion wrote: Bundles (JSON), or in the reverse direction the
// HL7 v2 messages, CDA documents or EDIFACT interchanges.
function outputsOf(r) {
	return r?.bundles.length ? r.bundles : (r?.outputs ?? []);
}

function render(r) {
	const n = outputsOf(r).length;
	const parts = [];
	const noun = r.bundles.length || !r.outputs?.length ? "Bundle" : (formatNames[$("to").value] ?? $("to").value) + " output";
	parts.push(n === 1 ? `1 ${noun}` : `${n} ${noun}s`);
	if (r.format !== "unknown") parts.push(`from ${formatNames[r.format] ?? r.format}`);
	parts.push(r.errors.length === 1 ? "1 error" : `${r.errors.length} errors`);
	parts.push(r.warnings.length === 1 ? "1 warning" : `${r.warnings.length} warnings`);
	$("summary").textContent = parts.join(" · ");
	$("timing").textContent = `converted in ${fmtMs(r.timingMs)}`;
	$("timing").dataset.ms = String(r.timingMs);

	const errors = $("errors");
	errors.replaceChildren(...r.errors.map(errorItem));
	errors.hidden = r.errors.length === 0;

	const wbox = $("warnings-box");
	$("warnings-title").textContent = r.warnings.length === 1 ? "1 warning" : `${r.warnings.length} warnings`;
	$("warnings").replaceChildren(...r.warnings.map(warningItem));
	wbox.hidden = r.warnings.length === 0;

	const pick = $("bundle-pick");
	pick.replaceChildren(...r.messages.map((m, i) => {
		const o = el("option", "", `Bundle ${i + 1} of ${n}: message ${m.index + 1}, ${m.messageType}${m.controlId ? ` (${m.controlId})` : ""}`);
		o.value = String(i);
		return o;
	}));
	pick.hidden = n < 2;
	$("bundle-bar").hidden = n === 0;
	showBundle(0);
}

function fmtMs(ms) {
	return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

function where(parts) {
	return parts.filter((p) => p !== null && p !== undefined && p !== "").join(" · ");
}

function errorItem(e) {
	const li = el("li");
	li.dataset.kind = e.kind;
	const loc = where([
		e.index !== null ? `message ${e.index + 1}` : null,
		e.line !== null ? `line ${e.line}, column ${e.column ?? 1}` : null,
		e.path,
	]);
	if (loc) {
		if (e.line !== null) {
			const a = el("a", "where", loc);
			a.href = "#";
			a.title = "Show the place in the input";
			a.addEventListener("click", (ev) => {
				ev.preventDefault();
				selectLine(e.line);
			});
			li.append(a);
		} else {
			li.append(el("span", "where", loc));
		}
	}
	li.append(el("span", "kind", e.kind), el("span", "msg", e.message));
	return li;
}

function warningItem(w) {
	const li = el("li");
	const loc = where([`message ${w.index + 1}`, w.input]);
	li.append(el("span", "where", loc), el("span", "msg", w.message));
	if (w.file) {
		li.append(el("span", "file", `${w.file}${w.line ? `:${w.line}` : ""}${w.column ? `:${w.column}` : ""}`));
	}
	return li;
}

// selectLine selects line n (1-based) of the input.
function selectLine(n) {
	const input = $("input");
	const lines = input.value.split("\n");
	n = Math.min(Math.max(n, 1), lines.length);
	let start = 0;
	for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;
	input.focus();
	input.setSelectionRange(start, start + lines[n - 1].length);
	const lineHeight = parseFloat(getComputedStyle(input).lineHeight) || 18;
	input.scrollTop = Math.max(0, (n - 3) * lineHeight);
}

function showBundle(i) {
	state.current = i;
	const text = outputsOf(state.result)[i] ?? "";
	$("bundle-json").textContent = text;
	const tree = $("tree");
	tree.replaceChildren();
	if (text && state.result.bundles.length) {
		tree.append(node(null, parseJSON(text), 0));
	}
	setView(state.view);
}

function setView(view) {
	state.view = view;
	const has = outputsOf(state.result).length > 0;
	if (has && !state.result.bundles.length) view = "json"; // legacy text has no tree
	$("tree").hidden = !has || view !== "tree";
	$("bundle-json").hidden = !has || view !== "json";
	$("view-tree").setAttribute("aria-pressed", String(view === "tree"));
	$("view-json").setAttribute("aria-pressed", String(view === "json"));
	$("expand-all").disabled = $("collapse-all").disabled = view !== "tree";
}

// --- the collapsible JSON tree

// RawNumber keeps a number as written (FHIR decimals keep their precision: 1.50 stays 1.50).
class RawNumber {
	constructor(source) { this.source = source; }
}

function parseJSON(text) {
	return JSON.parse(text, (key, value, context) =>
		typeof value === "number" && context?.source !== undefined ? new RawNumber(context.source) : value);
}

const isContainer = (v) => v !== null && typeof v === "object" && !(v instanceof RawNumber);

// node renders one value; containers are <details>, whose children are built when first opened.
function node(key, value, depth) {
	if (!isContainer(value)) {
		const div = el("div", "leaf");
		if (key !== null) div.append(keySpan(key), ": ");
		div.append(scalar(value));
		return div;
	}
	const isArray = Array.isArray(value);
	const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
	const d = el("details");
	const summary = el("summary");
	if (key !== null) summary.append(keySpan(key), ": ");
	summary.append(el("span", "meta", isArray ? `[${entries.length}]` : `{${entries.length}}`));
	const hint = describe(value);
	if (hint) summary.append(" ", el("span", "rt", hint));
	d.append(summary);
	let built = false;
	const build = () => {
		if (built) return;
		built = true;
		const children = el("div", "children");
		for (const [k, v] of entries) children.append(node(k, v, depth + 1));
		d.append(children);
	};
	d.addEventListener("toggle", () => { if (d.open) build(); });
	// Open the Bundle and its entry list; entries and deeper levels start closed.
	if (depth === 0 || (depth === 1 && key === "entry")) {
		build();
		d.open = true;
	}
	return d;
}

// describe names a resource or an entry in its summary line: "Patient/abc".
function describe(v) {
	const r = v.resource ?? v;
	if (r && typeof r === "object" && typeof r.resourceType === "string") {
		return r.id ? `${r.resourceType}/${r.id}` : r.resourceType;
	}
	return "";
}

function keySpan(k) {
	return el("span", "k", typeof k === "number" ? String(k) : JSON.stringify(k));
}

function scalar(v) {
	if (v instanceof RawNumber) return el("span", "n", v.source);
	if (typeof v === "string") return el("span", "s", JSON.stringify(v));
	if (typeof v === "number") return el("span", "n", String(v));
	return el("span", "l", String(v)); // true, false, null
}

function toggleAll(open) {
	const tree = $("tree");
	if (open) {
		// Opening builds children, which adds more <details>: repeat until none is closed.
		for (let closed = tree.querySelectorAll("details:not([open])"); closed.length > 0;
			closed = tree.querySelectorAll("details:not([open])")) {
			for (const d of closed) {
				d.open = true;
				d.dispatchEvent(new Event("toggle"));
			}
		}
	} else {
		for (const d of tree.querySelectorAll("details")) d.open = false;
		const root = tree.querySelector("details");
		if (root) root.open = true;
	}
}

// --- copy and download

async function copyBundle() {
	const text = outputsOf(state.result)[state.current];
	if (!text) return;
	const b = $("copy");
	try {
		await navigator.clipboard.writeText(text);
		b.textContent = "Copied";
	} catch {
		b.textContent = "Copy failed";
	}
	setTimeout(() => { b.textContent = "Copy"; }, 1500);
}

const outputFiles = {
	hl7v2: [".hl7", "x-application/hl7-v2+er7"],
	cda: [".xml", "application/xml"],
	edifact: [".edifact", "application/edifact"],
};

function downloadBundle() {
	const text = outputsOf(state.result)[state.current];
	if (!text) return;
	const m = state.result.messages[state.current];
	const [ext, type] = state.result.bundles.length ? [".bundle.json", "application/fhir+json"] : outputFiles[$("to").value] ?? [".txt", "text/plain"];
	const name = `${(m.controlId || m.mapping || "bundle").replace(/[^\w.-]+/g, "_")}${ext}`;
	const url = URL.createObjectURL(new Blob([text], { type }));
	const a = el("a");
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- helpers

function el(tag, className = "", text) {
	const e = document.createElement(tag);
	if (className) e.className = className;
	if (text !== undefined) e.textContent = text;
	return e;
}

function debounce(f, ms) {
	let t;
	return (...args) => {
		clearTimeout(t);
		t = setTimeout(() => f(...args), ms);
	};
}

main();
