package hl7v2

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestBuilderRoundTrip(t *testing.T) {
	b := NewBuilder(DefaultDelimiters)
	sets := []struct{ path, value string }{
		{"MSH-3", "FHIRBRIDGE"},
		{"MSH-9.1", "ADT"},
		{"MSH-9.2", "A01"},
		{"MSH-9.3", "ADT_A01"},
		{"MSH-10", "CTRL-1"},
		{"MSH-12", "2.5.1"},
		{"PID-3.1", "12345"},
		{"PID-3.4.1", "HOSP"},
		{"PID-3.4.2", "1.2.3"},
		{"PID-3.5", "MR"},
		{"PID-3[2].1", "999"},
		{"PID-5.1", "O'Brien | Smith"},
		{"PID-5.2", "Ann^Marie"},
		{"PID-5[2]", "Alias & Co ~ more"},
		{"PID-11.1", "line 1\nline 2"},
		{"PID-13", `C:\path\file`},
		{"OBX[2]-5", "second"},
		{"OBX-5", "first"},
		{"NTE-3", ""},
	}
	for _, s := range sets {
		if err := b.Set(s.path, s.value); err != nil {
			t.Fatalf("Set(%s): %v", s.path, err)
		}
	}
	wantBytes := "MSH|^~\\&|FHIRBRIDGE||||||ADT^A01^ADT_A01|CTRL-1||2.5.1\r" +
		"PID|||12345^^^HOSP&1.2.3^MR~999||O'Brien \\F\\ Smith^Ann\\S\\Marie~Alias \\T\\ Co \\R\\ more||||||line 1\\.br\\line 2||C:\\E\\path\\E\\file\r" +
		"OBX|||||first\r" + // OBX[2]-5 created both OBX segments
		"OBX|||||second\r" +
		"NTE\r"
	got := string(b.Bytes())
	if got != wantBytes {
		t.Errorf("Bytes =\n%q\nwant\n%q", got, wantBytes)
	}
	m, err := b.Message()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if got := m.Get(MustParsePath(s.path)); got != s.value {
			t.Errorf("Get(%s) = %q, want %q", s.path, got, s.value)
		}
	}
	if code, event, structure := m.Type(); code != "ADT" || event != "A01" || structure != "ADT_A01" {
		t.Errorf("Type = %s %s %s", code, event, structure)
	}
}

func TestBuilderSet(t *testing.T) {
	tests := []struct {
		name string
		sets [][2]string
		want string // the segment after MSH
		err  error
	}{
		{name: "field replaces repetitions", sets: [][2]string{{"PID-3[2]", "b"}, {"PID-3", "a"}}, want: "PID|||a"},
		{name: "repetition", sets: [][2]string{{"PID-3[3]", "c"}}, want: "PID|||~~c"},
		{name: "component replaces subcomponents", sets: [][2]string{{"PID-3.4.2", "x"}, {"PID-3.4", "y"}}, want: "PID|||^^^y"},
		{name: "subcomponent", sets: [][2]string{{"PID-3.4.3", "z"}}, want: "PID|||^^^&&z"},
		{name: "trailing empties trimmed", sets: [][2]string{{"PID-3.1", "a"}, {"PID-3.5", ""}, {"PID-9", ""}}, want: "PID|||a"},
		{name: "segment repetition", sets: [][2]string{{"OBX[2]-1", "2"}}, want: "OBX\rOBX|2"},
		{name: "no field", sets: [][2]string{{"PID", "x"}}, err: ErrBadPath},
		{name: "bad path", sets: [][2]string{{"PID-x", "x"}}, err: ErrBadPath},
		{name: "MSH-1", sets: [][2]string{{"MSH-1", "#"}}, err: ErrBadPath},
		{name: "MSH-2", sets: [][2]string{{"MSH-2", "#"}}, err: ErrBadPath},
		{name: "second MSH", sets: [][2]string{{"MSH[2]-3", "x"}}, err: ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(DefaultDelimiters)
			var err error
			for _, s := range tt.sets {
				if err = b.Set(s[0], s[1]); err != nil {
					break
				}
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Set error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b.Bytes()); got != "MSH|^~\\&\r"+tt.want+"\r" {
				t.Errorf("Bytes = %q, want %q", got, "MSH|^~\\&\r"+tt.want+"\r")
			}
		})
	}
}

