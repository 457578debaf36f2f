package edifact

import (
	"bufio"
	"io"
	"unicode/utf8"
)

// Writer writes segments, escaping the service characters of data with the release
// character (ISO 9735 §7.3). It is the reverse of [Reader]; acknowledgements are written
// with it. Errors of the underlying writer are returned by [Writer.Flush].
type Writer struct {
	// Delims are the service characters; the zero value means [DefaultDelims] for
	// syntax version 3 (no repetition separator).
	Delims Delims
	// Newline, when true, writes a line feed after each segment terminator, as NHS
	// interchanges conventionally have.
	Newline bool
	// Syntax is the interchange's syntax identifier (UNB S001 0001). Data is given as UTF-8;
	// under "UNOA", "UNOB" and "UNOC" it is written in ISO 8859-1, as [Reader] decodes those
	// levels, and a character that ISO 8859-1 lacks is written as "?" (escaped). Otherwise
	// (UNOW, UNOY, or empty) the UTF-8 bytes are written as they are.
	Syntax string
	// KeepEmptyComponents, when true, writes every component given, trailing empty ones
	// included ("NAD+PAT++FLAT 1:CARD ROAD:::"), for callers that give exactly the
	// components they mean; trailing empty data elements are still omitted. ISO 9735
	// allows both (§7.5 says trailing empties may be truncated).
	KeepEmptyComponents bool
	w                   *bufio.Writer
	n                   int // segments since the last UNH
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

func (w *Writer) delims() Delims {
	if w.Delims == (Delims{}) {
		return DefaultDelims.ForVersion(3)
	}
	return w.Delims
}

// WriteUNA writes the service string advice for the Writer's service characters.
func (w *Writer) WriteUNA() error {
	_, err := w.w.WriteString(w.delims().UNA())
	if w.Newline {
		w.w.WriteByte('\n')
	}
	return err
}

// WriteSegment writes one segment: its tag and data elements, each given as its components.
// Trailing empty components and elements are omitted (ISO 9735 §7.5). It counts segments
// from the last UNH, for [Writer.Count].
func (w *Writer) WriteSegment(tag string, elements ...[]string) error {
	d := w.delims()
	if tag == "UNH" {
		w.n = 0
	}
	w.n++
	w.w.WriteString(tag)
	// Drop trailing empty elements and components.
	last := -1
	for i, e := range elements {
		for _, c := range e {
			if c != "" {
				last = i
			}
		}
	}
	for _, e := range elements[:last+1] {
		w.w.WriteByte(d.Element)
		lc := -1
		for j, c := range e {
			if c != "" || w.KeepEmptyComponents {
				lc = j
			}
		}
		for j, c := range e[:lc+1] {
			if j > 0 {
				w.w.WriteByte(d.Component)
			}
			w.escape(c, d)
		}
	}
	err := w.w.WriteByte(d.Segment)
	if w.Newline {
		w.w.WriteByte('\n')
	}
	return err
}

// Count returns the number of segments written since the last UNH, UNH included: the
// UNT 0074 value once UNT itself is counted (Count()+1).
func (w *Writer) Count() int { return w.n }

func (w *Writer) escape(s string, d Delims) {
	latin1 := w.Syntax == "UNOA" || w.Syntax == "UNOB" || w.Syntax == "UNOC"
	for i := 0; i < len(s); {
		c := s[i]
		size := 1
		if latin1 && c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if r <= 0xFF && r != utf8.RuneError {
				c = byte(r)
			} else {
				c = '?'
			}
		}
		if d.Release != 0 && (c == d.Component || c == d.Element || c == d.Release || c == d.Segment || (c == d.Repetition && d.Repetition != 0)) {
			w.w.WriteByte(d.Release)
		}
		w.w.WriteByte(c)
		i += size
	}
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
