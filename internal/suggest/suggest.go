// Package suggest finds the name a user probably meant, for "did you mean" hints in mapping
// diagnostics, FHIR paths and configuration keys.
package suggest

import (
	"fmt"
	"strings"
)

// Hint returns ` (did you mean "x"?)` for the name in names closest to got (case-insensitive,
// fewer than 3 edits away), or "" when none is close.
func Hint(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := Distance(strings.ToLower(got), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
