//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall/js"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/fhir"
)

// version is set by the build (-ldflags "-X main.version=…"); else the module's version.
var version string

func main() {
	e := newEngine()
	// Compile the default mappings now, so that the first convert call does not pay for it
	// and a broken mapping shows up when the module loads.
	_, loadErr := e.converter(convKey{})

	api := js.Global().Get("Object").New()
	api.Set("version", moduleVersion())
	api.Set("fhirVersion", fhir.FHIRVersion)
	api.Set("convert", js.FuncOf(func(this js.Value, args []js.Value) (out any) {
		defer recoverTo(&out, func(err error) any {
			r := &result{}
			r.fail(kindInternal, err)
			return r.jsValue()
		})
		input, err := inputBytes(args, "convert")
		if err != nil {
			r := &result{}
			r.fail(kindOptions, err)
			return r.jsValue()
		}
		opt, err := readOptions(args)
		if err != nil {
			r := &result{Format: fhirbridge.Detect(head(input))}
			r.fail(kindOptions, err)
			return r.jsValue()
		}
		return e.convert(context.Background(), input, opt).jsValue()
	}))
	api.Set("detect", js.FuncOf(func(this js.Value, args []js.Value) (out any) {
		defer recoverTo(&out, func(error) any { return "unknown" })
		input, err := inputBytes(args, "detect")
		if err != nil {
			return "unknown"
		}
		return detect(input)
	}))
	if loadErr != nil {
		api.Set("loadError", loadErr.Error())
	}

	// The ES-module wrapper names a callback to receive the API; run directly, the module
	// sets globalThis.fhirbridge.
	if name := os.Getenv("FHIRBRIDGE_READY"); name != "" {
		if cb := js.Global().Get(name); cb.Type() == js.TypeFunction {
			cb.Invoke(api)
		}
	} else {
		js.Global().Set("fhirbridge", api)
	}
	select {} // serve calls until the page goes away
}

// recoverTo turns a panic in a JS callback into the value onPanic makes of it, so that the
// Go runtime survives and the caller gets an error value rather than a dead module.
func recoverTo(out *any, onPanic func(error) any) {
	if p := recover(); p != nil {
		fmt.Fprintf(os.Stderr, "fhirbridge: panic: %v\n%s", p, debug.Stack())
		*out = onPanic(fmt.Errorf("fhirbridge: internal error (please report it): %v", p))
	}
}

// inputBytes reads the input argument: a string (sent as UTF-8), a Uint8Array or an
// ArrayBuffer (sent as is, so non-UTF-8 files keep their bytes).
func inputBytes(args []js.Value, fn string) ([]byte, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("fhirbridge.%s: no input given", fn)
	}
	v := args[0]
	switch {
	case v.Type() == js.TypeString:
		return []byte(v.String()), nil
	case v.InstanceOf(js.Global().Get("ArrayBuffer")):
		v = js.Global().Get("Uint8Array").New(v)
		fallthrough
	case v.InstanceOf(js.Global().Get("Uint8Array")):
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b, nil
	}
	return nil, fmt.Errorf("fhirbridge.%s: the input must be a string, a Uint8Array or an ArrayBuffer, not %s", fn, v.Type())
}

// readOptions reads convert's second argument.
func readOptions(args []js.Value) (options, error) {
	var o options
	if len(args) < 2 || args[1].IsUndefined() || args[1].IsNull() {
		return o, nil
	}
	v := args[1]
	if v.Type() != js.TypeObject {
		return o, errors.New("fhirbridge.convert: the options must be an object")
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"from", &o.From}, {"to", &o.To}, {"bundleType", &o.BundleType}} {
		switch f := v.Get(s.name); f.Type() {
		case js.TypeUndefined, js.TypeNull:
		case js.TypeString:
			*s.dst = f.String()
		default:
			return o, fmt.Errorf("fhirbridge.convert: option %s must be a string", s.name)
		}
	}
	o.Pretty = v.Get("pretty").Truthy()
	switch ps := v.Get("params"); ps.Type() {
	case js.TypeUndefined, js.TypeNull:
	case js.TypeObject:
		keys := js.Global().Get("Object").Call("keys", ps)
		o.Params = make(map[string]string, keys.Length())
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			pv := ps.Get(k)
			if pv.Type() != js.TypeString {
				return o, fmt.Errorf("fhirbridge.convert: params.%s must be a string", k)
			}
			o.Params[k] = pv.String()
		}
	default:
		return o, errors.New("fhirbridge.convert: option params must be an object of strings")
	}
	return o, nil
}

func moduleVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
