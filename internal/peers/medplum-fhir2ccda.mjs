// Usage (from ../shared/peers/medplum-ccda, where @medplum/ccda is installed; copy this file there):
//   node medplum-fhir2ccda.mjs [--rounds N] BUNDLE.json...
// Throughput of @medplum/ccda FHIR -> C-CDA (JSON.parse + convertFhirToCcda + convertCcdaToXml) in one warm process.
import { readFileSync } from 'node:fs';
globalThis.WebSocket ??= class WebSocket {};
const { convertFhirToCcda, convertCcdaToXml } = await import('@medplum/ccda');
const args = process.argv.slice(2);
let rounds = 3;
const i = args.indexOf('--rounds');
if (i >= 0) { rounds = Number(args[i + 1]); args.splice(i, 2); }
const docs = args.map((f) => [f, readFileSync(f, 'utf8')]);
const convert = (json) => convertCcdaToXml(convertFhirToCcda(JSON.parse(json)));
const ok = docs.filter(([f, x]) => { try { convert(x); return true; } catch (e) { console.error(f, String(e).slice(0, 120)); return false; } });
let bytes = 0;
const t0 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) for (const [, x] of ok) { convert(x); bytes += x.length; }
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const n = ok.length * rounds;
console.log(`docs=${n} bytes=${bytes} seconds=${s.toFixed(3)} docs_per_s=${(n / s).toFixed(1)} MB_per_s=${(bytes / s / 1e6).toFixed(2)} failed=${docs.length - ok.length}`);
