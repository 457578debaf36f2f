package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhirbridge/fhirbridge/internal/problem"
	"github.com/fhirbridge/fhirbridge/internal/sink"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

// MLLP framing bytes (HL7 v2 MLLP release 2).
const (
	startBlock = 0x0B
	endBlock   = 0x1C
	cr         = 0x0D
)

var errFrameTooLarge = errors.New("MLLP frame too large")

// ServeMLLP accepts MLLP connections on ln until ctx is cancelled. Each frame is converted,
// its Bundle written to the sink, and then — only then — answered with an ACK: AA once the
// Bundle is durable, AE when the message could not be read or converted, AR when it was
// rejected (unsupported message type, frame too large) or the sink failed; AE and AR carry
// an ERR segment naming the place of the problem. After ctx is cancelled the listener
// closes, idle connections close at once and busy ones after answering their current
// message; ServeMLLP returns when all are closed.
func (s *Server) ServeMLLP(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[*mllpConn]struct{}{}
	sem := make(chan struct{}, s.cfg.MaxConns)
	stop := context.AfterFunc(ctx, func() {
		s.BeginShutdown()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.wake()
		}
		mu.Unlock()
	})
	defer stop()
	var err error
	for {
		var nc net.Conn
		nc, err = ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			s.log.Warn("mllp connection refused: too many connections", "remote", nc.RemoteAddr().String(), "max", s.cfg.MaxConns)
			nc.Close()
			continue
		}
		c := &mllpConn{s: s, nc: nc}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() { <-sem }()
			s.metrics.conn(1)
			c.serve()
			s.metrics.conn(-1)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	return err
}

type mllpConn struct {
	s    *Server
	nc   net.Conn
	busy atomic.Bool
}

