package fhirbeam

import (
	"bufio"
	"context"
	"errors"
	"io"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

func init() {
	register.DoFn4x1[context.Context, fileio.ReadableFile, func(Record), func(string), error](&splitFn{})
	register.Emitter1[Record]()
	register.Emitter1[string]()
	beam.RegisterType(reflect.TypeOf((*Record)(nil)).Elem())
}

// Record is one unit of work for the converter: a run of consecutive HL7 v2 messages cut out
// of their file (each as the reader returned it, '\r'-terminated segments), or a whole file of
// another format (which the converter then reads message by message).
type Record struct {
	File    string // the input file, as matched
	Index   int    // 0-based index in its file of the first message (0 for a whole file)
	Indexes []int  // HL7 v2: the index in the file of each message of Data (parse failures are left out)
	Whole   bool   // Data is a whole file
	Data    []byte
}

// Runs of messages: large enough that per-element costs of the runner (a channel hop, a
// coder call, a shuffle entry) vanish next to conversion, small enough to spread a big file
// evenly (64 messages are some 50 ms of work on one core).
const (
	defaultMessagesPerRecord = 64
	maxRecordBytes           = 4 << 20
)

// splitFn reads one file. HL7 v2 files (single messages, MLLP streams, FHS/BHS batches) are
// streamed through the library's reader and cut into one Record per message, with flat memory
// on any file size; a message the reader rejects becomes a dead letter right here. Files of
// other formats (C-CDA documents, EDIFACT interchanges) go on whole.
type splitFn struct {
	MaxMessageSize    int `json:"max_message_size"`
	MessagesPerRecord int `json:"messages_per_record"` // 0: 64

	inMessages, inBytes beam.Counter
}

func (fn *splitFn) Setup() {
	fn.inMessages = beam.NewCounter(metricsNS, "input_messages")
	fn.inBytes = beam.NewCounter(metricsNS, "input_bytes")
}

func (fn *splitFn) ProcessElement(ctx context.Context, f fileio.ReadableFile, emit func(Record), dead func(string)) error {
	name := f.Metadata.Path
	rc, err := f.Open(ctx)
	if err != nil {
		return err // a file that cannot be opened is retried by the runner, then fails the job
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(512)
	if fhirbridge.Detect(head) != fhirbridge.FormatHL7v2 {
		data, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		fn.inBytes.Inc(ctx, int64(len(data)))
		emit(Record{File: name, Whole: true, Data: data})
		return nil
	}
	rd := hl7v2.NewReader(br)
	rd.MaxMessageSize = fn.MaxMessageSize
	defer func() { fn.inBytes.Inc(ctx, rd.InputOffset()) }()
	per := fn.MessagesPerRecord
	if per <= 0 {
		per = defaultMessagesPerRecord
	}
	var rec Record
	flush := func() {
		if len(rec.Indexes) > 0 {
			emit(rec)
		}
		rec = Record{File: name}
	}
	var last error
	for {
		msg, err := rd.Read()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil && err == last {
			// The reader's errors are sticky only when the file itself failed to read: let
			// the runner retry the file (its earlier output is discarded with the bundle).
			if errors.Is(err, io.EOF) {
				flush()
				return nil
			}
			return err
		}
		last = err
		fn.inMessages.Inc(ctx, 1)
		if err != nil {
			idx := 0
			var pe *hl7v2.ParseError
			if errors.As(err, &pe) {
				idx = pe.Message
			}
			deadLetter(ctx, dead, name, idx, "", "parse", err)
			continue
		}
		if len(rec.Indexes) == 0 {
			rec = Record{File: name, Index: msg.Index(), Data: make([]byte, 0, min(maxRecordBytes, per*len(msg.Bytes())))}
		}
		rec.Indexes = append(rec.Indexes, msg.Index())
		rec.Data = append(rec.Data, msg.Bytes()...)
		if len(rec.Indexes) >= per || len(rec.Data) >= maxRecordBytes {
			flush()
		}
	}
}
