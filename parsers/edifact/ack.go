package edifact

import (
	"bytes"
	"strconv"
	"time"
)

// MessageOutcome is what happened to one message of an acknowledged interchange.
type MessageOutcome struct {
	Ref      string // the message reference (UNH 0062)
	Accepted bool
}

// NHSAckRequest describes an NHSACK (NHSACK:D:1:NH:NHS001), the acknowledgement of NHS
// pathology and screening interchanges, as the NHS Lab Results adaptor writes it
// (nhsAck.mustache).
type NHSAckRequest struct {
	Interchange *Interchange     // the acknowledged interchange: its sender, recipient and reference
	Messages    []MessageOutcome // in UNH order
	// InterchangeError makes the status IRI (interchange rejected): the envelope is bad, e.g.
	// the UNZ count or reference does not match.
	InterchangeError bool
	// MessagesError makes the status IRM: the messages could not be extracted (UNH without
	// UNT, UNT reference not UNH's).
	MessagesError bool
	Now           time.Time // the acknowledgement's time (UNB S004, DTM+137)
	Ref           string    // the acknowledgement's interchange control reference (UNB 0020)
}

// Status returns the NIR status of the acknowledgement: IRM (it wins: a message that cannot
// be extracted also spoils the UNZ count), IRI, or by the messages'
// outcomes IAF (all accepted), IAP (some) or IRA (none).
func (q *NHSAckRequest) Status() string {
	switch {
	case q.MessagesError:
		return "IRM"
	case q.InterchangeError:
		return "IRI"
	}
	acc := 0
	for _, m := range q.Messages {
		if m.Accepted {
			acc++
		}
	}
	switch {
	case acc == len(q.Messages) && acc > 0:
		return "IAF"
	case acc > 0:
		return "IAP"
	}
	return "IRA"
}

// The FTX+ERD texts of an NHSACK. They are fixed phrases: an acknowledgement goes back to
// the laboratory and never carries a program's error text (the NHS adaptor sends raw Java
// exception messages such as "Index 2 out of bounds for length 2").
const (
	AckTextInterchange = "Error while parsing interchange"
	AckTextMessages    = "Error parsing messages"
	AckTextRejected    = "Message could not be translated"
)

// NHSAck writes the NHSACK interchange for q: UNA, UNB from the acknowledged interchange's
// recipient to its sender, one message with NIR (status) and, unless the whole interchange
// or its messages were rejected, one NMR per message (MA accepted, MR rejected with FTX+ERD).
func NHSAck(q NHSAckRequest) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Delims = DefaultDelims.ForVersion(3)
	w.Newline = true
	ic := q.Interchange
	if ic == nil {
		ic = &Interchange{}
	}
	w.WriteUNA()
	w.WriteSegment("UNB", []string{"UNOC", "3"}, []string{ic.Recipient, "80"}, []string{ic.Sender, "80"},
		[]string{q.Now.Format("060102"), q.Now.Format("1504")}, []string{q.Ref}, nil, []string{"NHSACK"})
	w.WriteSegment("UNH", []string{"1"}, []string{"NHSACK", "D", "1", "NH", "NHS001"})
	w.WriteSegment("BGM", []string{"AKR"})
	w.WriteSegment("DTM", []string{"137", q.Now.Format("20060102"), "102"})
	st := q.Status()
	w.WriteSegment("NIR", []string{"SIR", ic.Ref}, []string{ic.Sender, "80"}, []string{ic.Recipient, "80"}, []string{st})
	switch st {
	case "IRI":
		w.WriteSegment("FTX", []string{"ERD"}, nil, nil, []string{AckTextInterchange})
	case "IRM":
		w.WriteSegment("FTX", []string{"ERD"}, nil, nil, []string{AckTextMessages})
	default:
		for _, m := range q.Messages {
			if m.Accepted {
				w.WriteSegment("NMR", []string{"AGO", m.Ref}, []string{"MA"})
			} else {
				w.WriteSegment("NMR", []string{"AGO", m.Ref}, []string{"MR"})
				w.WriteSegment("FTX", []string{"ERD"}, nil, nil, []string{AckTextRejected})
			}
		}
	}
	w.WriteSegment("UNT", []string{strconv.Itoa(w.Count() + 1)}, []string{"1"})
	w.WriteSegment("UNZ", []string{"1"}, []string{q.Ref})
	w.Flush()
	return buf.Bytes()
}

// RecepRequest describes a RECEP (RECEP:0:2:FH), the acknowledgement of NHS registration
// (FHSREG) interchanges, as the NHAIS adaptor writes it (RecepProducerService).
type RecepRequest struct {
	Interchange *Interchange // the acknowledged interchange
	Messages    []string     // the references (UNH 0062) of its messages, in order
	HACipher    string       // the health authority cipher (NAD+FHS of the first message)
	GPCode      string       // the GP code (NAD+GP) of the first message's first transaction, or "" for 9999
	Now         time.Time
	Ref         string // the RECEP's interchange and message reference (8 digits)
}

// Recep writes the RECEP interchange for q: every message is reported CP (processed), the
// interchange OK with its message count.
func Recep(q RecepRequest) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Delims = DefaultDelims.ForVersion(2)
	w.Newline = true
	ic := q.Interchange
	if ic == nil {
		ic = &Interchange{}
	}
	gp := q.GPCode
	if gp == "" {
		gp = "9999"
	}
	ts := q.Now.Format("200601021504")
	w.WriteSegment("UNB", []string{"UNOA", "2"}, []string{ic.Recipient}, []string{ic.Sender},
		[]string{q.Now.Format("060102"), q.Now.Format("1504")}, []string{q.Ref}, nil, []string{"RECEP"}, nil, nil, []string{"EDIFACT TRANSFER"})
	w.WriteSegment("UNH", []string{q.Ref}, []string{"RECEP", "0", "2", "FH"})
	w.WriteSegment("BGM", nil, []string{"600"}, []string{"243", ts, "306"}, []string{"64"})
	w.WriteSegment("NHS", []string{q.HACipher, "819", "201"}, []string{gp, "814", "202"})
	w.WriteSegment("DTM", []string{"815", ts, "306"})
	for _, m := range q.Messages {
		w.WriteSegment("RFF", []string{"MIS", m + " CP"})
	}
	w.WriteSegment("RFF", []string{"RIS", ic.Ref + " OK", strconv.Itoa(len(q.Messages))})
	w.WriteSegment("UNT", []string{strconv.Itoa(w.Count() + 1)}, []string{q.Ref})
	w.WriteSegment("UNZ", []string{"1"}, []string{q.Ref})
	w.Flush()
	return buf.Bytes()
}
