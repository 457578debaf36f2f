package hl7v2

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pos is an expected input position.
type pos struct {
	off       int64
	line, col int
}

// markers strips the position markers from s, as encoding/csv's tests do: ‸ marks where a
// field starts and ⚠ where an error is expected. It returns the input without markers and
// the positions of the markers in it (the zero pos if absent).
func markers(s string) (clean string, field, errAt pos) {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '‸':
			field = position([]byte(b.String()), b.Len())
		case '⚠':
			errAt = position([]byte(b.String()), b.Len())
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), field, errAt
}

// position computes the line and column of data[off] independently of the Reader: CR, LF
// and CRLF each end one line; columns count bytes from 1.
func position(data []byte, off int) pos {
	line, start := 1, 0
	for i := 0; i < off && i < len(data); i++ {
		switch data[i] {
		case '\r':
			line++
			start = i + 1
		case '\n':
			if i == 0 || data[i-1] != '\r' {
				line++
			}
			start = i + 1
		}
	}
	return pos{off: int64(off), line: line, col: off - start + 1}
}

// readAll reads r to the end, returning the messages and the errors in the order read.
// Every item is recorded in seq as a control ID or an error.
func readAll(t testing.TB, r *Reader) (msgs []*Message, errs []error) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("Read does not reach io.EOF")
		}
		m, err := r.Read()
		if err == io.EOF {
			if m != nil {
				t.Fatal("Read returned a message with io.EOF")
			}
			return msgs, errs
		}
		if err != nil {
			if m != nil {
				t.Fatal("Read returned a message with an error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Read error %v (%T) is not a *ParseError", err, err)
			}
			if !isSentinel(pe.Err) {
				return msgs, append(errs, err) // an error of the underlying reader ends the stream
			}
			errs = append(errs, err)
			continue
		}
		msgs = append(msgs, m)
	}
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrNoMSH, ErrBadEncodingChars, ErrBadSegmentName, ErrMessageTooLarge, ErrTruncated, ErrBadMLLPFrame} {
		if err == s {
			return true
		}
	}
	return false
}

// sequence reads all of data and describes what Read returned: control IDs for messages,
// sentinel texts for errors.
func sequence(t testing.TB, r *Reader) []string {
	t.Helper()
	var seq []string
	for i := 0; ; i++ {
		m, err := r.Read()
		switch {
		case err == io.EOF:
			return seq
		case err != nil:
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			seq = append(seq, "error: "+pe.Err.Error())
			if !isSentinel(pe.Err) {
				return seq
			}
		default:
			seq = append(seq, m.ControlID())
		}
		if i > 1e6 {
			t.Fatal("Read does not reach io.EOF")
		}
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// corpusDir returns the shared HL7 v2 corpus folder, or skips the test when it is absent
// (a fresh clone has no ../shared next to it).
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "hl7v2")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared corpus not found at %s (it sits next to the repository in CI): %v", dir, err)
	}
	return dir
}

// corpusFiles returns every .hl7 file of the shared corpus, or nil when it is absent.
func corpusFiles() []string {
	var files []string
	for _, sub := range []string{"msfc", "lfh", "ig"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "hl7v2", sub, "*.hl7"))
		files = append(files, m...)
	}
	return files
}

// checkMessage checks the invariants that hold for every message read from data (the whole
// input): positions point at the right bytes, fields re-read the same from Bytes, and
// every part can be reached.
func checkMessage(t testing.TB, data []byte, m *Message) {
	t.Helper()
	if m.NumSegments() == 0 || m.Segment(0).Name() != "MSH" {
		t.Fatalf("message %d does not start with MSH", m.Index())
	}
	if off := m.Offset(); off < 0 || off+3 > int64(len(data)) || string(data[off:off+3]) != "MSH" {
		t.Fatalf("message %d: Offset %d does not point at MSH", m.Index(), off)
	}
	if p := position(data, int(m.Offset())); p.line != m.Line() {
		t.Errorf("message %d: Line = %d, want %d", m.Index(), m.Line(), p.line)
	}
	for i := 0; i < m.NumSegments(); i++ {
		s := m.Segment(i)
		off := m.SegmentOffset(i)
		if raw := s.Raw(); !bytes.HasPrefix(data[off:], raw) {
			t.Fatalf("message %d segment %d: input at SegmentOffset %d does not hold %q", m.Index(), i, off, raw)
		}
		ioff, line, col := m.InputPosition(s.Offset())
		if p := position(data, int(ioff)); ioff != off || p.line != line || p.col != col {
			t.Fatalf("message %d segment %d: InputPosition = %d,%d,%d, want %d,%d,%d", m.Index(), i, ioff, line, col, off, p.line, p.col)
		}
	}
	again, err := Parse(m.Bytes())
	if err != nil {
		t.Fatalf("message %d: Bytes do not parse again: %v", m.Index(), err)
	}
	if again.NumSegments() != m.NumSegments() {
		t.Fatalf("message %d: %d segments, %d when parsed again", m.Index(), m.NumSegments(), again.NumSegments())
	}
	for i := 0; i < m.NumSegments(); i++ {
		s, s2 := m.Segment(i), again.Segment(i)
		if s.Name() != s2.Name() || s.NumFields() != s2.NumFields() {
			t.Fatalf("message %d segment %d: %s with %d fields, %s with %d when parsed again", m.Index(), i, s.Name(), s.NumFields(), s2.Name(), s2.NumFields())
		}
		for n := 1; n <= s.NumFields(); n++ {
			f := s.Field(n)
			if !bytes.Equal(f.Raw(), s2.Field(n).Raw()) {
				t.Fatalf("message %d %s-%d: %q, %q when parsed again", m.Index(), s.Name(), n, f.Raw(), s2.Field(n).Raw())
			}
			if o, _, _ := m.InputPosition(f.Offset()); o < 0 || !bytes.HasPrefix(data[o:], f.Raw()) {
				t.Fatalf("message %d %s-%d: InputPosition does not point at the field", m.Index(), s.Name(), n)
			}
			touch(f)
		}
	}
}

// touch reads every part of f, as a consumer would.
func touch(f Field) int {
	n := len(f.Text())
	for r := 1; r <= f.NumReps(); r++ {
		rep := f.Rep(r)
		n += len(rep.Text())
		for c := 1; c <= rep.NumComponents(); c++ {
			comp := rep.Component(c)
			n += len(comp.Text())
			for s := 1; s <= comp.NumSubcomponents(); s++ {
				n += len(comp.Sub(s).Text())
			}
		}
	}
	return n
}
