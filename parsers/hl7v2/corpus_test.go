package hl7v2

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusErrors lists the corpus files that are expected to give errors, with why. None
// does: the corpus's quirks are all tolerated (see the package doc):
//
//   - lfh_ADT_A01_2, lfh_OMP_O09_16..24, lfh_ORU_R01_8/12/14: MSH-2 `^~\\&` (doubled
//     escape character), read as `^~\&`;
//   - lfh_ADT_A01_2: literal `\r"` text at the end of MSH and of OBX (data, not a
//     terminator), CRLF line ends;
//   - 65 lfh files mix CR and LF; 28 msfc files start with a BOM; 3 have blank lines at the
//     end; hl7ig_ORM/OML/ORU use five encoding characters `^~\&#`; the IG files keep trailing
//     spaces on segments (kept as data).
//
// The corpus's "deliberately malformed" LFH messages are malformed for a converter (missing
// MSH fields, version 2.3 content under 2.6), not for a parser.
var corpusErrors = map[string]error{}

// manifest holds what the corpus MANIFEST files say about each message.
type manifestEntry struct {
	msh9, version string
	segments      int // 0 if unknown
}

func readManifests(t *testing.T, dir string) map[string]manifestEntry {
	t.Helper()
	out := map[string]manifestEntry{}
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows[1:]
	}
	for _, row := range read("MANIFEST-lfh-ig.tsv") {
		n, _ := strconv.Atoi(row[6])
		out[filepath.FromSlash(row[0])] = manifestEntry{msh9: row[4], version: row[5], segments: n}
	}
	for _, row := range read(filepath.Join("msfc", "MANIFEST.tsv")) {
		if !strings.HasSuffix(row[0], ".hl7") {
			continue
		}
		var e manifestEntry
		for _, note := range strings.Split(row[6], "; ") {
			if v, ok := strings.CutPrefix(note, "MSH-9="); ok {
				e.msh9 = v
			}
			if v, ok := strings.CutPrefix(note, "MSH-12="); ok {
				e.version = v
			}
		}
		out[filepath.Join("msfc", row[0])] = e
	}
	return out
}

// TestCorpus reads every message of the shared corpus in place: each file holds one
// message, which must read without error, agree with the MANIFEST (MSH-9, MSH-12, segment
// count), keep its positions, and parse again the same from its own bytes.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	manifest := readManifests(t, dir)
	files := corpusFiles()
	if len(files) < 390 {
		t.Fatalf("found %d corpus files, want at least 390", len(files))
	}
	var all bytes.Buffer // every file, concatenated as a batch tool would
	for _, file := range files {
		rel, _ := filepath.Rel(dir, file)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(data)
			msgs, errs := readAll(t, NewReader(bytes.NewReader(data)))
			if want := corpusErrors[rel]; want != nil {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), want.Error()) {
					t.Fatalf("errors %v, want %v", errs, want)
				}
				return
			}
			if len(errs) != 0 || len(msgs) != 1 {
				t.Fatalf("read %d messages, errors %v", len(msgs), errs)
			}
			m := msgs[0]
			checkMessage(t, data, m)
			e, ok := manifest[rel]
			if !ok {
				t.Fatalf("%s is not in the MANIFEST", rel)
			}
			if got := string(m.Segment(0).Field(9).Raw()); got != e.msh9 {
				t.Errorf("MSH-9 = %q, MANIFEST says %q", got, e.msh9)
			}
			if got := m.Version(); got != e.version {
				t.Errorf("MSH-12.1 = %q, MANIFEST says %q", got, e.version)
			}
			if e.segments > 0 && m.NumSegments() != e.segments {
				t.Errorf("%d segments, MANIFEST says %d", m.NumSegments(), e.segments)
			}
		})
	}
	t.Run("concatenated", func(t *testing.T) {
		data := all.Bytes()
		msgs, errs := readAll(t, NewReader(bytes.NewReader(data)))
		if len(msgs) != len(files) || len(errs) != 0 {
			t.Fatalf("read %d messages of %d files, errors %v", len(msgs), len(files), errs)
		}
		for _, m := range msgs {
			checkMessage(t, data, m)
		}
	})
}

// TestCorpusQuirks checks the corpus files whose quirks matter most.
func TestCorpusQuirks(t *testing.T) {
	dir := corpusDir(t)
	read := func(name string) *Message {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := NewReader(f).Read()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name string
		file string
		path string
		want string
	}{
		{name: "doubled escape in MSH-2", file: "lfh/lfh_ADT_A01_2.hl7", path: "MSH-2", want: `^~\\&`},
		{name: "literal backslash-r text", file: "lfh/lfh_ADT_A01_2.hl7", path: "MSH-24", want: `^4086::132:2A57:3C28^IPv6\r"`},
		{name: "five encoding characters", file: "ig/hl7ig_ORU_R01_1.hl7", path: "MSH-2", want: `^~\&#`},
		{name: "BOM", file: "msfc/ADT01-23.hl7", path: "MSH-9.1", want: "ADT"},
		{name: "mixed CR and LF", file: "lfh/lfh_ADT_A40_4.hl7", path: "PID[3]-5.2", want: "Larry"},
		{name: "trailing space kept", file: "ig/hl7ig_ADT_A01_1.hl7", path: "PV2-40", want: "AC^Acute^HL70432 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := read(tt.file).Get(MustParsePath(tt.path)); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	m := read("lfh/lfh_ADT_A01_2.hl7")
	if m.Delimiters() != DefaultDelimiters {
		t.Errorf("doubled escape: delimiters %+v", m.Delimiters())
	}
}
