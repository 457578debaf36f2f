// Package browsertest tests fhirbridge's WebAssembly module where it runs: in Node.js (the JS
// API) and in headless Chromium (the playground, driven with chromedp). It is a module of its
// own, so that the root module never requires chromedp.
//
//	cd wasm/browsertest && go test ./...
//
// The tests build the module first (go run ./internal/build in the wasm folder); set
// FHIRBRIDGE_WASM_BUILT=1 to test the files already built. They skip, saying why, when node or
// Chromium is missing (CHROMIUM names the browser binary; by default chromium on the PATH).
package browsertest
