package edifact

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mark strips the ⚠ marker from in and returns the input and the marker's byte offset,
// line and column (1-based), as encoding/csv's tests do.
func mark(in string) (string, int64, int, int) {
	i := strings.Index(in, "⚠")
	if i < 0 {
		return in, -1, 0, 0
	}
	before := in[:i]
	line := strings.Count(before, "\n") + 1
	col := i - strings.LastIndex(before, "\n")
	return before + in[i+len("⚠"):], int64(i), line, col
}

func readAll(t *testing.T, in string, strict bool) ([]*Message, []error) {
	t.Helper()
	rd := NewReader(strings.NewReader(in))
	rd.Strict = strict
	var ms []*Message
	var errs []error
	for i := 0; i < 100; i++ {
		m, err := rd.Read()
		if err == io.EOF {
			return ms, errs
		}
		if err != nil {
			errs = append(errs, err)
			if rd.err != nil {
				return ms, errs
			}
			continue
		}
		ms = append(ms, m)
	}
	t.Fatal("Read did not reach EOF")
	return nil, nil
}

func TestReaderValues(t *testing.T) {
	tests := []struct {
		name, in string
		seg      int // segment index in the first message
		e, c     int
		want     string
	}{
		{"default separators", "UNH+1+X:1'FTX+A+B+C:D'UNT+3+1'", 1, 3, 2, "D"},
		{"release", "UNH+1+X'FTX+A?+B?:C??D?'E'UNT+3+1'", 1, 1, 1, "A+B:C?D'E"},
		{"custom UNA", "UNA*@.? #UNB@UNOC*3@S@R@230101*1200@9#UNH@1@X#FTX@A*B#UNT@3@1#UNZ@1@9#", 1, 1, 2, "B"},
		{"star is data before v4", "UNB+UNOA:2+S+R+230101:1200+9'UNH+1+X'FTX+A*B'UNT+3+1'UNZ+1+9'", 1, 1, 1, "A*B"},
		{"repetition in v4", "UNB+UNOC:4+S+R+20230101:1200+9'UNH+1+X'FTX+A*B'UNT+3+1'UNZ+1+9'", 1, 1, 1, "A"},
		{"latin-1 under UNOC", "UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'NAD+Z\xfcrich'UNT+3+1'UNZ+1+9'", 1, 1, 1, "Zürich"},
		{"line breaks between segments", "UNH+1+X'\r\n\r\nFTX+A\nB'\r\nUNT+3+1'\n", 1, 1, 1, "A\nB"},
		{"empty element", "UNH+1+X'NAD+PO'UNT+3+1'", 1, 2, 1, ""},
		{"trailing component", "UNH+1+X'RFF+VA:123:'UNT+3+1'", 1, 1, 2, "123"},
		{"missing final terminator", "UNH+1+X'FTX+A'UNT+3+1", 1, 1, 1, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, errs := readAll(t, tt.in, false)
			if len(errs) > 0 || len(ms) != 1 {
				t.Fatalf("got %d messages, errors %v", len(ms), errs)
			}
			if got := ms[0].Segment(tt.seg).Value(tt.e, tt.c); got != tt.want {
				t.Errorf("Value(%d,%d) = %q, want %q", tt.e, tt.c, got, tt.want)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, in string
		strict   bool
		want     error
		msgs     int // messages read despite the error
	}{
		{"short UNA", "UNA⚠:+.?'UNB+UNOC:3+S+R+230101:1200+9'", false, ErrUNA, 0},
		{"bad tag resyncs", "UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'⚠n@d+A'UNT+3+1'UNH+2+X'UNT+2+2'UNZ+2+9'", false, ErrTag, 1},
		{"UNT count strict", "UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'⚠UNT+5+1'UNZ+1+9'", true, ErrCount, 0},
		{"UNZ reference strict", "UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'UNT+2+1'⚠UNZ+1+8'", true, ErrReference, 0},
		{"UNH inside a message", "UNH+1+X'FTX+A'⚠UNH+2+X'UNT+2+2'", false, ErrEnvelope, 1},
		{"bad character under UNOA", "UNB+UNOA:2+S+R+230101:1200+9'UNH+1+X'FTX+⚠\x01'UNT+3+1'UNZ+1+9'", false, ErrCharacter, 0},
		{"unsupported syntax", "UNB+UNOZ:2+S+R+230101:1200+9'UNH+1+X'UNT+2+1'UNZ+1+9'", false, ErrSyntaxID, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, off, line, col := mark(tt.in)
			ms, errs := readAll(t, in, tt.strict)
			if len(errs) == 0 || !errors.Is(errs[0], tt.want) {
				t.Fatalf("errors %v, want %v", errs, tt.want)
			}
			if len(ms) != tt.msgs {
				t.Errorf("%d messages, want %d", len(ms), tt.msgs)
			}
			var pe *ParseError
			if !errors.As(errs[0], &pe) {
				t.Fatalf("%T is not a *ParseError", errs[0])
			}
			if off >= 0 && (pe.Offset != off || pe.Line != line || pe.Column != col) {
				t.Errorf("at offset %d (%d:%d), want %d (%d:%d): %v", pe.Offset, pe.Line, pe.Column, off, line, col, pe)
			}
		})
	}
}

func TestControlWarnings(t *testing.T) {
	ms, errs := readAll(t, "UNB+UNOC:3+S+R+230101:1200+9'UNH+1+X'UNT+5+2'UNZ+3+8'", false)
	if len(errs) != 0 || len(ms) != 1 {
		t.Fatalf("%d messages, %v", len(ms), errs)
	}
	if n := len(ms[0].Warnings); n != 4 {
		t.Errorf("%d warnings, want 4 (UNT count and reference, UNZ count and reference): %v", n, ms[0].Warnings)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	vals := []string{"A+B", "C:D", "E?F", "G'H", "I*J"}
	w.WriteSegment("UNH", []string{"1"}, []string{"X"})
	w.WriteSegment("FTX", vals)
	w.WriteSegment("UNT", []string{"3"}, []string{"1"})
	w.Flush()
	ms, errs := readAll(t, buf.String(), true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := ms[0].Segment(1).Components(1, 1)
	if strings.Join(got, "|") != strings.Join(vals, "|") {
		t.Errorf("round trip %q gives %q", buf.String(), got)
	}
}

// TestWriterLatin1: under UNOC, UTF-8 data is written in ISO 8859-1 and reads back the same;
// a character ISO 8859-1 lacks becomes "?".
func TestWriterLatin1(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Syntax = "UNOC"
	w.WriteSegment("UNB", []string{"UNOC", "3"}, []string{"S"}, []string{"R"}, []string{"230101", "1200"}, []string{"9"})
	w.WriteSegment("UNH", []string{"1"}, []string{"X"})
	w.WriteSegment("PNA", []string{"PAT"}, []string{"BRONTË"}, []string{"5 €"})
	w.WriteSegment("UNT", []string{"3"}, []string{"1"})
	w.WriteSegment("UNZ", []string{"1"}, []string{"9"})
	w.Flush()
	if !bytes.Contains(buf.Bytes(), []byte("BRONT\xcb")) {
		t.Errorf("not ISO 8859-1: %q", buf.Bytes())
	}
	ms, errs := readAll(t, buf.String(), true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := ms[0].Segment(1).Value(2, 1) + "|" + ms[0].Segment(1).Value(3, 1); got != "BRONTË|5 ?" {
		t.Errorf("read back %q", got)
	}
}

// TestNHSAckCorpus checks NHSAck against the NHS adaptor's expected NHSACK regexes: the
// outcomes are those of the adaptor; the FTX+ERD texts are ours (fixed phrases, never a
// program's error text), so the regexes' texts are replaced before matching.
func TestNHSAckCorpus(t *testing.T) {
	dir := "../../../shared/corpus/edifact/lab-results/nhsack"
	files, _ := filepath.Glob(filepath.Join(dir, "pathology_*.expected.nhsack.regex"))
	if len(files) == 0 {
		t.Skip("the shared corpus is not beside this checkout")
	}
	for _, f := range files {
		re, _ := os.ReadFile(f)
		pattern := strings.ReplaceAll(string(re), "\n", "")
		pattern = regexp.MustCompile(`FTX\\\+ERD\\\+\\\+\\\+[^']*'`).ReplaceAllString(pattern, `FTX\+ERD\+\+\+[^']*'`)
		in, _ := os.ReadFile(strings.TrimSuffix(f, ".expected.nhsack.regex") + ".edifact")
		rd := NewReader(bytes.NewReader(in))
		q := NHSAckRequest{Now: time.Date(2020, 4, 27, 17, 37, 0, 0, time.UTC), Ref: "1000"}
		for {
			m, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				q.MessagesError = true
				continue
			}
			q.Interchange = m.Interchange
			for _, w := range m.Warnings {
				switch {
				case w.Tag == "UNZ":
					q.InterchangeError = true
				case w.Tag == "UNT" && errors.Is(w, ErrReference):
					q.MessagesError = true
				}
			}
			// The adaptor's outcome: it rejects a message whose NAD+PO has no party.
			accepted := true
			for _, s := range m.Segments() {
				if s.Tag == "NAD" && s.Value(1, 1) == "PO" && s.NumElements() == 1 {
					accepted = false
				}
			}
			q.Messages = append(q.Messages, MessageOutcome{Ref: m.Ref(), Accepted: accepted})
		}
		got := strings.ReplaceAll(string(NHSAck(q)), "\n", "")
		if !regexp.MustCompile(pattern).MatchString(got) {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(f), got, pattern)
		}
		if strings.Contains(got, "Index 2") {
			t.Errorf("%s: program error text in the NHSACK", f)
		}
	}
}

// TestRecepCorpus checks Recep against the NHAIS adaptor's expected RECEPs, ignoring BGM and
// DTM+815 (timestamps), as the adaptor's own test does.
func TestRecepCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/edifact/nhais/inbound/*/*.expected.recep.edifact")
	if len(files) == 0 {
		t.Skip("the shared corpus is not beside this checkout")
	}
	strip := func(s string) string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if strings.HasPrefix(l, "BGM") || strings.HasPrefix(l, "DTM+815") || strings.HasPrefix(l, "UNB") {
				continue
			}
			out = append(out, strings.TrimSuffix(strings.TrimSpace(l), "'"))
		}
		return strings.Join(out, "\n")
	}
	for _, f := range files {
		want, _ := os.ReadFile(f)
		in, _ := os.ReadFile(strings.TrimSuffix(f, ".expected.recep.edifact") + ".edifact")
		rd := NewReader(bytes.NewReader(in))
		q := RecepRequest{Now: time.Date(2020, 6, 10, 14, 38, 0, 0, time.UTC), Ref: "00000001"}
		for {
			m, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			q.Interchange = m.Interchange
			q.Messages = append(q.Messages, m.Ref())
			for _, s := range m.Segments() {
				if s.Tag == "NAD" && s.Value(1, 1) == "FHS" && q.HACipher == "" {
					q.HACipher = s.Value(2, 1)
				}
				if s.Tag == "NAD" && s.Value(1, 1) == "GP" && q.GPCode == "" && len(q.Messages) == 1 {
					q.GPCode = s.Value(2, 1)
				}
			}
		}
		if got := strip(string(Recep(q))); got != strip(string(want)) {
			t.Errorf("%s:\n got %s\nwant %s", f, got, strip(string(want)))
		}
	}
}
