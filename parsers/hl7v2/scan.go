package hl7v2

import (
	"io"
	"slices"
)

// This file holds the Reader's input buffer and the byte-level scanning loops. The message
// and batch logic on top of them is in reader.go.

const (
	defaultMaxMessageSize = 64 << 20
	maxMessageSizeLimit   = 1 << 30 // offsets within a message are int32
	initialBufSize        = 16 << 10
	maxBlankGap           = 64 << 10 // longest run of blank lines that a continuation line may follow
)

// Byte classes of the scanning loop.
const (
	clsText = iota
	clsSep  // the field separator of the current message
	clsCR   // '\r'
	clsLF   // '\n'
	clsFS   // 0x1C, MLLP end of block
	clsBOM  // 0xEF, first byte of a UTF-8 byte order mark
)

const (
	mllpStart = 0x0B
	mllpEnd   = 0x1C
)

// lineEnd says how scanLine stopped.
type lineEnd uint8

const (
	endCR       lineEnd = iota // at '\r'
	endLF                      // at '\n'
	endFS                      // at 0x1C
	endBOM                     // at a byte order mark followed by "MSH"
	endEOF                     // at the end of the input (or an error of the underlying reader)
	endTooLarge                // the line exceeds the size limit
	endGlued                   // at an MSH glued to the end of the line (see gluedMSH)
)

func (r *Reader) initClasses() {
	r.cls['\r'] = clsCR
	r.cls['\n'] = clsLF
	r.cls[mllpEnd] = clsFS
	r.cls[0xEF] = clsBOM
}

// setFS makes c the field separator of the scanning loop. c has passed delimOK, so it is
// none of the other classes' bytes.
func (r *Reader) setFS(c byte) {
	if r.fs != 0 {
		r.cls[r.fs] = clsText
	}
	r.fs = c
	r.cls[c] = clsSep
}

func (r *Reader) maxSize() int {
	n := r.MaxMessageSize
	if n <= 0 {
		n = defaultMaxMessageSize
	}
	return min(n, maxMessageSizeLimit)
}

// offset returns the input offset of r.pos.
func (r *Reader) offset() int64 { return r.base + int64(r.pos) }

