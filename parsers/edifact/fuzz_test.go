package edifact

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReader: never panics, always terminates, keeps InputOffset monotonic; the corpus
// (read in place from ../shared/corpus/edifact, skipped when absent) seeds it.
func FuzzReader(f *testing.F) {
	f.Add("UNA:+.? 'UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'FTX+A?+B'UNT+3+1'UNZ+1+9'")
	f.Add("UNH+1+X'FTX+A?")
	f.Add("UNA:+.?'UNB'")
	_ = filepath.WalkDir("../../../shared/corpus/edifact", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".edifact") {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, in string) {
		rd := NewReader(strings.NewReader(in))
		var last int64
		for i := 0; i <= len(in)+2; i++ {
			m, err := rd.Read()
			if off := rd.InputOffset(); off < last || off > int64(len(in)) {
				t.Fatalf("InputOffset %d after %d (input %d bytes)", off, last, len(in))
			} else {
				last = off
			}
			if err == io.EOF {
				return
			}
			if err != nil && rd.err != nil {
				return
			}
			if m != nil {
				for j := range m.NumSegments() {
					_ = m.Segment(j).Elements()
				}
			}
		}
		t.Fatalf("no EOF after %d reads", len(in)+2)
	})
}
