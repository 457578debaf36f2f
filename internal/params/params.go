// Package params turns a set of key=value parameters (fhirbridge.Options.Params) into a
// comparable key and back, for the server and the WebAssembly engine, which keep one compiled
// Converter per distinct set.
package params

import (
	"slices"
	"strings"
)

// Key returns p as its sorted "k=v" lines: equal sets give equal keys.
func Key(p map[string]string) string {
	lines := make([]string, 0, len(p))
	for k, v := range p {
		lines = append(lines, k+"="+v)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// Parse returns the set a Key was made from; nil for "".
func Parse(key string) map[string]string {
	if key == "" {
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(key, "\n") {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}
