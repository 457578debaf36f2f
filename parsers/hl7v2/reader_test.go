package hl7v2

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadFixtures(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // control IDs and errors, in order
	}{
		{name: "CR", file: "adt_a01.hl7", want: []string{"MSG0001"}},
		{name: "LF and trailing blank lines", file: "oru_r01_lf.hl7", want: []string{"LAB42"}},
		{name: "FHS/BHS batch with CRLF", file: "batch_crlf.hl7", want: []string{"B1", "B2", "B3"}},
		{name: "MLLP frames", file: "mllp.bin", want: []string{"F1", "F2", "F3"}},
		{name: "BOMs, mixed terminators, custom delimiters", file: "mixed.hl7", want: []string{"M1", "M2", "M3", "M4", "M5"}},
		{name: "malformed messages between good ones", file: "malformed.hl7", want: []string{
			"error: " + ErrNoMSH.Error(), // PID and NTE before any MSH: one error
			"GOOD1",
			"error: " + ErrBadSegmentName.Error(),   // "pid|lowercase" after a CR
			"error: " + ErrBadEncodingChars.Error(), // MSH-2 "^~^&" repeats a character
			"GOOD2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readFile(t, tt.file)
			got := sequence(t, NewReader(bytes.NewReader(data)))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			msgs, _ := readAll(t, NewReader(bytes.NewReader(data)))
			for _, m := range msgs {
				checkMessage(t, data, m)
			}
		})
	}
}

// TestReadChunking reads every fixture through readers that return little data at a time
// or data with the error, and with reused buffers: the results must not change.
func TestReadChunking(t *testing.T) {
	for _, file := range []string{"adt_a01.hl7", "oru_r01_lf.hl7", "batch_crlf.hl7", "mllp.bin", "mixed.hl7", "malformed.hl7"} {
		data := readFile(t, file)
		want := describe(t, NewReader(bytes.NewReader(data)))
		readers := []struct {
			name string
			r    io.Reader
		}{
			{name: "one byte", r: iotest.OneByteReader(bytes.NewReader(data))},
			{name: "half", r: iotest.HalfReader(bytes.NewReader(data))},
			{name: "data with EOF", r: iotest.DataErrReader(bytes.NewReader(data))},
		}
		for _, rr := range readers {
			t.Run(file+"/"+rr.name, func(t *testing.T) {
				r := NewReader(rr.r)
				r.ReuseBuffers = rr.name == "one byte"
				if got := describe(t, r); !slices.Equal(got, want) {
					t.Fatalf("got\n%q\nwant\n%q", got, want)
				}
			})
		}
	}
}

