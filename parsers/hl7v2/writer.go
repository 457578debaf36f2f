package hl7v2

import (
	"bufio"
	"io"
)

// A Writer writes messages to a stream, with the segment terminator of choice and optional
// MLLP framing. It buffers its output: call [Writer.Flush] when done, or after each message
// on a socket. Options are exported fields, set before the first Write.
type Writer struct {
	// Terminator ends each segment. nil means "\r", the HL7 segment terminator (v2.5.1
	// §2.5.1); "\n" or "\r\n" suit files for people. Continuation lines kept by the Reader
	// (a bare LF inside a segment) are written as they are.
	Terminator []byte
	// MLLP wraps each message in an MLLP frame: 0x0B, the message, 0x1C 0x0D (HL7 v2
	// Minimal Lower Layer Protocol, release 2).
	MLLP bool

	w   *bufio.Writer
	err error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w)}
}

// Write writes one message: the bytes of [Message.Bytes], with each segment followed by
// Terminator, in an MLLP frame if asked. After an error of the underlying writer, every
// later Write and Flush returns that error.
func (w *Writer) Write(m *Message) error {
	if w.err != nil {
		return w.err
	}
	if w.MLLP {
		w.w.WriteByte(mllpStart)
	}
	if w.Terminator == nil || string(w.Terminator) == "\r" {
		w.w.Write(m.data)
	} else {
		for i := range m.segs {
			g := &m.segs[i]
			w.w.Write(m.data[g.start:g.end])
			w.w.Write(w.Terminator)
		}
	}
	if w.MLLP {
		w.w.WriteByte(mllpEnd)
		w.w.WriteByte('\r')
	}
	// bufio.Writer keeps its first error; reading it once here is enough.
	if _, err := w.w.Write(nil); err != nil {
		w.err = err
	}
	return w.err
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}