// fill reads more input into the buffer. It may move the bytes from r.keep on to the start
// of the buffer (adjusting r.pos, r.keep, r.end and r.base) or grow the buffer. It reports
// whether new bytes arrived; once the underlying reader has returned an error (io.EOF
// included), it returns false.
func (r *Reader) fill() bool {
	if r.srcErr != nil {
		return false
	}
	if r.src == nil {
		r.srcErr = io.EOF
		return false
	}
	if r.end == len(r.buf) {
		if k := r.keep; k > 0 {
			dst := r.buf
			if len(r.buf) > 1<<20 && r.end-k < len(r.buf)/8 {
				dst = make([]byte, len(r.buf)/4) // the long line it grew for is gone
			}
			copy(dst, r.buf[k:r.end])
			r.buf = dst
			r.pos -= k
			r.end -= k
			r.keep = 0
			r.base += int64(k)
		}
		if len(r.buf)-r.end < len(r.buf)/4 || len(r.buf) == 0 {
			size := max(2*len(r.buf), initialBufSize)
			if l, ok := r.src.(interface{ Len() int }); ok && len(r.buf) == 0 {
				// A source that knows what is left (bytes.Reader, strings.Reader): a first
				// buffer that holds it all with room to spare, so converting one message held
				// in memory does not cost a 16 KiB buffer.
				size = min(size, max(2*l.Len()+64, 512))
			}
			nb := make([]byte, size)
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			r.srcErr = errBadRead
			return false
		}
		r.end += n
		if err != nil {
			r.srcErr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.srcErr = io.ErrNoProgress
	return false
}

// peek returns up to n bytes at r.pos, fewer at the end of the input or when a line end
// (CR, LF or 0x1C) is among them: peek never waits for input after the end of the current
// line, so that a Reader on a socket returns a message as soon as its frame is complete.
func (r *Reader) peek(n int) []byte {
	for r.end-r.pos < n {
		for _, c := range r.buf[r.pos:r.end] {
			if c == '\r' || c == '\n' || c == mllpEnd {
				return r.buf[r.pos:r.end]
			}
		}
		if !r.fill() {
			break
		}
	}
	return r.buf[r.pos:min(r.end, r.pos+n)]
}

// newLine records that a line ended just before r.pos. A LF right after a CR ends no new
// line: CR, LF and CRLF each count once.
func (r *Reader) newLine(cr bool) {
	off := r.offset()
	if cr || off-1 != r.crEnd {
		r.line++
	}
	if cr {
		r.crEnd = off
	}
	r.lineOff = off
}

// skipGap consumes line terminators and blank lines (empty, or only spaces and tabs) at
// r.pos, counting lines. With lead set (between messages) it also consumes the spaces and
// tabs before text and lets r.keep follow r.pos. Without it, r.keep stays at the start of
// the gap, and skipGap reports hard when the gap holds a CR or is too long to keep: the
// line after it cannot continue the previous one.
func (r *Reader) skipGap(lead bool) (hard bool) {
	for {
		if lead {
			r.keep = r.pos
		} else if r.pos-r.keep > maxBlankGap {
			r.keep, hard = r.pos, true
		}
		if r.pos == r.end && !r.fill() {
			return hard
		}
		switch r.buf[r.pos] {
		case '\r':
			r.pos++
			r.newLine(true)
			hard = true
		case '\n':
			r.pos++
			r.newLine(false)
		case ' ', '\t':
			if lead {
				r.pos++
				continue
			}
			// Blanks: a blank line if a line end, a frame byte or the input end follows;
			// otherwise the start of a text line, which is left in place. A run too long to
			// keep is consumed as it goes (the line after it can then continue nothing).
			k := 0
			for {
				for r.pos+k < r.end && (r.buf[r.pos+k] == ' ' || r.buf[r.pos+k] == '\t') {
					k++
				}
				if r.pos+k < r.end {
					break
				}
				if k > maxBlankGap {
					r.pos += k
					r.keep, k, hard = r.pos, 0, true
				}
				if !r.fill() {
					break
				}
			}
			if r.pos+k < r.end {
				switch r.buf[r.pos+k] {
				case '\r', '\n', mllpStart, mllpEnd:
				default:
					return hard
				}
			}
			r.pos += k
		default:
			return hard
		}
	}
}

// scanLine scans the line at r.pos up to its end, appending base plus the position of each
// field separator to seps. It returns seps, the length n of the line's content and how it
// ended; it does not consume anything. A line longer than limit stops the scan with
// endTooLarge. r.keep must not be after r.pos.
func (r *Reader) scanLine(seps []int32, base int32, limit int) ([]int32, int, lineEnd) {
	cls := &r.cls
	i := 0
	for {
		b := r.buf[r.pos:r.end]
	scan:
		for i < len(b) {
			// The hot loop writes separators into spare capacity, so that it calls
			// nothing and keeps its variables in registers: each byte can add at most one
			// separator, so a chunk is as long as the room left.
			if room := cap(seps) - len(seps); room < 32 && room < len(b)-i {
				seps = slices.Grow(seps, max(256, len(seps)))
			}
			n, room := len(seps), seps[:cap(seps)]
			chunk := b[:min(len(b), i+len(room)-n)]
			k := uint8(clsText)
			for i < len(chunk) {
				if k = cls[chunk[i]]; k == clsText {
					i++
				} else if k == clsSep && n < len(room) {
					room[n] = base + int32(i)
					n++
					i++
				} else {
					break
				}
			}
			seps = room[:n]
			if i == len(chunk) {
				continue
			}
			var end lineEnd
			switch k {
			case clsCR:
				end = endCR
			case clsLF:
				end = endLF
			case clsFS:
				end = endFS
			default: // clsBOM
				switch bomMSH(b[i:], r.srcErr != nil) {
				case bomNo:
					i++
					continue
				case bomMaybe:
					break scan // need more input to decide
				}
				end = endBOM
			}
			if i > limit {
				return seps, i, endTooLarge
			}
			return seps, i, end
		}
		if i > limit {
			return seps, i, endTooLarge
		}
		if !r.fill() && i >= r.end-r.pos {
			return seps, i, endEOF
		}
	}
}

// skipLine consumes the rest of the line at r.pos, up to its terminator, a 0x1C or a byte
// order mark followed by "MSH", without keeping it in the buffer.
func (r *Reader) skipLine() {
	cls := &r.cls
	for {
		r.keep = r.pos
		b := r.buf[r.pos:r.end]
		i := 0
	scan:
		for i < len(b) {
			switch cls[b[i]] {
			case clsText, clsSep:
				i++
			case clsBOM:
				switch bomMSH(b[i:], r.srcErr != nil) {
				case bomYes:
					r.pos += i
					return
				case bomMaybe:
					break scan
				}
				i++
			default:
				r.pos += i
				return
			}
		}
		r.pos += i
		r.keep = r.pos
		if !r.fill() && r.pos == r.end {
			return
		}
	}
}

func isBOM(b []byte) bool { return len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF }

const (
	bomNo = iota
	bomYes
	bomMaybe // b is a proper prefix of a byte order mark and "MSH": more input decides
)

// bomMSH reports whether b starts with a byte order mark followed by "MSH". It answers
// bomMaybe only when more input may come (final is false) and could change the answer.
func bomMSH(b []byte, final bool) int {
	const want = "\xEF\xBB\xBFMSH"
	n := min(len(b), len(want))
	if string(b[:n]) != want[:n] {
		return bomNo
	}
	if n == len(want) {
		return bomYes
	}
	if final {
		return bomNo
	}
	return bomMaybe
}

// gluedMSH returns the length of line without an MSH segment glued to its end, or -1 if
// there is none. Files that do not end with a line end, concatenated, glue the next
// file's MSH to the last segment of the message before: "...|lastMSH|^~\&|...". An MSH is
// taken as glued when "MSH", after at least one byte of the line, is followed by the field
// separator fs, four or five valid encoding characters (as in parseEncoding) and fs again
// (an MSH-3 follows). seps are the positions of the line's field separators plus base.
func gluedMSH(line []byte, seps []int32, base int32, fs byte) int {
	for _, s := range seps {
		p := int(s - base)
		if p < 4 || line[p-1] != 'H' || line[p-2] != 'S' || line[p-3] != 'M' {
			continue
		}
		e := p + 1
		for e < len(line) && e <= p+7 && line[e] != fs {
			e++
		}
		if e <= p+7 && e < len(line) {
			if _, bad := parseEncoding(fs, line[p+1:e]); bad < 0 {
				return p - 3
			}
		}
	}
	return -1
}