// describe reads r to the end and describes every message and error fully.
func describe(t testing.TB, r *Reader) []string {
	t.Helper()
	var out []string
	last := int64(0)
	for i := 0; i < 1e6; i++ {
		m, err := r.Read()
		if off := r.InputOffset(); off < last {
			t.Fatalf("InputOffset went back from %d to %d", last, off)
		} else {
			last = off
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		var b strings.Builder
		b.WriteString(strings.Join([]string{itoa(m.Index()), itoa(int(m.Offset())), itoa(m.Line()), m.Delimiters().String()}, " "))
		for s := 0; s < m.NumSegments(); s++ {
			b.WriteString(" " + itoa(int(m.SegmentOffset(s))) + ":")
			b.Write(m.Segment(s).Raw())
		}
		out = append(out, b.String())
	}
	t.Fatal("no io.EOF")
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string // ⚠ marks the offending byte
		max     int    // MaxMessageSize
		err     error
		msg     int // ParseError.Message
		segment string
		segIdx  int
		field   int
		found   string
		skip    int      // messages read before the error
		after   []string // what the following Reads return
	}{
		{name: "segment before MSH", in: "⚠PID|1\rNTE|2\rMSH|^~\\&|A|||||||OK\r", err: ErrNoMSH, segment: "PID", after: []string{"OK"}},
		{name: "text before MSH", in: "\r\n⚠hello\nMSH|^~\\&|A|||||||OK\n", err: ErrNoMSH, found: "hello", after: []string{"OK"}},
		{name: "segment after BTS", in: "BHS|^~\\&\rMSH|^~\\&||||||||A\rBTS|1\r⚠PID|1\r", skip: 1, err: ErrNoMSH, msg: 1, segment: "PID"},
		{name: "lower-case name after CR", in: "MSH|^~\\&|A\r⚠pid|1\rMSH|^~\\&|A|||||||OK\r", err: ErrBadSegmentName, segIdx: 1, found: "pid", after: []string{"OK"}},
		{name: "bad name in LF message", in: "MSH|^~\\&|A\nPID|1\n⚠P-D|2\n", err: ErrBadSegmentName, segIdx: 2, found: "P-D"},
		{name: "two-letter name", in: "MSH|^~\\&|A\r\nPID|1\r\n\r\nMSH|^~\\&|B\r\n⚠ZZ\r\n", skip: 1, err: ErrBadSegmentName, msg: 1, segIdx: 1, found: "ZZ"},
		{name: "name glued to text", in: "MSH|^~\\&|A\r⚠PIDX|1\r", err: ErrBadSegmentName, segIdx: 1, found: "PIDX"},
		{name: "leading space", in: "MSH|^~\\&|A\r⚠ PID|1\r", err: ErrBadSegmentName, segIdx: 1, found: " PID"},
		{name: "repeated encoding character", in: "MSH|^~⚠^&|A\rPID|1\rMSH|^~\\&|A|||||||OK\r", err: ErrBadEncodingChars, segment: "MSH", field: 2, found: "^~^&", after: []string{"OK"}},
		{name: "three encoding characters", in: "MSH|^~\\⚠|A\r", err: ErrBadEncodingChars, segment: "MSH", field: 2, found: "^~\\"},
		{name: "six encoding characters", in: "MSH|^~\\&#!⚠|A\r", err: ErrBadEncodingChars, segment: "MSH", field: 2, found: "^~\\&#!"},
		{name: "letter as encoding character", in: "MSH|^~\\⚠X|A\r", err: ErrBadEncodingChars, segment: "MSH", field: 2, found: "^~\\X"},
		{name: "letter as field separator", in: "MSH⚠A^~\\&A\r", err: ErrBadEncodingChars, segment: "MSH", field: 1, found: "A"},
		{name: "no field separator", in: "MSH⚠\rPID|1\r", err: ErrBadEncodingChars, segment: "MSH", field: 1, found: "\r"},
		{name: "BOM then bad MSH", in: "\ufeffMSH|^~⚠~&\r", err: ErrBadEncodingChars, segment: "MSH", field: 2, found: "^~~&"},
		{name: "input ends in MSH-2", in: "MSH|^~⚠", err: ErrTruncated, segment: "MSH", field: 2, found: "^~"},
		{name: "input ends after MSH", in: "MSH⚠", err: ErrTruncated, segment: "MSH", field: 1},
		{name: "unterminated frame", in: "\x0bMSH|^~\\&|A\rPID|1\r⚠", err: ErrBadMLLPFrame},
		{name: "frame restarted", in: "\x0bMSH|^~\\&|A\r⚠\x0bMSH|^~\\&|A|||||||OK\r\x1c\r", err: ErrBadMLLPFrame, after: []string{"OK"}},
		{name: "frame with no message", in: "\x0b\r\n⚠", err: ErrBadMLLPFrame},
		{name: "message too large", in: "MSH|^~\\&|A\rPID|1234567⚠890123\rMSH|^~\\&|A|||||||OK\r", max: 22, err: ErrMessageTooLarge, segment: "PID", segIdx: 1, after: []string{"OK"}},
		{name: "MSH too large", in: "MSH|^~\\&|A|12345678901234⚠5\rPID|1\rMSH|^~\\&|A|||||||OK\r", max: 25, err: ErrMessageTooLarge, segment: "MSH", after: []string{"OK"}},
		{name: "bad FHS", in: "FHS|^~⚠|\rMSH|^~\\&|A|||||||OK\r", err: ErrBadEncodingChars, segment: "FHS", field: 2, found: "^~", after: []string{"OK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _, at := markers(tt.in)
			r := NewReader(strings.NewReader(in))
			r.MaxMessageSize = tt.max
			for range tt.skip {
				if _, err := r.Read(); err != nil {
					t.Fatal(err)
				}
			}
			m, err := r.Read()
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Read = %v, %v; want a *ParseError", m, err)
			}
			if !errors.Is(err, tt.err) || pe.Err != tt.err {
				t.Errorf("Err = %v, want %v", pe.Err, tt.err)
			}
			if pe.Offset != at.off || pe.Line != at.line || pe.Column != at.col {
				t.Errorf("position = offset %d, line %d, column %d; want %d, %d, %d (%v)", pe.Offset, pe.Line, pe.Column, at.off, at.line, at.col, err)
			}
			if pe.Message != tt.msg || pe.Segment != tt.segment || pe.SegmentIndex != tt.segIdx || pe.Field != tt.field || pe.Found != tt.found {
				t.Errorf("got message %d, segment %q #%d, field %d, found %q; want %d, %q #%d, %d, %q", pe.Message, pe.Segment, pe.SegmentIndex, pe.Field, pe.Found, tt.msg, tt.segment, tt.segIdx, tt.field, tt.found)
			}
			if !strings.HasPrefix(err.Error(), "hl7v2: ") || !strings.Contains(err.Error(), tt.err.Error()) {
				t.Errorf("Error() = %q", err.Error())
			}
			if got := sequence(t, r); !slices.Equal(got, tt.after) {
				t.Errorf("then read %q, want %q", got, tt.after)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{name: "bad name", err: &ParseError{Message: 3, Line: 17, Column: 1, SegmentIndex: 2, Found: "P_D", Err: ErrBadSegmentName},
			want: `hl7v2: message 4, line 17, column 1: bad segment name "P_D"`},
		{name: "field", err: &ParseError{Message: 0, Line: 1, Column: 7, Segment: "MSH", Field: 2, Found: "^~^&", Err: ErrBadEncodingChars},
			want: `hl7v2: message 1, line 1, column 7, segment MSH (#1), field 2: bad encoding characters "^~^&"`},
		{name: "component", err: &ParseError{Message: 1, Line: 2, Column: 3, Segment: "PID", SegmentIndex: 2, Field: 5, Rep: 2, Component: 1, Err: io.ErrUnexpectedEOF},
			want: `hl7v2: message 2, line 2, column 3, segment PID (#3), field 5, repetition 2, component 1: unexpected EOF`},
		{name: "no MSH has no message index", err: &ParseError{Message: 4, Line: 9, Column: 1, Segment: "PID", Err: ErrNoMSH},
			want: `hl7v2: line 9, column 1, segment PID (#1): segment outside a message (no MSH before it)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !errors.Is(tt.err, tt.err.Err) {
				t.Error("errors.Is does not see Err")
			}
		})
	}
}

func TestFieldPositions(t *testing.T) {
	tests := []struct {
		name string
		in   string // ‸ marks the start of the field at path
		path string
	}{
		{name: "CR", in: "MSH|^~\\&|A\rPID|1||‸X\r", path: "PID-3"},
		{name: "LF", in: "MSH|^~\\&|A\nEVN|\nPID|1||‸X\n", path: "PID-3"},
		{name: "CRLF", in: "MSH|^~\\&|A\r\nEVN|\r\nPID|1||‸X\r\n", path: "PID-3"},
		{name: "LFCR", in: "MSH|^~\\&|A\n\rPID|1||‸X\n\r", path: "PID-3"},
		{name: "blank lines", in: "\r\n\r\nMSH|^~\\&|A\r\n \r\n\t\nPID|1||‸X", path: "PID-3"},
		{name: "BOM", in: "\ufeffMSH|^~\\&|‸A\r", path: "MSH-3"},
		{name: "MSH-1", in: "MSH‸|^~\\&|A\r", path: "MSH-1"},
		{name: "MSH-2", in: "MSH|‸^~\\&|A\r", path: "MSH-2"},
		{name: "MLLP", in: "\x0bMSH|^~\\&|A\rPID|‸1\r\x1c\r", path: "PID-1"},
		{name: "second PID", in: "MSH|^~\\&|A\rPID|1\rPID|‸2\r", path: "PID[2]-1"},
		{name: "continuation line", in: "MSH|^~\\&|A\rOBX|1|TX|||a\nsecond|‸F\r", path: "OBX-6"},
		{name: "second message", in: "MSH|^~\\&|A\rPID|1\r\r\nMSH|^~\\&|B\nPID|1||‸X", path: "PID-3"},
		{name: "component", in: "MSH|^~\\&|A\rPID|1||a^‸b\r", path: "PID-3.2"},
		{name: "repetition", in: "MSH|^~\\&|A\rPID|1||a~b^c~‸d\r", path: "PID-3[3]"},
		{name: "subcomponent", in: "MSH|^~\\&|A\rPID|1||a~b^c&‸d\r", path: "PID-3[2].2.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, want, _ := markers(tt.in)
			r := NewReader(strings.NewReader(in))
			var m *Message
			var err error
			for m, err = r.Read(); err == nil; m, err = r.Read() {
				if m.Index() == 0 && tt.name == "second message" {
					continue
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			off := partOffset(t, m, MustParsePath(tt.path))
			o, line, col := m.InputPosition(off)
			if o != want.off || line != want.line || col != want.col {
				t.Errorf("InputPosition = %d, %d, %d; want %d, %d, %d", o, line, col, want.off, want.line, want.col)
			}
		})
	}
}

// partOffset returns the message offset of the part at path.
func partOffset(t *testing.T, m *Message, p Path) int {
	t.Helper()
	s, ok := m.Find(p.Segment, max(p.SegmentRep, 1))
	if !ok {
		t.Fatalf("no segment %s", p)
	}
	f := s.Field(p.Field)
	switch {
	case p.Subcomponent > 0:
		return f.Rep(max(p.Rep, 1)).Component(p.Component).Sub(p.Subcomponent).Offset()
	case p.Component > 0:
		return f.Rep(max(p.Rep, 1)).Component(p.Component).Offset()
	case p.Rep > 0:
		return f.Rep(p.Rep).Offset()
	}
	return f.Offset()
}

func TestTerminators(t *testing.T) {
	segs := []string{`MSH|^~\&|APP|FAC|||20240101||ADT^A01|X1|P|2.5`, `EVN|A01`, `PID|1||42^^^H^MR||Doe^Jane`, `PV1|1|I`}
	want := strings.Join(segs, "\r") + "\r"
	tests := []struct {
		name string
		in   string
	}{
		{name: "CR", in: strings.Join(segs, "\r")},
		{name: "LF", in: strings.Join(segs, "\n") + "\n"},
		{name: "CRLF", in: strings.Join(segs, "\r\n") + "\r\n"},
		{name: "LFCR", in: strings.Join(segs, "\n\r") + "\n\r"},
		{name: "mixed", in: segs[0] + "\r" + segs[1] + "\n" + segs[2] + "\r\n" + segs[3]},
		{name: "blank lines", in: "\n\n" + strings.Join(segs, "\r\r\n  \n") + "\r\n\r\n\t\r\n"},
		{name: "BOM", in: "\ufeff" + strings.Join(segs, "\n")},
		{name: "MLLP", in: "\x0b" + strings.Join(segs, "\r") + "\r\x1c\r"},
		{name: "MLLP without CR", in: "\x0b" + strings.Join(segs, "\r") + "\x1c"},
		{name: "MLLP with LF", in: "\r\n\x0b" + strings.Join(segs, "\n") + "\n\x1c\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(m.Bytes()); got != want {
				t.Errorf("Bytes = %q, want %q", got, want)
			}
			checkMessage(t, []byte(tt.in), m)
			msgs, errs := readAll(t, NewReader(strings.NewReader(tt.in)))
			if len(msgs) != 1 || len(errs) != 0 {
				t.Errorf("Reader read %d messages and %v", len(msgs), errs)
			}
		})
	}
}

func TestMSHNumbering(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	msh := m.Segment(0)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "MSH-1", got: msh.Field(1).Text(), want: "|"},
		{name: "MSH-2", got: msh.Field(2).Text(), want: `^~\&`},
		{name: "MSH-2 raw", got: string(msh.Field(2).Raw()), want: `^~\&`},
		{name: "MSH-2 is not split", got: msh.Field(2).Rep(1).Component(1).Text(), want: `^~\&`},
		{name: "MSH-3", got: msh.Field(3).Text(), want: "FHIRBRIDGE"},
		{name: "MSH-4.2", got: msh.Field(4).Rep(1).Component(2).Text(), want: "1.2.3.4"},
		{name: "MSH-9 via Get", got: m.Get(MustParsePath("MSH-9.2")), want: "A01"},
		{name: "MSH-10", got: m.ControlID(), want: "MSG0001"},
		{name: "MSH-12", got: m.Version(), want: "2.5.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if n := msh.NumFields(); n != 18 {
		t.Errorf("MSH NumFields = %d, want 18", n)
	}
	if code, event, structure := m.Type(); code != "ADT" || event != "A01" || structure != "ADT_A01" {
		t.Errorf("Type = %s %s %s", code, event, structure)
	}
	if msh.Field(1).NumReps() != 1 || msh.Field(2).Rep(1).NumComponents() != 1 || msh.Field(2).Rep(2).Text() != "" {
		t.Error("MSH-1 and MSH-2 must be single values")
	}
}

func TestMixedFixture(t *testing.T) {
	msgs, errs := readAll(t, NewReader(bytes.NewReader(readFile(t, "mixed.hl7"))))
	if len(msgs) != 5 || len(errs) != 0 {
		t.Fatalf("read %d messages, errors %v", len(msgs), errs)
	}
	get := func(m *Message, p string) string { return m.Get(MustParsePath(p)) }
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "BOM: MSH offset", got: msgs[0].Offset(), want: int64(3)},
		{name: "doubled escape: MSH-2 raw", got: string(msgs[0].Segment(0).Field(2).Raw()), want: `^~\\&`},
		{name: "doubled escape: delimiters", got: msgs[0].Delimiters(), want: DefaultDelimiters},
		{name: "literal backslash-r is data", got: get(msgs[0], "PID-11"), want: `C:\r\n literal text`},
		{name: "continuation line", got: get(msgs[0], "OBX-5"), want: "first line\nsecond line, continued"},
		{name: "segments of the first message", got: msgs[0].NumSegments(), want: 4},
		{name: "second BOM", got: msgs[1].ControlID(), want: "M2"},
		{name: "custom delimiters", got: msgs[2].Delimiters(), want: Delimiters{'#', '$', '%', '@', '&', 0}},
		{name: "custom MSH-1", got: get(msgs[2], "MSH-1"), want: "#"},
		{name: "custom MSH-2", got: get(msgs[2], "MSH-2"), want: "$%@&"},
		{name: "custom components", got: get(msgs[2], "MSH-3.2"), want: "ONE"},
		{name: "custom type", got: get(msgs[2], "MSH-9.3"), want: "ORU_R01"},
		{name: "custom escape", got: get(msgs[2], "PID-3.4"), want: "AUTH$X"},
		{name: "custom repetition", got: get(msgs[2], "PID-3[2]"), want: "ID2"},
		{name: "BOM in the middle of a line ends the message", got: get(msgs[3], "PID-3"), want: "M4"},
		{name: "after mid-line BOM", got: msgs[4].ControlID(), want: "M5"},
		{name: "index", got: msgs[4].Index(), want: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestTruncationCharacter(t *testing.T) {
	m, err := Parse(readFile(t, "oru_r01_lf.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Delimiters(); d.Truncation != '#' || d.String() != `|^~\&#` {
		t.Errorf("Delimiters = %+v", d)
	}
	if got := m.Get(MustParsePath("MSH-2")); got != `^~\&#` {
		t.Errorf("MSH-2 = %q", got)
	}
	if got := m.Get(MustParsePath("OBX[3]-5")); got != "This value was cut#" {
		t.Errorf("OBX[3]-5 = %q", got)
	}
	if got := m.Get(MustParsePath("NTE-3")); got != "Hash # escaped and raw # truncation char" {
		t.Errorf("NTE-3 = %q", got)
	}
	if got := m.Version(); got != "2.7" {
		t.Errorf("Version = %q", got)
	}
}

func TestBatch(t *testing.T) {
	r := NewReader(bytes.NewReader(readFile(t, "batch_crlf.hl7")))
	if _, ok := r.BatchHeader(); ok {
		t.Error("batch header before the first Read")
	}
	for i, want := range []string{"B1", "B2", "B3"} {
		m, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if m.ControlID() != want || m.Index() != i {
			t.Errorf("message %d: %s, index %d", i, m.ControlID(), m.Index())
		}
		fhs, ok1 := r.FileHeader()
		bhs, ok2 := r.BatchHeader()
		if !ok1 || !ok2 {
			t.Fatal("no batch headers")
		}
		if fhs.Name() != "FHS" || fhs.Field(1).Text() != "|" || fhs.Field(2).Text() != `^~\&` || fhs.Field(9).Text() != "batchfile.hl7" {
			t.Errorf("FHS = %q", fhs.Raw())
		}
		if bhs.Name() != "BHS" || bhs.Field(11).Text() != "BATCH1" {
			t.Errorf("BHS = %q", bhs.Raw())
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("Read = %v, want io.EOF", err)
	}
	if _, ok := r.BatchHeader(); ok {
		t.Error("batch header after BTS")
	}
	if _, ok := r.FileHeader(); ok {
		t.Error("file header after FTS")
	}
	if got, want := r.InputOffset(), int64(len(readFile(t, "batch_crlf.hl7"))); got != want {
		t.Errorf("InputOffset = %d, want %d", got, want)
	}
}

func TestMLLPDoesNotReadAhead(t *testing.T) {
	pr, pw := io.Pipe()
	r := NewReader(pr)
	frame := "\x0bMSH|^~\\&|A|B|C|D|20240101||ADT^A01|P1|P|2.5\rPID|1\r\x1c\r"
	go func() {
		pw.Write([]byte(frame))
		// The second frame is written only after the first message was read: a Reader that
		// waited for more input before returning would deadlock here.
	}()
	m, err := r.Read()
	if err != nil || m.ControlID() != "P1" {
		t.Fatalf("Read = %v, %v", m, err)
	}
	go func() {
		pw.Write([]byte(strings.Replace(frame, "P1", "P2", 1)))
		pw.Close()
	}()
	if m, err = r.Read(); err != nil || m.ControlID() != "P2" {
		t.Fatalf("Read = %v, %v", m, err)
	}
	if _, err = r.Read(); err != io.EOF {
		t.Fatalf("Read = %v, want io.EOF", err)
	}
}

func TestIOErrorIsSticky(t *testing.T) {
	boom := errors.New("boom")
	data := "MSH|^~\\&|A|||||||M1\rPID|1\rMSH|^~\\&|A|||||||M2\rPID|"
	r := NewReader(io.MultiReader(strings.NewReader(data), iotest.ErrReader(boom)))
	m, err := r.Read()
	if err != nil || m.ControlID() != "M1" {
		t.Fatalf("Read = %v, %v", m, err)
	}
	_, err = r.Read()
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, boom) || pe.Message != 1 {
		t.Fatalf("Read = %v, want a ParseError wrapping boom in message 1", err)
	}
	for range 3 {
		if _, err2 := r.Read(); err2 != err {
			t.Fatalf("later Read = %v, want the same error %v", err2, err)
		}
	}
}

func TestReuseBuffers(t *testing.T) {
	data := readFile(t, "batch_crlf.hl7")
	r := NewReader(bytes.NewReader(data))
	r.ReuseBuffers = true
	var first *Message
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = m
		} else if m != first {
			t.Error("ReuseBuffers: Read returned a new Message")
		}
		// Strings must not change when the buffer is reused.
		id := m.ControlID()
		name := m.Segment(1).Field(5).Text()
		m2, err := r.Read()
		if err == nil {
			if id == m2.ControlID() || name == m2.Segment(1).Field(5).Text() {
				t.Errorf("strings from the last message changed: %q %q", id, name)
			}
		}
		if err == io.EOF {
			break
		}
	}
}

// TestFlatMemory reads a long stream made on the fly and checks that the Reader's buffer
// stays small: memory does not grow with the stream.
func TestFlatMemory(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	msg := string(readFile(t, "adt_a01.hl7"))
	src := &repeatReader{s: []byte(msg + "\n"), n: n}
	r := NewReader(src)
	r.ReuseBuffers = true
	count := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if len(r.buf) > 64<<10 {
			t.Fatalf("buffer grew to %d bytes", len(r.buf))
		}
	}
	if count != n {
		t.Fatalf("read %d messages, want %d", count, n)
	}
	if want := int64(n * (len(msg) + 1)); r.InputOffset() != want {
		t.Errorf("InputOffset = %d, want %d", r.InputOffset(), want)
	}
}

