// Package server is `fhirbridge serve`: an HTTP front door (POST /convert, POST
// /$convert-data in the Microsoft FHIR-Converter request shape, GET /healthz, GET /metrics)
// and an MLLP listener that answers HL7 v2 ACKs, both converting with one set of compiled
// mappings.
package server

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/sink"
)

// Config configures a [Server].
type Config struct {
	// Options are the converter options; the HTTP ?bundleType= parameter overrides the
	// Bundle type per request.
	Options fhirbridge.Options
	// Token, when not empty, is the bearer token every request but /healthz must carry.
	Token string
	// MaxBody bounds an HTTP request body; 0 means 16 MiB.
	MaxBody int64
	// RequestTimeout bounds the conversion of one request or MLLP message; 0 means 30 s.
	RequestTimeout time.Duration
	// Sink stores the Bundles of MLLP messages; nil means MLLP messages are converted and
	// acknowledged but not stored (only for testing; the CLI requires a sink).
	Sink sink.Sink
	// MaxFrame bounds an MLLP frame; 0 means 16 MiB.
	MaxFrame int
	// IdleTimeout closes an MLLP connection idle this long; 0 means 5 minutes.
	IdleTimeout time.Duration
	// MaxConns bounds concurrent MLLP connections; 0 means 256.
	MaxConns int
	// Facility names this application in ACKs built without an inbound MSH (MSH-3).
	Application string
	// Now returns the time, for ACK timestamps; nil means time.Now.
	Now func() time.Time
	// Logger logs requests and failures without message data; nil means none.
	Logger *slog.Logger
}

// Server serves conversions over HTTP and MLLP. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics

	mu    sync.Mutex
	convs map[convKey]*fhirbridge.Converter

	shuttingDown chan struct{}
	shutdownOnce sync.Once
}

// New compiles the mappings and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = 16 << 20
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 256
	}
	if cfg.Application == "" {
		cfg.Application = "FHIRBRIDGE"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: NewMetrics(), convs: map[convKey]*fhirbridge.Converter{},
		shuttingDown: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if _, err := s.converter(convKey{}, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// converter returns the converter for a Bundle type ("" for the configured one), compiling
// it on first use.
// convKey is what a Converter is built for: a Bundle type ("" for the default), or for
// FHIR input a target format with the reverse mappings' params (sorted k=v lines).
type convKey struct {
	bundleType string
	target     fhirbridge.Format
	params     string
}

func (s *Server) converter(k convKey, params map[string]string) (*fhirbridge.Converter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[k]; c != nil {
		return c, nil
	}
	switch k.bundleType {
	case "", "transaction", "batch", "collection", "message", "document":
	default:
		return nil, fmt.Errorf("unknown bundle type %q (transaction, batch, collection, message, document)", k.bundleType)
	}
	if len(s.convs) >= maxConverters {
		return nil, fmt.Errorf("too many distinct conversion options in use (%d); reuse params", maxConverters)
	}
	o := s.cfg.Options
	if k.bundleType != "" {
		o.BundleType = k.bundleType
	}
	if k.target != "" {
		o.Target = k.target
		o.Params = make(map[string]string, len(o.Params)+len(params))
		for pk, pv := range s.cfg.Options.Params {
			o.Params[pk] = pv
		}
		for pk, pv := range params {
			o.Params[pk] = pv
		}
	}
	c, err := fhirbridge.New(o)
	if err != nil {
		return nil, err
	}
	s.convs[k] = c
	return c, nil
}

// maxConverters bounds the Converters the server keeps (one per Bundle type, target and set
// of params), so that requests with ever new params cannot exhaust memory.
const maxConverters = 64

// BeginShutdown makes /healthz answer 503 and MLLP connections close after their current
// message.
func (s *Server) BeginShutdown() {
	s.shutdownOnce.Do(func() { close(s.shuttingDown) })
}

func (s *Server) isShuttingDown() bool {
	select {
	case <-s.shuttingDown:
		return true
	default:
		return false
	}
}
