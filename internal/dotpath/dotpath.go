// Package dotpath splits the dotted paths of the mapping languages (FHIR paths, JSON paths)
// into their steps.
package dotpath

import (
	"fmt"
	"strings"
)

// Split splits s at the dots that are neither inside an open … close pair (parentheses of
// extension('…'), brackets of a filter [name='…']) nor inside single or double quotes.
// Steps are trimmed of white space. Unbalanced pairs or quotes are an error.
func Split(s string, open, close byte) ([]string, error) {
	var parts []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == open:
			depth++
		case c == close:
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %c", close)
			}
		case c == '.' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if quote != 0 || depth != 0 {
		return nil, fmt.Errorf("unbalanced quotes or %c%c", open, close)
	}
	return append(parts, strings.TrimSpace(s[start:])), nil
}
