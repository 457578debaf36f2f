// Package batch converts many inputs in parallel into an output folder, with an error
// report, a dead-letter folder, progress and resumable runs. It is the engine of
// `fhirbridge batch`.
//
// One reader goroutine reads the inputs in order and splits HL7 v2 files into messages (MLLP
// captures and FHS/BHS batches included); a pool of workers converts them; one committer
// goroutine writes every outcome — a Bundle to the outputs or a record to the error report —
// and takes checkpoints (see journal.go). At most Window messages are in flight, so memory
// stays flat whatever the size of the inputs. Other formats are converted by the reader
// goroutine through [fhirbridge.Converter.Convert], one file at a time.
package batch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/problem"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

// Options configure a [Run].
type Options struct {
	Out        string // output folder (created)
	Workers    int    // 0 means runtime.NumCPU()
	Per        string // "" (one NDJSON stream), "input" (one NDJSON file per input) or "message" (one JSON file per message)
	ShardSize  int    // with Per "": Bundles per NDJSON file; 0 means one file
	Pretty     bool   // indent JSON (Per "message" only)
	Ordered    bool   // write outcomes in input order
	Resume     bool   // continue the run recorded in Out
	Overwrite  bool   // start again in an Out that holds an earlier run
	DeadLetter string // folder for the raw bytes of failed messages; "" for none

	MaxMessageSize  int           // per message; 0 means the converter's default
	CheckpointEvery time.Duration // 0 means 2s
	Fingerprint     string        // the caller's output-shaping options; a resume must match

	Progress      io.Writer     // progress lines; nil for none
	ProgressTTY   bool          // redraw one line (a terminal) rather than print lines
	ProgressEvery time.Duration // 0 means 10s (1s on a terminal)
	Logger        *slog.Logger  // nil means no logging

	crashAt     int64            // tests: after this many commits, stop as a kill would (no final checkpoint)
	afterCommit func(n int64)    // tests: called after each commit, on the committer's goroutine
	onCommitter func(*committer) // tests: sees the committer
}

// Counts are the outcomes of a run, kept across resumed runs.
type Counts struct {
	Messages   int64                  `json:"messages"`  // converted + failed
	Converted  int64                  `json:"converted"` //
	Failed     int64                  `json:"failed"`    //
	Warnings   int64                  `json:"warnings"`  // conversion warnings in converted messages
	FileErrors int64                  `json:"fileErrors"`
	ByType     map[string]*TypeCounts `json:"byType"`
}

// TypeCounts are the outcomes for one message type.
type TypeCounts struct {
	Converted int64 `json:"converted"`
	Failed    int64 `json:"failed"`
}

// Summary is the result of a [Run].
type Summary struct {
	Counts
	Inputs      int           `json:"inputs"`
	Bytes       int64         `json:"bytes"`
	Resumed     int64         `json:"resumed"` // messages committed by earlier runs
	Elapsed     time.Duration `json:"-"`
	Seconds     float64       `json:"seconds"`
	Interrupted bool          `json:"interrupted"`
}

// ErrorRecord is one line of the error report (errors.jsonl). It never holds message data.
type ErrorRecord struct {
	File        string `json:"file"`
	Index       int    `json:"index"` // 0-based message index in the file; -1 for the file itself
	ControlID   string `json:"controlId,omitempty"`
	MessageType string `json:"messageType,omitempty"`
	Kind        string `json:"kind"`
	Location    string `json:"location,omitempty"`
	Line        int    `json:"line,omitempty"`
	Column      int    `json:"column,omitempty"`
	Reason      string `json:"reason"`
	DeadLetter  string `json:"deadLetter,omitempty"`
}

// item is one unit travelling from the reader through a worker to the committer.
type item struct {
	seq   int64
	in    int // index into the inputs
	idx   int // 0-based item index in its input
	raw   []byte
	span  []byte // input bytes, for the dead-letter folder
	json  []byte
	typ   string
	cid   string
	warns int
	err   error
	eof   bool  // marker: the input has been read; idx is its number of items
	ferr  error // with eof: the file failed (open or read)
	fmt   fhirbridge.Format
}

