package hl7v2

import (
	"strings"
	"testing"
)

func TestUnescape(t *testing.T) {
	custom := Delimiters{'#', '$', '%', '@', '&', '!'}
	trunc := DefaultDelimiters
	trunc.Truncation = '#'
	tests := []struct {
		name string
		in   string
		d    Delimiters
		want string
	}{
		{name: "none", in: "plain text", want: "plain text"},
		{name: "delimiters", in: `a\F\b\S\c\T\d\R\e\E\f`, want: `a|b^c&d~e\f`},
		{name: "truncation", in: `cut\P\`, d: trunc, want: "cut#"},
		{name: "truncation absent before v2.7", in: `cut\P\`, want: `cut\P\`},
		{name: "custom delimiters", in: `x@F@y@S@z@E@@P@`, d: custom, want: `x#y$z@!`},
		{name: "custom leaves backslash", in: `C:\temp\F\`, d: custom, want: `C:\temp\F\`},
		{name: "hex UTF-8", in: `caf\XC3A9\`, want: "café"},
		{name: "hex lower case", in: `caf\Xc3a9\`, want: "café"},
		{name: "hex Latin-1", in: `caf\XE9\`, want: "café"},
		{name: "hex ASCII", in: `\X41424344\`, want: "ABCD"},
		{name: "hex odd length", in: `\X414\`, want: `\X414\`},
		{name: "hex not hex", in: `\XZZ\`, want: `\XZZ\`},
		{name: "hex empty", in: `\X\`, want: `\X\`},
		{name: "line break", in: `a\.br\b`, want: "a\nb"},
		{name: "skip lines", in: `a\.sp\b\.sp2\c\.sp+3\d`, want: "a\nb\nc\nd"},
		{name: "formatting dropped", in: `\.in+4\a\.ti-2\b\.sk3\c\.sk\\.fi\\.nf\\.ce\d`, want: "abcd"},
		{name: "highlight dropped", in: `\H\bold\N\`, want: "bold"},
		{name: "charset dropped", in: `\C2842\x\M242842\y\M2428\`, want: "xy"},
		{name: "local kept", in: `\Zabc\`, want: `\Zabc\`},
		{name: "unknown kept", in: `\Q\x`, want: `\Q\x`},
		{name: "unknown formatting kept", in: `\.zz\`, want: `\.zz\`},
		{name: "closing starts next", in: `\Q\F\`, want: `\Q|`},
		{name: "unterminated", in: `abc\F`, want: `abc\F`},
		{name: "lone escape", in: `\`, want: `\`},
		{name: "empty sequence", in: `\\`, want: `\\`},
		{name: "windows path", in: `C:\temp\file`, want: `C:\temp\file`},
		{name: "literal backslash r", in: `text\r\n`, want: `text\r\n`},
		{name: "br with count kept", in: `\.br2\`, want: `\.br2\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d == (Delimiters{}) {
				d = DefaultDelimiters
			}
			got := string(Unescape([]byte("prefix:"), []byte(tt.in), d))
			if got != "prefix:"+tt.want {
				t.Errorf("Unescape(%q) = %q, want %q", tt.in, got[len("prefix:"):], tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	trunc := DefaultDelimiters
	trunc.Truncation = '#'
	tests := []struct {
		name string
		in   string
		d    Delimiters
		want string
	}{
		{name: "none", in: "plain", want: "plain"},
		{name: "delimiters", in: `a|b^c&d~e\f`, want: `a\F\b\S\c\T\d\R\e\E\f`},
		{name: "truncation", in: "a#b", d: trunc, want: `a\P\b`},
		{name: "no truncation", in: "a#b", want: "a#b"},
		{name: "newlines", in: "a\nb\r\nc", want: `a\.br\b\.br\c`},
		{name: "lone CR", in: "a\rb", want: `a\X0D\b`},
		{name: "controls", in: "a\x0bb\x1cc\td", want: "a\\X0B\\b\\X1C\\c\td"},
		{name: "BOM", in: "a\ufeffMSH", want: `a\XEFBBBF\MSH`},
		{name: "UTF-8 kept", in: "café ✓", want: "café ✓"},
		{name: "custom", in: "#$%@&", d: Delimiters{'#', '$', '%', '@', '&', 0}, want: "@F@@S@@R@@E@@T@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d == (Delimiters{}) {
				d = DefaultDelimiters
			}
			got := string(Escape(nil, tt.in, d))
			if got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			back := string(Unescape(nil, []byte(got), d))
			if want := strings.ReplaceAll(tt.in, "\r\n", "\n"); back != want {
				t.Errorf("Unescape(Escape(%q)) = %q", tt.in, back)
			}
		})
	}
}

func TestUnescapeNoAlloc(t *testing.T) {
	src := []byte("no escapes here")
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { dst = Unescape(dst[:0], src, DefaultDelimiters) }); n != 0 {
		t.Errorf("Unescape allocates %v times", n)
	}
}