func TestBuilderDelimiters(t *testing.T) {
	d := Delimiters{'#', '$', '%', '@', '&', '!'}
	b := NewBuilder(d)
	b.Set("MSH-9.1", "ORU")
	b.Set("PID-5.1", "a#b$c!d")
	if got, want := string(b.Bytes()), "MSH#$%@&!#######ORU\rPID#####a@F@b@S@c@P@d\r"; got != want {
		t.Errorf("Bytes = %q, want %q", got, want)
	}
	m, err := b.Message()
	if err != nil {
		t.Fatal(err)
	}
	if m.Delimiters() != d || m.Get(MustParsePath("PID-5.1")) != "a#b$c!d" {
		t.Errorf("read back %+v %q", m.Delimiters(), m.Get(MustParsePath("PID-5.1")))
	}

	bad := NewBuilder(Delimiters{'|', '^', '^', '\\', '&', 0})
	if err := bad.Set("PID-1", "x"); !errors.Is(err, ErrBadEncodingChars) {
		t.Errorf("Set with bad delimiters = %v", err)
	}
	if bad.Bytes() != nil {
		t.Error("Bytes with bad delimiters")
	}
}

func TestAddSegment(t *testing.T) {
	b := NewBuilder(DefaultDelimiters)
	tests := []struct {
		name string
		want int
	}{
		{"OBX", 1}, {"NTE", 1}, {"OBX", 2}, {"MSH", 0}, {"obx", 0}, {"OBXX", 0},
	}
	for _, tt := range tests {
		if got := b.AddSegment(tt.name); got != tt.want {
			t.Errorf("AddSegment(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
	b.Set("OBX[2]-1", "2")
	b.Set("NTE-1", "n")
	if got, want := string(b.Bytes()), "MSH|^~\\&\rOBX\rNTE|n\rOBX|2\r"; got != want {
		t.Errorf("Bytes = %q, want %q", got, want)
	}
}

func TestNewAck(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	ack := NewAck(m, "AA", "ACK-1", "20240102030406")
	want := "MSH|^~\\&|RECV|RECV FAC|FHIRBRIDGE|TEST HOSP^1.2.3.4^ISO|20240102030406||ACK^A01^ACK|ACK-1|P|2.5.1\r" +
		"MSA|AA|MSG0001\r"
	if got := string(ack.Bytes()); got != want {
		t.Errorf("ack =\n%q\nwant\n%q", got, want)
	}
}

func TestWriter(t *testing.T) {
	m, err := Parse(readFile(t, "adt_a01.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		term string
		mllp bool
	}{
		{name: "default"},
		{name: "LF", term: "\n"},
		{name: "CRLF", term: "\r\n"},
		{name: "MLLP", mllp: true},
		{name: "MLLP LF", term: "\n", mllp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if tt.term != "" {
				w.Terminator = []byte(tt.term)
			}
			w.MLLP = tt.mllp
			for range 3 {
				if err := w.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			if tt.mllp && (out[0] != 0x0b || !bytes.HasSuffix(out, []byte{0x1c, 0x0d})) {
				t.Errorf("no MLLP frame: %q", out)
			}
			if tt.term == "" && !tt.mllp && !bytes.Equal(out, bytes.Repeat(m.Bytes(), 3)) {
				t.Errorf("output differs from Bytes")
			}
			msgs, errs := readAll(t, NewReader(bytes.NewReader(out)))
			if len(msgs) != 3 || len(errs) != 0 {
				t.Fatalf("read back %d messages, %v", len(msgs), errs)
			}
			if !bytes.Equal(msgs[2].Bytes(), m.Bytes()) {
				t.Errorf("read back %q", msgs[2].Bytes())
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriterError(t *testing.T) {
	m, _ := Parse([]byte("MSH|^~\\&|A\r"))
	w := NewWriter(failWriter{})
	w.Write(m)
	if err := w.Flush(); err != io.ErrClosedPipe {
		t.Fatalf("Flush = %v", err)
	}
	if err := w.Write(m); err != io.ErrClosedPipe {
		t.Fatalf("Write after error = %v", err)
	}
}