// repeatReader returns s n times.
type repeatReader struct {
	s   []byte
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.s[r.off:])
	if r.off += k; r.off == len(r.s) {
		r.off = 0
		r.n--
	}
	return k, nil
}

func TestMaxMessageSizeExact(t *testing.T) {
	in := "MSH|^~\\&|A\rPID|1234567890"
	for _, tt := range []struct {
		name string
		max  int
		ok   bool
	}{
		{name: "exactly the limit", max: len(in), ok: true},
		{name: "one byte over", max: len(in) - 1, ok: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(in))
			r.MaxMessageSize = tt.max
			_, err := r.Read()
			if (err == nil) != tt.ok {
				t.Fatalf("Read error = %v", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		id   string
		err  error
	}{
		{name: "first message only", in: "MSH|^~\\&||||||||A\rMSH|^~\\&||||||||B\r", id: "A"},
		{name: "batch header skipped", in: "BHS|^~\\&\rMSH|^~\\&||||||||A\r", id: "A"},
		{name: "empty", in: "", err: ErrNoMSH},
		{name: "blank", in: "\r\n \n", err: ErrNoMSH},
		{name: "no MSH", in: "PID|1\r", err: ErrNoMSH},
		{name: "unterminated frame", in: "\x0bMSH|^~\\&||||||||A\r", err: ErrBadMLLPFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			orig := slices.Clone(data)
			m, err := Parse(data)
			if !bytes.Equal(data, orig) {
				t.Error("Parse modified its input")
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || m.ControlID() != tt.id {
				t.Fatalf("Parse = %v, %v", m, err)
			}
		})
	}
}

func TestGluedMSH(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // control IDs, then the text of PID-2 of the first message
	}{
		{name: "glued after a segment", in: "MSH|^~\\&|A|||||||M1\rPID|1|x‸MSH|^~\\&|B|||||||M2\rPID|1|y\r", want: []string{"M1", "M2", "x"}},
		{name: "glued after MSH", in: "MSH|^~\\&|A|||||||M1‸MSH|^~\\&|B|||||||M2\r", want: []string{"M1", "M2", ""}},
		{name: "glued with BOM", in: "MSH|^~\\&|A|||||||M1\nPID|1|x‸\ufeffMSH|^~\\&|B|||||||M2\n", want: []string{"M1", "M2", "x"}},
		{name: "five encoding characters", in: "MSH|^~\\&|A|||||||M1\rPID|1|x‸MSH|^~\\&#|B|||||||M2\r", want: []string{"M1", "M2", "x"}},
		{name: "no field after MSH-2", in: "MSH|^~\\&|A|||||||M1\rPID|1|xMSH|^~\\&\r", want: []string{"M1", "xMSH"}},
		{name: "not encoding characters", in: "MSH|^~\\&|A|||||||M1\rPID|1|xMSH|ab|c\r", want: []string{"M1", "xMSH"}},
		{name: "glued after a trailing separator", in: "MSH|^~\\&|A|||||||M1\rPID|1|‸MSH|^~\\&|x\r", want: []string{"M1", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, at, _ := markers(tt.in)
			r := NewReader(strings.NewReader(in))
			msgs, errs := readAll(t, r)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.ControlID())
				checkMessage(t, []byte(in), m)
			}
			got = append(got, msgs[0].Get(MustParsePath("PID-2")))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(msgs) > 1 && strings.Contains(tt.in, "‸") {
				// The second message starts at the marker (after a BOM, if any).
				if off := msgs[1].Offset(); off != at.off && off != at.off+3 {
					t.Errorf("second message at %d, want %d", off, at.off)
				}
			}
		})
	}
}