// wake makes an idle connection's pending read return, so that it closes.
func (c *mllpConn) wake() {
	if !c.busy.Load() {
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *mllpConn) serve() {
	defer c.nc.Close()
	s := c.s
	remote := c.nc.RemoteAddr().String()
	s.log.Debug("mllp connection open", "remote", remote)
	br := bufio.NewReaderSize(c.nc, 64<<10)
	bw := bufio.NewWriterSize(c.nc, 4<<10)
	for !s.isShuttingDown() {
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		frame, err := readFrame(br, s.cfg.MaxFrame, &c.busy)
		if err != nil && !errors.Is(err, errFrameTooLarge) {
			if !errors.Is(err, io.EOF) && !isTimeout(err) {
				s.log.Warn("mllp read failed", "remote", remote, "err", err)
			}
			break
		}
		start := time.Now()
		var ack []byte
		var code string
		if err != nil {
			code, ack = s.reject(frame, problem.Problem{Kind: problem.Parse, Reason: err.Error(), SegmentIndex: -1, Offset: -1}, "AR")
		} else {
			code, ack = s.handleFrame(frame)
		}
		c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		bw.WriteByte(startBlock)
		bw.Write(ack)
		bw.WriteByte(endBlock)
		bw.WriteByte(cr)
		werr := bw.Flush()
		c.busy.Store(false)
		s.metrics.mllp(code, time.Since(start))
		if werr != nil {
			s.log.Warn("mllp write failed", "remote", remote, "err", werr)
			break
		}
	}
	s.log.Debug("mllp connection closed", "remote", remote)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readFrame reads one MLLP frame and returns its content. Bytes before the start block are
// skipped. A frame larger than max is read to its end and dropped (errFrameTooLarge, with
// the frame's first bytes, so that its MSH can still be answered).
func readFrame(br *bufio.Reader, max int, busy *atomic.Bool) ([]byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == startBlock {
			break
		}
	}
	busy.Store(true)
	var buf []byte
	total := 0
	for {
		chunk, err := br.ReadSlice(endBlock)
		total += len(chunk)
		if total <= max+1 { // +1: the end block
			buf = append(buf, chunk...)
		} else if len(buf) < 4096 {
			buf = append(buf, chunk[:min(len(chunk), 4096-len(buf))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	tooLarge := total > max+1
	if !tooLarge {
		buf = buf[:len(buf)-1] // the end block
	}
	// The CR after the end block; tolerate its absence.
	if b, err := br.Peek(1); err == nil && b[0] == cr {
		br.ReadByte()
	}
	if tooLarge {
		return buf, errFrameTooLarge
	}
	return buf, nil
}

// handleFrame converts one message and stores its Bundle, returning the ACK.
func (s *Server) handleFrame(frame []byte) (code string, ack []byte) {
	conv, _ := s.converter(convKey{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	res, err := conv.ConvertMessage(ctx, frame)
	if err != nil {
		p := problem.Describe(err)
		s.metrics.errorKind(string(p.Kind))
		code := "AE"
		if p.Kind == problem.Unsupported {
			code = "AR"
		}
		s.log.Info("mllp message failed", "controlId", p.ControlID, "type", p.MessageType, "kind", p.Kind, "location", p.Location(), "reason", p.Reason, "ack", code)
		return s.reject(frame, p, code)
	}
	if s.cfg.Sink != nil {
		if err := s.cfg.Sink.Write(ctx, sink.Record{Bundle: res.JSON(), ControlID: res.ControlID}); err != nil {
			s.metrics.errorKind("sink")
			s.log.Error("sink write failed", "sink", s.cfg.Sink.String(), "controlId", res.ControlID, "err", err)
			return s.reject(frame, problem.Problem{Kind: problem.Internal, Reason: "the Bundle could not be stored; send again later", SegmentIndex: -1, Offset: -1}, "AR")
		}
	}
	s.metrics.convertedN("mllp", 1)
	msg, err := hl7v2.Parse(frame)
	if err != nil {
		msg = s.fallbackMSH(frame)
	}
	b := hl7v2.NewAck(msg, "AA", s.ackControlID(), s.timestamp())
	return "AA", b.Bytes()
}

// reject builds an AE or AR ACK with an ERR segment for p.
func (s *Server) reject(frame []byte, p problem.Problem, code string) (string, []byte) {
	msg, err := hl7v2.Parse(frame)
	if err != nil {
		msg = s.fallbackMSH(frame)
	}
	b := hl7v2.NewAck(msg, code, s.ackControlID(), s.timestamp())
	text := p.Reason
	if loc := p.Location(); loc != "" {
		text = loc + ": " + text
	}
	b.Set("MSA-3", truncate(text, 80))
	// ERR (HL7 v2.5 §2.15.5): ERR-2 error location (ERL), ERR-3 HL7 error code (table
	// 0357), ERR-4 severity, ERR-8 user message.
	if p.Segment != "" {
		b.Set("ERR-2.1", p.Segment)
		if n := occurrence(frame, p.Segment, p.SegmentIndex); n > 0 {
			b.Set("ERR-2.2", strconv.Itoa(n))
		}
		if p.Field > 0 {
			b.Set("ERR-2.3", strconv.Itoa(p.Field))
		}
		if p.Rep > 0 {
			b.Set("ERR-2.4", strconv.Itoa(p.Rep))
		}
		if p.Component > 0 {
			b.Set("ERR-2.5", strconv.Itoa(p.Component))
		}
	}
	ec, et := errorCode(p)
	b.Set("ERR-3.1", ec)
	b.Set("ERR-3.2", et)
	b.Set("ERR-3.3", "HL70357")
	b.Set("ERR-4", "E")
	if loc := p.Location(); loc != "" {
		b.Set("ERR-7", loc) // diagnostic information: the place, also when ERR-2 cannot name a segment
	}
	b.Set("ERR-8", truncate(text, 250))
	return code, b.Bytes()
}

// errorCode maps a problem to HL7 table 0357 (message error condition codes).
func errorCode(p problem.Problem) (string, string) {
	switch p.Kind {
	case problem.Unsupported:
		return "200", "Unsupported message type"
	case problem.Parse:
		if p.Segment != "" && p.Field > 0 {
			return "102", "Data type error"
		}
		return "100", "Segment sequence error"
	case problem.Mapping:
		return "207", "Application internal error"
	}
	return "207", "Application internal error"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// fallbackMSH returns a message to answer when the frame cannot be parsed: its MSH line
// alone if that parses (so that MSA-2 still names the control id), else a bare MSH.
func (s *Server) fallbackMSH(frame []byte) *hl7v2.Message {
	line := frame
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimLeft(line, " \t\r\n\xef\xbb\xbf")
	if bytes.HasPrefix(line, []byte("MSH")) {
		if m, err := hl7v2.Parse(append(append([]byte(nil), line...), '\r')); err == nil {
			return m
		}
	}
	m, err := hl7v2.Parse([]byte("MSH|^~\\&|||" + s.cfg.Application + "||||||P|2.5.1\r"))
	if err != nil {
		panic(fmt.Sprintf("fallback MSH: %v", err)) // a constant that parses
	}
	return m
}

var ackSeq atomic.Int64

func (s *Server) ackControlID() string {
	return fmt.Sprintf("ACK%d-%d", s.cfg.Now().UnixMilli(), ackSeq.Add(1))
}

func (s *Server) timestamp() string {
	return s.cfg.Now().Format("20060102150405.000-0700")
}

// occurrence returns which occurrence of segment name (1-based) the segment at index idx of
// the frame's message is (ERL-2 counts occurrences of the name), or 0 if unknown.
func occurrence(frame []byte, name string, idx int) int {
	if idx < 0 {
		return 0
	}
	i, n := 0, 0
	started := false
	for line := range bytes.FieldsFuncSeq(frame, func(r rune) bool { return r == '\r' || r == '\n' }) {
		line = bytes.TrimLeft(line, " \t\xef\xbb\xbf")
		if !started {
			if !bytes.HasPrefix(line, []byte("MSH")) {
				continue
			}
			started = true
		}
		if len(line) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte(name)) {
			n++
		}
		if i == idx {
			if bytes.HasPrefix(line, []byte(name)) {
				return n
			}
			return 0
		}
		i++
	}
	return 0
}