// Run converts inputs. It returns when every input has been read and every message
// committed, or after ctx is cancelled and the messages in flight are committed (Summary.
// Interrupted is then set). An error is returned only for problems with the run itself
// (output folder, journal); failed messages are counted and reported in errors.jsonl.
func Run(ctx context.Context, conv *fhirbridge.Converter, inputs []Input, opts Options) (*Summary, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := newCommitter(inputs, opts)
	if err != nil {
		return nil, err
	}
	if opts.onCommitter != nil {
		opts.onCommitter(c)
	}
	start := time.Now()
	window := opts.Workers * 16
	tokens := make(chan struct{}, window)
	jobs := make(chan *item, opts.Workers*2)
	results := make(chan *item, window)
	var bytesRead atomic.Int64

	// Conversion goes on for the messages already dispatched when ctx is cancelled, so that
	// they are committed rather than reported as failures.
	cctx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for it := range jobs {
				convertItem(cctx, conv, it, opts.Pretty && opts.Per == "message")
				results <- it
			}
		})
	}
	rd := &reader{conv: conv, cctx: cctx, inputs: inputs, opts: opts, done: c.snapshot(), complete: c.completeAtStart(),
		tokens: tokens, jobs: jobs, results: results, bytesRead: &bytesRead}
	wg.Go(func() {
		rd.run(ctx)
		close(jobs)
	})
	go func() {
		wg.Wait()
		close(results)
	}()

	var stopProgress func()
	if opts.Progress != nil {
		stopProgress = startProgress(opts, c, &bytesRead, c.pendingBytes(inputs), start)
	}
	err = c.loop(results, tokens)
	if stopProgress != nil {
		stopProgress()
	}
	s := &Summary{Counts: c.j.Counts, Inputs: len(inputs), Bytes: bytesRead.Load(), Resumed: c.resumed,
		Elapsed: time.Since(start), Interrupted: ctx.Err() != nil || c.crashed}
	s.Seconds = s.Elapsed.Seconds()
	if err != nil {
		return s, err
	}
	if !c.crashed {
		if err := c.finish(s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// convertItem converts one HL7 v2 message held in it.raw.
func convertItem(ctx context.Context, conv *fhirbridge.Converter, it *item, pretty bool) {
	if it.raw == nil {
		return
	}
	res, err := conv.ConvertMessage(ctx, it.raw)
	if err != nil {
		var fe *fhirbridge.Error
		if errors.As(err, &fe) {
			fe.Index = it.idx
			it.typ, it.cid = fe.MessageType, fe.ControlID
		} else {
			err = &fhirbridge.Error{Index: it.idx, Format: it.fmt, Err: err}
		}
		it.err = err
		if it.span == nil {
			it.span = it.raw
		}
		it.raw = nil
		return
	}
	setResult(it, res, pretty)
}

func setResult(it *item, res *fhirbridge.Result, pretty bool) {
	if pretty {
		it.json = res.Bundle.AppendJSONIndent(nil, "  ")
	} else {
		it.json = res.Bundle.AppendJSON(nil)
	}
	it.typ, it.cid, it.warns = res.MessageType, res.ControlID, len(res.Warnings)
	it.raw, it.span = nil, nil
}

// reader reads the inputs in order and dispatches their messages.
type reader struct {
	conv      *fhirbridge.Converter
	cctx      context.Context
	inputs    []Input
	opts      Options
	done      []doneSet // committed items per input (read-only here: set before the run)
	complete  []bool
	tokens    chan struct{}
	jobs      chan<- *item
	results   chan<- *item
	bytesRead *atomic.Int64
	seq       int64
}

// send dispatches it (to a worker when it needs converting), after taking a token. It
// reports false when ctx is cancelled.
func (r *reader) send(ctx context.Context, it *item) bool {
	select {
	case r.tokens <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	it.seq = r.seq
	r.seq++
	if it.raw != nil {
		r.jobs <- it
	} else {
		r.results <- it
	}
	return true
}

func (r *reader) run(ctx context.Context) {
	for i, in := range r.inputs {
		if r.complete[i] {
			r.bytesRead.Add(in.Size)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		n, err := r.readInput(ctx, i, in)
		if ctx.Err() != nil && err == nil {
			return // interrupted: the input stays incomplete
		}
		if !r.send(ctx, &item{in: i, idx: n, eof: true, ferr: err}) {
			return
		}
	}
}

// readInput reads one input and returns its number of items.
func (r *reader) readInput(ctx context.Context, i int, in Input) (int, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// The recorder keeps the bytes of the message being read, so that a message the reader
	// rejects can still be named (its MSH line) and copied to the dead-letter folder.
	rec := &spanRecorder{r: &countingReader{r: f, n: r.bytesRead}}
	br := bufio.NewReaderSize(rec, 64<<10)
	head, _ := br.Peek(512)
	format := fhirbridge.Detect(head)
	done := &r.done[i]
	if format != fhirbridge.FormatHL7v2 {
		rec.stop()
		// Other formats stream through the converter, which splits them itself.
		n := 0
		for res, err := range r.conv.Convert(r.cctx, br) {
			if err != nil && !problem.IsMessageError(err) {
				return n, err
			}
			if !done.has(n) {
				it := &item{in: i, idx: n, fmt: format, err: err}
				if res != nil {
					setResult(it, res, r.opts.Pretty && r.opts.Per == "message")
				}
				if !r.send(ctx, it) {
					return n, nil
				}
			}
			n++
			if ctx.Err() != nil {
				return n, nil
			}
		}
		return n, nil
	}
	hr := hl7v2.NewReader(br)
	hr.MaxMessageSize = r.opts.MaxMessageSize
	var prev int64
	for n := 0; ; n++ {
		msg, err := hr.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil && !problem.IsMessageError(err) {
			return n, err
		}
		off := hr.InputOffset()
		span := rec.take(prev, off, err != nil)
		prev = off
		if done.has(n) {
			continue
		}
		it := &item{in: i, idx: n, fmt: fhirbridge.FormatHL7v2}
		if err != nil {
			it.typ, it.cid = problem.SalvageMSH(span)
			it.err = &fhirbridge.Error{Index: n, Format: fhirbridge.FormatHL7v2, MessageType: it.typ, ControlID: it.cid, Err: err}
			if r.opts.DeadLetter != "" {
				it.span = span
			}
		} else {
			it.raw = msg.Bytes()
		}
		if !r.send(ctx, it) {
			return n, nil
		}
	}
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// spanRecorder keeps the bytes read since the start of the current message, so that a
// failed message's input bytes can go to the dead-letter folder as they were.
type spanRecorder struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
	off  bool
}

func (s *spanRecorder) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if !s.off {
		s.buf = append(s.buf, p[:n]...)
	}
	return n, err
}

// stop ends recording (for inputs that are not split here).
func (s *spanRecorder) stop() { s.off, s.buf = true, nil }

// take returns a copy of the input bytes [from, to) if keep is set, and forgets everything
// before to.
func (s *spanRecorder) take(from, to int64, keep bool) []byte {
	lo, hi := from-s.base, to-s.base
	lo = max(0, min(lo, int64(len(s.buf))))
	hi = max(lo, min(hi, int64(len(s.buf))))
	var out []byte
	if keep {
		out = append([]byte(nil), s.buf[lo:hi]...)
	}
	rest := copy(s.buf, s.buf[hi:])
	s.buf = s.buf[:rest]
	s.base += hi
	return out
}

func deadLetterExt(f fhirbridge.Format) string {
	switch f {
	case fhirbridge.FormatHL7v2:
		return ".hl7"
	case fhirbridge.FormatCDA:
		return ".xml"
	case fhirbridge.FormatEDIFACT:
		return ".edi"
	}
	return ".bin"
}

// describe turns a failed item into its error report record.
func describe(in Input, it *item) ErrorRecord {
	p := problem.Describe(it.err)
	rec := ErrorRecord{File: in.Path, Index: it.idx, ControlID: p.ControlID, MessageType: p.MessageType,
		Kind: string(p.Kind), Location: p.Location(), Line: p.Line, Column: p.Column, Reason: p.Reason}
	if rec.ControlID == "" {
		rec.ControlID = it.cid
	}
	if rec.MessageType == "" {
		rec.MessageType = it.typ
	}
	return rec
}

func messageFileName(in Input, idx int, ext string) string {
	return filepath.FromSlash(in.Name) + string(filepath.Separator) + fmt.Sprintf("%06d%s", idx, ext)
}

func typeKey(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}
