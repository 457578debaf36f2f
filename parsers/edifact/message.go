package edifact

// Interchange is the envelope of messages: its UNB header and, once read, its UNZ trailer.
// Every [Message] of an interchange points to the same Interchange.
type Interchange struct {
	Index         int      // 1-based position in the stream (0: messages without UNB)
	UNB           *Segment // nil for bare messages without an interchange header
	Delims        Delims   // the service characters in effect
	HasUNA        bool     // whether a UNA gave them
	SyntaxID      string   // UNB S001 0001: "UNOA", "UNOB", "UNOC"
	Version       int      // UNB S001 0002: 1 to 4
	Sender        string   // UNB S002 0004
	SenderQual    string   // UNB S002 0007
	Recipient     string   // UNB S003 0010
	RecipientQual string   // UNB S003 0007
	Date, Time    string   // UNB S004 0017 (YYMMDD or CCYYMMDD), 0019 (HHMM)
	Ref           string   // UNB 0020 interchange control reference
	AppRef        string   // UNB 0026 application reference ("MEDRPT")
	AckRequest    string   // UNB 0031 acknowledgement request ("1")
	Test          string   // UNB 0035 test indicator
	// The UNZ trailer, once read: its count (0036) and reference (0020). Closed is false
	// until then, and stays false for an interchange the input ends inside.
	Closed   bool
	UNZCount string
	UNZRef   string
	// Messages counts the messages read so far (all of them, bad ones included).
	Messages int
	groups   int
}

// Group is a functional group (UNG … UNE) holding messages.
type Group struct {
	UNG      *Segment
	Ref      string // UNG 0048
	Messages int
}

// Message is one UNH … UNT message with its context.
type Message struct {
	Index       int // 1-based position of the message in the stream
	Interchange *Interchange
	Group       *Group // nil outside a functional group
	// Warnings are the problems the Reader tolerated in this message and its trailers
	// (control counts and references, unusual escapes). With [Reader.Strict] control
	// problems are errors instead.
	Warnings []*Warning
	segs     []Segment
	d        *segData
}

// segData holds the decoded text of a run of segments; components are spans of one string.
type segData struct {
	text  string
	buf   []byte
	comps []span
	elems []elemRange
}

type span struct{ start, end int32 }

type elemRange struct {
	pos, rep     int32 // 1-based element position and repetition
	first, count int32 // components: comps[first : first+count]
}

// Segment is one segment: a tag and its data elements, decoded (release characters removed,
// text in UTF-8). Its zero value is an empty segment.
type Segment struct {
	Tag          string
	Offset       int64 // byte offset of the tag in the input
	Line, Column int   // 1-based position of the tag
	d            *segData
	e0, ne       int32 // elements: d.elems[e0 : e0+ne]
	nPos         int32 // number of element positions
}

// NumSegments returns the number of segments of the message, UNH and UNT included.
func (m *Message) NumSegments() int { return len(m.segs) }

// Segment returns the i-th segment (0-based; 0 is UNH).
func (m *Message) Segment(i int) *Segment { return &m.segs[i] }

// Segments returns the segments, UNH first and UNT last. The slice must not be modified.
func (m *Message) Segments() []Segment { return m.segs }

// Ref returns the message reference number (UNH 0062).
func (m *Message) Ref() string { return m.segs[0].Value(1, 1) }

// Type returns the message identifier of UNH S009: type ("MEDRPT"), version, release,
// controlling agency and association assigned code ("NHS003").
func (m *Message) Type() (typ, version, release, agency, assoc string) {
	h := &m.segs[0]
	return h.Value(2, 1), h.Value(2, 2), h.Value(2, 3), h.Value(2, 4), h.Value(2, 5)
}

// NumElements returns the number of data element positions after the tag.
func (s *Segment) NumElements() int { return int(s.nPos) }

// Value returns the text of component c (1-based) of the first repetition of element e
// (1-based), or "" when it is absent. Value(e, 1) of a simple element is its text.
func (s *Segment) Value(e, c int) string {
	if s.d == nil {
		return ""
	}
	for i := s.e0; i < s.e0+s.ne; i++ {
		er := s.d.elems[i]
		if int(er.pos) == e && er.rep == 1 {
			if c < 1 || c > int(er.count) {
				return ""
			}
			sp := s.d.comps[er.first+int32(c)-1]
			return s.d.text[sp.start:sp.end]
		}
		if int(er.pos) > e {
			break
		}
	}
	return ""
}

// Components returns the components of repetition rep (1-based) of element e, or nil.
func (s *Segment) Components(e, rep int) []string {
	if s.d == nil {
		return nil
	}
	for i := s.e0; i < s.e0+s.ne; i++ {
		er := s.d.elems[i]
		if int(er.pos) == e && int(er.rep) == rep {
			out := make([]string, er.count)
			for j := range out {
				sp := s.d.comps[er.first+int32(j)]
				out[j] = s.d.text[sp.start:sp.end]
			}
			return out
		}
	}
	return nil
}

// Reps returns the number of repetitions of element e (0 when absent).
func (s *Segment) Reps(e int) int {
	n := 0
	if s.d == nil {
		return 0
	}
	for i := s.e0; i < s.e0+s.ne; i++ {
		if int(s.d.elems[i].pos) == e {
			n++
		}
	}
	return n
}

// Elements returns every element as its repetitions' components, for writing or inspection.
// Only syntax version 4 has more than one repetition.
func (s *Segment) Elements() [][][]string {
	out := make([][][]string, s.nPos)
	for e := 1; e <= int(s.nPos); e++ {
		for r := 1; r <= s.Reps(e); r++ {
			out[e-1] = append(out[e-1], s.Components(e, r))
		}
	}
	return out
}

// elemIndex returns the index in d.elems of element e, repetition rep, or -1.
func (s *Segment) elemIndex(e, rep int) int32 {
	if s.d == nil {
		return -1
	}
	for i := s.e0; i < s.e0+s.ne; i++ {
		er := s.d.elems[i]
		if int(er.pos) == e && int(er.rep) == rep {
			return i
		}
		if int(er.pos) > e {
			break
		}
	}
	return -1
}

// InterchangeTime returns the preparation date and time of UNB S004 as CCYYMMDDHHMM, or ""
// (nil or no UNB). A 6-digit date (YYMMDD, syntax versions 1 to 3) is in 1950–2049.
func InterchangeTime(ic *Interchange) string {
	if ic == nil || len(ic.Date) < 6 {
		return ""
	}
	d := ic.Date
	if len(d) == 6 {
		if d[:2] >= "50" {
			d = "19" + d
		} else {
			d = "20" + d
		}
	}
	return d + ic.Time
}