func TestReset(t *testing.T) {
	r := NewReader(strings.NewReader("MSH|^~\\&|A|||||||M1\rPID|1\r"))
	r.ReuseBuffers = true
	if m, err := r.Read(); err != nil || m.ControlID() != "M1" {
		t.Fatal(m, err)
	}
	r.Reset(strings.NewReader("\n\nMSH|^~\\&|A|||||||M2\r"))
	m, err := r.Read()
	if err != nil || m.ControlID() != "M2" || m.Index() != 0 || m.Line() != 3 || m.Offset() != 2 {
		t.Fatalf("after Reset: %v %v", m, err)
	}
	if !r.ReuseBuffers {
		t.Error("Reset lost the options")
	}
}

// TestConcurrentReads walks one Message from several goroutines; run with -race.
func TestConcurrentReads(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for i := 0; i < m.NumSegments(); i++ {
				s := m.Segment(i)
				for f := 1; f <= s.NumFields(); f++ {
					n += touch(s.Field(f))
				}
			}
			n += len(m.Get(MustParsePath("PID-5[2].1")))
			done <- n
		}()
	}
	first := <-done
	for range 3 {
		if n := <-done; n != first {
			t.Errorf("goroutines read %d and %d bytes", first, n)
		}
	}
}

// TestLargeInputsStayBounded feeds a message, a junk line and a blank run far larger than
// MaxMessageSize: each is reported or skipped, and the buffer stays near the limit.
func TestLargeInputsStayBounded(t *testing.T) {
	const max = 64 << 10
	big := strings.Repeat("x", 4<<20)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "long field", in: "MSH|^~\\&|A\rOBX|1|ED|||" + big + "\rMSH|^~\\&|A|||||||OK\r", want: []string{"error: message too large", "OK"}},
		{name: "many segments", in: "MSH|^~\\&|A\r" + strings.Repeat("NTE|1|"+strings.Repeat("y", 1000)+"\r", 4000) + "MSH|^~\\&|A|||||||OK\r", want: []string{"error: message too large", "OK"}},
		{name: "long junk line", in: "ZZZ|" + big + "\nMSH|^~\\&|A|||||||OK\n", want: []string{"error: " + ErrNoMSH.Error(), "OK"}},
		{name: "long blank run", in: "MSH|^~\\&|A|||||||M1\r" + strings.Repeat(" ", 4<<20) + "\rMSH|^~\\&|A|||||||OK\r", want: []string{"M1", "OK"}},
		{name: "long blank lines", in: "MSH|^~\\&|A|||||||M1\r" + strings.Repeat("\n", 4<<20) + "MSH|^~\\&|A|||||||OK\r", want: []string{"M1", "OK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			r.MaxMessageSize = max
			if got := sequence(t, r); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(r.buf) > 4*max {
				t.Errorf("buffer grew to %d bytes", len(r.buf))
			}
		})
	}
}
