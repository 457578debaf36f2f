// The playground's service worker: it keeps a copy of the page, the engine and the examples,
// so that the playground opens and works offline after one visit. Online, every request goes
// to the server first (cheap: it answers 304 when nothing changed), so a new build shows at
// once; the copy is only used when the server cannot be reached. Only the playground's own
// files are touched; any other request (an API of `fhirbridge serve`) passes through.

const CACHE = "fhirbridge-playground-v1";
const FILES = [
	"./",
	"index.html",
	"playground.css",
	"playground.js",
	"engine-worker.js",
	"fhirbridge.js",
	"wasm_exec.js",
	"fhirbridge.wasm",
	"examples.json",
];
const scope = new URL(self.registration.scope);
const urls = new Set(FILES.map((f) => new URL(f, scope).href));

self.addEventListener("install", (event) => {
	event.waitUntil((async () => {
		const cache = await caches.open(CACHE);
		// One by one: a file that is missing (examples.json, say) does not stop the others.
		await Promise.all(FILES.map((f) => cache.add(new URL(f, scope)).catch(() => {})));
		await self.skipWaiting();
	})());
});

self.addEventListener("activate", (event) => {
	event.waitUntil((async () => {
		for (const key of await caches.keys()) {
			if (key !== CACHE) await caches.delete(key);
		}
		await self.clients.claim();
	})());
});

self.addEventListener("fetch", (event) => {
	const req = event.request;
	const url = new URL(req.url);
	url.search = "";
	if (req.method !== "GET" || !urls.has(url.href)) {
		return;
	}
	event.respondWith((async () => {
		const cache = await caches.open(CACHE);
		try {
			const res = await fetch(req);
			if (res.ok) {
				const old = await cache.match(url.href);
				const etag = res.headers.get("ETag");
				if (!old || !etag || old.headers.get("ETag") !== etag) {
					event.waitUntil(cache.put(url.href, res.clone())); // while the page reads it
				}
			}
			return res;
		} catch (err) {
			const hit = await cache.match(url.href);
			if (hit) return hit;
			throw err;
		}
	})());
});
