// Package sink stores converted Bundles durably: in a folder (one file per Bundle), in an
// NDJSON file, or on a FHIR server (a transaction POSTed to its base URL). A Write returns
// only once the Bundle is durable — fsynced for files, acknowledged with a 2xx for a FHIR
// server — so that the MLLP listener can answer AA only after it.
package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Record is one Bundle to store.
type Record struct {
	Bundle    []byte // compact JSON
	ControlID string // the source message's control id, for file names
}

// Sink stores Bundles. Implementations are safe for concurrent use.
type Sink interface {
	// Write stores r and returns once it is durable.
	Write(ctx context.Context, r Record) error
	// Close releases the sink; Writes in progress finish first.
	Close() error
	// String names the sink for logs.
	String() string
}

// Open opens a sink from its specification: "dir:PATH", "ndjson:PATH", "fhir:URL" or an
// http(s) URL (a FHIR server base URL).
func Open(spec string) (Sink, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if kind == "http" || kind == "https" {
		kind, arg, ok = "fhir", spec, true
	}
	if !ok || arg == "" {
		return nil, fmt.Errorf("sink %q: want dir:PATH, ndjson:PATH or fhir:URL", spec)
	}
	switch kind {
	case "dir":
		return NewDir(arg)
	case "ndjson":
		return NewNDJSON(arg)
	case "fhir":
		return NewFHIR(arg, nil)
	}
	return nil, fmt.Errorf("sink %q: unknown kind %q (dir, ndjson, fhir)", spec, kind)
}

// Dir writes each Bundle to its own file, named after the control id and the content
// hash, so that a message sent twice (a resend after a lost ACK) lands in the same file.
// Each file is written to a temporary name, fsynced, renamed and the folder fsynced.
type Dir struct {
	dir string
}

// NewDir returns a Dir sink writing into dir, which is created.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Dir{dir: dir}, nil
}

func (d *Dir) String() string { return "dir:" + d.dir }

// FileName is the name under which [Dir] stores a Bundle.
func FileName(r Record) string {
	sum := sha256.Sum256(r.Bundle)
	return safeName(r.ControlID) + "-" + hex.EncodeToString(sum[:8]) + ".json"
}

func (d *Dir) Write(ctx context.Context, r Record) error {
	name := filepath.Join(d.dir, FileName(r))
	f, err := os.CreateTemp(d.dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(r.Bundle)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(d.dir)
}

func (d *Dir) Close() error { return nil }

func safeName(s string) string {
	if s == "" {
		return "message"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// NDJSON appends Bundles, one per line, to a file. Concurrent Writes are group-committed:
// one goroutine appends every waiting Bundle, fsyncs once, and then releases all their
// writers, so durability costs one fsync per group rather than per message.
type NDJSON struct {
	path string
	f    *os.File

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	waiters []chan error
	closed  bool
	done    chan struct{}
}

// NewNDJSON opens (creating or appending to) an NDJSON file.
func NewNDJSON(path string) (*NDJSON, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s := &NDJSON{path: path, f: f, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.flusher()
	return s, syncDir(filepath.Dir(path))
}

func (s *NDJSON) String() string { return "ndjson:" + s.path }

func (s *NDJSON) Write(ctx context.Context, r Record) error {
	line := make([]byte, 0, len(r.Bundle)+1)
	line = append(append(line, r.Bundle...), '\n')
	ch := make(chan error, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("sink closed")
	}
	s.queue = append(s.queue, line)
	s.waiters = append(s.waiters, ch)
	s.cond.Signal()
	s.mu.Unlock()
	// The Bundle is queued; wait for it to be durable even if ctx ends, so that a caller
	// never treats a written Bundle as lost.
	return <-ch
}

func (s *NDJSON) flusher() {
	defer close(s.done)
	var buf []byte
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.queue) == 0 && s.closed {
			s.mu.Unlock()
			return
		}
		q, w := s.queue, s.waiters
		s.queue, s.waiters = nil, nil
		s.mu.Unlock()
		buf = buf[:0]
		for _, l := range q {
			buf = append(buf, l...)
		}
		_, err := s.f.Write(buf)
		if err == nil {
			err = s.f.Sync()
		}
		for _, ch := range w {
			ch <- err
		}
	}
}

func (s *NDJSON) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Signal()
	s.mu.Unlock()
	<-s.done
	return s.f.Close()
}

// FHIR POSTs each Bundle (a transaction or batch) to a FHIR server's base URL. A 2xx
// answer makes it durable; anything else is an error naming the status.
type FHIR struct {
	base   string
	client *http.Client
	// Token, if set, is sent as a bearer token.
	Token string
}

// NewFHIR returns a FHIR sink for the server at base. client nil means a client with a
// 30 s timeout.
func NewFHIR(base string, client *http.Client) (*FHIR, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sink: %q is not an http(s) base URL", base)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &FHIR{base: strings.TrimRight(base, "/"), client: client}, nil
}

func (s *FHIR) String() string { return "fhir:" + s.base }

func (s *FHIR) Write(ctx context.Context, r Record) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base, bytes.NewReader(r.Bundle))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sink: FHIR server answered %s", resp.Status)
	}
	return nil
}

func (s *FHIR) Close() error { return nil }
