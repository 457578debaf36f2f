//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// On other platforms the command only says how to build it; engine.go is tested here.
func main() {
	fmt.Fprintln(os.Stderr, "fhirbridge/wasm runs in a browser or Node.js: build it with `go generate ./wasm` (GOOS=js GOARCH=wasm)")
	os.Exit(2)
}
