package hl7v2

import "sync"

// Segment names are three characters from [A-Z0-9]: 36³ = 46,656 possible names. Every
// segment stores its name as a number below that, and [Segment.Name] slices the name out of
// one shared string of all names, so obtaining a name never allocates, even for Z-segments
// and when buffers are reused.

const numNames = 36 * 36 * 36

// nameIndex maps a byte to its place in the name alphabet, or 0xff.
var nameIndex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c - 'A')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(26 + c - '0')
	}
	return t
}()

const nameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// allNames is every possible name, three bytes each, built on first use (137 KiB).
var allNames = sync.OnceValue(func() string {
	b := make([]byte, 0, 3*numNames)
	for i := 0; i < numNames; i++ {
		b = append(b, nameAlphabet[i/1296], nameAlphabet[i/36%36], nameAlphabet[i%36])
	}
	return string(b)
})

// nameCode returns the code of the segment name at the start of b, or -1 if b does not start
// with three characters from [A-Z0-9].
func nameCode(b []byte) int {
	if len(b) < 3 {
		return -1
	}
	x, y, z := nameIndex[b[0]], nameIndex[b[1]], nameIndex[b[2]]
	if x|y|z == 0xff { // valid indexes are below 64, so only 0xff sets all bits
		return -1
	}
	return int(x)*1296 + int(y)*36 + int(z)
}

// nameOf returns the name with the given code.
func nameOf(code uint16) string {
	i := int(code) * 3
	return allNames()[i : i+3]
}

// Codes of the segments that delimit messages and batches.
var (
	codeMSH = nameCode([]byte("MSH"))
	codeFHS = nameCode([]byte("FHS"))
	codeBHS = nameCode([]byte("BHS"))
	codeBTS = nameCode([]byte("BTS"))
	codeFTS = nameCode([]byte("FTS"))
)
